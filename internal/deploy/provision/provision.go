// Package provision makes SCF functions, their triggers and their CAM
// execution roles match a desired state, through the SCF (2018-04-16) and
// CAM (2019-01-16) APIs.
//
// Plan reads what exists (Get*/List* calls only) and returns the changes
// that would make it match; Apply makes them, in order, waiting for each
// function to be Active before the next change to it. Because Plan only
// reads, applying a plan of no changes makes no mutating call, and because
// every change is derived from what exists, re-running after a failure
// part-way picks up where it stopped, without duplicates.
//
// Ownership: a function is scf-deploy's when it carries the tag
// ManagedTagKey=ManagedTagValue (set by CreateFunction); a trigger, role or
// policy when its Description is ManagedDescription. Plan refuses to change a
// function that exists without the tag, leaves foreign triggers alone, and
// uses a foreign role as it is. Delete removes only what is scf-deploy's.
//
// Code: a function's code is up to date when GetFunctionAddress's CodeSha256
// equals the SHA-256 of the package (compared as hex, or as base64 of the
// digest). SCF has no call to change a function's tags after creation (tags
// live in the separate Tag service), so the hash SCF reports is used rather
// than a tag.
//
// How Tencent's own deploying clients behave decides the rest, each cited
// where it is used: serverless-tencent/tencent-component-toolkit
// (src/modules/scf, src/modules/triggers) and
// tencentcloudstack/terraform-provider-tencentcloud (tencentcloud/services/scf,
// services/cam), with field names and error codes from tencentcloud-sdk-go
// and answer shapes from tccli's examples.json.
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

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Ownership markers.
const (
	ManagedTagKey      = "managed-by"
	ManagedTagValue    = "scf-janitor-scf-deploy"
	ManagedDescription = "managed by scf-deploy (scf-janitor)"
)

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

// Role is an execution role: its trust policy and one custom policy
// (PolicyName) with its permissions, attached to it.
type Role struct {
	Name        string
	TrustPolicy string // JSON
	Policy      string // JSON
	// PolicyNotes describe what was derived into Policy (shown in the plan).
	PolicyNotes []string
	// TrustNote and PolicySource describe where the trust policy and the
	// permissions come from, in the plan (default: SCF's trust,
	// deploy/cam/trust-scf.json, and deploy/cam/<Name>.json).
	TrustNote, PolicySource string
}

// PolicyName is the name of the role's custom policy.
func (r Role) PolicyName() string { return r.Name + "Policy" }

// Function is a function to deploy.
type Function struct {
	Name, Handler, Runtime, Role string
	MemoryMB                     int64
	Timeout                      time.Duration
	Env                          []tcapi.Variable // no empty keys or values
	// Public names the Env keys whose values may be printed in a plan: a
	// literal already written in serverless.yml, never a secret or a value
	// from .env. Every other value is shown only by its length.
	Public map[string]bool
	Code   []byte // the zip
	Timers []Timer
	URL    *URL // nil: no Function URL
}

// Timer is a timer trigger.
type Timer struct {
	Name, Cron, Argument string
	Enabled              bool
}

// URL is a Function URL (an http trigger).
type URL struct {
	Name               string // sent to CreateTrigger; default "url-trigger"
	AuthType           string // NONE or CAM
	Extranet, Intranet bool
}

// Change is one step of a plan.
type Change struct {
	Op      string // create, update, replace, delete, attach, detach
	Kind    string // role, policy, function, code, config, timer, url
	Name    string // what it applies to, such as "cancel-task" or "cancel-task/every-5-minutes"
	Details []string
	// Reason, when set, says why on the change's own line, such as "it is
	// CreateFailed: <SCF's StatusDesc>".
	Reason string
	apply  func(ctx context.Context) error
}

func (c *Change) String() string {
	sign := map[string]string{"create": "+", "attach": "+", "update": "~", "replace": "-/+", "delete": "-", "detach": "-"}[c.Op]
	s := fmt.Sprintf("%s %s %s %s", sign, c.Op, c.Kind, c.Name)
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

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Count returns how many changes have op and kind ("" matches any).
func (p *Plan) Count(op, kind string) int {
	n := 0
	for _, c := range p.Changes {
		if (op == "" || c.Op == op) && (kind == "" || c.Kind == kind) {
			n++
		}
	}
	return n
}

// Write prints the plan; secret values never appear (environment values
// are shown as "(set, N chars)" or "(changed)" unless Function.Public says
// they are literals of serverless.yml).
func (p *Plan) Write(w io.Writer) {
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, c := range p.Changes {
		fmt.Fprintln(w, c.String())
		for _, d := range c.Details {
			fmt.Fprintf(w, "    %s\n", d)
		}
	}
	if p.Empty() {
		fmt.Fprintf(w, "no changes: %d function(s) up to date\n", len(p.names))
		return
	}
	counts := map[string]int{}
	var ops []string
	for _, c := range p.Changes {
		k := c.Op + " " + c.Kind
		if counts[k] == 0 {
			ops = append(ops, k)
		}
		counts[k]++
	}
	parts := make([]string, len(ops))
	for i, k := range ops {
		parts[i] = fmt.Sprintf("%s x%d", k, counts[k])
	}
	fmt.Fprintf(w, "plan: %d change(s): %s\n", len(p.Changes), strings.Join(parts, ", "))
}

// Engine plans and applies. CAM is required; SCF only when Desired has
// functions (an engine for roles alone, such as a target account's, may
// leave it nil).
type Engine struct {
	SCF       SCF
	CAM       CAM
	Namespace string // "" = default

	// PollInterval is the wait between GetFunction calls while a function
	// is Creating or Updating (default 1s); Sleep waits (default: a timer
	// that ends early with ctx).
	PollInterval time.Duration
	Sleep        func(ctx context.Context, d time.Duration) error
	// Progress, when set, is told each change as Apply starts it.
	Progress func(c *Change)
	// Note, when set, is told what Apply is waiting for, as a line for the
	// user (such as a role that has not reached SCF yet).
	Note func(msg string)

	// RoleWait is how long CreateFunction and UpdateFunctionConfiguration
	// are tried again while SCF answers that the function's role is not
	// usable yet (a new role or attachment takes a few seconds to reach
	// SCF). Default 30s; negative: not retried. RoleRetryInterval is the
	// wait between tries (default 3s), through Sleep.
	RoleWait, RoleRetryInterval time.Duration
}

// MaxCodeBase64 is the largest code package scf-deploy sends, as base64: a
// TC3-signed API 3.0 POST is limited to 10 MB (Tencent Cloud API 3.0 request
// structure docs), and the package travels inside the JSON body as
// Code.ZipFile (CreateFunction) or ZipFile (UpdateFunctionCode). Tencent's
// own toolkit always uploads through COS instead (tencent-component-toolkit
// src/modules/scf/utils.ts, CosBucketName/CosObjectName).
const MaxCodeBase64 = 9_500_000

func (e *Engine) note(format string, args ...any) {
	if e.Note != nil {
		e.Note(fmt.Sprintf(format, args...))
	}
}

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

// waitStatuses are the transient states a function passes through; its
// failed states are CreateFailed, UpdateFailed, PublishFailed and
// DeleteFailed (tencent-component-toolkit src/modules/scf/config.ts,
// waitStatus and failStatus).
var waitStatuses = []string{"Creating", "Updating", "Publishing", "Deleting"}

// waitActive polls GetFunction until the function is Active.
func (e *Engine) waitActive(ctx context.Context, name string) error {
	_, err := e.waitSettled(ctx, name, "Active")
	return err
}

// waitSettled polls GetFunction while the function is in a transient state
// and returns its status once it is one of ok; any other settled status is
// an error that carries SCF's StatusDesc and StatusReasons.
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

// statusText describes a function's status with SCF's own words: its
// StatusDesc, else its StatusReasons.
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

// busyCodes are SCF's refusals of a change while a function is not Active
// (tencentcloud-sdk-go scf/v20180416/errors.go).
var busyCodes = []string{"FailedOperation.UpdateFunctionCode", "FailedOperation.UpdateFunctionConfiguration", "FailedOperation.FunctionStatusError"}

// whenActive waits for the function to be Active, calls update, and waits
// again. A refusal because the function is busy (someone else's change, or a
// retried call whose first attempt had succeeded) is answered by waiting and
// calling once more: the update is idempotent. A function in UpdateFailed is
// updated too, as tencent-component-toolkit does (scf/entities/scf.ts,
// getInitialStatus stops only on the transient states and DeleteFailed, and
// deletes a CreateFailed function): the update is what may mend it.
func (e *Engine) whenActive(ctx context.Context, name string, update func() error) error {
	if _, err := e.waitSettled(ctx, name, "Active", "UpdateFailed"); err != nil {
		return err
	}
	err := update()
	if tcapi.HasCode(err, busyCodes...) {
		if _, err := e.waitSettled(ctx, name, "Active", "UpdateFailed"); err != nil {
			return err
		}
		err = update()
	}
	if err != nil {
		return err
	}
	return e.waitActive(ctx, name)
}

// Apply makes the plan's changes in order and returns the Function URLs
// known at the end. It stops at the first failure; running Plan and Apply
// again continues from there.
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

func isNotFound(err error, codes ...string) bool {
	return err != nil && tcapi.HasCode(err, codes...)
}

// gone treats a not-found answer to a delete as done (a retried call whose
// first attempt had succeeded, or someone else's delete).
func gone(err error, codes ...string) error {
	if isNotFound(err, codes...) {
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

// sameHash compares our hex digest with SCF's CodeSha256. tccli's example
// answer of GetFunctionAddress (scf/v20180416/examples.json) has 64
// lowercase hex digits ("5077f5203547b225..."); the SDK field doc says no
// more, so base64 of the digest is accepted too.
func sameHash(ours, theirs string) bool {
	theirs = strings.TrimSpace(theirs)
	if strings.EqualFold(ours, theirs) {
		return true
	}
	if raw, err := base64.StdEncoding.DecodeString(theirs); err == nil && len(raw) == sha256.Size {
		return hex.EncodeToString(raw) == ours
	}
	return false
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
