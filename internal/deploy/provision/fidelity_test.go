package provision

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
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
	c := newCloud(t, emulator.Options{})
	e := c.engine()
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
	c, e, id := appliedPolicy(t)
	ctx := context.Background()
	for i := range 4 {
		if err := c.cam.CreatePolicyVersion(ctx, id, strings.Replace(policy, "CancelTask", "CancelTask"+strings.Repeat("x", i+1), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.cam.CreatePolicyVersion(ctx, id, policy); !tcapi.HasCode(err, "FailedOperation.PolicyVersionFull") {
		t.Fatalf("the emulator does not keep CAM's cap: %v", err)
	}
	for i := range 6 {
		d := desired()
		d.Roles[0].Policy = strings.Replace(policy, `"resource":["*"]`, `"resource":["qcs::ams:::`+strings.Repeat("r", i+1)+`"]`, 1)
		c.emu.ResetStats()
		apply(t, e, d)
		c.wantMutating(map[string]int64{"cam.UpdatePolicy": 1})
		converged(t, e, d)
	}
}

// TestRolePropagation: SCF refuses a new role for a while (the emulator
// answers FailedOperation.CallRoleFailed until the role is propagation old);
// CreateFunction is tried again (through the injected Sleep, which moves the
// emulator's clock) with one line saying why, and the first apply succeeds.
// Past RoleWait it fails, naming the role.
func TestRolePropagation(t *testing.T) {
	tests := []struct {
		name        string
		propagation time.Duration
		wait        time.Duration
		wantErr     string
	}{
		{"reaches SCF within the wait", 8 * time.Second, 0, ""},
		{"never within the wait", 1000 * time.Hour, 10 * time.Second, "role R is still not usable by SCF after 10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCloud(t, emulator.Options{RolePropagation: tt.propagation})
			e := c.engine()
			e.RoleWait = tt.wait
			var notes []string
			e.Note = func(m string) { notes = append(notes, m) }
			var slept time.Duration
			e.Sleep = func(ctx context.Context, d time.Duration) error { slept += d; return c.clock.Sleep(ctx, d) }
			_, err := e.Apply(context.Background(), plan(t, e, desired()))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				converged(t, e, desired())
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !tcapi.HasCode(err, "FailedOperation.CallRoleFailed") {
				t.Fatalf("Apply = %v, want %q", err, tt.wantErr)
			}
			if len(notes) != 1 || !strings.Contains(notes[0], "waiting for role R to reach SCF (FailedOperation.CallRoleFailed)") {
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
	c := newCloud(t, emulator.Options{RolePropagation: 5 * time.Second})
	e := c.engine()
	apply(t, e, desired())
	d := desired()
	d.Roles = append(d.Roles, Role{Name: "R2", TrustPolicy: trust, Policy: policy})
	d.Functions[0].Role = "R2"
	c.emu.ResetStats()
	apply(t, e, d)
	if c.mustFunction("web").Role != "R2" {
		t.Fatal("role not changed")
	}
	if n := c.mutating()["scf.UpdateFunctionConfiguration"]; n < 2 {
		t.Fatalf("UpdateFunctionConfiguration sent %d time(s): the new role was never refused, so nothing was retried", n)
	}
	converged(t, e, d)
}

// TestLastVariableRemoved: SCF ignores an empty Variables list, so removing
// the last variable sends the clearing element, and the function ends with
// none.
func TestLastVariableRemoved(t *testing.T) {
	c, e, rec := recordedApply(t)
	d := desired()
	d.Functions[0].Env = nil
	rec.configs = nil
	apply(t, e, d)
	if len(rec.configs) != 1 {
		t.Fatalf("requests = %+v", rec.configs)
	}
	if req := rec.configs[0]; req.Environment == nil || !slices.Equal(req.Environment.Variables, []tcapi.Variable{{Key: "", Value: ""}}) {
		t.Fatalf("Environment sent = %+v", req.Environment)
	}
	if v := c.mustFunction("web").Environment; len(v) != 0 {
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
	c := newCloud(t, emulator.Options{FunctionReadyAfter: readyAfter(1)})
	e := c.engine()
	c.emu.FailNext(emulator.ControlFailure{Action: "scf.CreateFunction", Settle: emulator.FunctionCreateFailed, Message: "the package could not be unpacked"})
	_, err := e.Apply(context.Background(), plan(t, e, desired()))
	if err == nil || !strings.Contains(err.Error(), "function web is CreateFailed: the package could not be unpacked") {
		t.Fatalf("Apply = %v", err)
	}
	p := plan(t, e, desired())
	out := printed(p)
	if !strings.Contains(out, "-/+ replace function web (it is CreateFailed: the package could not be unpacked)\n") || p.Count("create", "url") != 1 {
		t.Fatalf("plan:\n%s", out)
	}
	c.emu.ResetStats()
	var changes []string
	e.Progress = func(ch *Change) { changes = append(changes, ch.String()) }
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// web replaced with its URL; tick, which the failed apply never reached, created.
	c.wantMutating(map[string]int64{"scf.DeleteFunction": 1, "scf.CreateFunction": 2, "scf.CreateTrigger": 2})
	if len(changes) < 2 || !strings.HasPrefix(changes[0], "-/+ replace function web") || !strings.HasPrefix(changes[1], "+ create url web") {
		t.Fatalf("changes applied = %q", changes)
	}
	converged(t, e, desired())
}

// TestUpdateFailedIsSentAgain: an update that settles in UpdateFailed is
// reported with SCF's StatusDesc; the next plan sends the configuration and
// the code again (as tencent-component-toolkit updates such a function).
func TestUpdateFailedIsSentAgain(t *testing.T) {
	c := newCloud(t, emulator.Options{FunctionReadyAfter: readyAfter(1)})
	e := c.engine()
	apply(t, e, desired())
	d := desired()
	d.Functions[0].MemoryMB = 256
	c.emu.FailNext(emulator.ControlFailure{Action: "scf.UpdateFunctionConfiguration", Settle: emulator.FunctionUpdateFailed, Message: "out of capacity"})
	_, err := e.Apply(context.Background(), plan(t, e, d))
	if err == nil || !strings.Contains(err.Error(), "function web is UpdateFailed: out of capacity") {
		t.Fatalf("Apply = %v", err)
	}
	p := plan(t, e, d)
	out := printed(p)
	for _, want := range []string{"~ update config web (it is UpdateFailed: out of capacity; sent again)", "~ update code web (it is UpdateFailed"} {
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
	c, e, rec := recordedApply(t)
	for _, req := range rec.creates {
		if req.Qualifier != "$DEFAULT" || req.Description != ManagedDescription || (req.Type == "http" && req.TriggerName != "url-trigger") {
			t.Errorf("CreateTrigger %+v", req)
		}
	}
	if len(rec.creates) != 2 {
		t.Fatalf("CreateTrigger calls = %d", len(rec.creates))
	}
	// SCF names the URL after its id; the engine uses that name afterwards.
	url := c.mustFunction("web").Triggers[0]
	if url.TriggerName == "url-trigger" || url.Qualifier != "$DEFAULT" || url.Description != ManagedDescription {
		t.Fatalf("the URL as SCF keeps it: %+v", url)
	}
	converged(t, e, desired())
}

// TestTriggerMatching: a timer whose Description comes back empty is ours
// when serverless.yml names it; a 5-field cron is the 7-field one SCF
// answers; a Function URL without Description is ours only with the name
// scf-deploy sent.
func TestTriggerMatching(t *testing.T) {
	c := newCloud(t, emulator.Options{})
	e := c.engine()
	d := desired()
	d.Functions[1].Timers[0].Cron = "*/5 * * * *"
	apply(t, e, d)
	if got := c.mustFunction("tick").Triggers[0].TriggerDesc; got != `{"cron":"0 */5 * * * * *"}` {
		t.Fatalf("the emulator keeps %s", got)
	}
	converged(t, e, d)
	c.updateTrigger(map[string]any{"FunctionName": "tick", "TriggerName": "every-5-minutes", "Type": "timer", "Description": ""})
	if tr := c.mustFunction("tick").Triggers[0]; tr.Description != "" {
		t.Fatalf("the timer's Description is still %q", tr.Description)
	}
	converged(t, e, d)

	url := c.mustFunction("web").Triggers[0]
	c.updateTrigger(map[string]any{"FunctionName": "web", "TriggerName": url.TriggerName, "Type": "http", "Description": ""})
	p := plan(t, e, d)
	if !p.Empty() || !strings.Contains(printed(p), "Function URL https://1250000000-") || !strings.Contains(printed(p), "was not created by scf-deploy: left alone") {
		t.Fatalf("a URL without Description and with SCF's name:\n%s", printed(p))
	}
	// SCF names a URL after its id, so only a URL of another origin can
	// carry the name scf-deploy asks for; without Description it is ours.
	url.Description, url.TriggerName = "", "url-trigger"
	if !ourURL(tcapi.TriggerInfo{Type: "http", TriggerName: url.TriggerName}, urlName(d.Functions[0].URL)) {
		t.Fatal("a URL named url-trigger without Description is not ours")
	}
}

// TestAttachIdempotent: an attach refused although the policy is attached
// (someone else's attach, a retried call) counts as done.
func TestAttachIdempotent(t *testing.T) {
	c, e, id := appliedPolicy(t)
	ctx := context.Background()
	if err := c.cam.DetachRolePolicy(ctx, id, "R"); err != nil {
		t.Fatal(err)
	}
	p := plan(t, e, desired())
	if p.Count("attach", "policy") != 1 {
		t.Fatalf("plan:\n%s", printed(p))
	}
	if err := c.cam.AttachRolePolicy(ctx, id, "R"); err != nil { // someone else's attach
		t.Fatal(err)
	}
	c.emu.FailNext(emulator.ControlFailure{Action: "cam.AttachRolePolicy", Code: "FailedOperation"})
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := c.cam.DetachRolePolicy(ctx, id, "R"); err != nil {
		t.Fatal(err)
	}
	c.emu.FailNext(emulator.ControlFailure{Action: "cam.AttachRolePolicy", Code: "FailedOperation"})
	if _, err := e.Apply(context.Background(), plan(t, e, desired())); !tcapi.HasCode(err, "FailedOperation") {
		t.Fatalf("a refused attach that did not happen: %v", err)
	}
}

// TestCodeTooLargeRefusedFirst: a package whose base64 passes the request
// limit is refused before any call.
func TestCodeTooLargeRefusedFirst(t *testing.T) {
	c := newCloud(t, emulator.Options{})
	e := c.engine()
	d := desired()
	d.Functions[1].Code = make([]byte, MaxCodeBase64/4*3+1)
	_, err := e.Plan(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), "function tick: its code package is 7125001 bytes") || !strings.Contains(err.Error(), "limited to 10 MB") {
		t.Fatalf("Plan = %v", err)
	}
	if n := c.calls(); n != 0 {
		t.Fatalf("%d call(s) before the refusal: %v", n, c.emu.Stats().Actions)
	}
	d.Functions[1].Code = make([]byte, MaxCodeBase64/4*3)
	if _, err := e.Plan(context.Background(), d); err != nil {
		t.Fatalf("a package at the limit: %v", err)
	}
}

// TestDeleteAFailedFunction: delete removes a function whatever state it
// settled in.
func TestDeleteAFailedFunction(t *testing.T) {
	c := newCloud(t, emulator.Options{})
	e := c.engine()
	c.emu.FailNext(emulator.ControlFailure{Action: "scf.CreateFunction", Settle: emulator.FunctionCreateFailed})
	if _, err := e.Apply(context.Background(), plan(t, e, desired())); err == nil || !strings.Contains(err.Error(), "CreateFailed") {
		t.Fatalf("Apply = %v, want the function CreateFailed", err)
	}
	p, err := e.PlanDelete(context.Background(), desired())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if fns := c.emu.Functions(); len(fns) != 0 {
		t.Fatalf("left: %+v", fns)
	}
}
