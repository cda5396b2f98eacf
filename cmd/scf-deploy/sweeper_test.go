package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

const (
	targetUin  = "100000000002"
	targetArn  = "qcs::cam::uin/" + targetUin + ":roleName/JanitorSweepTargetRole"
	otherArn   = "qcs::cam::uin/100000000003:roleName/JanitorSweepTargetRole"
	sweeperArn = "qcs::cam::uin/" + emulator.DefaultAccountUin + ":roleName/JanitorSweepTasksRole"
	sweeperFn  = "qcs::scf:ap-guangzhou:uin/" + emulator.DefaultAccountUin + ":namespace/default/function/sweep-tasks"
)

// sweeperProject writes a project whose serverless.yml is this repository's
// with the sweeper's JANITOR_SWEEP_FANOUT taken from ${env:SWEEP_FANOUT} and,
// with roles, JANITOR_SWEEP_ROLES from ${env:JANITOR_SWEEP_ROLES}; deploy/cam
// is this repository's. It returns the yml's path.
func sweeperProject(t *testing.T, roles bool) string {
	t.Helper()
	yml, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	const fanout = "        - key: JANITOR_SWEEP_FANOUT # none, or async: one asynchronous invocation per account\n          value: none\n"
	if !bytes.Contains(yml, []byte(fanout)) {
		t.Fatal("serverless.yml's JANITOR_SWEEP_FANOUT entry changed: update this test")
	}
	repl := "        - key: JANITOR_SWEEP_FANOUT\n          value: ${env:SWEEP_FANOUT}\n"
	if roles {
		repl += "        - key: JANITOR_SWEEP_ROLES\n          value: ${env:JANITOR_SWEEP_ROLES}\n"
	}
	yml = bytes.Replace(yml, []byte(fanout), []byte(repl), 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "serverless.yml"), yml, 0o600); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "deploy")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "serverless.yml")
}

func runDeploy(t *testing.T, url, config, envFile string, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--config", config, "--env-file", envFile, "--endpoint", url)
	code := run(context.Background(), args, &out, &errb, func(string) (string, bool) { return "", false },
		runOptions{Build: stubBuild, Engine: provision.Engine{PollInterval: 10 * time.Millisecond}})
	return out.String() + errb.String(), code
}

// deployedPolicy returns a policy's document by action: resources.
func deployedPolicy(t *testing.T, emu *emulator.Server, name string) map[string][]string {
	t.Helper()
	for _, p := range emu.Policies() {
		if p.PolicyName != name {
			continue
		}
		var d struct {
			Statement []struct {
				Action   []string
				Resource []string
			}
		}
		if err := json.Unmarshal([]byte(p.PolicyDocument), &d); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, p.PolicyDocument)
		}
		out := map[string][]string{}
		for _, st := range d.Statement {
			for _, a := range st.Action {
				out[a] = st.Resource
			}
		}
		return out
	}
	t.Fatalf("no policy %s", name)
	return nil
}

// TestDeploySweeperPolicy: the sweeper's policy follows its environment.
func TestDeploySweeperPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the four functions")
	}
	t.Parallel() // its own emulator; it shares only the package builds
	tests := []struct {
		name        string
		roles       string // "" = the yml has no JANITOR_SWEEP_ROLES
		fanout      string
		flags       []string
		assume      []string // AssumeRole resources, nil = no statement
		invoke      bool
		identityReq int64 // GetCallerIdentity calls of plan + apply
	}{
		{"no roles, no fan-out", "", "none", nil, nil, false, 0},
		{"fan-out only", "", "async", nil, nil, true, 2},
		{"roles", targetArn + ", " + otherArn, "none", nil, []string{targetArn, otherArn}, false, 2},
		{"roles and fan-out, uin given", targetArn, "ASYNC", []string{"--sweeper-uin", emulator.DefaultAccountUin}, []string{targetArn}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, url, config := sweeperCloud(t, tt.roles != "")
			over := map[string]string{"SWEEP_FANOUT": tt.fanout}
			if tt.roles != "" {
				over["JANITOR_SWEEP_ROLES"] = tt.roles
			}
			envPath, _ := envFor(t, over)
			plan, code := runDeploy(t, url, config, envPath, append([]string{"plan"}, tt.flags...)...)
			if code != 0 || !strings.Contains(plan, "+ create policy JanitorSweepTasksRolePolicy") ||
				strings.Contains(plan, "name/sts:AssumeRole on ") != (tt.assume != nil) || strings.Contains(plan, "scf:InvokeFunction on "+sweeperFn) != tt.invoke {
				t.Fatalf("plan (exit %d):\n%s", code, plan)
			}
			out, code := runDeploy(t, url, config, envPath, append([]string{"apply"}, tt.flags...)...)
			if code != 0 {
				t.Fatalf("apply (exit %d):\n%s", code, out)
			}
			got := deployedPolicy(t, emu, "JanitorSweepTasksRolePolicy")
			if strings.Join(got["name/sts:AssumeRole"], ",") != strings.Join(tt.assume, ",") {
				t.Errorf("AssumeRole on %v, want %v", got["name/sts:AssumeRole"], tt.assume)
			}
			if inv, ok := got["scf:InvokeFunction"]; ok != tt.invoke || (ok && strings.Join(inv, ",") != sweeperFn) {
				t.Errorf("InvokeFunction on %v (present %v), want present %v on %s", inv, ok, tt.invoke, sweeperFn)
			}
			if len(got["ams:CancelTask"]) != 1 || got["ams:CancelTask"][0] != "*" {
				t.Errorf("the base permissions are gone: %v", got)
			}
			if n := emu.Stats().Actions["sts.GetCallerIdentity"].Requests; n != tt.identityReq {
				t.Errorf("GetCallerIdentity called %d times, want %d", n, tt.identityReq)
			}
			// The target accounts' part: printed in plan and apply, only with roles.
			for _, o := range []string{plan, out} {
				printed := strings.Contains(o, "target accounts: scf-deploy cannot create their roles")
				if printed != (tt.roles != "") {
					t.Errorf("target accounts printed %v, want %v:\n%s", printed, tt.roles != "", o)
				}
				for _, r := range tt.assume {
					uin := strings.TrimPrefix(r[:strings.Index(r, ":roleName/")], "qcs::cam::uin/")
					if !strings.Contains(o, "account "+uin+": role JanitorSweepTargetRole, trusted by "+sweeperArn) {
						t.Errorf("no instructions for account %s:\n%s", uin, o)
					}
				}
			}
			// Nothing left to do.
			if again, code := runDeploy(t, url, config, envPath, append([]string{"apply"}, tt.flags...)...); code != 0 || !strings.Contains(again, "no changes") {
				t.Fatalf("second apply (exit %d):\n%s", code, again)
			}
		})
	}

	t.Run("roles changed: the policy follows", func(t *testing.T) {
		emu, url, config := sweeperCloud(t, true)
		envPath, _ := envFor(t, map[string]string{"SWEEP_FANOUT": "none", "JANITOR_SWEEP_ROLES": targetArn})
		if out, code := runDeploy(t, url, config, envPath, "apply"); code != 0 {
			t.Fatalf("apply (exit %d):\n%s", code, out)
		}
		envPath, _ = envFor(t, map[string]string{"SWEEP_FANOUT": "none", "JANITOR_SWEEP_ROLES": otherArn})
		out, code := runDeploy(t, url, config, envPath, "apply")
		if code != 0 || !strings.Contains(out, "~ update policy JanitorSweepTasksRolePolicy") || !strings.Contains(out, "name/sts:AssumeRole on "+otherArn) {
			t.Fatalf("apply (exit %d):\n%s", code, out)
		}
		if got := deployedPolicy(t, emu, "JanitorSweepTasksRolePolicy")["name/sts:AssumeRole"]; len(got) != 1 || got[0] != otherArn {
			t.Errorf("AssumeRole on %v, want [%s]", got, otherArn)
		}
	})

	t.Run("report archive: cos:PutObject on exactly its prefix", func(t *testing.T) {
		emu, url, config := sweeperCloud(t, false)
		yml, err := os.ReadFile(config)
		if err != nil {
			t.Fatal(err)
		}
		yml = bytes.Replace(yml, []byte("          value: ${env:SWEEP_FANOUT}\n"), []byte("          value: ${env:SWEEP_FANOUT}\n"+
			"        - key: JANITOR_REPORT_BUCKET\n          value: reports-1250000000\n"+
			"        - key: JANITOR_REPORT_PREFIX\n          value: janitor/runs/\n"), 1)
		if err := os.WriteFile(config, yml, 0o600); err != nil {
			t.Fatal(err)
		}
		const want = "qcs::cos:ap-guangzhou:uid/1250000000:reports-1250000000/janitor/runs/*"
		envPath, _ := envFor(t, map[string]string{"SWEEP_FANOUT": "none"})
		if plan, code := runDeploy(t, url, config, envPath, "plan"); code != 0 || !strings.Contains(plan, "name/cos:PutObject on "+want+" (JANITOR_REPORT_BUCKET)") {
			t.Fatalf("plan (exit %d):\n%s", code, plan)
		}
		if out, code := runDeploy(t, url, config, envPath, "apply"); code != 0 {
			t.Fatalf("apply (exit %d):\n%s", code, out)
		}
		if got := deployedPolicy(t, emu, "JanitorSweepTasksRolePolicy")["name/cos:PutObject"]; len(got) != 1 || got[0] != want {
			t.Errorf("PutObject on %v, want [%s]", got, want)
		}
	})

	t.Run("bad role ARN", func(t *testing.T) {
		emu, url, config := sweeperCloud(t, true)
		envPath, _ := envFor(t, map[string]string{"SWEEP_FANOUT": "none", "JANITOR_SWEEP_ROLES": targetArn + ",qcs::cam::uin/*:roleName/JanitorSweepTargetRole"})
		out, code := runDeploy(t, url, config, envPath, "plan")
		if code != 1 || !strings.Contains(out, `function sweep-tasks: roles (JANITOR_SWEEP_ROLES) role "qcs::cam::uin/*:roleName/JanitorSweepTargetRole": want a role ARN such as`) {
			t.Fatalf("plan (exit %d):\n%s", code, out)
		}
		if len(emu.Stats().Actions) != 0 {
			t.Errorf("calls made: %v", emu.Stats().Actions)
		}
	})

	t.Run("bad --sweeper-uin", func(t *testing.T) {
		_, err := parseArgs([]string{"plan", "--sweeper-uin", "12a"}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), `--sweeper-uin "12a": want the sweeper account's uin, digits only`) {
			t.Fatalf("err = %v", err)
		}
	})
}

// sweeperCloud is a new emulator (functions ready at once) served at url,
// and the sweeper project's serverless.yml (sweeperProject).
func sweeperCloud(t *testing.T, roles bool) (emu *emulator.Server, url, config string) {
	t.Helper()
	emu = emulator.New(emulator.Options{FunctionReadyAfter: -1})
	return emu, serve(t, emu), sweeperProject(t, roles)
}

func serve(t *testing.T, emu *emulator.Server) string {
	t.Helper()
	ts := httptestServer(emu)
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestDeployedRolesSweepTargetAccount: deploy with roles to the emulator,
// with the keys of target account 100000000002 (scf-deploy creates its role
// there), not of 100000000003 (which creates its role exactly as scf-deploy
// printed it, with its own keys) nor of 100000000004 (which creates
// nothing); then run the sweeper as SCF would (its execution role's keys,
// its deployed environment): it assumes both created roles and sweeps the
// three accounts, and reports the fourth's missing role.
func TestDeployedRolesSweepTargetAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the four functions")
	}
	t.Parallel() // its own emulator; it shares only the package builds
	const (
		manualUin = "100000000003"
		manualArn = otherArn
		absentArn = "qcs::cam::uin/100000000004:roleName/JanitorSweepTargetRole"
	)
	emu := emulator.New(emulator.Options{FunctionReadyAfter: -1})
	emu.AddCredential(targetUin, emulator.Credential{SecretID: targetKeyID, SecretKey: targetKey})
	url := serve(t, emu)
	config := sweeperProject(t, true)
	roles := targetArn + "," + manualArn + "," + absentArn
	envPath, _ := envFor(t, map[string]string{"SWEEP_FANOUT": "none", "JANITOR_SWEEP_ROLES": roles,
		targetPrefix + "SECRET_ID": targetKeyID, targetPrefix + "SECRET_KEY": targetKey})
	out, code := runDeploy(t, url, config, envPath, "apply")
	if code != 0 {
		t.Fatalf("apply (exit %d):\n%s", code, out)
	}
	if !strings.Contains(out, "account "+targetUin+": + create role JanitorSweepTargetRole ...") || strings.Contains(out, "  account "+targetUin+": role JanitorSweepTargetRole, trusted by") {
		t.Fatalf("apply did not create the role of the account whose keys it has, or printed instructions for it:\n%s", out)
	}

	// Target account 100000000003 follows the printed instructions; 100000000004 does not.
	emu.AddCredential(manualUin, emulator.Credential{SecretID: "AKIDmanualadmin", SecretKey: "manual-admin-key"})
	cam, err := tcapi.NewCAM(tcapi.Credentials{SecretID: "AKIDmanualadmin", SecretKey: "manual-admin-key"}, tcapi.Options{Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	arg := func(cmd, flag string) string {
		m := regexp.MustCompile(`(?m)^    tccli cam ` + cmd + ` .*` + flag + ` '([^']*)'$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s %s line printed:\n%s", cmd, flag, out)
		}
		return m[1]
	}
	ctx := context.Background()
	if _, err := cam.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: "JanitorSweepTargetRole", PolicyDocument: arg("CreateRole", "--PolicyDocument")}); err != nil {
		t.Fatal(err)
	}
	pol, err := cam.CreatePolicy(ctx, tcapi.CreatePolicyRequest{PolicyName: "JanitorSweepTargetRolePolicy", PolicyDocument: arg("CreatePolicy", "--PolicyDocument")})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.AttachRolePolicy(ctx, pol.PolicyId, "JanitorSweepTargetRole"); err != nil {
		t.Fatal(err)
	}

	// Stale live tasks in the sweeper's account and in the target ones.
	old := time.Now().Add(-3 * time.Hour)
	for _, acct := range []string{"", targetUin, targetUin, manualUin} {
		emu.AddTask(emulator.Task{Account: acct, Service: "ams", Type: "LIVE_AUDIO", Status: "RUNNING", CreatedAt: old, Stuck: true})
	}

	// The sweeper as SCF runs it: the deployed environment and its role's keys.
	var env map[string]string
	for _, f := range emu.Functions() {
		if f.FunctionName == "sweep-tasks" {
			env = f.Environment
		}
	}
	if env["JANITOR_SWEEP_ROLES"] != roles {
		t.Fatalf("deployed environment %v", env)
	}
	// An account's root keys are not the sweeper's role: the trust policy refuses them.
	sts, err := tcapi.NewSTS(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey}, tcapi.Options{Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sts.AssumeRole(ctx, tcapi.AssumeRoleRequest{RoleArn: targetArn, RoleSessionName: "not-the-sweeper"}); !tcapi.HasCode(err, "UnauthorizedOperation") {
		t.Fatalf("AssumeRole with the account's root keys: %v, want UnauthorizedOperation", err)
	}
	// Nor can the target account's own keys assume it.
	tsts, err := tcapi.NewSTS(tcapi.Credentials{SecretID: targetKeyID, SecretKey: targetKey}, tcapi.Options{Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tsts.AssumeRole(ctx, tcapi.AssumeRoleRequest{RoleArn: targetArn, RoleSessionName: "not-the-sweeper"}); !tcapi.HasCode(err, "UnauthorizedOperation") {
		t.Fatalf("AssumeRole with the target account's keys: %v, want UnauthorizedOperation", err)
	}
	cred, err := emu.ServiceRoleCredential("scf.qcloud.com", sweeperArn)
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]string{
		"TENCENTCLOUD_SECRETID": cred.SecretID, "TENCENTCLOUD_SECRETKEY": cred.SecretKey, "TENCENTCLOUD_SESSIONTOKEN": cred.Token,
		"TENCENTCLOUD_UIN": emulator.DefaultAccountUin, "TENCENTCLOUD_REGION": "ap-guangzhou",
		"JANITOR_AMS_ENDPOINT": url, "JANITOR_VM_ENDPOINT": url, "JANITOR_STS_ENDPOINT": url, "JANITOR_SCF_ENDPOINT": url,
	}
	for k, v := range env {
		full[k] = v
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ictx = scf.NewContext(ictx, &scf.FunctionContext{RequestID: "req-1", FunctionName: "sweep-tasks", Env: full})
	res, err := sweep.NewHandler(sweep.HandlerOptions{}).Handle(ictx, json.RawMessage(`{"Type":"Timer","TriggerName":"every-5-minutes","Time":"2026-03-14T12:00:00Z","Message":""}`))
	if err != nil {
		t.Fatal(err)
	}
	rep := res.(*sweep.Report)
	if rep.Cancelled != 4 || len(rep.Accounts) != 4 {
		t.Fatalf("cancelled %d in %d accounts, want 4 in 4: %+v", rep.Cancelled, len(rep.Accounts), rep.Accounts)
	}
	self, target, manual, absent := rep.Accounts[0], rep.Accounts[1], rep.Accounts[2], rep.Accounts[3]
	if self.Account != emulator.DefaultAccountUin || self.Cancelled != 1 || target.Account != targetUin || target.Role != targetArn || target.Cancelled != 2 ||
		manual.Account != manualUin || manual.Role != manualArn || manual.Cancelled != 1 {
		t.Errorf("accounts %+v", rep.Accounts)
	}
	// The account that did not create the role: reported, the others swept.
	if len(absent.Errors) != 1 || absent.Errors[0].Code != "ResourceNotFound.RoleNotFound" {
		t.Errorf("account without the role: %+v", absent)
	}
	for _, acct := range []string{"", targetUin, manualUin} {
		for _, tk := range emu.AccountTasks(acct, "ams") {
			if tk.Status != "CANCELLED" {
				t.Errorf("account %q task %s is %s", acct, tk.TaskId, tk.Status)
			}
		}
	}

	// delete --yes removes the role it created in 100000000002 and leaves
	// the one 100000000003 created itself.
	if out, code := runDeploy(t, url, config, envPath, "delete", "--yes"); code != 0 || !strings.Contains(out, "account "+targetUin+": - delete role JanitorSweepTargetRole ...") {
		t.Fatalf("delete --yes (exit %d):\n%s", code, out)
	}
	left := emu.Roles()
	if len(left) != 1 || left[0].Account != manualUin || left[0].RoleName != "JanitorSweepTargetRole" {
		t.Fatalf("roles after delete --yes: %+v", left)
	}
}

func httptestServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
