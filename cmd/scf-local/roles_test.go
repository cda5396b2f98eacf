package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// TestRoleCredentialsRefresh: a role's keys are reused while they are
// fresh and replaced before they expire (the clock is injected).
func TestRoleCredentialsRefresh(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	issued := map[string]int{}
	rc := &roleCredentials{uin: "100000000001", now: func() time.Time { return now }, issue: func(_ context.Context, arn string) (credentials, error) {
		mu.Lock()
		defer mu.Unlock()
		issued[arn]++
		if strings.HasSuffix(arn, "/Missing") {
			return credentials{}, errors.New("role " + arn + " does not exist in CAM")
		}
		return credentials{id: "AKIDtmp" + arn + string(rune('0'+issued[arn])), key: "k", token: "t"}, nil
	}}
	ctx := context.Background()
	get := func(role string) credentials {
		t.Helper()
		c, err := rc.forRole(ctx, role)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := get("A")
	if !strings.Contains(first.id, ":roleName/A") {
		t.Fatalf("keys %q were not asked for the role's ARN qcs::cam::uin/<uin>:roleName/A", first.id)
	}
	other := get("B")
	if other.id == first.id {
		t.Fatal("two roles share keys")
	}
	tests := []struct {
		name    string
		advance time.Duration
		fresh   bool
	}{
		{"just issued", 0, false},
		{"one hour on", time.Hour, false},
		{"inside the refresh margin", roleCredLifetime - time.Hour - roleRefreshBefore + time.Second, true},
		{"right after a refresh", time.Minute, false},
	}
	prev := first
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = now.Add(tc.advance)
			c := get("A")
			if renewed := c.id != prev.id; renewed != tc.fresh {
				t.Errorf("renewed=%v, want %v (keys %s, before %s)", renewed, tc.fresh, c.id, prev.id)
			}
			prev = c
		})
	}
	if _, err := rc.forRole(ctx, "Missing"); err == nil || !strings.Contains(err.Error(), "execution role Missing") {
		t.Errorf("a role that does not exist: %v, want an error naming it", err)
	}
}

// sweepRolesYML is a project with the real sweeper, whose serverless.yml
// declares JANITOR_SWEEP_ROLES (the project's own leaves it out).
const sweepRolesYML = `app: roles-test
component: multi-scf
name: roles-test
inputs:
  src: ./dist/bundle
  region: ap-guangzhou
  runtime: Go1
  functions:
    sweep-tasks:
      name: sweep-tasks
      handler: sweep-tasks
      role: JanitorSweepTasksRole
      timeout: 60
      environments:
        - key: JANITOR_SWEEP_ROLES
          value: ${env:SCF_LOCAL_TEST_SWEEP_ROLES}
        - key: JANITOR_SWEEP_FANOUT
          value: none
        - key: JANITOR_SWEEP_MAX_AGE
          value: 2h
        - key: JANITOR_SWEEP_SERVICES
          value: ams
  triggers:
    - type: timer
      function: sweep-tasks
      parameters:
        name: every-hour
        cronExpression: "0 0 * * * * *"
`

// sweepProject varies sweepRolesYML's project.
type sweepProject struct {
	noRoles    bool   // leave JANITOR_SWEEP_ROLES out
	fanout     bool   // JANITOR_SWEEP_FANOUT=async
	dropAction string // remove this action from the copy of deploy/cam/JanitorSweepTasksRole.json
}

// sweepRolesProject writes sweepRolesYML with the sweeper's code and the
// project's deploy/cam files into a directory of the module.
func sweepRolesProject(t *testing.T) string { return sweepProjectWith(t, sweepProject{}) }

// sweepProjectWith is sweepRolesProject varied by p.
func sweepProjectWith(t *testing.T, p sweepProject) string {
	t.Helper()
	dir, err := os.MkdirTemp("testdata", "roles-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	copyFile := func(from, to string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("../../functions/sweep-tasks/main.go", filepath.Join(dir, "functions", "sweep-tasks", "main.go"))
	for _, f := range []string{"trust-scf.json", "JanitorSweepTasksRole.json"} {
		copyFile(filepath.Join("../../deploy/cam", f), filepath.Join(dir, "deploy", "cam", f))
	}
	if p.dropAction != "" {
		dropPolicyAction(t, filepath.Join(dir, "deploy", "cam", "JanitorSweepTasksRole.json"), p.dropAction)
	}
	yml := sweepRolesYML
	if p.noRoles {
		yml = strings.Replace(yml, "        - key: JANITOR_SWEEP_ROLES\n          value: ${env:SCF_LOCAL_TEST_SWEEP_ROLES}\n", "", 1)
	}
	if p.fanout {
		yml = strings.Replace(yml, "JANITOR_SWEEP_FANOUT\n          value: none", "JANITOR_SWEEP_FANOUT\n          value: async", 1)
	}
	if yml == sweepRolesYML && (p.noRoles || p.fanout) {
		t.Fatal("sweepRolesYML changed: the project variations no longer apply")
	}
	if err := os.WriteFile(filepath.Join(dir, "serverless.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "serverless.yml")
}

// TestSweepOtherAccountThroughRole: under scf-local, sweep-tasks acts with
// its execution role's keys, so a target account's role whose trust policy
// (deploy/cam/trust-sweeper.json filled in for the local account) names
// that role lets it sweep the target account, as on SCF; the root keys
// scf-local used to hand out would be refused.
func TestSweepOtherAccountThroughRole(t *testing.T) {
	skipShort(t, "builds the sweeper")
	t.Parallel()
	const targetUin = "100000000002"
	targetArn := "qcs::cam::uin/" + targetUin + ":roleName/JanitorSweepTargetRole"
	out, _ := startServeConfig(t, sweepRolesProject(t), map[string]string{"SCF_LOCAL_TEST_SWEEP_ROLES": targetArn}, "--demo=false", "--timers=false")
	emu := out.field(t, "emulator:")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	createTargetRole(ctx, t, emu, targetUin)

	// The root keys are not the sweeper's role: the target refuses them.
	root, err := tcapi.NewSTS(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey}, tcapi.Options{Endpoint: emu, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.AssumeRole(ctx, tcapi.AssumeRoleRequest{RoleArn: targetArn, RoleSessionName: "root-keys"}); !tcapi.HasCode(err, "UnauthorizedOperation") {
		t.Fatalf("AssumeRole with the account's root keys: %v, want UnauthorizedOperation (the trust policy names the sweeper's role only)", err)
	}

	// A stale and a young task in each account.
	addStaleAndYoung(t, emu, "", targetUin)

	// One sweep, through the emulator's SCF Invoke API.
	inv, err := tcapi.NewSCFInvoker(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Endpoint: emu, Region: "ap-guangzhou", MaxAttempts: 1, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := inv.Invoke(ctx, tcapi.InvokeRequest{FunctionName: "sweep-tasks", InvocationType: tcapi.InvokeSync, ClientContext: `{}`})
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Result
	if res.InvokeResult != 0 {
		t.Fatalf("sweep failed: %s", res.ErrMsg)
	}
	var report struct {
		Cancelled int
		Errors    []json.RawMessage
		Accounts  []struct {
			Account, Role string
			Cancelled     int
			Errors        []json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(res.RetMsg), &report); err != nil {
		t.Fatalf("report %s: %v", res.RetMsg, err)
	}
	if len(report.Accounts) != 2 || report.Cancelled != 2 || len(report.Errors) != 0 {
		t.Fatalf("report %s: want both accounts swept, one stale task cancelled in each, no errors", res.RetMsg)
	}
	for _, a := range report.Accounts {
		if a.Cancelled != 1 || len(a.Errors) != 0 {
			t.Errorf("account %s (role %q): %d cancelled, errors %s", a.Account, a.Role, a.Cancelled, a.Errors)
		}
	}
	for _, acct := range []string{"", targetUin} {
		var tasks []emulator.Task
		emuGet(t, emu+"/_emulator/tasks?service=ams&account="+acct, &tasks)
		if acct == "" {
			emuGet(t, emu+"/_emulator/tasks?service=ams", &tasks)
		}
		if len(tasks) != 2 {
			t.Fatalf("account %q has %d tasks, want 2", acct, len(tasks))
		}
		for _, x := range tasks {
			wantStatus := "RUNNING"
			if x.CreatedAt.Before(time.Now().Add(-2 * time.Hour)) {
				wantStatus = "CANCELLED"
			}
			if x.Status != wantStatus {
				t.Errorf("account %q task %s created %s: %s, want %s", acct, x.TaskId, x.CreatedAt.Format(time.RFC3339), x.Status, wantStatus)
			}
		}
	}
}

// TestInvokeReusedEmulatorRoleKeys: `scf-local invoke` against an emulator
// that is already running (here a bare one) creates the function's role in
// its CAM when missing and hands the invocation that role's keys, through
// POST /_emulator/role-credentials.
func TestInvokeReusedEmulatorRoleKeys(t *testing.T) {
	skipShort(t, "builds a function")
	srv := emulator.New(emulator.Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"body":"whoami","headers":{},"httpMethod":"POST","path":"/echo","queryString":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"invoke", "echo", "--config", testProject, "--emulator-addr", strings.TrimPrefix(ts.URL, "http://"), "--event", event},
		strings.NewReader(""), &stdout, &stderr, envFrom(nil))
	if code != 0 || !strings.Contains(stderr.String(), "using the emulator already running") {
		t.Fatalf("exit %d stdout %s stderr %s", code, stdout.String(), stderr.String())
	}
	var who map[string]string
	if err := json.Unmarshal([]byte(stdout.String()), &who); err != nil {
		t.Fatalf("stdout %s: %v", stdout.String(), err)
	}
	if who["type"] != "AssumedRole" || who["arn"] != "qcs::cam::uin/"+emulator.DefaultAccountUin+":roleName/EchoRole" {
		t.Errorf("caller identity %v: want a session of EchoRole", who)
	}
	found := false
	for _, r := range srv.Roles() {
		found = found || r.RoleName == "EchoRole" && len(r.AttachedPolicies) == 1
	}
	if !found {
		t.Errorf("EchoRole was not created with its policy in the running emulator's CAM: %+v", srv.Roles())
	}
}

// createTargetRole makes, in account uin (its keys added to the emulator at
// emu), the role JanitorSweepTargetRole as scf-deploy's plan tells its owner
// to: deploy/cam/trust-sweeper.json filled in for the local sweeper's role,
// deploy/cam/JanitorSweepTargetRole.json attached.
func createTargetRole(ctx context.Context, t *testing.T, emu, targetUin string) {
	t.Helper()
	var acct map[string]string
	emuPost(t, emu+"/_emulator/accounts", map[string]string{"Uin": targetUin, "SecretId": "AKIDtarget" + targetUin, "SecretKey": "target-key"}, &acct)
	cam, err := tcapi.NewCAM(tcapi.Credentials{SecretID: "AKIDtarget" + targetUin, SecretKey: "target-key"}, tcapi.Options{Endpoint: emu})
	if err != nil {
		t.Fatal(err)
	}
	template, err := os.ReadFile("../../deploy/cam/trust-sweeper.json")
	if err != nil {
		t.Fatal(err)
	}
	policy, err := os.ReadFile("../../deploy/cam/JanitorSweepTargetRole.json")
	if err != nil {
		t.Fatal(err)
	}
	trust := provision.TargetTrustPolicy(string(template), localUin, "JanitorSweepTasksRole")
	if _, err := cam.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: "JanitorSweepTargetRole", PolicyDocument: trust}); err != nil {
		t.Fatal(err)
	}
	pol, err := cam.CreatePolicy(ctx, tcapi.CreatePolicyRequest{PolicyName: "JanitorSweepTargetRolePolicy", PolicyDocument: string(policy)})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.AttachRolePolicy(ctx, pol.PolicyId, "JanitorSweepTargetRole"); err != nil {
		t.Fatal(err)
	}
}

// addStaleAndYoung adds, in each account ("" = the default one), a RUNNING
// task three hours old (stale) and one ten minutes old (young).
func addStaleAndYoung(t *testing.T, emu string, accounts ...string) {
	t.Helper()
	stale, young := time.Now().Add(-3*time.Hour), time.Now().Add(-10*time.Minute)
	var tasks []emulator.Task
	for _, acct := range accounts {
		for _, at := range []time.Time{stale, young} {
			tasks = append(tasks, emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true, CreatedAt: at, Account: acct})
		}
	}
	var added []emulator.Task
	emuPost(t, emu+"/_emulator/tasks", tasks, &added)
}
