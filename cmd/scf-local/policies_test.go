package main

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// dropPolicyAction removes action from every statement of the policy
// document at path (a copy of a deploy/cam file); the action must be there.
func dropPolicyAction(t *testing.T, path, action string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string           `json:"version"`
		Statement []map[string]any `json:"statement"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	dropped := false
	for _, st := range doc.Statement {
		list, _ := st["action"].([]any)
		kept := []any{}
		for _, a := range list {
			if a == action {
				dropped = true
				continue
			}
			kept = append(kept, a)
		}
		st["action"] = kept
	}
	if !dropped {
		t.Fatalf("%s does not grant %s: the test no longer removes anything", path, action)
	}
	if b, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sweepReport is the part of the sweeper's report these tests read.
type sweepReport struct {
	Cancelled, Failed int
	Failures          []struct{ TaskId, Code, Message string }
	Errors            []struct{ Code, Message string }
	Accounts          []struct {
		Account         string
		Dispatched      bool
		InvokeRequestId string
	}
}

// invokeSweepTasks runs sweep-tasks once through the emulator's SCF Invoke
// API with event, fails the test unless the run succeeded, decodes its report
// into report and returns the invocation's request id.
func invokeSweepTasks(ctx context.Context, t *testing.T, emu, event string, report any) (requestID string) {
	t.Helper()
	inv, err := tcapi.NewSCFInvoker(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Endpoint: emu, Region: "ap-guangzhou", MaxAttempts: 1, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := inv.Invoke(ctx, tcapi.InvokeRequest{FunctionName: "sweep-tasks", InvocationType: tcapi.InvokeSync, ClientContext: event})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Result.InvokeResult != 0 {
		t.Fatalf("sweep failed: %s", resp.Result.ErrMsg)
	}
	if err := json.Unmarshal([]byte(resp.Result.RetMsg), report); err != nil {
		t.Fatalf("report %s: %v", resp.Result.RetMsg, err)
	}
	return resp.Result.FunctionRequestId
}

// invokeSweep runs sweep-tasks once with event and returns its report.
func invokeSweep(ctx context.Context, t *testing.T, emu, event string) sweepReport {
	t.Helper()
	var rep sweepReport
	invokeSweepTasks(ctx, t, emu, event, &rep)
	return rep
}

// TestPolicyWithoutAnActionIsRefused: scf-local's emulator holds each
// function's role keys to the role's policy, so a deploy/cam policy that
// lacks an action the code calls fails locally, as it would on Tencent, with
// an error naming the action and the role.
func TestPolicyWithoutAnActionIsRefused(t *testing.T) {
	skipShort(t, "builds the sweeper")
	out, _ := startServeConfig(t, sweepProjectWith(t, sweepProject{noRoles: true, dropAction: "ams:CancelTask"}), nil, "--demo=false", "--timers=false")
	emu := out.field(t, "emulator:")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var task emulator.Task
	emuPost(t, emu+"/_emulator/tasks", emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true,
		CreatedAt: time.Now().Add(-3 * time.Hour)}, &task)

	rep := invokeSweep(ctx, t, emu, `{}`)
	if rep.Cancelled != 0 || rep.Failed != 1 || len(rep.Failures) != 1 {
		t.Fatalf("report %+v: want the stale task's cancel to fail", rep)
	}
	f := rep.Failures[0]
	if f.TaskId != task.TaskId || f.Code != "UnauthorizedOperation" || !strings.Contains(f.Message, "(ams:CancelTask)") ||
		!strings.Contains(f.Message, "JanitorSweepTasksRole") {
		t.Errorf("failure %+v: want UnauthorizedOperation naming ams:CancelTask and the role JanitorSweepTasksRole", f)
	}
	if got := emuTask(t, emu, task.TaskId); got.Status != emulator.StatusRunning {
		t.Errorf("the refused cancel changed the task: %s", got.Status)
	}
}

// TestSweepFanoutManyAccountsEnforced: with JANITOR_SWEEP_ROLES and
// JANITOR_SWEEP_FANOUT=async, scf-local gives the sweeper's role the policy
// scf-deploy would (AssumeRole on the target role, InvokeFunction on
// itself, PutObject under its report prefix), and with policies enforced the parent dispatches both accounts
// and each child sweeps its own.
func TestSweepFanoutManyAccountsEnforced(t *testing.T) {
	skipShort(t, "builds the sweeper")
	t.Parallel()
	const targetUin = "100000000002"
	targetArn := "qcs::cam::uin/" + targetUin + ":roleName/JanitorSweepTargetRole"
	out, _ := startServeConfig(t, sweepProjectWith(t, sweepProject{fanout: true}), map[string]string{"SCF_LOCAL_TEST_SWEEP_ROLES": targetArn},
		"--demo=false", "--timers=false")
	emu := out.field(t, "emulator:")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createTargetRole(ctx, t, emu, targetUin)

	// The sweeper's role has the policy a deploy would create.
	base, err := os.ReadFile("../../deploy/cam/JanitorSweepTasksRole.json")
	if err != nil {
		t.Fatal(err)
	}
	targets, err := provision.ParseTargetRoles(targetArn)
	if err != nil {
		t.Fatal(err)
	}
	want, err := provision.SweeperPolicy(string(base), targets, provision.FunctionResource("ap-guangzhou", localUin, "", "sweep-tasks"))
	if err != nil {
		t.Fatal(err)
	}
	// scf-local's default report bucket (setup.go) is granted too.
	if want, err = provision.ArchivePolicy(want, provision.ReportArchive{Bucket: localReportBucket, Region: "ap-guangzhou", Prefix: "scf-janitor/sweeps/"}); err != nil {
		t.Fatal(err)
	}
	var roles []emulator.RoleInfo
	emuGet(t, emu+"/_emulator/roles", &roles)
	var policies []emulator.PolicyInfo
	emuGet(t, emu+"/_emulator/policies", &policies)
	found := false
	for _, r := range roles {
		if r.RoleName != "JanitorSweepTasksRole" || len(r.AttachedPolicies) != 1 {
			continue
		}
		for _, p := range policies {
			if p.PolicyName == r.AttachedPolicies[0] {
				var got, exp any
				_ = json.Unmarshal([]byte(p.PolicyDocument), &got)
				_ = json.Unmarshal([]byte(want), &exp)
				if !reflect.DeepEqual(got, exp) {
					t.Errorf("the sweeper's policy is\n%s\nwant what scf-deploy derives:\n%s", p.PolicyDocument, want)
				}
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("no policy attached to JanitorSweepTasksRole: roles %+v", roles)
	}

	addStaleAndYoung(t, emu, "", targetUin)

	rep := invokeSweep(ctx, t, emu, `{}`)
	if len(rep.Accounts) != 2 || len(rep.Errors) != 0 {
		t.Fatalf("fan-out parent %+v: want both accounts dispatched, no errors", rep)
	}
	for _, a := range rep.Accounts {
		if !a.Dispatched || a.InvokeRequestId == "" {
			t.Fatalf("account %s not dispatched: %+v", a.Account, rep)
		}
	}
	// The children run after the parent answered: wait (bounded) for their cancels.
	deadline := time.Now().Add(time.Minute)
	for {
		done := true
		for _, acct := range []string{"", targetUin} {
			var got []emulator.Task
			url := emu + "/_emulator/tasks?service=ams"
			if acct != "" {
				url += "&account=" + acct
			}
			emuGet(t, url, &got)
			if len(got) != 2 {
				t.Fatalf("account %q has %d tasks, want 2", acct, len(got))
			}
			for _, x := range got {
				isStale := x.CreatedAt.Before(time.Now().Add(-2 * time.Hour))
				if isStale && x.Status != emulator.StatusCancelled {
					done = false
				}
				if !isStale && x.Status != emulator.StatusRunning {
					t.Fatalf("account %q: young task %s is %s", acct, x.TaskId, x.Status)
				}
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the children did not cancel both accounts' stale tasks within a minute; output:\n%s", out.text())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
