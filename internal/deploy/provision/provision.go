// Package provision makes SCF functions, their triggers and their CAM
// execution roles match a desired state (SCF 2018-04-16, CAM 2019-01-16):
// Plan only reads, Apply makes the planned changes in order. Ownership,
// idempotence and the Tencent clients followed: docs/deploy.md.
package provision

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

const (
	ManagedTagKey      = "managed-by"
	ManagedTagValue    = "scf-janitor-scf-deploy"
	ManagedDescription = "managed by scf-deploy (scf-janitor)"
)

var managedTag = tcapi.Tag{Key: ManagedTagKey, Value: ManagedTagValue}

// SCF is the part of the SCF API the engine uses; *tcapi.SCFControl has it.
type SCF interface {
	GetFunction(ctx context.Context, req tcapi.FunctionRef) (tcapi.GetFunctionResponse, error)
	GetFunctionAddress(ctx context.Context, req tcapi.FunctionRef) (tcapi.GetFunctionAddressResponse, error)
	CreateFunction(ctx context.Context, req tcapi.CreateFunctionRequest) error
	UpdateFunctionCode(ctx context.Context, req tcapi.UpdateFunctionCodeRequest) error
	UpdateFunctionConfiguration(ctx context.Context, req tcapi.UpdateFunctionConfigurationRequest) error
	DeleteFunction(ctx context.Context, req tcapi.FunctionRef) error
	ListTriggers(ctx context.Context, req tcapi.ListTriggersRequest) (tcapi.ListTriggersResponse, error)
	CreateTrigger(ctx context.Context, req tcapi.CreateTriggerRequest) (tcapi.CreateTriggerResponse, error)
	UpdateTrigger(ctx context.Context, req tcapi.UpdateTriggerRequest) error
	DeleteTrigger(ctx context.Context, req tcapi.DeleteTriggerRequest) error
}

// CAM is the part of the CAM API the engine uses; *tcapi.CAM has it.
type CAM interface {
	GetRole(ctx context.Context, name string) (tcapi.GetRoleResponse, error)
	CreateRole(ctx context.Context, req tcapi.CreateRoleRequest) (tcapi.CreateRoleResponse, error)
	DeleteRole(ctx context.Context, name string) error
	UpdateAssumeRolePolicy(ctx context.Context, roleName, document string) error
	CreatePolicy(ctx context.Context, req tcapi.CreatePolicyRequest) (tcapi.CreatePolicyResponse, error)
	GetPolicy(ctx context.Context, id uint64) (tcapi.GetPolicyResponse, error)
	ListPolicies(ctx context.Context, req tcapi.ListPoliciesRequest) (tcapi.ListPoliciesResponse, error)
	UpdatePolicy(ctx context.Context, id uint64, document string) error
	DeletePolicy(ctx context.Context, ids ...uint64) error
	AttachRolePolicy(ctx context.Context, id uint64, roleName string) error
	DetachRolePolicy(ctx context.Context, id uint64, roleName string) error
	ListAttachedRolePolicies(ctx context.Context, roleName string, page, rp uint64) (tcapi.ListAttachedRolePoliciesResponse, error)
}

// Desired is the state to reach.
type Desired struct {
	Roles     []Role
	Functions []Function
}

// Role is an execution role with one custom policy (PolicyName) attached;
// the notes and PolicySource are shown in the plan.
type Role struct {
	Name, TrustPolicy, Policy string // policies as JSON
	PolicyNotes               []string
	TrustNote, PolicySource   string
}

// PolicyName is the name of the role's custom policy.
func (r Role) PolicyName() string { return r.Name + "Policy" }

// Function is a function to deploy; its Env holds no empty keys or values.
// Public names the Env keys whose values the plan may print (literals of
// serverless.yml); other values are shown only by their length.
type Function struct {
	deploy.Function
	Public map[string]bool
	Code   []byte // the zip
}

func variables(env []deploy.KeyValue) []tcapi.Variable {
	out := make([]tcapi.Variable, len(env))
	for i, kv := range env {
		out[i] = tcapi.Variable(kv)
	}
	return out
}

type (
	Timer = deploy.Timer
	URL   = deploy.FunctionURL
)

// Change is one step of a plan, such as Op "update", Kind "config".
type Change struct {
	Op, Kind, Name string
	Details        []string
	Reason         string
	apply          func(ctx context.Context) error
}

var opSigns = map[string]string{"create": "+", "attach": "+", "update": "~", "replace": "-/+", "delete": "-", "detach": "-"}

func (c *Change) String() string {
	s := strings.Join([]string{opSigns[c.Op], c.Op, c.Kind, c.Name}, " ")
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	return s
}

// Plan is what Apply would do.
type Plan struct {
	Changes []*Change
	Notes   []string          // things left alone, and why
	URLs    map[string]string // function -> Function URL, when already known
	names   []string          // functions in desired order
}

func (p *Plan) add(c *Change) { p.Changes = append(p.Changes, c) }

func (p *Plan) note(format string, a ...any) { p.Notes = append(p.Notes, fmt.Sprintf(format, a...)) }

func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Write prints the plan; secret values never appear (see Function.Public).
func (p *Plan) Write(w io.Writer) { p.write(w, "") }

// WriteAccount prints the plan of another account, each line naming it.
func (p *Plan) WriteAccount(w io.Writer, uin string) { p.write(w, "account "+uin+": ") }

func (p *Plan) write(w io.Writer, prefix string) {
	for _, n := range p.Notes {
		fmt.Fprintf(w, "%snote: %s\n", prefix, n)
	}
	counts := map[string]int{}
	var ops []string
	for _, c := range p.Changes {
		fmt.Fprintln(w, prefix+c.String())
		for _, d := range c.Details {
			fmt.Fprintf(w, "    %s\n", d)
		}
		k := c.Op + " " + c.Kind
		if counts[k] == 0 {
			ops = append(ops, k)
		}
		counts[k]++
	}
	for i, k := range ops {
		ops[i] = fmt.Sprintf("%s x%d", k, counts[k])
	}
	switch {
	case prefix != "" && p.Empty():
		fmt.Fprintf(w, "%sno changes\n", prefix)
	case prefix != "":
		fmt.Fprintf(w, "%s%d change(s)\n", prefix, len(p.Changes))
	case p.Empty():
		fmt.Fprintf(w, "no changes: %d function(s) up to date\n", len(p.names))
	default:
		fmt.Fprintf(w, "plan: %d change(s): %s\n", len(p.Changes), strings.Join(ops, ", "))
	}
}

// Engine plans and applies; SCF may be nil for roles alone. Sleep replaces
// the waits; Progress is told each change Apply starts, Note what it waits
// for. RoleWait (default 30s, negative: none) bounds the retries while SCF
// answers that a new role is not usable yet.
type Engine struct {
	SCF          SCF
	CAM          CAM
	Namespace    string        // "" = default
	PollInterval time.Duration // GetFunction while Creating/Updating; default 1s
	Sleep        func(ctx context.Context, d time.Duration) error
	Progress     func(c *Change)
	Note         func(msg string)
	RoleWait     time.Duration
}

// MaxCodeBase64 is the largest package sent, as base64, inside a TC3-signed
// request of at most 10 MB (Tencent Cloud API 3.0 request structure).
const MaxCodeBase64 = 9_500_000

func (e *Engine) ref(name string) tcapi.FunctionRef {
	return tcapi.FunctionRef{FunctionName: name, Namespace: e.Namespace}
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitStatuses: tencent-component-toolkit src/modules/scf/config.ts waitStatus.
var waitStatuses = []string{"Creating", "Updating", "Publishing", "Deleting"}

func (e *Engine) waitActive(ctx context.Context, name string) error {
	_, err := e.waitSettled(ctx, name, "Active")
	return err
}

// waitSettled polls GetFunction while the function is in a transient state
// and returns its status once it is one of ok; any other is an error.
func (e *Engine) waitSettled(ctx context.Context, name string, ok ...string) (string, error) {
	interval := e.PollInterval
	if interval <= 0 {
		interval = time.Second
	}
	for {
		fn, err := e.SCF.GetFunction(ctx, e.ref(name))
		if err != nil {
			return "", fmt.Errorf("wait for function %s to be Active: %w", name, err)
		}
		switch {
		case slices.Contains(ok, fn.Status):
			return fn.Status, nil
		case !slices.Contains(waitStatuses, fn.Status):
			return fn.Status, fmt.Errorf("function %s is %s", name, statusText(fn))
		}
		if err := e.sleep(ctx, interval); err != nil {
			return fn.Status, fmt.Errorf("wait for function %s to be Active (it is %s): %w", name, fn.Status, err)
		}
	}
}

// statusText is a function's status with SCF's StatusDesc and StatusReasons.
func statusText(fn tcapi.GetFunctionResponse) string {
	var why []string
	if fn.StatusDesc != "" {
		why = append(why, fn.StatusDesc)
	}
	for _, r := range fn.StatusReasons {
		if r.ErrorMessage != fn.StatusDesc {
			why = append(why, strings.TrimPrefix(r.ErrorCode+": "+r.ErrorMessage, ": "))
		}
	}
	if len(why) == 0 {
		return fn.Status
	}
	return fn.Status + ": " + strings.Join(why, "; ")
}

// busyCodes refuse a change while a function is not Active (SDK scf errors.go).
var busyCodes = []string{"FailedOperation.UpdateFunctionCode", "FailedOperation.UpdateFunctionConfiguration", "FailedOperation.FunctionStatusError"}

// whenActive waits for the function to settle, calls update (again after a
// busy refusal) and waits for Active. An UpdateFailed function is updated
// too (tencent-component-toolkit scf/entities/scf.ts getInitialStatus).
func (e *Engine) whenActive(ctx context.Context, name string, update func() error) error {
	for try := 0; ; try++ {
		if _, err := e.waitSettled(ctx, name, "Active", "UpdateFailed"); err != nil {
			return err
		}
		err := update()
		if try == 0 && tcapi.HasCode(err, busyCodes...) {
			continue
		}
		if err != nil {
			return err
		}
		return e.waitActive(ctx, name)
	}
}

// afterActive is an apply that waits for the function to be Active first.
func (e *Engine) afterActive(fn string, call func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := e.waitActive(ctx, fn); err != nil {
			return err
		}
		return call(ctx)
	}
}

// Apply makes the plan's changes in order and returns the Function URLs
// known at the end. It stops at the first failure.
func (e *Engine) Apply(ctx context.Context, p *Plan) (map[string]string, error) {
	for _, c := range p.Changes {
		if e.Progress != nil {
			e.Progress(c)
		}
		if err := c.apply(ctx); err != nil {
			return p.URLs, fmt.Errorf("%s %s %s: %w", c.Op, c.Kind, c.Name, err)
		}
	}
	return p.URLs, nil
}

// Not-found codes (SDK scf and cam errors.go; tencent-component-toolkit
// scf/entities/scf.ts get()).
var (
	functionNotFound = []string{"ResourceNotFound.Function", "ResourceNotFound.FunctionName"}
	roleNotFound     = []string{"InvalidParameter.RoleNotExist", "ResourceNotFound"}
)

// gone treats a not-found answer to a delete as done.
func gone(err error, codes ...string) error {
	if tcapi.HasCode(err, codes...) {
		return nil
	}
	return err
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// CodeSHA256 is the hex SHA-256 of a package, as compared with CodeSha256.
func CodeSHA256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return hex.EncodeToString(sum[:])
}

// sameHash compares our hex digest with SCF's CodeSha256: hex in tccli
// scf/2018-04-16 examples.json GetFunctionAddress; base64 accepted too.
func sameHash(ours, theirs string) bool {
	theirs = strings.TrimSpace(theirs)
	if strings.EqualFold(ours, theirs) {
		return true
	}
	raw, err := base64.StdEncoding.DecodeString(theirs)
	return err == nil && len(raw) == sha256.Size && hex.EncodeToString(raw) == ours
}

func short(h string) string {
	return h[:min(len(h), 12)]
}
