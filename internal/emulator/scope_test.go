package emulator

import (
	"net/http"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// The escalations below were each possible before the emulator scoped its
// API 3.0 calls like Tencent; every case is one that must be refused.

// TestInvokeScopedToAccountAndRegion: the Invoke API runs the default
// account's functions of scf-local's region only.
func TestInvokeScopedToAccountAndRegion(t *testing.T) {
	fake := &fakeInvoker{}
	e := newEnv(t, Options{Invoker: fake})
	e.srv.AddCredential(targetUin, Credential{SecretID: "AKIDother", SecretKey: "other-key"})
	other := common.NewCredential("AKIDother", "other-key")
	for _, tc := range []struct {
		name   string
		region string
		cred   *common.Credential
		code   string
	}{
		{"own account, its region", "ap-guangzhou", nil, ""},
		{"another account's keys", "ap-guangzhou", other, "ResourceNotFound.Function"},
		{"another region", "ap-beijing", nil, "ResourceNotFound.Function"},
		{"no region", "", nil, "MissingParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(fake.calls)
			_, err := scfCall(t, e.sdk(t, tc.region, tc.cred), "Invoke", map[string]any{"FunctionName": "echo", "ClientContext": `{}`})
			wantCode(t, err, tc.code)
			if ran := len(fake.calls) - before; tc.code != "" && ran != 0 {
				t.Errorf("the function ran %d time(s) for a refused call", ran)
			}
		})
	}
}

// TestFunctionsScopedToAccountAndRegion: a function exists in one account
// and one region; another account may use the same name.
func TestFunctionsScopedToAccountAndRegion(t *testing.T) {
	e := newEnv(t, Options{FunctionReadyAfter: -1})
	e.srv.AddCredential(targetUin, Credential{SecretID: "AKIDother", SecretKey: "other-key"})
	own := e.sdk(t, "ap-guangzhou", nil)
	mustCall(t, own, "scf", "CreateFunction", validCreate(t), nil)
	other := common.NewCredential("AKIDother", "other-key")
	get := map[string]any{"FunctionName": "cancel-task"}
	for _, tc := range []struct {
		name   string
		client *common.Client
		code   string
	}{
		{"own account, its region", own, ""},
		{"another account", e.sdk(t, "ap-guangzhou", other), "ResourceNotFound.Function"},
		{"another region", e.sdk(t, "ap-beijing", nil), "ResourceNotFound.Function"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, action := range []string{"GetFunction", "ListTriggers", "DeleteTrigger", "UpdateFunctionConfiguration", "DeleteFunction"} {
				params := map[string]any{"FunctionName": "cancel-task"}
				switch action {
				case "DeleteTrigger":
					params["TriggerName"], params["Type"] = "t", "timer"
				case "UpdateFunctionConfiguration":
					params["MemorySize"] = 256
				}
				if tc.code == "" && action != "GetFunction" {
					continue // only read with the owner's keys
				}
				err := call(t, tc.client, "scf", action, params, nil)
				wantCode(t, err, tc.code)
			}
		})
	}
	// The other account may create its own function of the same name.
	mustCall(t, e.sdk(t, "ap-guangzhou", other), "scf", "CreateFunction", validCreate(t), nil)
	var fn struct{ MemorySize int64 }
	mustCall(t, own, "scf", "GetFunction", get, &fn)
	if fn.MemorySize == 256 {
		t.Fatal("another account's UpdateFunctionConfiguration changed this account's function")
	}
}

// TestTranscriptionAppsScopedToAccount: the TRTC apps are the default
// account's.
func TestTranscriptionAppsScopedToAccount(t *testing.T) {
	e := newEnv(t, Options{})
	tr := e.srv.AddTranscription(Transcription{})
	e.srv.AddCredential(targetUin, Credential{SecretID: "AKIDother", SecretKey: "other-key"})
	other := e.sdk(t, "ap-guangzhou", common.NewCredential("AKIDother", "other-key"))
	err := call(t, other, "trtc", "DeleteCloudTranscription", map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": tr.TaskId}, nil)
	wantCode(t, err, "InvalidParameter.SdkAppId")
	mustCall(t, e.sdk(t, "ap-guangzhou", nil), "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": tr.TaskId}, nil)
}

// TestPolicyEscalations: each way around a Deny that once worked.
func TestPolicyEscalations(t *testing.T) {
	fake := &fakeInvoker{}
	e := newEnv(t, Options{EnforcePolicies: true, Invoker: fake})
	root := e.sdk(t, "ap-guangzhou", nil)
	arn := func(ref string) string { return "qcs::cam::uin/" + DefaultAccountUin + ":" + ref }
	mustCall(t, root, "cam", "CreateRole", map[string]any{"RoleName": "Caller", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)}, nil)
	var target struct{ RoleId string }
	mustCall(t, root, "cam", "CreateRole", map[string]any{"RoleName": "Target", "PolicyDocument": trustDoc(`{"qcs":["` + arn("root") + `"]}`)}, &target)
	if target.RoleId == "" {
		t.Fatal("CreateRole answered no RoleId")
	}
	var pol struct{ PolicyId uint64 }
	mustCall(t, root, "cam", "CreatePolicy", map[string]any{"PolicyName": "CallerPolicy", "PolicyDocument": `{"version":"2.0","statement":[` +
		`{"effect":"allow","action":["sts:AssumeRole","ams:*"],"resource":["*"]},` +
		`{"effect":"allow","action":["scf:InvokeFunction"],"resource":["qcs::scf:ap-beijing:uin/` + DefaultAccountUin + `:namespace/default/function/echo"]},` +
		`{"effect":"deny","action":["sts:AssumeRole"],"resource":["` + arn("roleName/Target") + `"]},` +
		`{"effect":"deny","action":["ams:DescribeTaskDetail"],"resource":["*"]}]}`}, &pol)
	mustCall(t, root, "cam", "AttachRolePolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachRoleName": "Caller"}, nil)
	c, err := e.srv.ServiceRoleCredential("scf.qcloud.com", arn("roleName/Caller"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a deny on roleName/X holds for role/<id>", func(t *testing.T) {
		caller := e.sdk(t, "ap-guangzhou", common.NewTokenCredential(c.SecretID, c.SecretKey, c.Token))
		for _, ref := range []string{"roleName/Target", "role/" + target.RoleId} {
			err := call(t, caller, "sts", "AssumeRole", map[string]any{"RoleArn": arn(ref), "RoleSessionName": "s"}, nil)
			wantCode(t, err, "UnauthorizedOperation")
		}
	})

	t.Run("an allow for another region runs nothing here", func(t *testing.T) {
		for _, region := range []string{"ap-guangzhou", "ap-beijing"} {
			caller := e.sdk(t, region, common.NewTokenCredential(c.SecretID, c.SecretKey, c.Token))
			_, err := scfCall(t, caller, "Invoke", map[string]any{"FunctionName": "echo"})
			if sdkCode(t, err) == "" {
				t.Errorf("X-TC-Region %s: the ap-guangzhou function ran under an allow for ap-beijing", region)
			}
		}
		if len(fake.calls) != 0 {
			t.Errorf("the function ran %d time(s)", len(fake.calls))
		}
	})

	t.Run("a body with data after the object never reaches the policy check", func(t *testing.T) {
		for _, body := range []string{`{"TaskId":"x"}]`, `{"TaskId":"x"}}`, `{"TaskId":"x"} {}`} {
			status, _, out := e.do(t, rawRequest{service: "ams", action: "DescribeTaskDetail", region: "ap-guangzhou",
				secretID: c.SecretID, secretKey: c.SecretKey, token: c.Token, body: body})
			if code := apiErrorCode(t, out); status != http.StatusOK || code != "InvalidParameter" {
				t.Errorf("body %s: HTTP %d %s, want InvalidParameter", body, status, code)
			}
		}
	})

	t.Run("CAM stores no document with data after it", func(t *testing.T) {
		for _, doc := range []string{`{"version":"2.0","statement":[{"effect":"deny","action":"*","resource":"*"}]}}`,
			`{"version":"2.0","statement":[{"effect":"deny","action":"*","resource":"*"}]}]`} {
			err := call(t, root, "cam", "CreatePolicy", map[string]any{"PolicyName": "Trailing", "PolicyDocument": doc}, nil)
			wantCode(t, err, "InvalidParameter.PolicyDocumentError")
			err = call(t, root, "cam", "CreateRole", map[string]any{"RoleName": "Trailing", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`) + "]"}, nil)
			wantCode(t, err, "InvalidParameter.PolicyDocumentError")
		}
	})
}

// TestTrustPolicyActionForms: a trust statement's action is matched as CAM
// matches actions; a deny in any of these forms wins.
func TestTrustPolicyActionForms(t *testing.T) {
	principal := `{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:root"]}`
	for _, action := range []string{`"name/sts:AssumeRole"`, `"sts:AssumeRole"`, `["sts:*"]`, `"*"`, `"STS:AssumeRole"`} {
		t.Run(action, func(t *testing.T) {
			allow := `{"version":"2.0","statement":[{"effect":"allow","action":` + action + `,"principal":` + principal + `}]}`
			if !trusts(allow, trustPrincipal{uin: DefaultAccountUin}) {
				t.Errorf("allow with action %s does not let the account in", action)
			}
			deny := `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":` + principal + `},` +
				`{"effect":"deny","action":` + action + `,"principal":` + principal + `}]}`
			if trusts(deny, trustPrincipal{uin: DefaultAccountUin}) {
				t.Errorf("deny with action %s is ignored", action)
			}
		})
	}
	other := `{"version":"2.0","statement":[{"effect":"allow","action":"sts:GetFederationToken","principal":` + principal + `}]}`
	if trusts(other, trustPrincipal{uin: DefaultAccountUin}) {
		t.Error("a statement for another action lets the account assume the role")
	}
}

// TestTrustPolicyBadPrincipal: a statement whose principal does not parse
// refuses everyone, even beside an allow naming the caller.
func TestTrustPolicyBadPrincipal(t *testing.T) {
	root := `{"effect":"allow","action":"sts:AssumeRole","principal":{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:root"]}}`
	for name, principal := range map[string]string{
		"string":          `"qcs::cam::uin/` + DefaultAccountUin + `:root"`,
		"number value":    `{"qcs":12}`,
		"list of objects": `{"service":[{"name":"scf.qcloud.com"}]}`,
		"missing":         `null`,
	} {
		t.Run(name, func(t *testing.T) {
			doc := `{"version":"2.0","statement":[` + root + `,{"effect":"allow","action":"sts:AssumeRole","principal":` + principal + `}]}`
			if trusts(doc, trustPrincipal{uin: DefaultAccountUin}) {
				t.Errorf("principal %s lets the account in", principal)
			}
		})
	}
}
