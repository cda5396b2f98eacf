package provision

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/testkit/clocktest"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The engine's tests run against the in-process emulator, through the real
// tcapi SCF and CAM clients over HTTP: what the engine is judged against is
// the same Tencent the scf-deploy and scf-local tests use, not a second fake.

// cloud is an emulator with the clients the engine uses.
type cloud struct {
	t     *testing.T
	emu   *emulator.Server
	clock *clocktest.Clock
	scf   *tcapi.SCFControl
	cam   *tcapi.CAM
	raw   *tcapi.Client // SCF, for requests the typed client does not send
}

// pollInterval is the engine's wait between GetFunction calls; readyAfter
// polls is a function's Creating/Updating time in polls.
const pollInterval = time.Second

func readyAfter(polls int) time.Duration { return time.Duration(polls) * pollInterval }

// newCloud starts an emulator with opts (Now, Rate and FunctionReadyAfter
// are set here: the manual clock, no rate limit, Active at once unless
// opts asks for a number of polls) and clients of its default account. The
// clients try each call once, so an injected failure reaches the engine.
func newCloud(t *testing.T, opts emulator.Options) *cloud {
	t.Helper()
	// The emulator's clock is moved on only by the engine's waits: a
	// function's Creating/Updating and a role's propagation pass without
	// real sleeps.
	clock := clocktest.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	opts.Now, opts.Rate = clock.Now, -1
	if opts.FunctionReadyAfter == 0 {
		opts.FunctionReadyAfter = -1
	}
	emu := emulator.New(opts)
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	cred := tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey}
	topts := tcapi.Options{Region: "ap-guangzhou", Endpoint: ts.URL, MaxAttempts: 1, Limiters: tcapi.NewLimiters(10000, 10000)}
	c := &cloud{t: t, emu: emu, clock: clock}
	var err error
	if c.scf, err = tcapi.NewSCFControl(cred, topts); err != nil {
		t.Fatal(err)
	}
	if c.raw, err = tcapi.NewClient("scf", tcapi.SCFVersion, cred, topts); err != nil {
		t.Fatal(err)
	}
	topts.Region = "" // CAM is global
	if c.cam, err = tcapi.NewCAM(cred, topts); err != nil {
		t.Fatal(err)
	}
	return c
}

// engine returns an engine on c whose waits move the emulator's clock.
func (c *cloud) engine() *Engine {
	return &Engine{SCF: c.scf, CAM: c.cam, PollInterval: pollInterval, Sleep: c.clock.Sleep}
}

// mutating returns the number of calls of each action that changes
// something ("scf.CreateFunction": 2) since the last reset.
func (c *cloud) mutating() map[string]int64 {
	out := map[string]int64{}
	for k, v := range c.emu.Stats().Actions {
		action := k[strings.Index(k, ".")+1:]
		if !strings.HasPrefix(action, "Get") && !strings.HasPrefix(action, "List") {
			out[k] = v.Requests
		}
	}
	return out
}

// calls is the number of requests of every action since the last reset.
func (c *cloud) calls() int64 {
	var n int64
	for _, v := range c.emu.Stats().Actions {
		n += v.Requests
	}
	return n
}

// wantMutating fails unless the mutating calls since the last reset are want.
func (c *cloud) wantMutating(want map[string]int64) {
	c.t.Helper()
	got := c.mutating()
	if len(got) != len(want) {
		c.t.Fatalf("mutating calls = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			c.t.Fatalf("mutating calls = %v, want %v", got, want)
		}
	}
}

// function returns the emulator's function name (ok false: none).
func (c *cloud) function(name string) (emulator.FunctionInfo, bool) {
	for _, f := range c.emu.Functions() {
		if f.FunctionName == name {
			return f, true
		}
	}
	return emulator.FunctionInfo{}, false
}

func (c *cloud) mustFunction(name string) emulator.FunctionInfo {
	c.t.Helper()
	f, ok := c.function(name)
	if !ok {
		c.t.Fatalf("no function %s in the emulator", name)
	}
	return f
}

func (c *cloud) role(name string) (emulator.RoleInfo, bool) {
	for _, r := range c.emu.Roles() {
		if r.RoleName == name {
			return r, true
		}
	}
	return emulator.RoleInfo{}, false
}

func (c *cloud) policyID(name string) uint64 {
	c.t.Helper()
	for _, p := range c.emu.Policies() {
		if p.PolicyName == name {
			return p.PolicyId
		}
	}
	c.t.Fatalf("no policy %s in the emulator", name)
	return 0
}

// updateTrigger sends UpdateTrigger with params as given (an empty
// Description included, which the typed request leaves out).
func (c *cloud) updateTrigger(params map[string]any) {
	c.t.Helper()
	if err := c.raw.Call(context.Background(), "UpdateTrigger", params, nil); err != nil {
		c.t.Fatalf("UpdateTrigger %v: %v", params, err)
	}
}

// zipped is a zip holding one file: a code package SCF accepts.
func zipped(name, body string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err == nil {
		_, err = f.Write([]byte(body))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		panic(err)
	}
	return b.Bytes()
}

// recordingSCF is the real SCF client, keeping each trigger request the
// engine sends (what the emulator does not show: the name a URL was asked
// for, the Variables sent).
type recordingSCF struct {
	*tcapi.SCFControl
	mu      sync.Mutex
	creates []tcapi.CreateTriggerRequest
	configs []tcapi.UpdateFunctionConfigurationRequest
}

func (r *recordingSCF) CreateTrigger(ctx context.Context, req tcapi.CreateTriggerRequest) (tcapi.CreateTriggerResponse, error) {
	r.mu.Lock()
	r.creates = append(r.creates, req)
	r.mu.Unlock()
	return r.SCFControl.CreateTrigger(ctx, req)
}

func (r *recordingSCF) UpdateFunctionConfiguration(ctx context.Context, req tcapi.UpdateFunctionConfigurationRequest) error {
	r.mu.Lock()
	r.configs = append(r.configs, req)
	r.mu.Unlock()
	return r.SCFControl.UpdateFunctionConfiguration(ctx, req)
}

// recordedApply applies desired() to a new cloud through an engine whose SCF
// calls rec records.
func recordedApply(t *testing.T) (c *cloud, e *Engine, rec *recordingSCF) {
	t.Helper()
	c = newCloud(t, emulator.Options{})
	rec = &recordingSCF{SCFControl: c.scf}
	e = c.engine()
	e.SCF = rec
	apply(t, e, desired())
	return c, e, rec
}

// appliedPolicy applies desired() to a new cloud and returns the engine and
// the id of the policy it created for role R.
func appliedPolicy(t *testing.T) (c *cloud, e *Engine, id uint64) {
	t.Helper()
	c = newCloud(t, emulator.Options{})
	e = c.engine()
	apply(t, e, desired())
	return c, e, c.policyID("RPolicy")
}
