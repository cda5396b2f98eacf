package emulator

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
)

func testZip(t testing.TB, name, content string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, content)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func validCreate(t testing.TB) map[string]any {
	return map[string]any{
		"FunctionName": "cancel-task", "Handler": "cancel-task", "Runtime": "Go1", "MemorySize": 128, "Timeout": 15,
		"Code":        map[string]any{"ZipFile": testZip(t, "cancel-task", "binary")},
		"Environment": map[string]any{"Variables": []map[string]string{{"Key": "JANITOR_LOG_LEVEL", "Value": "info"}}},
		"Tags":        []map[string]string{{"Key": "managed-by", "Value": "scf-deploy"}},
	}
}

func TestCreateFunctionValidation(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "ap-guangzhou", nil)
	tests := []struct {
		name   string
		change func(m map[string]any)
		code   string
	}{
		{"name starts with digit", func(m map[string]any) { m["FunctionName"] = "1abc" }, "InvalidParameterValue.FunctionName"},
		{"name ends with dash", func(m map[string]any) { m["FunctionName"] = "abc-" }, "InvalidParameterValue.FunctionName"},
		{"name too long", func(m map[string]any) { m["FunctionName"] = "a" + strings.Repeat("b", 60) }, "InvalidParameterValue.FunctionName"},
		{"runtime", func(m map[string]any) { m["Runtime"] = "Go2" }, "InvalidParameterValue.Runtime"},
		{"memory 100", func(m map[string]any) { m["MemorySize"] = 100 }, "InvalidParameterValue.MemorySize"},
		{"memory 3200", func(m map[string]any) { m["MemorySize"] = 3200 }, "InvalidParameterValue.MemorySize"},
		{"timeout 0", func(m map[string]any) { m["Timeout"] = 0 }, "LimitExceeded.Timeout"},
		{"timeout 901", func(m map[string]any) { m["Timeout"] = 901 }, "LimitExceeded.Timeout"},
		{"empty value", func(m map[string]any) {
			m["Environment"] = map[string]any{"Variables": []map[string]string{{"Key": "A", "Value": ""}}}
		}, "InvalidParameterValue.Environment"},
		{"empty key", func(m map[string]any) {
			m["Environment"] = map[string]any{"Variables": []map[string]string{{"Key": "", "Value": "x"}}}
		}, "InvalidParameterValue.Environment"},
		{"reserved key", func(m map[string]any) {
			m["Environment"] = map[string]any{"Variables": []map[string]string{{"Key": "SCF_X", "Value": "x"}}}
		}, "InvalidParameterValue.EnvironmentSystemProtect"},
		{"env too big", func(m map[string]any) {
			m["Environment"] = map[string]any{"Variables": []map[string]string{{"Key": "A", "Value": strings.Repeat("x", 5000)}}}
		}, "InvalidParameterValue.EnvironmentExceededLimit"},
		{"no code", func(m map[string]any) { delete(m, "Code") }, "MissingParameter.Code"},
		{"not a zip", func(m map[string]any) {
			m["Code"] = map[string]any{"ZipFile": base64.StdEncoding.EncodeToString([]byte("nope"))}
		}, "InvalidParameterValue.ZipFile"},
		{"unknown role", func(m map[string]any) { m["Role"] = "NoSuchRole" }, "ResourceNotFound.Role"},
		{"unknown parameter", func(m map[string]any) { m["Memory"] = 128 }, "UnknownParameter"},
		{"namespace", func(m map[string]any) { m["Namespace"] = "other" }, "ResourceNotFound.Namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validCreate(t)
			tt.change(m)
			wantCode(t, call(t, c, "scf", "CreateFunction", m, nil), tt.code)
		})
	}
	if len(e.srv.Functions()) != 0 {
		t.Fatalf("refused creates left functions: %+v", e.srv.Functions())
	}
	t.Run("no region", func(t *testing.T) {
		wantCode(t, call(t, e.sdk(t, "", nil), "scf", "CreateFunction", validCreate(t), nil), "MissingParameter")
	})
}

func TestFunctionLifecycle(t *testing.T) {
	e := newEnv(t, Options{FunctionReadyAfter: 2 * time.Second})
	c := e.sdk(t, "ap-guangzhou", nil)
	ref := map[string]any{"FunctionName": "cancel-task"}
	wantCode(t, call(t, c, "scf", "GetFunction", ref, nil), "ResourceNotFound.Function")
	mustCall(t, c, "scf", "CreateFunction", validCreate(t), nil)
	wantCode(t, call(t, c, "scf", "CreateFunction", validCreate(t), nil), "ResourceInUse.Function")

	var got struct {
		Status, Handler, Runtime string
		MemorySize, Timeout      int64
		Environment              struct{ Variables []struct{ Key, Value string } }
		Tags                     []struct{ Key, Value string }
	}
	mustCall(t, c, "scf", "GetFunction", ref, &got)
	if got.Status != FunctionCreating || got.Handler != "cancel-task" || got.Runtime != "Go1" || got.MemorySize != 128 || got.Timeout != 15 ||
		len(got.Environment.Variables) != 1 || len(got.Tags) != 1 || got.Tags[0].Value != "scf-deploy" {
		t.Fatalf("GetFunction = %+v", got)
	}
	// Refusals while Creating.
	upd := map[string]any{"FunctionName": "cancel-task", "MemorySize": 256}
	wantCode(t, call(t, c, "scf", "UpdateFunctionConfiguration", upd, nil), "FailedOperation.UpdateFunctionConfiguration")
	code := map[string]any{"FunctionName": "cancel-task", "ZipFile": testZip(t, "cancel-task", "v2")}
	wantCode(t, call(t, c, "scf", "UpdateFunctionCode", code, nil), "FailedOperation.UpdateFunctionCode")
	timer := map[string]any{"FunctionName": "cancel-task", "Type": "timer", "TriggerName": "every-5-minutes", "TriggerDesc": "0 */5 * * * * *", "Enable": "OPEN", "CustomArgument": "{}"}
	wantCode(t, call(t, c, "scf", "CreateTrigger", timer, nil), "FailedOperation.FunctionStatusError")
	wantCode(t, call(t, c, "scf", "DeleteFunction", ref, nil), "FailedOperation.DeleteFunction")

	e.clock.Advance(2 * time.Second)
	mustCall(t, c, "scf", "GetFunction", ref, &got)
	if got.Status != FunctionActive {
		t.Fatalf("status after the delay = %s", got.Status)
	}
	mustCall(t, c, "scf", "UpdateFunctionConfiguration", upd, nil)
	mustCall(t, c, "scf", "GetFunction", ref, &got)
	if got.Status != FunctionUpdating || got.MemorySize != 256 {
		t.Fatalf("after update: %+v", got)
	}
	e.clock.Advance(2 * time.Second)

	mustCall(t, c, "scf", "UpdateFunctionCode", code, nil)
	e.clock.Advance(2 * time.Second)
	var addr struct{ CodeSha256 string }
	mustCall(t, c, "scf", "GetFunctionAddress", ref, &addr)
	raw, _ := base64.StdEncoding.DecodeString(code["ZipFile"].(string))
	sum := sha256.Sum256(raw)
	if addr.CodeSha256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("CodeSha256 = %s, want the zip's", addr.CodeSha256)
	}

	// Triggers.
	mustCall(t, c, "scf", "CreateTrigger", timer, nil)
	wantCode(t, call(t, c, "scf", "CreateTrigger", timer, nil), "ResourceInUse.Trigger")
	bad := map[string]any{"FunctionName": "cancel-task", "Type": "timer", "TriggerName": "bad", "TriggerDesc": "*/5 * * * *  * * *"}
	wantCode(t, call(t, c, "scf", "CreateTrigger", bad, nil), "InvalidParameterValue.TriggerCronConfig")
	url := map[string]any{"FunctionName": "cancel-task", "Type": "http", "TriggerName": "url", "Enable": "OPEN",
		"TriggerDesc": `{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}`}
	var created struct {
		TriggerInfo struct{ TriggerName, TriggerDesc string }
	}
	mustCall(t, c, "scf", "CreateTrigger", url, &created)
	if !strings.Contains(created.TriggerInfo.TriggerDesc, "https://"+EmulatorAppID+"-"+created.TriggerInfo.TriggerName+".ap-guangzhou.tencentscf.com") {
		t.Fatalf("http trigger = %+v", created.TriggerInfo)
	}
	wantCode(t, call(t, c, "scf", "CreateTrigger", url, nil), "ResourceInUse.Trigger")
	for _, desc := range []string{`{"AuthType":"KEY","NetConfig":{"EnableExtranet":true}}`, `{"AuthType":"NONE"}`, `not json`, `{"AuthType":"NONE","NetConfig":{},"X":1}`} {
		u := map[string]any{"FunctionName": "cancel-task", "Type": "http", "TriggerName": "u", "TriggerDesc": desc}
		wantCode(t, call(t, c, "scf", "CreateTrigger", u, nil), "InvalidParameterValue.TriggerDesc")
	}
	cos := map[string]any{"FunctionName": "cancel-task", "Type": "cos", "TriggerName": "b", "TriggerDesc": "{}"}
	wantCode(t, call(t, c, "scf", "CreateTrigger", cos, nil), "UnsupportedOperation.Trigger")

	var list struct {
		TotalCount uint64
		Triggers   []struct {
			TriggerName, Type, TriggerDesc, CustomArgument string
			Enable                                         uint64
		}
	}
	mustCall(t, c, "scf", "ListTriggers", ref, &list)
	if list.TotalCount != 2 || list.Triggers[0].TriggerDesc != `{"cron":"0 */5 * * * * *"}` || list.Triggers[0].Enable != 1 || list.Triggers[0].CustomArgument != "{}" {
		t.Fatalf("ListTriggers = %+v", list)
	}
	mustCall(t, c, "scf", "DeleteTrigger", map[string]any{"FunctionName": "cancel-task", "Type": "timer", "TriggerName": "every-5-minutes"}, nil)
	wantCode(t, call(t, c, "scf", "DeleteTrigger", map[string]any{"FunctionName": "cancel-task", "Type": "timer", "TriggerName": "every-5-minutes"}, nil), "ResourceNotFound.Trigger")

	// Inspection shows the state.
	resp, err := http.Get(e.ts.URL + "/_emulator/functions")
	if err != nil {
		t.Fatal(err)
	}
	var fns []FunctionInfo
	if err := json.NewDecoder(resp.Body).Decode(&fns); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(fns) != 1 || fns[0].MemorySize != 256 || len(fns[0].Triggers) != 1 || fns[0].Triggers[0].Type != "http" {
		t.Fatalf("/_emulator/functions = %+v", fns)
	}

	mustCall(t, c, "scf", "DeleteFunction", ref, nil)
	if len(e.srv.Functions()) != 0 {
		t.Fatal("function not deleted")
	}
}

func TestFailNext(t *testing.T) {
	e := newEnv(t, Options{FunctionReadyAfter: -1})
	c := e.sdk(t, "ap-guangzhou", nil)
	resp, err := http.Post(e.ts.URL+"/_emulator/fail-next", "application/json", strings.NewReader(`{"Action":"scf.CreateFunction","Code":"InternalError"}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("fail-next: %v %v", resp, err)
	}
	wantCode(t, call(t, c, "scf", "CreateFunction", validCreate(t), nil), "InternalError")
	if len(e.srv.Functions()) != 0 {
		t.Fatal("a refused create made a function")
	}
	if err := call(t, c, "scf", "CreateFunction", validCreate(t), nil); err != nil {
		t.Fatalf("second create: %v", err)
	}
}

func TestCAMRolesAndPolicies(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "", nil)
	trust := `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"service":["scf.qcloud.com"]}}]}`
	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["ams:CancelTask"],"resource":["*"]}]}`
	wantCode(t, call(t, c, "cam", "GetRole", map[string]any{"RoleName": "R"}, nil), "InvalidParameter.RoleNotExist")
	wantCode(t, call(t, c, "cam", "CreateRole", map[string]any{"RoleName": "bad name", "PolicyDocument": trust}, nil), "InvalidParameter.RoleNameError")
	wantCode(t, call(t, c, "cam", "CreateRole", map[string]any{"RoleName": "R", "PolicyDocument": doc}, nil), "InvalidParameter.PrincipalError")
	mustCall(t, c, "cam", "CreateRole", map[string]any{"RoleName": "R", "PolicyDocument": trust, "Description": "d"}, nil)
	wantCode(t, call(t, c, "cam", "CreateRole", map[string]any{"RoleName": "R", "PolicyDocument": trust}, nil), "InvalidParameter.RoleNameInUse")
	var role struct {
		RoleInfo struct{ RoleName, PolicyDocument, Description string }
	}
	mustCall(t, c, "cam", "GetRole", map[string]any{"RoleName": "R"}, &role)
	if role.RoleInfo.PolicyDocument != trust || role.RoleInfo.Description != "d" {
		t.Fatalf("GetRole = %+v", role)
	}

	wantCode(t, call(t, c, "cam", "CreatePolicy", map[string]any{"PolicyName": "P", "PolicyDocument": `{"version":"1.0"}`}, nil), "InvalidParameter.PolicyDocumentError")
	var created struct{ PolicyId uint64 }
	mustCall(t, c, "cam", "CreatePolicy", map[string]any{"PolicyName": "P", "PolicyDocument": doc, "Description": "d"}, &created)
	wantCode(t, call(t, c, "cam", "CreatePolicy", map[string]any{"PolicyName": "P", "PolicyDocument": doc}, nil), "FailedOperation.PolicyNameInUse")
	var list struct {
		TotalNum uint64
		List     []struct {
			PolicyId   uint64
			PolicyName string
		}
	}
	mustCall(t, c, "cam", "ListPolicies", map[string]any{"Keyword": "P", "Scope": "Local"}, &list)
	if list.TotalNum != 1 || list.List[0].PolicyId != created.PolicyId {
		t.Fatalf("ListPolicies = %+v", list)
	}
	mustCall(t, c, "cam", "AttachRolePolicy", map[string]any{"PolicyId": created.PolicyId, "AttachRoleName": "R"}, nil)
	mustCall(t, c, "cam", "AttachRolePolicy", map[string]any{"PolicyId": created.PolicyId, "AttachRoleName": "R"}, nil)
	var att struct {
		TotalNum uint64
		List     []struct{ PolicyName string }
	}
	mustCall(t, c, "cam", "ListAttachedRolePolicies", map[string]any{"RoleName": "R", "Page": 1, "Rp": 20}, &att)
	if att.TotalNum != 1 || att.List[0].PolicyName != "P" {
		t.Fatalf("ListAttachedRolePolicies = %+v", att)
	}
	doc2 := strings.Replace(doc, "ams:CancelTask", "vm:CancelTask", 1)
	mustCall(t, c, "cam", "CreatePolicyVersion", map[string]any{"PolicyId": created.PolicyId, "PolicyDocument": doc2, "SetAsDefault": true}, nil)
	var pol struct{ PolicyDocument string }
	mustCall(t, c, "cam", "GetPolicy", map[string]any{"PolicyId": created.PolicyId}, &pol)
	if pol.PolicyDocument != doc2 {
		t.Fatalf("GetPolicy = %+v", pol)
	}
	mustCall(t, c, "cam", "DetachRolePolicy", map[string]any{"PolicyId": created.PolicyId, "DetachRoleName": "R"}, nil)
	mustCall(t, c, "cam", "DeleteRole", map[string]any{"RoleName": "R"}, nil)
	mustCall(t, c, "cam", "DeletePolicy", map[string]any{"PolicyId": []uint64{created.PolicyId}}, nil)
	wantCode(t, call(t, c, "cam", "GetPolicy", map[string]any{"PolicyId": created.PolicyId}, nil), "ResourceNotFound.PolicyIdNotFound")
	if len(e.srv.Roles()) != 0 || len(e.srv.Policies()) != 0 {
		t.Fatal("state left behind")
	}
}

func TestUpdateFunctionRefusals(t *testing.T) {
	e := newEnv(t, Options{FunctionReadyAfter: -1})
	c := e.sdk(t, "ap-guangzhou", nil)
	if err := call(t, c, "scf", "CreateFunction", validCreate(t), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		action string
		params map[string]any
		code   string
	}{
		{"runtime change", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task", "Runtime": "Python3.9"}, "InvalidParameterValue.Runtime"},
		{"bad memory", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task", "MemorySize": 200}, "InvalidParameterValue.MemorySize"},
		{"unknown role", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task", "Role": "Nope"}, "ResourceNotFound.Role"},
		{"empty env value", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task",
			"Environment": map[string]any{"Variables": []map[string]string{{"Key": "A", "Value": ""}}}}, "InvalidParameterValue.Environment"},
		{"no zip", "UpdateFunctionCode", map[string]any{"FunctionName": "cancel-task"}, "MissingParameter.Code"},
		{"bad base64", "UpdateFunctionCode", map[string]any{"FunctionName": "cancel-task", "ZipFile": "%%%"}, "InvalidParameterValue.ZipFile"},
		{"unknown function", "UpdateFunctionCode", map[string]any{"FunctionName": "nope", "ZipFile": testZip(t, "x", "y")}, "ResourceNotFound.Function"},
		{"version", "GetFunction", map[string]any{"FunctionName": "cancel-task", "Qualifier": "1"}, "ResourceNotFound.FunctionVersion"},
		{"unknown parameter", "UpdateFunctionCode", map[string]any{"FunctionName": "cancel-task", "Zip": "x"}, "UnknownParameter"},
		{"trigger type missing", "DeleteTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "x"}, "MissingParameter"},
		{"unknown trigger", "DeleteTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "x", "Type": "timer"}, "ResourceNotFound.Trigger"},
		{"timer name", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "Type": "timer", "TriggerName": "a b", "TriggerDesc": "0 */5 * * * * *"}, "InvalidParameterValue.TriggerName"},
		{"argument on http", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "Type": "http", "TriggerName": "u", "CustomArgument": "x",
			"TriggerDesc": `{"AuthType":"NONE","NetConfig":{"EnableExtranet":true}}`}, "InvalidParameterValue"},
		{"enable", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "Type": "timer", "TriggerName": "t", "TriggerDesc": "0 */5 * * * * *", "Enable": "ON"}, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, call(t, c, "scf", tt.action, tt.params, nil), tt.code)
		})
	}
	fns := e.srv.Functions()
	if len(fns) != 1 || fns[0].MemorySize != 128 || len(fns[0].Triggers) != 0 || fns[0].Role != "" {
		t.Fatalf("a refused call changed the function: %+v", fns)
	}
}

// TestFunctionParameterTypes: a mistyped FunctionName or Namespace is named
// as the caller wrote it, whatever the action.
func TestFunctionParameterTypes(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "ap-guangzhou", nil)
	for _, action := range []string{"GetFunction", "GetFunctionAddress", "UpdateFunctionCode", "UpdateFunctionConfiguration",
		"DeleteFunction", "ListTriggers", "CreateTrigger", "DeleteTrigger"} {
		for _, field := range []string{"FunctionName", "Namespace"} {
			t.Run(action+"/"+field, func(t *testing.T) {
				err := call(t, c, "scf", action, map[string]any{"FunctionName": "f", field: 7}, nil)
				var se *tcerr.TencentCloudSDKError
				want := "Parameter " + field + " has the wrong type: got JSON number, want a string."
				if !errors.As(err, &se) || se.Code != "InvalidParameter" || se.Message != want {
					t.Fatalf("error %v, want InvalidParameter %q", err, want)
				}
			})
		}
	}
}

func TestListTriggersPaging(t *testing.T) {
	e := newEnv(t, Options{FunctionReadyAfter: -1})
	c := e.sdk(t, "ap-guangzhou", nil)
	if err := call(t, c, "scf", "CreateFunction", validCreate(t), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		p := map[string]any{"FunctionName": "cancel-task", "Type": "timer", "TriggerName": "t" + string(rune('a'+i)), "TriggerDesc": "0 */5 * * * * *"}
		if err := call(t, c, "scf", "CreateTrigger", p, nil); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		TotalCount uint64
		Triggers   []struct{ TriggerName string }
	}
	if err := call(t, c, "scf", "ListTriggers", map[string]any{"FunctionName": "cancel-task", "Offset": 3, "Limit": 2}, &page); err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != 5 || len(page.Triggers) != 2 || page.Triggers[0].TriggerName != "td" {
		t.Fatalf("page = %+v", page)
	}
	filter := map[string]any{"FunctionName": "cancel-task", "Filters": []map[string]any{{"Name": "TriggerName", "Values": []string{"tb"}}}}
	if err := call(t, c, "scf", "ListTriggers", filter, &page); err != nil || page.TotalCount != 1 {
		t.Fatalf("filtered = %+v %v", page, err)
	}
	wantCode(t, call(t, c, "scf", "ListTriggers", map[string]any{"FunctionName": "cancel-task", "Limit": 101}, nil), "InvalidParameterValue")
}

// TestZipLimits checks the documented package limits directly: over HTTP the
// 10 MB request limit comes first.
func TestZipLimits(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "big", Method: zip.Store})
	_, _ = w.Write(make([]byte, 2048))
	_ = zw.Close()
	b64 := base64.StdEncoding.EncodeToString(buf.Bytes())
	if _, err := decodeZip(b64, buf.Len(), "ZipFile"); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := decodeZip(b64, buf.Len()-1, "ZipFile"); err == nil || err.Code != "InvalidParameterValue.ZipFile" || !strings.Contains(err.Message, "limit") {
		t.Fatalf("over the limit: %v", err)
	}
	if maxCreateZipBytes != 50<<20 || maxUpdateZipBytes != 20<<20 {
		t.Fatal("limits differ from the SDK models' 50 MB / 20 MB")
	}
}
