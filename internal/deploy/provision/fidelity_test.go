package provision

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// converged fails unless a fresh plan of d has no changes.
func converged(t *testing.T, e *Engine, d Desired) {
	t.Helper()
	if p := plan(t, e, d); !p.Empty() {
		t.Fatalf("not converged:\n%s", printed(p))
	}
}

// TestURLKeepsItsAddress: turning on a URL's intranet updates the trigger in
// place; its public address is unchanged and an intranet one is added.
func TestURLKeepsItsAddress(t *testing.T) {
	f := newFake()
	e := engine(f)
	_, urls := apply(t, e, desired())
	public := urls["web"]
	if !strings.HasPrefix(public, "https://1250000000-") || strings.Contains(public, ".in.") {
		t.Fatalf("URL = %q, want the https extranet address", public)
	}
	d := desired()
	d.Functions[0].URL.Intranet = true
	_, urls = apply(t, e, d)
	if urls["web"] != public {
		t.Fatalf("URL after enabling intranet = %q, want %q", urls["web"], public)
	}
	converged(t, e, d)

	// Extranet off: the URL is intranet only, and printed as such.
	d.Functions[0].URL.Extranet = false
	_, urls = apply(t, e, d)
	if !strings.HasPrefix(urls["web"], "intranet only: https://") || !strings.Contains(urls["web"], ".in.") {
		t.Fatalf("URL with extranet off = %q", urls["web"])
	}
	converged(t, e, d)
}

// TestPolicyEditsNeverFillVersions: CAM keeps at most 5 versions of a
// policy; six edits in a row all apply (UpdatePolicy adds no version), also
// on a policy someone else already filled with versions.
func TestPolicyEditsNeverFillVersions(t *testing.T) {
	f := newFake()
	e := engine(f)
	apply(t, e, desired())
	for i := range 4 {
		if err := f.CreatePolicyVersion(1, strings.Replace(policy, "CancelTask", "CancelTask"+strings.Repeat("x", i+1), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.CreatePolicyVersion(1, policy); !tcapi.HasCode(err, "FailedOperation.PolicyVersionFull") {
		t.Fatalf("the fake does not keep CAM's cap: %v", err)
	}
	for i := range 6 {
		d := desired()
		d.Roles[0].Policy = strings.Replace(policy, `"resource":["*"]`, `"resource":["qcs::ams:::`+strings.Repeat("r", i+1)+`"]`, 1)
		f.resetCalls()
		apply(t, e, d)
		if got := f.mutating(); !slices.Equal(got, []string{"UpdatePolicy 1"}) {
			t.Fatalf("edit %d: calls %v", i+1, got)
		}
		converged(t, e, d)
	}
}

// TestRolePropagation: SCF refuses a new role for a while; CreateFunction
// is tried again (through the injected Sleep) with one line saying why, and
// the first apply succeeds. Past RoleWait it fails, naming the role.
func TestRolePropagation(t *testing.T) {
	tests := []struct {
		name     string
		refusals int
		wait     time.Duration
		wantErr  string
	}{
		{"reaches SCF within the wait", 3, 0, ""},
		{"never within the wait", 100, 10 * time.Second, "role R is still not usable by SCF after 10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.rolePropagation = tt.refusals
			e := engine(f)
			e.RoleWait = tt.wait
			var notes []string
			e.Note = func(m string) { notes = append(notes, m) }
			var slept time.Duration
			e.Sleep = func(ctx context.Context, d time.Duration) error { slept += d; return ctx.Err() }
			_, err := e.Apply(context.Background(), plan(t, e, desired()))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				converged(t, e, desired())
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !tcapi.HasCode(err, "ResourceNotFound.RoleCheck") {
				t.Fatalf("Apply = %v, want %q", err, tt.wantErr)
			}
			if len(notes) != 1 || !strings.Contains(notes[0], "waiting for role R to reach SCF (ResourceNotFound.RoleCheck)") {
				t.Fatalf("notes = %q", notes)
			}
			if slept == 0 || (tt.wait > 0 && slept > tt.wait) {
				t.Fatalf("slept %s", slept)
			}
		})
	}
}

// TestRoleNotReadyOnUpdate: a role change reaching SCF late is retried on
// UpdateFunctionConfiguration too.
func TestRoleNotReadyOnUpdate(t *testing.T) {
	f := newFake()
	e := engine(f)
	apply(t, e, desired())
	f.rolePropagation = 2
	d := desired()
	d.Roles = append(d.Roles, Role{Name: "R2", TrustPolicy: trust, Policy: policy})
	d.Functions[0].Role = "R2"
	apply(t, e, d)
	if f.funcs["web"].cfg.Role != "R2" {
		t.Fatal("role not changed")
	}
	converged(t, e, d)
}

// TestLastVariableRemoved: SCF ignores an empty Variables list, so removing
// the last variable sends the clearing element, and the function ends with
// none.
func TestLastVariableRemoved(t *testing.T) {
	f := newFake()
	e := engine(f)
	apply(t, e, desired())
	d := desired()
	d.Functions[0].Env = nil
	f.requests = nil
	apply(t, e, d)
	if len(f.requests) != 1 {
		t.Fatalf("requests = %+v", f.requests)
	}
	req := f.requests[0].(tcapi.UpdateFunctionConfigurationRequest)
	if req.Environment == nil || !slices.Equal(req.Environment.Variables, []tcapi.Variable{{Key: "", Value: ""}}) {
		t.Fatalf("Environment sent = %+v", req.Environment)
	}
	if v := f.funcs["web"].cfg.Environment.Variables; len(v) != 0 {
		t.Fatalf("variables left: %v", v)
	}
	converged(t, e, d)
}

// TestClearingElementIsNoVariable: should GetFunction list the clearing
// element, it is not a variable to remove.
func TestClearingElementIsNoVariable(t *testing.T) {
	if got := diffEnv([]tcapi.Variable{{}}, nil, nil); len(got) != 0 {
		t.Fatalf("diffEnv = %v", got)
	}
}

// TestCreateFailedIsReplaced: a function that settled in CreateFailed
// fails the apply with SCF's StatusDesc; the next plan replaces it, and the
// apply after that converges.
func TestCreateFailedIsReplaced(t *testing.T) {
	f := newFake()
	f.readyPolls = 1
	e := engine(f)
	f.settleNext["CreateFunction"] = "CreateFailed"
	_, err := e.Apply(context.Background(), plan(t, e, desired()))
	if err == nil || !strings.Contains(err.Error(), "function web is CreateFailed: fake: CreateFailed") {
		t.Fatalf("Apply = %v", err)
	}
	p := plan(t, e, desired())
	out := printed(p)
	if !strings.Contains(out, "-/+ replace function web (it is CreateFailed: fake: CreateFailed)\n") || p.Count("create", "url") != 1 {
		t.Fatalf("plan:\n%s", out)
	}
	f.resetCalls()
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := f.mutating(); !slices.Equal(got[:3], []string{"DeleteFunction web", "CreateFunction web", "CreateTrigger web/http"}) {
		t.Fatalf("calls = %v", got)
	}
	converged(t, e, desired())
}

// TestUpdateFailedIsSentAgain: an update that settles in UpdateFailed is
// reported with SCF's StatusDesc; the next plan sends the configuration and
// the code again (as tencent-component-toolkit updates such a function).
func TestUpdateFailedIsSentAgain(t *testing.T) {
	f := newFake()
	f.readyPolls = 1
	e := engine(f)
	apply(t, e, desired())
	d := desired()
	d.Functions[0].MemoryMB = 256
	f.settleNext["UpdateFunctionConfiguration"] = "UpdateFailed"
	_, err := e.Apply(context.Background(), plan(t, e, d))
	if err == nil || !strings.Contains(err.Error(), "function web is UpdateFailed: fake: UpdateFailed") {
		t.Fatalf("Apply = %v", err)
	}
	p := plan(t, e, d)
	out := printed(p)
	for _, want := range []string{"~ update config web (it is UpdateFailed: fake: UpdateFailed; sent again)", "~ update code web (it is UpdateFailed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("plan lacks %q:\n%s", want, out)
		}
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	converged(t, e, d)
}

// TestTriggersAsTheToolkitSends: CreateTrigger carries Qualifier $DEFAULT
// for timers and URLs; the URL is asked for as "url-trigger" and SCF's name
// (the URL id) is used afterwards.
func TestTriggersAsTheToolkitSends(t *testing.T) {
	f := newFake()
	e := engine(f)
	apply(t, e, desired())
	n := 0
	for _, r := range f.requests {
		if c, ok := r.(tcapi.CreateTriggerRequest); ok {
			n++
			if c.Qualifier != "$DEFAULT" || c.Description != ManagedDescription || (c.Type == "http" && c.TriggerName != "url-trigger") {
				t.Errorf("CreateTrigger %+v", c)
			}
		}
	}
	if n != 2 {
		t.Fatalf("CreateTrigger calls = %d", n)
	}
}

// TestTriggerMatching: a timer whose Description comes back empty is ours
// when serverless.yml names it; a 5-field cron is the 7-field one SCF
// answers; a Function URL without Description is ours only with the name
// scf-deploy sent.
func TestTriggerMatching(t *testing.T) {
	f := newFake()
	e := engine(f)
	d := desired()
	d.Functions[1].Timers[0].Cron = "*/5 * * * *"
	apply(t, e, d)
	if got := f.funcs["tick"].triggers[0].TriggerDesc; got != `{"cron":"0 */5 * * * * *"}` {
		t.Fatalf("the fake keeps %s", got)
	}
	converged(t, e, d)
	for i := range f.funcs["tick"].triggers {
		f.funcs["tick"].triggers[i].Description = ""
	}
	converged(t, e, d)

	url := &f.funcs["web"].triggers[0]
	url.Description = ""
	p := plan(t, e, d)
	if !p.Empty() || !strings.Contains(printed(p), "Function URL https://1250000000-") || !strings.Contains(printed(p), "was not created by scf-deploy: left alone") {
		t.Fatalf("a URL without Description and with SCF's name:\n%s", printed(p))
	}
	url.TriggerName = "url-trigger"
	converged(t, e, d)
}

// TestAttachIdempotent: an attach refused although the policy is attached
// (someone else's attach, a retried call) counts as done.
func TestAttachIdempotent(t *testing.T) {
	f := newFake()
	e := engine(f)
	apply(t, e, desired())
	f.attached["R"] = nil
	p := plan(t, e, desired())
	if p.Count("attach", "policy") != 1 {
		t.Fatalf("plan:\n%s", printed(p))
	}
	f.attached["R"] = []uint64{1}
	f.failNext["AttachRolePolicy"] = "FailedOperation"
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	f.attached["R"] = nil
	f.failNext["AttachRolePolicy"] = "FailedOperation"
	if _, err := e.Apply(context.Background(), plan(t, e, desired())); !tcapi.HasCode(err, "FailedOperation") {
		t.Fatalf("a refused attach that did not happen: %v", err)
	}
}

// TestCodeTooLargeRefusedFirst: a package whose base64 passes the request
// limit is refused before any call.
func TestCodeTooLargeRefusedFirst(t *testing.T) {
	f := newFake()
	e := engine(f)
	d := desired()
	d.Functions[1].Code = make([]byte, MaxCodeBase64/4*3+1)
	_, err := e.Plan(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), "function tick: its code package is 7125001 bytes") || !strings.Contains(err.Error(), "limited to 10 MB") {
		t.Fatalf("Plan = %v", err)
	}
	if len(f.calls) != 0 {
		t.Fatalf("calls before the refusal: %v", f.calls)
	}
	d.Functions[1].Code = make([]byte, MaxCodeBase64/4*3)
	if _, err := e.Plan(context.Background(), d); err != nil {
		t.Fatalf("a package at the limit: %v", err)
	}
}

// TestDeleteAFailedFunction: delete removes a function whatever state it
// settled in.
func TestDeleteAFailedFunction(t *testing.T) {
	f := newFake()
	e := engine(f)
	f.settleNext["CreateFunction"] = "CreateFailed"
	_, _ = e.Apply(context.Background(), plan(t, e, desired()))
	p, err := e.PlanDelete(context.Background(), desired())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(f.funcs) != 0 {
		t.Fatalf("left: %v", f.funcs)
	}
}
