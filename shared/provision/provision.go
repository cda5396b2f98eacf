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
package provision

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
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
	CreatePolicyVersion(ctx context.Context, id uint64, document string) error
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
	AuthType           string // NONE or CAM
	Extranet, Intranet bool
}

// Change is one step of a plan.
type Change struct {
	Op      string // create, update, replace, delete, attach, detach
	Kind    string // role, policy, function, code, config, timer, url
	Name    string // what it applies to, such as "cancel-task" or "cancel-task/every-5-minutes"
	Details []string
	apply   func(ctx context.Context) error
}

func (c *Change) String() string {
	sign := map[string]string{"create": "+", "attach": "+", "update": "~", "replace": "-/+", "delete": "-", "detach": "-"}[c.Op]
	return fmt.Sprintf("%s %s %s %s", sign, c.Op, c.Kind, c.Name)
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

// waitActive polls GetFunction until the function is Active.
func (e *Engine) waitActive(ctx context.Context, name string) error {
	interval := e.PollInterval
	if interval <= 0 {
		interval = time.Second
	}
	for {
		fn, err := e.SCF.GetFunction(ctx, e.ref(name))
		if err != nil {
			return fmt.Errorf("wait for function %s to be Active: %w", name, err)
		}
		switch fn.Status {
		case "Active":
			return nil
		case "Creating", "Updating", "Publishing", "Deploying":
		default:
			reasons := []string{}
			for _, r := range fn.StatusReasons {
				reasons = append(reasons, r.ErrorCode+": "+r.ErrorMessage)
			}
			return fmt.Errorf("function %s is %s (%s) %s", name, fn.Status, fn.StatusDesc, strings.Join(reasons, "; "))
		}
		if err := e.sleep(ctx, interval); err != nil {
			return fmt.Errorf("wait for function %s to be Active (it is %s): %w", name, fn.Status, err)
		}
	}
}

// busyCodes are SCF's refusals of a change while a function is not Active
// (tencentcloud-sdk-go scf/v20180416/errors.go).
var busyCodes = []string{"FailedOperation.UpdateFunctionCode", "FailedOperation.UpdateFunctionConfiguration", "FailedOperation.FunctionStatusError"}

// whenActive waits for the function to be Active, calls update, and waits
// again. A refusal because the function is busy (someone else's change, or a
// retried call whose first attempt had succeeded) is answered by waiting and
// calling once more: the update is idempotent.
func (e *Engine) whenActive(ctx context.Context, name string, update func() error) error {
	if err := e.waitActive(ctx, name); err != nil {
		return err
	}
	err := update()
	if tcapi.HasCode(err, busyCodes...) {
		if err := e.waitActive(ctx, name); err != nil {
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

// sameHash compares our hex digest with SCF's CodeSha256, which may be hex
// or base64 (its format is not documented).
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

// ---- roles ----

func (e *Engine) planRole(ctx context.Context, p *Plan, r Role) error {
	role, err := e.CAM.GetRole(ctx, r.Name)
	exists := true
	switch {
	case isNotFound(err, "InvalidParameter.RoleNotExist", "ResourceNotFound"):
		exists = false
	case err != nil:
		return fmt.Errorf("role %s: %w", r.Name, err)
	}
	if exists && role.RoleInfo.Description != ManagedDescription {
		p.Notes = append(p.Notes, fmt.Sprintf("role %s exists and was not created by scf-deploy: used as it is (its trust policy and permissions are not changed)", r.Name))
		return nil
	}
	if !exists {
		trust := r.TrustNote
		if trust == "" {
			trust = "trusted by scf.qcloud.com (deploy/cam/trust-scf.json)"
		}
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "role", Name: r.Name, Details: []string{trust},
			apply: func(ctx context.Context) error {
				_, err := e.CAM.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: r.Name, PolicyDocument: r.TrustPolicy, Description: ManagedDescription})
				return err
			}})
	} else if !sameJSON(role.RoleInfo.PolicyDocument, r.TrustPolicy) {
		p.Changes = append(p.Changes, &Change{Op: "update", Kind: "role", Name: r.Name, Details: []string{"trust policy (changed)"},
			apply: func(ctx context.Context) error { return e.CAM.UpdateAssumeRolePolicy(ctx, r.Name, r.TrustPolicy) }})
	}

	// The role's policy.
	pol, err := e.findPolicy(ctx, r.PolicyName())
	if err != nil {
		return fmt.Errorf("policy %s: %w", r.PolicyName(), err)
	}
	var policyID uint64
	switch {
	case pol == nil:
		src := r.PolicySource
		if src == "" {
			src = "deploy/cam/" + r.Name + ".json"
		}
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "policy", Name: r.PolicyName(), Details: append([]string{"permissions of " + src}, r.PolicyNotes...),
			apply: func(ctx context.Context) error {
				out, err := e.CAM.CreatePolicy(ctx, tcapi.CreatePolicyRequest{PolicyName: r.PolicyName(), PolicyDocument: r.Policy, Description: ManagedDescription})
				policyID = out.PolicyId
				return err
			}})
	case pol.Description != ManagedDescription:
		return fmt.Errorf("a CAM policy named %s exists and was not created by scf-deploy; rename or delete it", r.PolicyName())
	default:
		policyID = pol.PolicyId
		got, err := e.CAM.GetPolicy(ctx, pol.PolicyId)
		if err != nil {
			return fmt.Errorf("policy %s: %w", r.PolicyName(), err)
		}
		if !sameJSON(got.PolicyDocument, r.Policy) {
			id := pol.PolicyId
			p.Changes = append(p.Changes, &Change{Op: "update", Kind: "policy", Name: r.PolicyName(), Details: append([]string{"permissions (changed)"}, r.PolicyNotes...),
				apply: func(ctx context.Context) error { return e.CAM.CreatePolicyVersion(ctx, id, r.Policy) }})
		}
	}
	attached := false
	if exists && pol != nil {
		attached, err = e.isAttached(ctx, r.Name, r.PolicyName())
		if err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
	}
	if !attached {
		p.Changes = append(p.Changes, &Change{Op: "attach", Kind: "policy", Name: r.PolicyName() + " to " + r.Name,
			apply: func(ctx context.Context) error {
				if policyID == 0 {
					return errors.New("the policy's id is unknown (its creation did not report one)")
				}
				return e.CAM.AttachRolePolicy(ctx, policyID, r.Name)
			}})
	}
	return nil
}

// findPolicy returns the custom policy named name, or nil.
func (e *Engine) findPolicy(ctx context.Context, name string) (*tcapi.StrategyInfo, error) {
	for page := uint64(1); page <= 200; page++ {
		out, err := e.CAM.ListPolicies(ctx, tcapi.ListPoliciesRequest{Rp: 200, Page: page, Scope: "Local", Keyword: name})
		if err != nil {
			return nil, err
		}
		for i := range out.List {
			if out.List[i].PolicyName == name {
				return &out.List[i], nil
			}
		}
		if page*200 >= out.TotalNum || len(out.List) == 0 {
			return nil, nil
		}
	}
	return nil, nil
}

func (e *Engine) isAttached(ctx context.Context, role, policy string) (bool, error) {
	for page := uint64(1); page <= 200; page++ {
		out, err := e.CAM.ListAttachedRolePolicies(ctx, role, page, 200)
		if err != nil {
			return false, err
		}
		for _, a := range out.List {
			if a.PolicyName == policy {
				return true, nil
			}
		}
		if page*200 >= out.TotalNum || len(out.List) == 0 {
			return false, nil
		}
	}
	return false, nil
}

// ---- functions ----

// Plan compares d with what exists.
func (e *Engine) Plan(ctx context.Context, d Desired) (*Plan, error) {
	p := &Plan{URLs: map[string]string{}}
	for _, r := range d.Roles {
		if err := e.planRole(ctx, p, r); err != nil {
			return nil, err
		}
	}
	for _, f := range d.Functions {
		p.names = append(p.names, f.Name)
		if err := e.planFunction(ctx, p, f); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func envDetails(f Function) []string {
	var out []string
	for _, v := range f.Env {
		out = append(out, "env "+envSet(v, f.Public))
	}
	return out
}

// envSet describes a variable being set: its value when public, else only
// its length.
func envSet(v tcapi.Variable, public map[string]bool) string {
	if public[v.Key] {
		return fmt.Sprintf("%s = %q", v.Key, v.Value)
	}
	return fmt.Sprintf("%s (set, %d chars)", v.Key, len(v.Value))
}

func (e *Engine) planFunction(ctx context.Context, p *Plan, f Function) error {
	fn, err := e.SCF.GetFunction(ctx, e.ref(f.Name))
	exists := true
	switch {
	case isNotFound(err, "ResourceNotFound.Function", "ResourceNotFound.FunctionName"):
		exists = false
	case err != nil:
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	hash := CodeSHA256(f.Code)
	if !exists {
		details := []string{fmt.Sprintf("runtime %s, handler %s, memory %d MB, timeout %s, role %s", f.Runtime, f.Handler, f.MemoryMB, f.Timeout, orNone(f.Role))}
		details = append(details, envDetails(f)...)
		details = append(details, fmt.Sprintf("code %d bytes, sha256 %s", len(f.Code), short(hash)))
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "function", Name: f.Name, Details: details,
			apply: func(ctx context.Context) error {
				req := tcapi.CreateFunctionRequest{FunctionName: f.Name, Handler: f.Handler, Runtime: f.Runtime, MemorySize: f.MemoryMB,
					Timeout: int64(f.Timeout / time.Second), Role: f.Role, Namespace: e.Namespace, CodeSource: "ZipFile",
					Code: &tcapi.Code{ZipFile: base64.StdEncoding.EncodeToString(f.Code)},
					Tags: []tcapi.Tag{{Key: ManagedTagKey, Value: ManagedTagValue}}}
				if len(f.Env) > 0 {
					req.Environment = &tcapi.Environment{Variables: f.Env}
				}
				if err := e.SCF.CreateFunction(ctx, req); err != nil {
					return err
				}
				return e.waitActive(ctx, f.Name)
			}})
		return e.planTriggers(p, f, nil)
	}
	if !hasTag(fn.Tags, ManagedTagKey, ManagedTagValue) {
		return fmt.Errorf("function %s exists in this region and namespace but was not created by scf-deploy (it has no tag %s=%s): "+
			"refusing to change it; delete or rename it, or deploy to another region", f.Name, ManagedTagKey, ManagedTagValue)
	}
	if fn.Runtime != f.Runtime {
		return fmt.Errorf("function %s has runtime %s, serverless.yml says %s: SCF cannot change a runtime; delete the function (scf-deploy delete --only %s --yes) and apply again",
			f.Name, fn.Runtime, f.Runtime, f.Name)
	}

	// Configuration.
	var cfg []string
	upd := tcapi.UpdateFunctionConfigurationRequest{FunctionName: f.Name, Namespace: e.Namespace}
	if fn.MemorySize != f.MemoryMB {
		cfg = append(cfg, fmt.Sprintf("memory %d -> %d MB", fn.MemorySize, f.MemoryMB))
		upd.MemorySize = f.MemoryMB
	}
	if want := int64(f.Timeout / time.Second); fn.Timeout != want {
		cfg = append(cfg, fmt.Sprintf("timeout %ds -> %ds", fn.Timeout, want))
		upd.Timeout = want
	}
	if !sameRole(fn.Role, f.Role) {
		cfg = append(cfg, fmt.Sprintf("role %s -> %s", orNone(fn.Role), orNone(f.Role)))
		role := f.Role
		upd.Role = &role
	}
	if env := diffEnv(fn.Environment.Variables, f.Env, f.Public); len(env) > 0 {
		cfg = append(cfg, env...)
		upd.Environment = &tcapi.Environment{Variables: f.Env}
		if upd.Environment.Variables == nil {
			upd.Environment.Variables = []tcapi.Variable{}
		}
	}
	if len(cfg) > 0 {
		p.Changes = append(p.Changes, &Change{Op: "update", Kind: "config", Name: f.Name, Details: cfg,
			apply: func(ctx context.Context) error {
				return e.whenActive(ctx, f.Name, func() error { return e.SCF.UpdateFunctionConfiguration(ctx, upd) })
			}})
	}

	// Code.
	addr, err := e.SCF.GetFunctionAddress(ctx, e.ref(f.Name))
	if err != nil {
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	if !sameHash(hash, addr.CodeSha256) || fn.Handler != f.Handler {
		details := []string{fmt.Sprintf("code sha256 %s -> %s (%d bytes)", orNone(short(addr.CodeSha256)), short(hash), len(f.Code))}
		if fn.Handler != f.Handler {
			details = append(details, fmt.Sprintf("handler %s -> %s", fn.Handler, f.Handler))
		}
		p.Changes = append(p.Changes, &Change{Op: "update", Kind: "code", Name: f.Name, Details: details,
			apply: func(ctx context.Context) error {
				req := tcapi.UpdateFunctionCodeRequest{FunctionName: f.Name, Handler: f.Handler, Namespace: e.Namespace,
					ZipFile: base64.StdEncoding.EncodeToString(f.Code), CodeSource: "ZipFile"}
				return e.whenActive(ctx, f.Name, func() error { return e.SCF.UpdateFunctionCode(ctx, req) })
			}})
	}

	triggers, err := e.listTriggers(ctx, f.Name)
	if err != nil {
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	return e.planTriggers(p, f, triggers)
}

// sameRole compares GetFunction's Role with a role name. Whether SCF answers
// the bare name or a longer form is not documented; a form ending in
// "/<name>" (as in qcs::cam::uin/1:roleName/<name>) counts as the name.
func sameRole(have, want string) bool {
	return have == want || (want != "" && strings.HasSuffix(have, "/"+want))
}

// reservedEnvPrefixes are keys SCF keeps for itself (users cannot set them),
// so an answer that lists them is not a difference to undo.
var reservedEnvPrefixes = []string{"SCF_", "QCLOUD_", "TENCENTCLOUD_"}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func hasTag(tags []tcapi.Tag, k, v string) bool {
	for _, t := range tags {
		if t.Key == k && t.Value == v {
			return true
		}
	}
	return false
}

// diffEnv describes the differences, showing only public values.
func diffEnv(have []tcapi.Variable, want []tcapi.Variable, public map[string]bool) []string {
	old := map[string]string{}
	for _, v := range have {
		old[v.Key] = v.Value
	}
	var out []string
	seen := map[string]bool{}
	for _, v := range want {
		seen[v.Key] = true
		cur, ok := old[v.Key]
		switch {
		case !ok:
			out = append(out, "env "+envSet(v, public))
		case cur != v.Value && public[v.Key]:
			out = append(out, fmt.Sprintf("env %s: %q -> %q", v.Key, cur, v.Value))
		case cur != v.Value:
			out = append(out, fmt.Sprintf("env %s (changed)", v.Key))
		}
	}
	var removed []string
	for k := range old {
		reserved := false
		for _, p := range reservedEnvPrefixes {
			reserved = reserved || strings.HasPrefix(k, p)
		}
		if !seen[k] && !reserved {
			removed = append(removed, k)
		}
	}
	sort.Strings(removed)
	for _, k := range removed {
		out = append(out, fmt.Sprintf("env %s (removed)", k))
	}
	return out
}

func (e *Engine) listTriggers(ctx context.Context, name string) ([]tcapi.TriggerInfo, error) {
	var all []tcapi.TriggerInfo
	for offset := uint64(0); ; {
		out, err := e.SCF.ListTriggers(ctx, tcapi.ListTriggersRequest{FunctionName: name, Namespace: e.Namespace, Offset: offset, Limit: 100})
		if err != nil {
			return nil, err
		}
		all = append(all, out.Triggers...)
		offset += uint64(len(out.Triggers))
		if len(out.Triggers) == 0 || offset >= out.TotalCount {
			return all, nil
		}
	}
}

// timerCron reads a timer's cron from its TriggerDesc: {"cron":"..."} as
// ListTriggers answers (tencent-component-toolkit timer.ts), or the bare
// expression as CreateTrigger takes it.
func timerCron(desc string) string {
	var d struct {
		Cron string `json:"cron"`
	}
	if json.Unmarshal([]byte(desc), &d) == nil && d.Cron != "" {
		return d.Cron
	}
	return strings.TrimSpace(desc)
}

type httpDesc struct {
	AuthType  string
	NetConfig struct{ EnableIntranet, EnableExtranet bool }
}

func urlDesc(u *URL) string {
	var d httpDesc
	d.AuthType, d.NetConfig.EnableExtranet, d.NetConfig.EnableIntranet = u.AuthType, u.Extranet, u.Intranet
	b, _ := json.Marshal(d)
	return string(b)
}

// FindURL returns the Function URL inside an http trigger's TriggerDesc:
// the SDK models name no field for it, so any http(s) string value is taken,
// one on tencentscf.com first.
func FindURL(desc string) string {
	var v any
	if json.Unmarshal([]byte(desc), &v) != nil {
		return ""
	}
	var found []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if strings.HasPrefix(x, "https://") || strings.HasPrefix(x, "http://") {
				found = append(found, x)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			for _, i := range x {
				walk(i)
			}
		}
	}
	walk(v)
	for _, u := range found {
		if strings.Contains(u, ".tencentscf.com") {
			return u
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	return ""
}

func (e *Engine) planTriggers(p *Plan, f Function, have []tcapi.TriggerInfo) error {
	want := map[string]Timer{}
	for _, t := range f.Timers {
		want[t.Name] = t
	}
	for _, t := range have {
		if t.Type != "timer" {
			continue
		}
		ours := t.Description == ManagedDescription
		w, wanted := want[t.TriggerName]
		switch {
		case !ours && wanted:
			return fmt.Errorf("function %s has a timer trigger %s that scf-deploy did not create; rename the timer in serverless.yml or remove that trigger", f.Name, t.TriggerName)
		case !ours:
			p.Notes = append(p.Notes, fmt.Sprintf("function %s: timer trigger %s was not created by scf-deploy: left alone", f.Name, t.TriggerName))
		case !wanted:
			e.deleteTrigger(p, f.Name, t, "no longer in serverless.yml")
		case timerCron(t.TriggerDesc) != w.Cron || (t.Enable == 1) != w.Enabled || t.CustomArgument != w.Argument:
			var d []string
			if c := timerCron(t.TriggerDesc); c != w.Cron {
				d = append(d, fmt.Sprintf("cron %q -> %q", c, w.Cron))
			}
			if (t.Enable == 1) != w.Enabled {
				d = append(d, fmt.Sprintf("enabled %v -> %v", t.Enable == 1, w.Enabled))
			}
			if t.CustomArgument != w.Argument {
				d = append(d, fmt.Sprintf("argument %q -> %q", t.CustomArgument, w.Argument))
			}
			t := t
			p.Changes = append(p.Changes, &Change{Op: "replace", Kind: "timer", Name: f.Name + "/" + w.Name, Details: d,
				apply: func(ctx context.Context) error {
					if err := e.removeTrigger(ctx, f.Name, t); err != nil {
						return err
					}
					return e.createTimer(ctx, f.Name, w)
				}})
			delete(want, t.TriggerName)
		default:
			delete(want, t.TriggerName)
		}
	}
	for _, w := range f.Timers {
		if _, missing := want[w.Name]; !missing {
			continue
		}
		w := w
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "timer", Name: f.Name + "/" + w.Name,
			Details: []string{fmt.Sprintf("cron %q, enabled %v, argument %q", w.Cron, w.Enabled, w.Argument)},
			apply:   func(ctx context.Context) error { return e.createTimer(ctx, f.Name, w) }})
	}

	// The Function URL.
	var ours, foreign []tcapi.TriggerInfo
	for _, t := range have {
		if t.Type != "http" {
			continue
		}
		if t.Description == ManagedDescription {
			ours = append(ours, t)
		} else {
			foreign = append(foreign, t)
		}
	}
	for _, t := range foreign {
		note := fmt.Sprintf("function %s: Function URL %s (trigger %s) was not created by scf-deploy: left alone", f.Name, orNone(FindURL(t.TriggerDesc)), t.TriggerName)
		p.Notes = append(p.Notes, note)
		if u := FindURL(t.TriggerDesc); u != "" && f.URL != nil {
			p.URLs[f.Name] = u
		}
	}
	if f.URL == nil {
		for _, t := range ours {
			e.deleteTrigger(p, f.Name, t, "no Function URL in serverless.yml")
		}
		return nil
	}
	if len(foreign) > 0 {
		return nil // SCF allows one http trigger per function
	}
	keep := false
	for _, t := range ours {
		var d httpDesc
		_ = json.Unmarshal([]byte(t.TriggerDesc), &d)
		if !keep && d.AuthType == f.URL.AuthType && d.NetConfig.EnableExtranet == f.URL.Extranet && d.NetConfig.EnableIntranet == f.URL.Intranet {
			keep = true
			p.URLs[f.Name] = FindURL(t.TriggerDesc)
			continue
		}
		e.deleteTrigger(p, f.Name, t, "its AuthType/NetConfig differ from serverless.yml (the new URL will differ)")
	}
	if !keep {
		u := *f.URL
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "url", Name: f.Name,
			Details: []string{fmt.Sprintf("AuthType %s, extranet %v, intranet %v", u.AuthType, u.Extranet, u.Intranet)},
			apply: func(ctx context.Context) error {
				if err := e.waitActive(ctx, f.Name); err != nil {
					return err
				}
				out, err := e.SCF.CreateTrigger(ctx, tcapi.CreateTriggerRequest{FunctionName: f.Name, Namespace: e.Namespace, Type: "http",
					TriggerName: "url", TriggerDesc: urlDesc(&u), Enable: "OPEN", Description: ManagedDescription})
				if err != nil {
					return err
				}
				if url := FindURL(out.TriggerInfo.TriggerDesc); url != "" {
					p.URLs[f.Name] = url
					return nil
				}
				// Not in the answer: look it up.
				list, err := e.listTriggers(ctx, f.Name)
				if err != nil {
					return err
				}
				for _, t := range list {
					if t.Type == "http" {
						p.URLs[f.Name] = FindURL(t.TriggerDesc)
					}
				}
				return nil
			}})
	}
	return nil
}

func (e *Engine) deleteTrigger(p *Plan, fn string, t tcapi.TriggerInfo, why string) {
	kind := "timer"
	if t.Type == "http" {
		kind = "url"
	}
	p.Changes = append(p.Changes, &Change{Op: "delete", Kind: kind, Name: fn + "/" + t.TriggerName, Details: []string{why},
		apply: func(ctx context.Context) error { return e.removeTrigger(ctx, fn, t) }})
}

func (e *Engine) removeTrigger(ctx context.Context, fn string, t tcapi.TriggerInfo) error {
	if err := e.waitActive(ctx, fn); err != nil {
		return err
	}
	err := e.SCF.DeleteTrigger(ctx, tcapi.DeleteTriggerRequest{FunctionName: fn, Namespace: e.Namespace, TriggerName: t.TriggerName, Type: t.Type, Qualifier: t.Qualifier})
	return gone(err, "ResourceNotFound.Trigger")
}

func (e *Engine) createTimer(ctx context.Context, fn string, w Timer) error {
	if err := e.waitActive(ctx, fn); err != nil {
		return err
	}
	enable := "OPEN"
	if !w.Enabled {
		enable = "CLOSE"
	}
	_, err := e.SCF.CreateTrigger(ctx, tcapi.CreateTriggerRequest{FunctionName: fn, Namespace: e.Namespace, Type: "timer", TriggerName: w.Name,
		TriggerDesc: w.Cron, Enable: enable, CustomArgument: w.Argument, Description: ManagedDescription})
	return err
}

// ---- delete ----

// PlanDelete plans removing d's functions and roles where scf-deploy made
// them; anything else is left alone (and noted).
func (e *Engine) PlanDelete(ctx context.Context, d Desired) (*Plan, error) {
	p := &Plan{URLs: map[string]string{}}
	for _, f := range d.Functions {
		p.names = append(p.names, f.Name)
		fn, err := e.SCF.GetFunction(ctx, e.ref(f.Name))
		switch {
		case isNotFound(err, "ResourceNotFound.Function", "ResourceNotFound.FunctionName"):
			continue
		case err != nil:
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		case !hasTag(fn.Tags, ManagedTagKey, ManagedTagValue):
			p.Notes = append(p.Notes, fmt.Sprintf("function %s was not created by scf-deploy: left alone", f.Name))
			continue
		}
		name := f.Name
		p.Changes = append(p.Changes, &Change{Op: "delete", Kind: "function", Name: name, Details: []string{"with its triggers"},
			apply: func(ctx context.Context) error {
				if err := e.waitActive(ctx, name); err != nil {
					return gone(err, "ResourceNotFound.Function")
				}
				return gone(e.SCF.DeleteFunction(ctx, e.ref(name)), "ResourceNotFound.Function")
			}})
	}
	for _, r := range d.Roles {
		role, err := e.CAM.GetRole(ctx, r.Name)
		roleOurs := false
		switch {
		case isNotFound(err, "InvalidParameter.RoleNotExist", "ResourceNotFound"):
		case err != nil:
			return nil, fmt.Errorf("role %s: %w", r.Name, err)
		case role.RoleInfo.Description != ManagedDescription:
			p.Notes = append(p.Notes, fmt.Sprintf("role %s was not created by scf-deploy: left alone", r.Name))
		default:
			roleOurs = true
		}
		pol, err := e.findPolicy(ctx, r.PolicyName())
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", r.PolicyName(), err)
		}
		if pol != nil && pol.Description != ManagedDescription {
			p.Notes = append(p.Notes, fmt.Sprintf("policy %s was not created by scf-deploy: left alone", r.PolicyName()))
			pol = nil
		}
		if roleOurs && pol != nil {
			attached, err := e.isAttached(ctx, r.Name, pol.PolicyName)
			if err != nil {
				return nil, fmt.Errorf("role %s: %w", r.Name, err)
			}
			if attached {
				id, role := pol.PolicyId, r.Name
				p.Changes = append(p.Changes, &Change{Op: "detach", Kind: "policy", Name: pol.PolicyName + " from " + role,
					apply: func(ctx context.Context) error { return e.CAM.DetachRolePolicy(ctx, id, role) }})
			}
		}
		if roleOurs {
			name := r.Name
			p.Changes = append(p.Changes, &Change{Op: "delete", Kind: "role", Name: name,
				apply: func(ctx context.Context) error {
					return gone(e.CAM.DeleteRole(ctx, name), "InvalidParameter.RoleNotExist")
				}})
		}
		if pol != nil {
			id, name := pol.PolicyId, pol.PolicyName
			p.Changes = append(p.Changes, &Change{Op: "delete", Kind: "policy", Name: name,
				apply: func(ctx context.Context) error {
					return gone(e.CAM.DeletePolicy(ctx, id), "ResourceNotFound.PolicyIdNotFound")
				}})
		}
	}
	return p, nil
}
