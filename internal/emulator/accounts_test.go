package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

const (
	targetUin  = "100000000002"
	targetRole = "qcs::cam::uin/" + targetUin + ":roleName/JanitorSweepTargetRole"
)

// assumeRole calls STS AssumeRole through the official SDK.
func assumeRole(t *testing.T, c *common.Client, params map[string]any) (assumeRoleResp, error) {
	t.Helper()
	var out assumeRoleResp
	err := call(t, c, "sts", "AssumeRole", params, &out)
	return out, err
}

func TestAssumeRoleActsInTheRolesAccount(t *testing.T) {
	e := newEnv(t, Options{Roles: []Role{{Arn: targetRole, Trusted: []string{""}}}})
	self := e.sdk(t, "ap-guangzhou", nil)
	old := e.clock.Now().Add(-3 * time.Hour)
	mine := e.srv.AddTask(Task{Type: TypeLiveAudio, Status: StatusRunning, CreatedAt: old})
	theirs := e.srv.AddTask(Task{Account: targetUin, Type: TypeLiveAudio, Status: StatusRunning, CreatedAt: old})

	out, err := assumeRole(t, self, map[string]any{"RoleArn": targetRole, "RoleSessionName": "scf-janitor-sweep", "DurationSeconds": 900})
	if err != nil {
		t.Fatal(err)
	}
	if out.Credentials.TmpSecretId == "" || out.Credentials.TmpSecretKey == "" || out.Credentials.Token == "" {
		t.Fatalf("credentials %+v", out.Credentials)
	}
	if want := e.clock.Now().Add(900 * time.Second).Unix(); out.ExpiredTime != want {
		t.Errorf("ExpiredTime %d, want %d", out.ExpiredTime, want)
	}
	if _, err := time.Parse(time.RFC3339, out.Expiration); err != nil {
		t.Errorf("Expiration %q: %v", out.Expiration, err)
	}
	other := e.sdk(t, "", common.NewTokenCredential(out.Credentials.TmpSecretId, out.Credentials.TmpSecretKey, out.Credentials.Token))

	// Each account lists only its own tasks.
	var page describeResp
	mustCall(t, other, "ams", "DescribeTasks", map[string]any{"Limit": 10, "StartTime": old.Add(-time.Hour).Format(time.RFC3339)}, &page)
	if got := taskIDs(page.Data); len(got) != 1 || got[0] != theirs.TaskId {
		t.Errorf("target account lists %v, want [%s]", got, theirs.TaskId)
	}
	mustCall(t, self, "ams", "DescribeTasks", map[string]any{"Limit": 10, "StartTime": old.Add(-time.Hour).Format(time.RFC3339)}, &page)
	if got := taskIDs(page.Data); len(got) != 1 || got[0] != mine.TaskId {
		t.Errorf("default account lists %v, want [%s]", got, mine.TaskId)
	}
	// And cancels only its own.
	wantCode(t, call(t, other, "ams", "CancelTask", map[string]string{"TaskId": mine.TaskId}, nil), "ResourceNotFound")
	mustCall(t, other, "ams", "CancelTask", map[string]string{"TaskId": theirs.TaskId}, nil)
	if got := e.srv.AccountTasks(targetUin, "ams"); len(got) != 1 || got[0].Status != StatusCancelled {
		t.Errorf("target account tasks %+v", got)
	}
	if got, _ := e.srv.Task("ams", mine.TaskId); got.Status != StatusRunning {
		t.Errorf("default account's task is %s", got.Status)
	}
	// The token is required with the temporary key.
	noToken := e.sdk(t, "", common.NewCredential(out.Credentials.TmpSecretId, out.Credentials.TmpSecretKey))
	wantCode(t, call(t, noToken, "ams", "DescribeTasks", map[string]any{}, nil), "AuthFailure.TokenFailure")

	// Stats per account.
	if st := e.srv.AccountStats(targetUin).Actions["ams.CancelTask"]; st.Requests != 2 {
		t.Errorf("target account CancelTask stats %+v, want 2 requests", st)
	}
	if st := e.srv.AccountStats("").Actions["ams.CancelTask"]; st.Requests != 0 {
		t.Errorf("default account CancelTask stats %+v, want none", st)
	}
}

func TestAssumeRoleErrors(t *testing.T) {
	e := newEnv(t, Options{Roles: []Role{
		{Arn: targetRole, Trusted: []string{""}},
		{Arn: "qcs::cam::uin/100000000003:roleName/OnlyForOthers", Trusted: []string{"100000000009"}},
	}})
	c := e.sdk(t, "ap-guangzhou", nil)
	for _, tc := range []struct {
		name   string
		params map[string]any
		code   string
	}{
		{"no RoleArn", map[string]any{"RoleSessionName": "s1"}, "MissingParameter"},
		{"no session name", map[string]any{"RoleArn": targetRole}, "MissingParameter"},
		{"bad session name", map[string]any{"RoleArn": targetRole, "RoleSessionName": "a b"}, "InvalidParameter.ParamError"},
		{"too long", map[string]any{"RoleArn": targetRole, "RoleSessionName": "s1", "DurationSeconds": 43201}, "InvalidParameter.OverTimeError"},
		{"not an ARN", map[string]any{"RoleArn": "JanitorSweepTargetRole", "RoleSessionName": "s1"}, "InvalidParameter.ParamError"},
		{"unknown role", map[string]any{"RoleArn": "qcs::cam::uin/100000000002:roleName/Nope", "RoleSessionName": "s1"}, "ResourceNotFound.RoleNotFound"},
		{"not trusted", map[string]any{"RoleArn": "qcs::cam::uin/100000000003:roleName/OnlyForOthers", "RoleSessionName": "s1"}, "UnauthorizedOperation"},
		{"unknown field", map[string]any{"RoleArn": targetRole, "RoleSessionName": "s1", "Role": "x"}, "UnknownParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assumeRole(t, c, tc.params)
			wantCode(t, err, tc.code)
		})
	}
}

func TestAccountRateLimitSharedByItsKeys(t *testing.T) {
	e := newEnv(t, Options{Rate: 2})
	e.srv.AddCredential(targetUin, Credential{SecretID: "AKIDtarget1", SecretKey: "k1"})
	e.srv.AddCredential(targetUin, Credential{SecretID: "AKIDtarget2", SecretKey: "k2"})
	k1 := e.sdk(t, "", common.NewCredential("AKIDtarget1", "k1"))
	k2 := e.sdk(t, "", common.NewCredential("AKIDtarget2", "k2"))
	self := e.sdk(t, "", nil)
	mustCall(t, k1, "ams", "DescribeTasks", map[string]any{}, nil)
	mustCall(t, k2, "ams", "DescribeTasks", map[string]any{}, nil)
	// The account's bucket (2/s) is empty: its other key is throttled too.
	wantCode(t, call(t, k1, "ams", "DescribeTasks", map[string]any{}, nil), "RequestLimitExceeded")
	// Another account's quota is its own.
	mustCall(t, self, "ams", "DescribeTasks", map[string]any{}, nil)
	if st := e.srv.AccountStats(targetUin).Actions["ams.DescribeTasks"]; st.Requests != 3 || st.Throttled != 1 {
		t.Errorf("target account stats %+v", st)
	}
}

func TestNotificationSink(t *testing.T) {
	e := newEnv(t, Options{})
	body := `{"Cancelled":3}`
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/_emulator/notifications?key=robot-key", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Janitor-Signature", "t=1,v1=ab")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	resp, err = http.Get(e.ts.URL + "/_emulator/notifications")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []Notification
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if len(got) == 1 {
		_ = json.Compact(&compact, got[0].Body)
	}
	if len(got) != 1 || compact.String() != body || got[0].Signature != "t=1,v1=ab" || got[0].Path != "/_emulator/notifications" {
		t.Fatalf("notifications %+v", got)
	}
	raw, _ := json.Marshal(got)
	if strings.Contains(string(raw), "robot-key") {
		t.Error("the sink keeps the URL's key")
	}
	req, _ = http.NewRequest(http.MethodDelete, e.ts.URL+"/_emulator/notifications", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	if n := len(e.srv.Notifications()); n != 0 {
		t.Errorf("%d left after DELETE", n)
	}
}

func TestTasksListsTheDefaultAccountOnly(t *testing.T) {
	e := newEnv(t, Options{})
	mine := e.srv.AddTask(Task{})
	e.srv.AddTask(Task{Account: targetUin})
	e.srv.AddTask(Task{Account: targetUin, Service: "vm"})
	if got := e.srv.Tasks(""); len(got) != 1 || got[0].TaskId != mine.TaskId {
		t.Errorf("Tasks(\"\") = %+v, want the default account's task only", got)
	}
	if got := e.srv.AccountTasks(targetUin, ""); len(got) != 2 {
		t.Errorf("AccountTasks = %d tasks, want 2", len(got))
	}
}

func TestRoleValidate(t *testing.T) {
	for _, c := range []struct {
		arn string
		ok  bool
	}{{targetRole, true}, {"qcs::cam::uin/3:roleName/B", true}, {"JanitorRole", false}, {"", false}} {
		t.Run(c.arn, func(t *testing.T) {
			if err := (Role{Arn: c.arn}).Validate(); (err == nil) != c.ok {
				t.Errorf("Validate(%q) = %v, want ok %v", c.arn, err, c.ok)
			}
		})
	}
}
