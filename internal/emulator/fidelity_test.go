package emulator

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

type trig struct {
	TriggerName, Type, TriggerDesc, Qualifier, AddTime, ModTime string
	Enable                                                      int64
}

func listTriggers(t *testing.T, c *common.Client, fn string) map[string]trig {
	t.Helper()
	var out struct{ Triggers []trig }
	mustCall(t, c, "scf", "ListTriggers", map[string]any{"FunctionName": fn}, &out)
	m := map[string]trig{}
	for _, tr := range out.Triggers {
		m[tr.Type] = tr
	}
	return m
}

type netConfig struct {
	AuthType  string
	NetConfig map[string]any
}

func netOf(t *testing.T, tr trig) netConfig {
	t.Helper()
	var d netConfig
	var raw map[string]any
	if err := json.Unmarshal([]byte(tr.TriggerDesc), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["Url"]; ok {
		t.Errorf("TriggerDesc has the invented Url key: %s", tr.TriggerDesc)
	}
	_ = json.Unmarshal([]byte(tr.TriggerDesc), &d)
	return d
}

func newFunction(t *testing.T, e *env, c *common.Client) {
	t.Helper()
	mustCall(t, c, "scf", "CreateFunction", validCreate(t), nil)
	e.clock.Advance(DefaultFunctionReadyAfter)
}

// withFunction is a new emulator with function cancel-task in ap-guangzhou
// (newFunction) and a client there.
func withFunction(t *testing.T) (*env, *common.Client) {
	t.Helper()
	e := newEnv(t, Options{})
	c := e.sdk(t, "ap-guangzhou", nil)
	newFunction(t, e, c)
	return e, c
}

func TestTriggersPublishedShapes(t *testing.T) {
	_, c := withFunction(t)
	mustCall(t, c, "scf", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "sweep", "Type": "timer",
		"TriggerDesc": "*/5 * * * *", "Qualifier": "$DEFAULT"}, nil)
	mustCall(t, c, "scf", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "ignored", "Type": "http",
		"TriggerDesc": `{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}`, "Qualifier": "$DEFAULT"}, nil)
	got := listTriggers(t, c, "cancel-task")
	if tm := got["timer"]; tm.TriggerDesc != `{"cron":"0 */5 * * * * *"}` || tm.Qualifier != "$DEFAULT" {
		t.Errorf("timer = %+v, want the 5-field cron as 7 fields and Qualifier $DEFAULT", tm)
	}
	h := got["http"]
	host := EmulatorAppID + "-" + h.TriggerName + ".ap-guangzhou.tencentscf.com"
	want := map[string]any{"EnableIntranet": false, "EnableExtranet": true, "ExtranetUrl": "https://" + host, "ExtranetHTTPUrl": "http://" + host,
		"IntranetUrl": "", "IntranetHTTPUrl": "", "WssIntranetUrl": "", "WsIntranetUrl": "", "WssExtranetUrl": "", "WsExtranetUrl": ""}
	nc := netOf(t, h)
	for k, v := range want {
		if nc.NetConfig[k] != v {
			t.Errorf("NetConfig.%s = %v, want %v", k, nc.NetConfig[k], v)
		}
	}
	if len(h.TriggerName) != 10 || h.Qualifier != "$DEFAULT" || nc.AuthType != "NONE" {
		t.Errorf("http trigger = %+v", h)
	}
}

func TestUpdateTrigger(t *testing.T) {
	e, c := withFunction(t)
	mustCall(t, c, "scf", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "sweep", "Type": "timer",
		"TriggerDesc": "0 */5 * * * * *", "Description": "keep"}, nil)
	mustCall(t, c, "scf", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "Type": "http",
		"TriggerDesc": `{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}`}, nil)
	before := listTriggers(t, c, "cancel-task")
	e.clock.Advance(time.Minute)
	url := before["http"].TriggerName

	mustCall(t, c, "scf", "UpdateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": url, "Type": "http",
		"TriggerDesc": `{"AuthType":"NONE","NetConfig":{"EnableIntranet":true,"EnableExtranet":true}}`}, nil)
	mustCall(t, c, "scf", "UpdateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "sweep", "Type": "timer",
		"TriggerDesc": "*/10 * * * *", "Enable": "CLOSE"}, nil)
	after := listTriggers(t, c, "cancel-task")
	h := after["http"]
	nc, ncBefore := netOf(t, h), netOf(t, before["http"])
	if h.TriggerName != url || h.AddTime != before["http"].AddTime || h.ModTime == before["http"].ModTime {
		t.Errorf("http trigger after update = %+v, before %+v: want the same name and AddTime, a new ModTime", h, before["http"])
	}
	if nc.NetConfig["ExtranetUrl"] != ncBefore.NetConfig["ExtranetUrl"] || nc.NetConfig["IntranetUrl"] != "https://"+EmulatorAppID+"-"+url+".in.ap-guangzhou.tencentscf.com" {
		t.Errorf("NetConfig after enabling intranet = %v", nc.NetConfig)
	}
	if tm := after["timer"]; tm.TriggerDesc != `{"cron":"0 */10 * * * * *"}` || tm.Enable != 0 {
		t.Errorf("timer after update = %+v", tm)
	}
	for _, tc := range []struct {
		name   string
		params map[string]any
		code   string
	}{
		{"unknown trigger", map[string]any{"TriggerName": "nope", "Type": "timer", "Enable": "OPEN"}, "ResourceNotFound.Trigger"},
		{"other type", map[string]any{"TriggerName": "sweep", "Type": "cos"}, "InvalidParameterValue.Type"},
		{"bad cron", map[string]any{"TriggerName": "sweep", "Type": "timer", "TriggerDesc": "* *"}, "InvalidParameterValue.TriggerCronConfig"},
		{"empty Enable", map[string]any{"TriggerName": "sweep", "Type": "timer", "Enable": ""}, "InvalidParameterValue.Enable"},
		{"neither side", map[string]any{"TriggerName": url, "Type": "http", "TriggerDesc": `{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":false}}`}, "InvalidParameterValue.TriggerDesc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.params["FunctionName"] = "cancel-task"
			wantCode(t, call(t, c, "scf", "UpdateTrigger", tc.params, nil), tc.code)
		})
	}
}

func TestEnvironmentVariablesClear(t *testing.T) {
	tests := []struct {
		name string
		vars []map[string]string
		want int
	}{
		{"empty list is ignored", []map[string]string{}, 1},
		{"clear element removes all", []map[string]string{{"Key": "", "Value": ""}}, 0},
		{"a new list replaces", []map[string]string{{"Key": "A", "Value": "1"}, {"Key": "B", "Value": "2"}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c := withFunction(t)
			mustCall(t, c, "scf", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task",
				"Environment": map[string]any{"Variables": tc.vars}}, nil)
			var got struct{ Environment struct{ Variables []kv } }
			mustCall(t, c, "scf", "GetFunction", map[string]any{"FunctionName": "cancel-task"}, &got)
			if len(got.Environment.Variables) != tc.want {
				t.Errorf("variables = %v, want %d", got.Environment.Variables, tc.want)
			}
		})
	}
}

func TestSettleFaults(t *testing.T) {
	type fnState struct {
		Status, StatusDesc string
		StatusReasons      []statusReason
	}
	get := func(t *testing.T, c *common.Client) fnState {
		t.Helper()
		var st fnState
		mustCall(t, c, "scf", "GetFunction", map[string]any{"FunctionName": "cancel-task"}, &st)
		return st
	}
	t.Run("CreateFailed: only delete", func(t *testing.T) {
		e := newEnv(t, Options{})
		c := e.sdk(t, "ap-guangzhou", nil)
		e.srv.FailNext(ControlFailure{Action: "scf.CreateFunction", Settle: FunctionCreateFailed, Message: "image pull failed"})
		newFunction(t, e, c)
		st := get(t, c)
		if st.Status != FunctionCreateFailed || st.StatusDesc != "image pull failed" || len(st.StatusReasons) != 1 ||
			st.StatusReasons[0].ErrorCode != "FailedOperation.CreateFunction" {
			t.Fatalf("state = %+v", st)
		}
		wantCode(t, call(t, c, "scf", "UpdateFunctionCode", map[string]any{"FunctionName": "cancel-task", "ZipFile": testZip(t, "x", "y")}, nil), "FailedOperation.UpdateFunctionCode")
		wantCode(t, call(t, c, "scf", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task", "Timeout": 5}, nil), "FailedOperation.UpdateFunctionConfiguration")
		mustCall(t, c, "scf", "DeleteFunction", map[string]any{"FunctionName": "cancel-task"}, nil)
	})
	t.Run("UpdateFailed: can be updated again", func(t *testing.T) {
		e, c := withFunction(t)
		e.srv.FailNext(ControlFailure{Action: "scf.UpdateFunctionConfiguration", Settle: FunctionUpdateFailed})
		mustCall(t, c, "scf", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task", "Timeout": 5}, nil)
		if st := get(t, c); st.Status != FunctionUpdating {
			t.Fatalf("status = %s, want Updating first", st.Status)
		}
		e.clock.Advance(DefaultFunctionReadyAfter)
		if st := get(t, c); st.Status != FunctionUpdateFailed || st.StatusDesc == "" || len(st.StatusReasons) != 1 {
			t.Fatalf("state = %+v", st)
		}
		mustCall(t, c, "scf", "UpdateFunctionCode", map[string]any{"FunctionName": "cancel-task", "ZipFile": testZip(t, "x", "y")}, nil)
		e.clock.Advance(DefaultFunctionReadyAfter)
		if st := get(t, c); st.Status != FunctionActive || st.StatusDesc != "" || len(st.StatusReasons) != 0 {
			t.Fatalf("state after a good update = %+v", st)
		}
	})
	t.Run("endpoint refuses a settle on the wrong action", func(t *testing.T) {
		e := newEnv(t, Options{})
		status, _ := e.inspect(t, "POST", "/_emulator/fail-next", `{"Action":"scf.CreateTrigger","Settle":"CreateFailed"}`)
		if status != 400 {
			t.Fatalf("status %d", status)
		}
		status, _ = e.inspect(t, "POST", "/_emulator/fail-next", `{"Action":"scf.CreateFunction","Settle":"CreateFailed"}`)
		if status != 204 {
			t.Fatalf("status %d", status)
		}
	})
}

func TestRolePropagation(t *testing.T) {
	e := newEnv(t, Options{RolePropagation: 3 * time.Second})
	cam := e.sdk(t, "", nil)
	c := e.sdk(t, "ap-guangzhou", nil)
	mustCall(t, cam, "cam", "CreateRole", map[string]any{"RoleName": "FnRole", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)}, nil)
	create := validCreate(t)
	create["Role"] = "FnRole"
	wantCode(t, call(t, c, "scf", "CreateFunction", create, nil), "FailedOperation.CallRoleFailed")
	e.clock.Advance(3 * time.Second)
	mustCall(t, c, "scf", "CreateFunction", create, nil)
	e.clock.Advance(DefaultFunctionReadyAfter)
	var pol struct{ PolicyId uint64 }
	mustCall(t, cam, "cam", "CreatePolicy", map[string]any{"PolicyName": "P", "PolicyDocument": `{"version":"2.0","statement":[{"effect":"allow","action":"scf:*","resource":"*"}]}`}, &pol)
	mustCall(t, cam, "cam", "AttachRolePolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachRoleName": "FnRole"}, nil)
	upd := map[string]any{"FunctionName": "cancel-task", "Role": "FnRole"}
	wantCode(t, call(t, c, "scf", "UpdateFunctionConfiguration", upd, nil), "FailedOperation.CallRoleFailed")
	e.clock.Advance(3 * time.Second)
	mustCall(t, c, "scf", "UpdateFunctionConfiguration", upd, nil)
}

func TestPolicyVersions(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "", nil)
	doc := func(action string) string {
		return `{"version":"2.0","statement":[{"effect":"allow","action":"` + action + `","resource":"*"}]}`
	}
	var pol struct{ PolicyId uint64 }
	mustCall(t, c, "cam", "CreatePolicy", map[string]any{"PolicyName": "P", "PolicyDocument": doc("scf:v1")}, &pol)
	id := pol.PolicyId
	for v := 2; v <= MaxPolicyVersions; v++ {
		mustCall(t, c, "cam", "CreatePolicyVersion", map[string]any{"PolicyId": id, "PolicyDocument": doc("scf:v"), "SetAsDefault": false}, nil)
	}
	wantCode(t, call(t, c, "cam", "CreatePolicyVersion", map[string]any{"PolicyId": id, "PolicyDocument": doc("scf:v6"), "SetAsDefault": true}, nil), "FailedOperation.PolicyVersionFull")
	enforced := func() string {
		for _, p := range e.srv.Policies() {
			if p.PolicyId == id {
				return p.PolicyDocument
			}
		}
		return ""
	}
	tests := []struct {
		name   string
		action string
		params map[string]any
		code   string
		doc    string
	}{
		{"delete the default", "DeletePolicyVersion", map[string]any{"VersionId": []int{1}}, "FailedOperation.PolicyVersionAlreadyDefault", doc("scf:v1")},
		{"delete an old one", "DeletePolicyVersion", map[string]any{"VersionId": []int{2}}, "", doc("scf:v1")},
		{"delete a missing one", "DeletePolicyVersion", map[string]any{"VersionId": []int{2}}, "InvalidParameter.PolicyVersionNotExists", doc("scf:v1")},
		{"room for one more, as default", "CreatePolicyVersion", map[string]any{"PolicyDocument": doc("scf:v6"), "SetAsDefault": true}, "", doc("scf:v6")},
		{"set the default back", "SetDefaultPolicyVersion", map[string]any{"VersionId": 1}, "", doc("scf:v1")},
		{"set the default again", "SetDefaultPolicyVersion", map[string]any{"VersionId": 1}, "FailedOperation.PolicyVersionAlreadyDefault", doc("scf:v1")},
		{"update in place", "UpdatePolicy", map[string]any{"PolicyDocument": doc("scf:v7")}, "", doc("scf:v7")},
		{"update again: still no new version", "UpdatePolicy", map[string]any{"PolicyDocument": doc("scf:v8")}, "", doc("scf:v8")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.params["PolicyId"] = id
			if err := call(t, c, "cam", tc.action, tc.params, nil); sdkCode(t, err) != tc.code {
				t.Fatalf("%s: %v, want code %q", tc.action, err, tc.code)
			}
			if got := enforced(); got != tc.doc {
				t.Errorf("enforced document = %s, want %s", got, tc.doc)
			}
		})
	}
	var vs struct {
		Versions []struct {
			VersionId        uint64
			IsDefaultVersion int64
		}
	}
	mustCall(t, c, "cam", "ListPolicyVersions", map[string]any{"PolicyId": id}, &vs)
	if len(vs.Versions) != MaxPolicyVersions || vs.Versions[0].VersionId != 1 || vs.Versions[0].IsDefaultVersion != 1 {
		t.Errorf("versions = %+v", vs.Versions)
	}
	var pv struct{ PolicyVersion struct{ Document string } }
	mustCall(t, c, "cam", "GetPolicyVersion", map[string]any{"PolicyId": id, "VersionId": 1}, &pv)
	if pv.PolicyVersion.Document != doc("scf:v8") {
		t.Errorf("version 1 document = %s", pv.PolicyVersion.Document)
	}
}
