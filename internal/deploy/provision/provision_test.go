package provision

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

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
			{Name: "web", Handler: "web", Runtime: "Go1", Role: "R", MemoryMB: 128, Timeout: 15 * time.Second,
				Env:  []tcapi.Variable{{Key: "JANITOR_WEBHOOK_SECRET", Value: secret}, {Key: "JANITOR_LOG_LEVEL", Value: "info"}},
				Code: []byte("zip-web-v1"), URL: &URL{AuthType: "NONE", Extranet: true}},
			{Name: "tick", Handler: "tick", Runtime: "Go1", Role: "R", MemoryMB: 128, Timeout: 270 * time.Second,
				Code: []byte("zip-tick-v1"), Timers: []Timer{{Name: "every-5-minutes", Cron: "0 */5 * * * * *", Enabled: true}}},
		},
	}
}

func engine(f *fake) *Engine {
	return &Engine{SCF: f, CAM: f, PollInterval: time.Millisecond, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
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
	f := newFake()
	f.readyPolls = 2
	e := engine(f)
	p := plan(t, e, desired())
	if n := p.Count("create", "function"); n != 2 {
		t.Fatalf("creates = %d\n%s", n, printed(p))
	}
	if len(f.mutating()) != 0 {
		t.Fatalf("Plan made mutating calls: %v", f.mutating())
	}
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
	want := []string{"CreateRole R", "CreatePolicy RPolicy", "AttachRolePolicy R", "CreateFunction web", "CreateTrigger web/http",
		"CreateFunction tick", "CreateTrigger tick/timer"}
	if got := f.mutating(); !slices.Equal(got, want) {
		t.Fatalf("mutating calls = %v, want %v", got, want)
	}

	f.resetCalls()
	p = plan(t, e, desired())
	if !p.Empty() || !strings.Contains(printed(p), "no changes") || p.URLs["web"] != urls["web"] {
		t.Fatalf("second plan:\n%s urls %v", printed(p), p.URLs)
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(f.mutating()) != 0 {
		t.Fatalf("an empty plan made mutating calls: %v", f.mutating())
	}
}

func TestOneChangeOneUpdate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(d *Desired)
		calls   []string
		details string
	}{
		{"memory", func(d *Desired) { d.Functions[0].MemoryMB = 256 }, []string{"UpdateFunctionConfiguration web"}, "memory 128 -> 256 MB"},
		{"secret", func(d *Desired) { d.Functions[0].Env[0].Value = strings.Repeat("z", 32) }, []string{"UpdateFunctionConfiguration web"}, "env JANITOR_WEBHOOK_SECRET (changed)"},
		{"removed env", func(d *Desired) { d.Functions[0].Env = d.Functions[0].Env[:1] }, []string{"UpdateFunctionConfiguration web"}, "env JANITOR_LOG_LEVEL (removed)"},
		{"code", func(d *Desired) { d.Functions[1].Code = []byte("zip-tick-v2") }, []string{"UpdateFunctionCode tick"}, "code sha256"},
		{"cron", func(d *Desired) { d.Functions[1].Timers[0].Cron = "0 */10 * * * * *" }, []string{"UpdateTrigger tick/every-5-minutes"}, `~ update timer tick/every-5-minutes
    cron "0 */5 * * * * *" -> "0 */10 * * * * *"`},
		{"timer disabled", func(d *Desired) { d.Functions[1].Timers[0].Enabled = false }, []string{"UpdateTrigger tick/every-5-minutes"}, "enabled true -> false"},
		{"timer argument", func(d *Desired) { d.Functions[1].Timers[0].Argument = "dry" }, []string{"UpdateTrigger tick/every-5-minutes"}, `argument "" -> "dry"`},
		{"url intranet", func(d *Desired) { d.Functions[0].URL.Intranet = true }, []string{"UpdateTrigger web/u000000002"}, "~ update url web\n    intranet false -> true\n    its address is kept"},
		{"policy", func(d *Desired) { d.Roles[0].Policy = strings.Replace(policy, "ams:", "vm:", 1) }, []string{"UpdatePolicy 1"}, "~ update policy RPolicy\n    permissions (changed)"},
		{"all variables removed", func(d *Desired) { d.Functions[0].Env = nil }, []string{"UpdateFunctionConfiguration web"}, "env JANITOR_LOG_LEVEL (removed)\n    env JANITOR_WEBHOOK_SECRET (removed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.readyPolls = 1
			e := engine(f)
			apply(t, e, desired())
			f.resetCalls()
			d := desired()
			tt.change(&d)
			p, _ := apply(t, e, d)
			if got := f.mutating(); !slices.Equal(got, tt.calls) {
				t.Fatalf("mutating calls = %v, want %v\n%s", got, tt.calls, printed(p))
			}
			out := printed(p)
			if !strings.Contains(out, strings.ReplaceAll(tt.details, `\n`, "\n")) || strings.Contains(out, secret) || strings.Contains(out, strings.Repeat("z", 32)) {
				t.Fatalf("plan output:\n%s", out)
			}
			f.resetCalls()
			if p := plan(t, e, d); !p.Empty() {
				t.Fatalf("not converged:\n%s", printed(p))
			}
		})
	}
}

func TestConvergesAfterFailurePartWay(t *testing.T) {
	for _, action := range []string{"CreateTrigger", "CreateFunction", "AttachRolePolicy", "UpdateFunctionConfiguration"} {
		t.Run(action, func(t *testing.T) {
			f := newFake()
			f.readyPolls = 1
			e := engine(f)
			d := desired()
			if action == "UpdateFunctionConfiguration" {
				apply(t, e, d)
				d.Functions[0].MemoryMB, d.Functions[1].MemoryMB = 256, 256
			}
			f.failNext[action] = "InternalError"
			p := plan(t, e, d)
			_, err := e.Apply(context.Background(), p)
			if !tcapi.HasCode(err, "InternalError") || !strings.Contains(err.Error(), action) {
				t.Fatalf("Apply with a failing %s: %v", action, err)
			}
			apply(t, e, d)
			if p := plan(t, e, d); !p.Empty() {
				t.Fatalf("not converged:\n%s", printed(p))
			}
			if len(f.funcs) != 2 || len(f.funcs["web"].triggers) != 1 || len(f.funcs["tick"].triggers) != 1 || len(f.policies) != 1 || len(f.attached["R"]) != 1 {
				t.Fatalf("duplicates or gaps: funcs %d, web triggers %v, tick triggers %v, policies %d, attached %v",
					len(f.funcs), f.funcs["web"].triggers, f.funcs["tick"].triggers, len(f.policies), f.attached)
			}
		})
	}
}

func TestForeignResources(t *testing.T) {
	f := newFake()
	e := engine(f)
	ctx := context.Background()
	// A function of the same name that scf-deploy did not make.
	_ = f.CreateFunction(ctx, tcapi.CreateFunctionRequest{FunctionName: "web", Runtime: "Go1", Handler: "web", Code: &tcapi.Code{}})
	if _, err := e.Plan(ctx, desired()); err == nil || !strings.Contains(err.Error(), "was not created by scf-deploy") {
		t.Fatalf("Plan over a foreign function: %v", err)
	}
	delete(f.funcs, "web")

	// A foreign role is used as it is; foreign triggers are left alone.
	_, _ = f.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: "R", PolicyDocument: trust})
	apply(t, e, desired())
	if f.roles["R"].Description != "" {
		t.Fatal("the foreign role was changed")
	}
	_, _ = f.CreateTrigger(ctx, tcapi.CreateTriggerRequest{FunctionName: "tick", Type: "timer", TriggerName: "theirs", TriggerDesc: "0 0 * * * * *"})
	f.resetCalls()
	p := plan(t, e, desired())
	if !p.Empty() || !strings.Contains(printed(p), "timer trigger theirs was not created by scf-deploy: left alone") {
		t.Fatalf("plan:\n%s", printed(p))
	}
	d := desired()
	d.Functions[1].Timers = nil
	apply(t, e, d)
	if got := f.mutating(); !slices.Equal(got, []string{"DeleteTrigger tick/every-5-minutes"}) {
		t.Fatalf("calls = %v", got)
	}

	// delete removes only what scf-deploy made.
	f.resetCalls()
	p, err := e.PlanDelete(ctx, desired())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if len(f.funcs) != 0 || f.roles["R"] == nil {
		t.Fatalf("after delete: funcs %v roles %v\n%s", f.funcs, f.roles, printed(p))
	}
	if !strings.Contains(printed(p), "role R was not created by scf-deploy: left alone") {
		t.Fatalf("delete plan:\n%s", printed(p))
	}
}

func TestDeleteOwnRoles(t *testing.T) {
	f := newFake()
	e := engine(f)
	apply(t, e, desired())
	p, err := e.PlanDelete(context.Background(), desired())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(f.funcs)+len(f.roles)+len(f.policies) != 0 {
		t.Fatalf("left: %v %v %v", f.funcs, f.roles, f.policies)
	}
	p, _ = e.PlanDelete(context.Background(), desired())
	if !p.Empty() {
		t.Fatalf("second delete plan:\n%s", printed(p))
	}
}

func TestWaitActiveHonoursContext(t *testing.T) {
	f := newFake()
	f.readyPolls = 1 << 30 // never Active
	e := engine(f)
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
	f := newFake()
	f.readyPolls = 1
	e := engine(f)
	apply(t, e, desired())
	d := desired()
	d.Functions[0].MemoryMB = 512
	f.failNext["UpdateFunctionConfiguration"] = "FailedOperation.UpdateFunctionConfiguration"
	f.resetCalls()
	apply(t, e, d)
	if got := f.mutating(); !slices.Equal(got, []string{"UpdateFunctionConfiguration web", "UpdateFunctionConfiguration web"}) {
		t.Fatalf("calls = %v", got)
	}
	if f.funcs["web"].cfg.MemorySize != 512 {
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
	f := newFake()
	e := &Engine{CAM: f}
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
