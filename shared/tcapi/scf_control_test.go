package tcapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// TestEmulatorSCFControlAndCAM drives the typed SCF and CAM clients through
// a function's life against the emulator.
func TestEmulatorSCFControlAndCAM(t *testing.T) {
	_, endpoint := startEmulator(t, emulator.Options{FunctionReadyAfter: -1})
	ctx := context.Background()
	scf, err := tcapi.NewSCFControl(emuCred, emuOptions(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	camOpts := emuOptions(endpoint)
	camOpts.Region = ""
	cam, err := tcapi.NewCAM(emuCred, camOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tcapi.NewSCFControl(emuCred, tcapi.Options{Endpoint: endpoint}); err == nil {
		t.Fatal("NewSCFControl without a region: no error")
	}

	trust := `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"service":["scf.qcloud.com"]}}]}`
	if _, err := cam.GetRole(ctx, "R"); !tcapi.HasCode(err, "InvalidParameter.RoleNotExist") {
		t.Fatalf("GetRole of a missing role: %v", err)
	}
	if _, err := cam.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: "R", PolicyDocument: trust}); err != nil {
		t.Fatal(err)
	}
	pol, err := cam.CreatePolicy(ctx, tcapi.CreatePolicyRequest{PolicyName: "P", PolicyDocument: `{"version":"2.0","statement":[{"effect":"allow","action":["ams:CancelTask"],"resource":["*"]}]}`})
	if err != nil || pol.PolicyId == 0 {
		t.Fatalf("CreatePolicy: %+v %v", pol, err)
	}
	if err := cam.AttachRolePolicy(ctx, pol.PolicyId, "R"); err != nil {
		t.Fatal(err)
	}
	att, err := cam.ListAttachedRolePolicies(ctx, "R", 1, 200)
	if err != nil || att.TotalNum != 1 || att.List[0].PolicyName != "P" {
		t.Fatalf("ListAttachedRolePolicies: %+v %v", att, err)
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("fn")
	_, _ = w.Write([]byte("binary"))
	_ = zw.Close()
	err = scf.CreateFunction(ctx, tcapi.CreateFunctionRequest{FunctionName: "fn", Handler: "fn", Runtime: "Go1", MemorySize: 64, Timeout: 10, Role: "R",
		Code: &tcapi.Code{ZipFile: base64.StdEncoding.EncodeToString(buf.Bytes())}, Environment: &tcapi.Environment{Variables: []tcapi.Variable{{Key: "A", Value: "1"}}},
		Tags: []tcapi.Tag{{Key: "managed-by", Value: "scf-deploy"}}})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := scf.GetFunction(ctx, tcapi.FunctionRef{FunctionName: "fn"})
	if err != nil || fn.Status != "Active" || fn.Role != "R" || fn.MemorySize != 64 || len(fn.Environment.Variables) != 1 || len(fn.Tags) != 1 {
		t.Fatalf("GetFunction: %+v %v", fn, err)
	}
	if _, err := scf.GetFunction(ctx, tcapi.FunctionRef{FunctionName: "nope"}); !tcapi.HasCode(err, "ResourceNotFound.Function") {
		t.Fatalf("GetFunction of a missing function: %v", err)
	}
	tr, err := scf.CreateTrigger(ctx, tcapi.CreateTriggerRequest{FunctionName: "fn", TriggerName: "url", Type: "http",
		TriggerDesc: `{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}`})
	if err != nil || tr.TriggerInfo.TriggerName == "" {
		t.Fatalf("CreateTrigger: %+v %v", tr, err)
	}
	list, err := scf.ListTriggers(ctx, tcapi.ListTriggersRequest{FunctionName: "fn", Limit: 100})
	if err != nil || list.TotalCount != 1 || list.Triggers[0].Type != "http" {
		t.Fatalf("ListTriggers: %+v %v", list, err)
	}
	// UpdateTrigger changes the URL in place: same name, intranet added.
	err = scf.UpdateTrigger(ctx, tcapi.UpdateTriggerRequest{FunctionName: "fn", TriggerName: list.Triggers[0].TriggerName, Type: "http", Qualifier: list.Triggers[0].Qualifier,
		Enable: "OPEN", TriggerDesc: `{"AuthType":"NONE","NetConfig":{"EnableIntranet":true,"EnableExtranet":true}}`})
	if err != nil {
		t.Fatal(err)
	}
	after, err := scf.ListTriggers(ctx, tcapi.ListTriggersRequest{FunctionName: "fn", Limit: 100})
	if err != nil || after.TotalCount != 1 || after.Triggers[0].TriggerName != list.Triggers[0].TriggerName ||
		!strings.Contains(after.Triggers[0].TriggerDesc, `"EnableIntranet":true`) {
		t.Fatalf("ListTriggers after UpdateTrigger: %+v %v", after, err)
	}
	// UpdatePolicy rewrites the document in place.
	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["vm:CancelTask"],"resource":["*"]}]}`
	if err := cam.UpdatePolicy(ctx, pol.PolicyId, doc); err != nil {
		t.Fatal(err)
	}
	if got, err := cam.GetPolicy(ctx, pol.PolicyId); err != nil || !strings.Contains(got.PolicyDocument, "vm:CancelTask") {
		t.Fatalf("GetPolicy after UpdatePolicy: %+v %v", got, err)
	}
	err = scf.UpdateFunctionConfiguration(ctx, tcapi.UpdateFunctionConfigurationRequest{FunctionName: "fn", Timeout: 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := scf.DeleteFunction(ctx, tcapi.FunctionRef{FunctionName: "fn"}); err != nil {
		t.Fatal(err)
	}
}
