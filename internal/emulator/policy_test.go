package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
)

// TestEvaluatePolicies: CAM's evaluation as the emulator models it.
func TestEvaluatePolicies(t *testing.T) {
	const invokeRes = "qcs::scf:ap-guangzhou:uin/100000000001:namespace/default/function/sweep-tasks"
	const roleRes = "qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole"
	doc := func(statements ...string) string {
		return `{"version":"2.0","statement":[` + strings.Join(statements, ",") + `]}`
	}
	allow := func(action, resource string) string {
		return `{"effect":"allow","action":` + action + `,"resource":` + resource + `}`
	}
	deny := func(action, resource string) string {
		return `{"effect":"deny","action":` + action + `,"resource":` + resource + `}`
	}
	tests := []struct {
		name     string
		docs     []string
		action   string
		resource string
		want     policyDecision
	}{
		{"no policy: default deny", nil, "ams:CancelTask", "", policyImplicitDeny},
		{"action in a list", []string{doc(allow(`["ams:DescribeTasks","ams:CancelTask"]`, `["*"]`))}, "ams:CancelTask", "", policyAllow},
		{"action as a string", []string{doc(allow(`"ams:CancelTask"`, `"*"`))}, "ams:CancelTask", "", policyAllow},
		{"another action", []string{doc(allow(`["ams:DescribeTasks"]`, `["*"]`))}, "ams:CancelTask", "", policyImplicitDeny},
		{"same name, other service", []string{doc(allow(`["vm:CancelTask"]`, `["*"]`))}, "ams:CancelTask", "", policyImplicitDeny},
		{"*", []string{doc(allow(`"*"`, `"*"`))}, "trtc:DeleteCloudTranscription", "", policyAllow},
		{"service:*", []string{doc(allow(`["trtc:*"]`, `["*"]`))}, "trtc:DeleteCloudTranscription", "", policyAllow},
		{"service:* of another service", []string{doc(allow(`["ams:*"]`, `["*"]`))}, "vm:CancelTask", "", policyImplicitDeny},
		{"trailing * in the name", []string{doc(allow(`["ams:Describe*"]`, `["*"]`))}, "ams:DescribeTaskDetail", "", policyAllow},
		{"trailing * does not cover others", []string{doc(allow(`["ams:Describe*"]`, `["*"]`))}, "ams:CancelTask", "", policyImplicitDeny},
		{"* inside the name", []string{doc(allow(`["trtc:*Transcription"]`, `["*"]`))}, "trtc:DescribeCloudTranscription", "", policyAllow},
		{"service prefix case-insensitive", []string{doc(allow(`["AMS:CancelTask"]`, `["*"]`))}, "ams:CancelTask", "", policyAllow},
		{"name compared exactly", []string{doc(allow(`["ams:canceltask"]`, `["*"]`))}, "ams:CancelTask", "", policyImplicitDeny},
		{"name/ prefix", []string{doc(allow(`"name/sts:AssumeRole"`, `["`+roleRes+`"]`))}, "sts:AssumeRole", roleRes, policyAllow},
		{"AssumeRole on another role", []string{doc(allow(`"name/sts:AssumeRole"`, `["qcs::cam::uin/100000000002:roleName/Other"]`))}, "sts:AssumeRole", roleRes, policyImplicitDeny},
		{"AssumeRole on a wildcard role name", []string{doc(allow(`"name/sts:AssumeRole"`, `["qcs::cam::uin/100000000002:roleName/*"]`))}, "sts:AssumeRole", roleRes, policyAllow},
		{"AssumeRole on another account's roles", []string{doc(allow(`"name/sts:AssumeRole"`, `["qcs::cam::uin/100000000003:roleName/*"]`))}, "sts:AssumeRole", roleRes, policyImplicitDeny},
		{"InvokeFunction on the function", []string{doc(allow(`["scf:InvokeFunction"]`, `["`+invokeRes+`"]`))}, "scf:InvokeFunction", invokeRes, policyAllow},
		{"InvokeFunction on another function", []string{doc(allow(`["scf:InvokeFunction"]`, `["qcs::scf:ap-guangzhou:uin/100000000001:namespace/default/function/cancel-task"]`))}, "scf:InvokeFunction", invokeRes, policyImplicitDeny},
		{"InvokeFunction in another region", []string{doc(allow(`["scf:InvokeFunction"]`, `["qcs::scf:ap-shanghai:uin/100000000001:namespace/default/function/sweep-tasks"]`))}, "scf:InvokeFunction", invokeRes, policyImplicitDeny},
		{"InvokeFunction on the namespace's functions", []string{doc(allow(`["scf:InvokeFunction"]`, `["qcs::scf:ap-guangzhou:uin/100000000001:namespace/default/function/*"]`))}, "scf:InvokeFunction", invokeRes, policyAllow},
		{"other action, resource ending in /*", []string{doc(allow(`["ams:CancelTask"]`, `["qcs::ams:ap-guangzhou:uin/100000000001:task/*"]`))}, "ams:CancelTask", "", policyAllow},
		{"other action, one exact resource", []string{doc(allow(`["ams:CancelTask"]`, `["qcs::ams:ap-guangzhou:uin/100000000001:task/t-1"]`))}, "ams:CancelTask", "", policyImplicitDeny},
		{"explicit deny wins", []string{doc(allow(`"*"`, `"*"`), deny(`["ams:CancelTask"]`, `["*"]`))}, "ams:CancelTask", "", policyExplicitDeny},
		{"deny in another policy wins", []string{doc(allow(`["ams:*"]`, `["*"]`)), doc(deny(`["ams:Cancel*"]`, `"*"`))}, "ams:CancelTask", "", policyExplicitDeny},
		{"deny of another action", []string{doc(allow(`["ams:*"]`, `["*"]`), deny(`["ams:CancelTask"]`, `["*"]`))}, "ams:DescribeTasks", "", policyAllow},
		{"deny of another resource", []string{doc(allow(`"name/sts:AssumeRole"`, `"*"`), deny(`"name/sts:AssumeRole"`, `["qcs::cam::uin/100000000003:roleName/*"]`))}, "sts:AssumeRole", roleRes, policyAllow},
		{"allow in the second policy", []string{doc(allow(`["vm:*"]`, `["*"]`)), doc(allow(`["ams:CancelTask"]`, `["*"]`))}, "ams:CancelTask", "", policyAllow},
		{"condition not evaluated", []string{`{"version":"2.0","statement":[{"effect":"allow","action":["ams:CancelTask"],"resource":"*","condition":{"ip_equal":{"qcs:ip":["10.0.0.1"]}}}]}`}, "ams:CancelTask", "", policyAllow},
		{"malformed document denies (fail closed: its denies cannot be read)", []string{doc(allow(`["ams:*"]`, `["*"]`)), `{"statement":`}, "ams:CancelTask", "", policyExplicitDeny},
		{"trailing data after a document denies", []string{doc(allow(`["ams:*"]`, `["*"]`)), doc(allow(`["vm:*"]`, `["*"]`)) + "}"}, "ams:CancelTask", "", policyExplicitDeny},
		{"statement without resource grants nothing", []string{`{"version":"2.0","statement":[{"effect":"allow","action":"*"}]}`}, "ams:CancelTask", "", policyImplicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := evaluatePolicies(tc.docs, tc.action, tc.resource); got != tc.want {
				t.Errorf("evaluatePolicies(%s on %q) = %d, want %d\ndocs %v", tc.action, tc.resource, got, tc.want, tc.docs)
			}
		})
	}
}

// TestEnforcePolicies: through the SDKs, a role session's requests are served
// as its attached policies say; root keys are not checked; without
// EnforcePolicies nothing is.
func TestEnforcePolicies(t *testing.T) {
	for _, enforce := range []bool{true, false} {
		name := "enforced"
		if !enforce {
			name = "off"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Options{EnforcePolicies: enforce})
			root := e.sdk(t, "ap-guangzhou", nil)
			mustCall(t, root, "cam", "CreateRole", map[string]any{"RoleName": "Canceller", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)}, nil)
			mustCall(t, root, "cam", "CreateRole", map[string]any{"RoleName": "Bare", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)}, nil)
			mustCall(t, root, "cam", "CreateRole", map[string]any{"RoleName": "Target", "PolicyDocument": trustDoc(
				`{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:roleName/Canceller"]}`)}, nil)
			var pol struct{ PolicyId uint64 }
			mustCall(t, root, "cam", "CreatePolicy", map[string]any{"PolicyName": "CancellerPolicy", "PolicyDocument": `{"version":"2.0","statement":[` +
				`{"effect":"allow","action":["ams:CancelTask","ams:Describe*","ci:CancelAuditingJobs"],"resource":["*"]},` +
				`{"effect":"deny","action":["ams:DescribeTaskDetail"],"resource":"*"},` +
				`{"effect":"allow","action":"name/sts:AssumeRole","resource":["qcs::cam::uin/` + DefaultAccountUin + `:roleName/Target"]}]}`}, &pol)
			mustCall(t, root, "cam", "AttachRolePolicy", map[string]any{"PolicyId": pol.PolicyId, "AttachRoleName": "Canceller"}, nil)
			keys := func(role string) *common.Credential {
				c, err := e.srv.ServiceRoleCredential("scf.qcloud.com", "qcs::cam::uin/"+DefaultAccountUin+":roleName/"+role)
				if err != nil {
					t.Fatal(err)
				}
				return common.NewTokenCredential(c.SecretID, c.SecretKey, c.Token)
			}
			canceller, bare := e.sdk(t, "ap-guangzhou", keys("Canceller")), e.sdk(t, "ap-guangzhou", keys("Bare"))
			// A role of Options.Roles / AddRole is not a CAM role: it has no policies.
			plainArn := "qcs::cam::uin/" + targetUin + ":roleName/Plain"
			e.srv.AddRole(Role{Arn: plainArn})
			var assumed struct{ Credentials stsCredentials }
			mustCall(t, root, "sts", "AssumeRole", map[string]any{"RoleArn": plainArn, "RoleSessionName": "plain"}, &assumed)
			plain := e.sdk(t, "ap-guangzhou", common.NewTokenCredential(assumed.Credentials.TmpSecretId, assumed.Credentials.TmpSecretKey, assumed.Credentials.Token))
			task := e.srv.AddTask(Task{Service: "ams", Type: TypeLiveAudio, Status: StatusRunning, Stuck: true})

			tests := []struct {
				name           string
				client         *common.Client
				service, act   string
				params         map[string]any
				denied         bool   // refused when enforced
				wantInMessages string // part of the refusal's message
			}{
				{"allowed action", canceller, "ams", "DescribeTasks", map[string]any{}, false, ""},
				{"action no policy allows", canceller, "vm", "CancelTask", map[string]any{"TaskId": "x"}, true, "(vm:CancelTask)"},
				{"explicitly denied", canceller, "ams", "DescribeTaskDetail", map[string]any{"TaskId": task.TaskId}, true, "denies ams:DescribeTaskDetail"},
				{"AssumeRole on the allowed role", canceller, "sts", "AssumeRole", map[string]any{"RoleArn": "qcs::cam::uin/" + DefaultAccountUin + ":roleName/Target", "RoleSessionName": "s1"}, false, ""},
				{"AssumeRole on another role", canceller, "sts", "AssumeRole", map[string]any{"RoleArn": "qcs::cam::uin/" + DefaultAccountUin + ":roleName/Bare", "RoleSessionName": "s1"}, true, "resource (qcs::cam::uin/" + DefaultAccountUin + ":roleName/Bare)"},
				{"Invoke without InvokeFunction", canceller, "scf", "Invoke", map[string]any{"FunctionName": "sweep-tasks"}, true, "(scf:InvokeFunction) resource (qcs::scf:ap-guangzhou:uin/" + DefaultAccountUin + ":namespace/default/function/sweep-tasks)"},
				{"role with no policy", bare, "ams", "DescribeTasks", map[string]any{}, true, "Bare"},
				{"root keys", root, "vm", "DescribeTasks", map[string]any{}, false, ""},
				{"session of a role that is not a CAM role", plain, "ams", "DescribeTasks", map[string]any{}, true, "not a CAM role"},
				{"allowed cancel", canceller, "ams", "CancelTask", map[string]any{"TaskId": task.TaskId}, false, ""},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					err := call(t, tc.client, tc.service, tc.act, tc.params, nil)
					if !(enforce && tc.denied) {
						if err != nil && strings.Contains(err.Error(), "You are not authorized to perform operation") {
							t.Fatalf("refused by a policy: %v", err)
						}
						return
					}
					wantCode(t, err, "UnauthorizedOperation")
					var se *tcerr.TencentCloudSDKError
					_ = errors.As(err, &se)
					for _, want := range []string{tc.wantInMessages, "You are not authorized to perform operation"} {
						if !strings.Contains(se.Message, want) {
							t.Errorf("message %q does not name %q", se.Message, want)
						}
					}
				})
			}

			// A refused request is not admitted: not counted, no token spent.
			if n := e.srv.AccountStats("").Actions["vm.CancelTask"].Requests; enforce && n != 0 || !enforce && n != 1 {
				t.Errorf("vm.CancelTask counted %d requests, want the one served (enforcement off) or none (refused)", n)
			}

			// CI: cancel is allowed, query is not (403 AccessDenied).
			cj := e.srv.AddLiveJob(LiveJob{DataId: "room"})
			ck, err := e.srv.ServiceRoleCredential("scf.qcloud.com", "qcs::cam::uin/"+DefaultAccountUin+":roleName/Canceller")
			if err != nil {
				t.Fatal(err)
			}
			c, _ := e.cosClient(t, ck.SecretID, ck.SecretKey, ck.Token, nil)
			_, _, err = c.CI.GetVideoAuditingJob(context.Background(), cj.JobId)
			status, code := cosCode(t, err)
			if enforce && (status != http.StatusForbidden || code != "AccessDenied" || !strings.Contains(err.Error(), "ci:DescribeAuditingJobs")) {
				t.Errorf("CI query without ci:DescribeAuditingJobs: %d %s (%v), want 403 AccessDenied naming the action", status, code, err)
			}
			if !enforce && err != nil {
				t.Errorf("CI query with enforcement off: %v", err)
			}
			if _, _, err := c.CI.PostVideoAuditingCancelJob(context.Background(), cj.JobId); err != nil {
				t.Errorf("CI cancel with ci:CancelAuditingJobs: %v", err)
			}
		})
	}
}
