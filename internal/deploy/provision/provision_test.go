package provision

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

const (
	trust  = `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"service":["scf.qcloud.com"]}}]}`
	policy = `{"version":"2.0","statement":[{"effect":"allow","action":["ams:CancelTask"],"resource":["*"]}]}`
	secret = "0123456789abcdef0123456789abcdef"
)

func desired() Desired {
	return Desired{
		Roles: []Role{{Name: "R", TrustPolicy: trust, Policy: policy}},
		Functions: []Function{
			{Function: deploy.Function{Name: "web", Handler: "web", Runtime: "Go1", Role: "R", MemoryMB: 128, Timeout: 15 * time.Second,
				Env: []deploy.KeyValue{{Key: "JANITOR_WEBHOOK_SECRET", Value: secret}, {Key: "JANITOR_LOG_LEVEL", Value: "info"}},
				URL: &URL{AuthType: "NONE", Extranet: true}}, Code: zipped("web", "v1")},
			{Function: deploy.Function{Name: "tick", Handler: "tick", Runtime: "Go1", Role: "R", MemoryMB: 128, Timeout: 270 * time.Second,
				Timers: []Timer{{Name: "every-5-minutes", Cron: "0 */5 * * * * *", Enabled: true}}}, Code: zipped("tick", "v1")},
		},
	}
}

func plan(t *testing.T, e *Engine, d Desired) *Plan {
	t.Helper()
	p, err := e.Plan(context.Background(), d)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

func apply(t *testing.T, e *Engine, d Desired) (*Plan, map[string]string) {
	t.Helper()
	p := plan(t, e, d)
	urls, err := e.Apply(context.Background(), p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return p, urls
}

func printed(p *Plan) string {
	var b strings.Builder
	p.Write(&b)
	return b.String()
}

func TestCreateThenNoChanges(t *testing.T) {
	c := newCloud(t, emulator.Options{FunctionReadyAfter: readyAfter(2)})
	e := c.engine()
	p := plan(t, e, desired())
	if n := p.Count("create", "function"); n != 2 {
		t.Fatalf("creates = %d\n%s", n, printed(p))
	}
	c.wantMutating(nil)
	out := printed(p)
	if strings.Contains(out, secret) || !strings.Contains(out, "JANITOR_WEBHOOK_SECRET (set, 32 chars)") {
		t.Fatalf("plan output:\n%s", out)
	}
	urls, err := e.Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(urls["web"], "https://1250000000-") {
		t.Fatalf("URLs = %v", urls)
	}
	c.wantMutating(map[string]int64{"cam.CreateRole": 1, "cam.CreatePolicy": 1, "cam.AttachRolePolicy": 1, "scf.CreateFunction": 2, "scf.CreateTrigger": 2})
	if web := c.mustFunction("web"); len(web.Triggers) != 1 || web.Triggers[0].Type != "http" || len(c.mustFunction("tick").Triggers) != 1 {
		t.Fatalf("functions after apply: %+v", c.emu.Functions())
	}

	c.emu.ResetStats()
	p = plan(t, e, desired())
	if !p.Empty() || !strings.Contains(printed(p), "no changes") || p.URLs["web"] != urls["web"] {
		t.Fatalf("second plan:\n%s urls %v", printed(p), p.URLs)
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	c.wantMutating(nil)
}

func TestOneChangeOneUpdate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(d *Desired)
		call    string // the one mutating call
		details string
	}{
		{"memory", func(d *Desired) { d.Functions[0].MemoryMB = 256 }, "scf.UpdateFunctionConfiguration", "memory 128 -> 256 MB"},
		{"secret", func(d *Desired) { d.Functions[0].Env[0].Value = strings.Repeat("z", 32) }, "scf.UpdateFunctionConfiguration", "env JANITOR_WEBHOOK_SECRET (changed)"},
		{"removed env", func(d *Desired) { d.Functions[0].Env = d.Functions[0].Env[:1] }, "scf.UpdateFunctionConfiguration", "env JANITOR_LOG_LEVEL (removed)"},
		{"code", func(d *Desired) { d.Functions[1].Code = zipped("tick", "v2") }, "scf.UpdateFunctionCode", "code sha256"},
		{"cron", func(d *Desired) { d.Functions[1].Timers[0].Cron = "0 */10 * * * * *" }, "scf.UpdateTrigger", `~ update timer tick/every-5-minutes
    cron "0 */5 * * * * *" -> "0 */10 * * * * *"`},
		{"timer disabled", func(d *Desired) { d.Functions[1].Timers[0].Enabled = false }, "scf.UpdateTrigger", "enabled true -> false"},
		{"timer argument", func(d *Desired) { d.Functions[1].Timers[0].Argument = "dry" }, "scf.UpdateTrigger", `argument "" -> "dry"`},
		{"url intranet", func(d *Desired) { d.Functions[0].URL.Intranet = true }, "scf.UpdateTrigger", "~ update url web\n    intranet false -> true\n    its address is kept"},
		{"policy", func(d *Desired) { d.Roles[0].Policy = strings.Replace(policy, "ams:", "vm:", 1) }, "cam.UpdatePolicy", "~ update policy RPolicy\n    permissions (changed)"},
		{"all variables removed", func(d *Desired) { d.Functions[0].Env = nil }, "scf.UpdateFunctionConfiguration", "env JANITOR_LOG_LEVEL (removed)\n    env JANITOR_WEBHOOK_SECRET (removed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCloud(t, emulator.Options{FunctionReadyAfter: readyAfter(1)})
			e := c.engine()
			apply(t, e, desired())
			c.emu.ResetStats()
			d := desired()
			tt.change(&d)
			p, _ := apply(t, e, d)
			c.wantMutating(map[string]int64{tt.call: 1})
			out := printed(p)
			if !strings.Contains(out, strings.ReplaceAll(tt.details, `\n`, "\n")) || strings.Contains(out, secret) || strings.Contains(out, strings.Repeat("z", 32)) {
				t.Fatalf("plan output:\n%s", out)
			}
			converged(t, e, d)
		})
	}
}

func TestConvergesAfterFailurePartWay(t *testing.T) {
	for _, action := range []string{"CreateTrigger", "CreateFunction", "AttachRolePolicy", "UpdateFunctionConfiguration"} {
		t.Run(action, func(t *testing.T) {
			c := newCloud(t, emulator.Options{FunctionReadyAfter: readyAfter(1)})
			e := c.engine()
			d := desired()
			if action == "UpdateFunctionConfiguration" {
				apply(t, e, d)
				d.Functions[0].MemoryMB, d.Functions[1].MemoryMB = 256, 256
			}
			service := "scf."
			if action == "AttachRolePolicy" {
				service = "cam."
			}
			c.emu.FailNext(emulator.ControlFailure{Action: service + action, Code: "InternalError"})
			p := plan(t, e, d)
			_, err := e.Apply(context.Background(), p)
			if !tcapi.HasCode(err, "InternalError") || !strings.Contains(err.Error(), action) {
				t.Fatalf("Apply with a failing %s: %v", action, err)
			}
			apply(t, e, d)
			converged(t, e, d)
			r, _ := c.role("R")
			if fns := c.emu.Functions(); len(fns) != 2 || len(fns[0].Triggers) != 1 || len(fns[1].Triggers) != 1 || len(c.emu.Policies()) != 1 || len(r.AttachedPolicies) != 1 {
				t.Fatalf("duplicates or gaps: functions %+v, policies %+v, role %+v", fns, c.emu.Policies(), r)
			}
		})
	}
}

func TestForeignResources(t *testing.T) {
	c := newCloud(t, emulator.Options{})
	e := c.engine()
	ctx := context.Background()
	// A function of the same name that scf-deploy did not make.
	if err := c.scf.CreateFunction(ctx, tcapi.CreateFunctionRequest{FunctionName: "web", Runtime: "Go1", Handler: "web", Code: &tcapi.Code{ZipFile: b64(zipped("web", "theirs"))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Plan(ctx, desired()); err == nil || !strings.Contains(err.Error(), "was not created by scf-deploy") {
		t.Fatalf("Plan over a foreign function: %v", err)
	}
	if err := c.scf.DeleteFunction(ctx, tcapi.FunctionRef{FunctionName: "web"}); err != nil {
		t.Fatal(err)
	}

	// A foreign role is used as it is; foreign triggers are left alone.
	if _, err := c.cam.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: "R", PolicyDocument: trust}); err != nil {
		t.Fatal(err)
	}
	apply(t, e, desired())
	if r, _ := c.role("R"); r.Description != "" {
		t.Fatal("the foreign role was changed")
	}
	if _, err := c.scf.CreateTrigger(ctx, tcapi.CreateTriggerRequest{FunctionName: "tick", Type: "timer", TriggerName: "theirs", TriggerDesc: "0 0 * * * * *"}); err != nil {
		t.Fatal(err)
	}
	c.emu.ResetStats()
	p := plan(t, e, desired())
	if !p.Empty() || !strings.Contains(printed(p), "timer trigger theirs was not created by scf-deploy: left alone") {
		t.Fatalf("plan:\n%s", printed(p))
	}
	d := desired()
	d.Functions[1].Timers = nil
	apply(t, e, d)
	c.wantMutating(map[string]int64{"scf.DeleteTrigger": 1})
	if tr := c.mustFunction("tick").Triggers; len(tr) != 1 || tr[0].TriggerName != "theirs" {
		t.Fatalf("tick's triggers = %+v, want theirs alone", tr)
	}

	// delete removes only what scf-deploy made.
	p, err := e.PlanDelete(ctx, desired())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.role("R"); len(c.emu.Functions()) != 0 || !ok {
		t.Fatalf("after delete: functions %+v roles %+v\n%s", c.emu.Functions(), c.emu.Roles(), printed(p))
	}
	if !strings.Contains(printed(p), "role R was not created by scf-deploy: left alone") {
		t.Fatalf("delete plan:\n%s", printed(p))
	}
}

func TestDeleteOwnRoles(t *testing.T) {
	c := newCloud(t, emulator.Options{})
	e := c.engine()
	apply(t, e, desired())
	p, err := e.PlanDelete(context.Background(), desired())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(c.emu.Functions())+len(c.emu.Roles())+len(c.emu.Policies()) != 0 {
		t.Fatalf("left: %+v %+v %+v", c.emu.Functions(), c.emu.Roles(), c.emu.Policies())
	}
	p, _ = e.PlanDelete(context.Background(), desired())
	if !p.Empty() {
		t.Fatalf("second delete plan:\n%s", printed(p))
	}
}

func TestWaitActiveHonoursContext(t *testing.T) {
	c := newCloud(t, emulator.Options{FunctionReadyAfter: 1000 * time.Hour}) // never Active here
	e := c.engine()
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	e.Sleep = func(ctx context.Context, d time.Duration) error {
		polls++
		if polls == 3 {
			cancel()
		}
		return ctx.Err()
	}
	p := plan(t, e, desired())
	_, err := e.Apply(ctx, p)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "Creating") {
		t.Fatalf("Apply = %v", err)
	}
}

// TestFunctionURL: the printed address is NetConfig.ExtranetUrl (https),
// never the plain-http ExtranetHTTPUrl beside it; an intranet-only URL says
// so. The first case is tccli's published ListTriggers example.
func TestFunctionURL(t *testing.T) {
	tests := []struct{ name, desc, want string }{
		{"tccli example, intranet only", `{"AuthType":"NONE","NetConfig":{"EnableIntranet":true,"IntranetUrl":"https://1258888888-hulrzrbh9f.in.ap-chongqing.tencentscf.com","IntranetHTTPUrl":"http://1258888888-hulrzrbh9f.in.ap-chongqing.tencentscf.com","ExtranetUrl":"","ExtranetHTTPUrl":"","WssIntranetUrl":"","WsIntranetUrl":"","WssExtranetUrl":"","WsExtranetUrl":"","EnableExtranet":false}}`,
			"intranet only: https://1258888888-hulrzrbh9f.in.ap-chongqing.tencentscf.com"},
		{"both", `{"AuthType":"NONE","NetConfig":{"ExtranetHTTPUrl":"http://1-a.ap-guangzhou.tencentscf.com","ExtranetUrl":"https://1-a.ap-guangzhou.tencentscf.com","IntranetUrl":"https://1-a.in.ap-guangzhou.tencentscf.com","EnableExtranet":true,"EnableIntranet":true}}`,
			"https://1-a.ap-guangzhou.tencentscf.com"},
		{"no address yet", `{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}`, ""},
		{"a top-level Url is not Tencent's shape", `{"AuthType":"NONE","Url":"https://1-abc.ap-guangzhou.tencentscf.com"}`, ""},
		{"not json", `not json`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FunctionURL(tt.desc); got != tt.want {
				t.Fatalf("FunctionURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSameHash(t *testing.T) {
	h := CodeSHA256([]byte("x"))
	raw := []byte{}
	for i := 0; i < len(h); i += 2 {
		var b byte
		for _, c := range h[i : i+2] {
			b <<= 4
			if c >= 'a' {
				b |= byte(c-'a') + 10
			} else {
				b |= byte(c - '0')
			}
		}
		raw = append(raw, b)
	}
	if !sameHash(h, strings.ToUpper(h)) || !sameHash(h, b64(raw)) || sameHash(h, CodeSHA256([]byte("y"))) || sameHash(h, "") {
		t.Fatal("sameHash")
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestBusyRefusalIsRetriedOnce: a function busy with another change (or a
// retried call that had already succeeded) refuses the update; the engine
// waits for Active and sends it once more.
func TestBusyRefusalIsRetriedOnce(t *testing.T) {
	c := newCloud(t, emulator.Options{FunctionReadyAfter: readyAfter(1)})
	e := c.engine()
	apply(t, e, desired())
	d := desired()
	d.Functions[0].MemoryMB = 512
	c.emu.FailNext(emulator.ControlFailure{Action: "scf.UpdateFunctionConfiguration", Code: "FailedOperation.UpdateFunctionConfiguration"})
	c.emu.ResetStats()
	apply(t, e, d)
	c.wantMutating(map[string]int64{"scf.UpdateFunctionConfiguration": 2})
	if c.mustFunction("web").MemorySize != 512 {
		t.Fatal("not updated")
	}
}

func TestDiffEnvAndRole(t *testing.T) {
	have := []tcapi.Variable{{Key: "A", Value: "1"}, {Key: "B", Value: "2"}, {Key: "SCF_NAMESPACE", Value: "default"}}
	want := []tcapi.Variable{{Key: "A", Value: "1"}, {Key: "B", Value: "3"}, {Key: "C", Value: "abcd"}}
	got := diffEnv(have, want, nil)
	if !slices.Equal(got, []string{"env B (changed)", "env C (set, 4 chars)"}) {
		t.Fatalf("diffEnv = %v", got)
	}
	if got := diffEnv(have, want, map[string]bool{"B": true, "C": true}); !slices.Equal(got, []string{`env B: "2" -> "3"`, `env C = "abcd"`}) {
		t.Fatalf("diffEnv with public B and C = %v", got)
	}
	if got := diffEnv(want, want[:1], nil); !slices.Equal(got, []string{"env B (removed)", "env C (removed)"}) {
		t.Fatalf("diffEnv removed = %v", got)
	}
	tests := []struct {
		have, want string
		same       bool
	}{
		{"R", "R", true}, {"qcs::cam::uin/1:roleName/R", "R", true}, {"R2", "R", false}, {"", "R", false}, {"R", "", false}, {"", "", true},
	}
	for _, tt := range tests {
		if sameRole(tt.have, tt.want) != tt.same {
			t.Errorf("sameRole(%q, %q) != %v", tt.have, tt.want, tt.same)
		}
	}
}

// TestRolesOnlyEngine: an engine for a role alone (a target account's, with
// that account's own CAM client) needs no SCF client; the plan shows where
// the role's documents come from; a second plan has no changes; PlanDelete
// removes what it created.
func TestRolesOnlyEngine(t *testing.T) {
	c := newCloud(t, emulator.Options{})
	e := &Engine{CAM: c.cam}
	d := Desired{Roles: []Role{{Name: "JanitorSweepTargetRole", TrustPolicy: trust, Policy: policy,
		TrustNote: "trusted by qcs::cam::uin/1:roleName/S (deploy/cam/trust-sweeper.json)", PolicySource: "deploy/cam/JanitorSweepTargetRole.json"}}}
	p := plan(t, e, d)
	out := printed(p)
	for _, want := range []string{
		"+ create role JanitorSweepTargetRole\n    trusted by qcs::cam::uin/1:roleName/S (deploy/cam/trust-sweeper.json)\n",
		"+ create policy JanitorSweepTargetRolePolicy\n    permissions of deploy/cam/JanitorSweepTargetRole.json\n",
		"+ attach policy JanitorSweepTargetRolePolicy to JanitorSweepTargetRole\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if p := plan(t, e, d); !p.Empty() {
		t.Fatalf("second plan:\n%s", printed(p))
	}
	p, err := e.PlanDelete(context.Background(), Desired{Roles: []Role{{Name: "JanitorSweepTargetRole"}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Count("delete", "role") != 1 || p.Count("delete", "policy") != 1 || p.Count("detach", "policy") != 1 {
		t.Fatalf("delete plan:\n%s", printed(p))
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if p := plan(t, e, d); p.Count("create", "role") != 1 {
		t.Fatalf("after delete:\n%s", printed(p))
	}
}
