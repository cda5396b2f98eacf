package provision

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Plan compares d with what exists. A code package too large to send is
// refused before any call.
func (e *Engine) Plan(ctx context.Context, d Desired) (*Plan, error) {
	for _, f := range d.Functions {
		if err := checkCodeSize(f); err != nil {
			return nil, err
		}
	}
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

// checkCodeSize refuses a package whose base64 would not fit in one signed
// request (MaxCodeBase64).
func checkCodeSize(f Function) error {
	n := base64.StdEncoding.EncodedLen(len(f.Code))
	if n <= MaxCodeBase64 {
		return nil
	}
	return fmt.Errorf("function %s: its code package is %d bytes, %d as base64, over the %d bytes scf-deploy can send: "+
		"a signed Tencent Cloud API request is limited to 10 MB, so a zip must stay under about %.1f MB; make the package smaller",
		f.Name, len(f.Code), n, MaxCodeBase64, float64(MaxCodeBase64)*3/4/1e6)
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
	switch {
	// Both codes, as tencent-component-toolkit's get() treats them
	// (scf/entities/scf.ts); tencentcloud-sdk-go lists both for GetFunction.
	case isNotFound(err, "ResourceNotFound.Function", "ResourceNotFound.FunctionName"):
		p.Changes = append(p.Changes, e.createFunction(f, ""))
		return e.planTriggers(p, f, nil)
	case err != nil:
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	if !hasTag(fn.Tags, ManagedTagKey, ManagedTagValue) {
		return fmt.Errorf("function %s exists in this region and namespace but was not created by scf-deploy (it has no tag %s=%s): "+
			"refusing to change it; delete or rename it, or deploy to another region", f.Name, ManagedTagKey, ManagedTagValue)
	}
	switch fn.Status {
	case "CreateFailed":
		// A function that failed to create cannot be updated:
		// tencent-component-toolkit deletes it and creates it again
		// (scf/entities/scf.ts, getInitialStatus and tryToDelete).
		p.Changes = append(p.Changes, e.createFunction(f, "it is "+statusText(fn)))
		return e.planTriggers(p, f, nil)
	case "DeleteFailed":
		return fmt.Errorf("function %s is %s: ask Tencent Cloud support or delete it in the console, then apply again", f.Name, statusText(fn))
	}
	if fn.Runtime != f.Runtime {
		return fmt.Errorf("function %s has runtime %s, serverless.yml says %s: SCF cannot change a runtime; delete the function (scf-deploy delete --only %s --yes) and apply again",
			f.Name, fn.Runtime, f.Runtime, f.Name)
	}
	// UpdateFailed: the configuration and the code are sent again, whatever
	// GetFunction shows, since either may be what failed.
	again := ""
	if fn.Status == "UpdateFailed" {
		again = "it is " + statusText(fn) + "; sent again"
	}
	e.planConfig(p, f, fn, again)
	if err := e.planCode(ctx, p, f, fn, again); err != nil {
		return err
	}
	triggers, err := e.listTriggers(ctx, f.Name)
	if err != nil {
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	return e.planTriggers(p, f, triggers)
}

// createFunction creates f, or, with a reason, deletes the failed function
// of that name first and creates it again ("-/+ replace").
func (e *Engine) createFunction(f Function, replace string) *Change {
	hash := CodeSHA256(f.Code)
	details := []string{fmt.Sprintf("runtime %s, handler %s, memory %d MB, timeout %s, role %s", f.Runtime, f.Handler, f.MemoryMB, f.Timeout, orNone(f.Role))}
	details = append(details, envDetails(f)...)
	details = append(details, fmt.Sprintf("code %d bytes, sha256 %s", len(f.Code), short(hash)))
	c := &Change{Op: "create", Kind: "function", Name: f.Name, Details: details}
	if replace != "" {
		c.Op, c.Reason = "replace", replace
	}
	c.apply = func(ctx context.Context) error {
		if replace != "" {
			if err := e.deleteFunction(ctx, f.Name); err != nil {
				return err
			}
		}
		req := tcapi.CreateFunctionRequest{FunctionName: f.Name, Handler: f.Handler, Runtime: f.Runtime, MemorySize: f.MemoryMB,
			Timeout: int64(f.Timeout / time.Second), Role: f.Role, Namespace: e.Namespace, CodeSource: "ZipFile",
			Code: &tcapi.Code{ZipFile: base64.StdEncoding.EncodeToString(f.Code)},
			Tags: []tcapi.Tag{{Key: ManagedTagKey, Value: ManagedTagValue}}}
		if len(f.Env) > 0 {
			req.Environment = &tcapi.Environment{Variables: f.Env}
		}
		if err := e.roleRetry(ctx, f.Role, func() error { return e.SCF.CreateFunction(ctx, req) }); err != nil {
			return err
		}
		return e.waitActive(ctx, f.Name)
	}
	return c
}

// deleteFunction deletes a function and waits until GetFunction no longer
// finds it (it is Deleting meanwhile).
func (e *Engine) deleteFunction(ctx context.Context, name string) error {
	if err := gone(e.SCF.DeleteFunction(ctx, e.ref(name)), "ResourceNotFound.Function", "ResourceNotFound.FunctionName"); err != nil {
		return err
	}
	_, err := e.waitSettled(ctx, name)
	if isNotFound(err, "ResourceNotFound.Function", "ResourceNotFound.FunctionName") {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("function %s is still there after DeleteFunction", name)
	}
	return err
}

// roleNotReadyCodes are SCF's answers while a role it was just given is not
// usable yet (tencentcloud-sdk-go scf/v20180416/errors.go; CreateFunction's
// list has ResourceNotFound.Role, FailedOperation.CallRoleFailed and
// InternalError.GetRoleError). CAM changes take seconds to reach SCF:
// terraform-provider-tencentcloud sleeps 10 s after attaching a policy
// (services/cam/resource_tc_cam_role_policy_attachment.go).
var roleNotReadyCodes = []string{"ResourceNotFound.Role", "ResourceNotFound.RoleCheck", "FailedOperation.CallRoleFailed", "InternalError.GetRoleError"}

// roleRetry calls call, and again while SCF answers that role is not
// usable yet, for up to RoleWait, saying so once through Note.
func (e *Engine) roleRetry(ctx context.Context, role string, call func() error) error {
	wait, interval := e.RoleWait, e.RoleRetryInterval
	if wait == 0 {
		wait = 30 * time.Second
	}
	if interval <= 0 {
		interval = 3 * time.Second
	}
	var waited time.Duration
	for {
		err := call()
		if err == nil || role == "" || wait < 0 || !tcapi.HasCode(err, roleNotReadyCodes...) {
			return err
		}
		if waited >= wait {
			return fmt.Errorf("role %s is still not usable by SCF after %s: %w", role, waited, err)
		}
		if waited == 0 {
			e.note("waiting for role %s to reach SCF (%s): trying again for up to %s", role, codeOf(err), wait)
		}
		d := min(interval, wait-waited)
		if err := e.sleep(ctx, d); err != nil {
			return fmt.Errorf("waiting for role %s to reach SCF: %w", role, err)
		}
		waited += d
	}
}

func codeOf(err error) string {
	var te *tcapi.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return err.Error()
}

// planConfig compares memory, timeout, role and environment; again (an
// UpdateFailed function) sends all of them whether they differ or not.
func (e *Engine) planConfig(p *Plan, f Function, fn tcapi.GetFunctionResponse, again string) {
	var cfg []string
	upd := tcapi.UpdateFunctionConfigurationRequest{FunctionName: f.Name, Namespace: e.Namespace}
	if fn.MemorySize != f.MemoryMB || again != "" {
		cfg = append(cfg, fmt.Sprintf("memory %d -> %d MB", fn.MemorySize, f.MemoryMB))
		upd.MemorySize = f.MemoryMB
	}
	if want := int64(f.Timeout / time.Second); fn.Timeout != want || again != "" {
		cfg = append(cfg, fmt.Sprintf("timeout %ds -> %ds", fn.Timeout, want))
		upd.Timeout = want
	}
	if !sameRole(fn.Role, f.Role) || again != "" {
		cfg = append(cfg, fmt.Sprintf("role %s -> %s", orNone(fn.Role), orNone(f.Role)))
		role := f.Role
		upd.Role = &role
	}
	if env := diffEnv(fn.Environment.Variables, f.Env, f.Public); len(env) > 0 || again != "" {
		cfg = append(cfg, env...)
		upd.Environment = &tcapi.Environment{Variables: f.Env}
		if len(f.Env) == 0 {
			// SCF ignores an empty list: both tencent-component-toolkit
			// (scf/entities/scf.ts, updateConfigure) and
			// terraform-provider-tencentcloud (services/scf/
			// service_tencentcloud_scf.go, ModifyFunctionConfig) remove every
			// variable with this one empty element.
			upd.Environment.Variables = []tcapi.Variable{{Key: "", Value: ""}}
		}
	}
	if len(cfg) == 0 {
		return
	}
	p.Changes = append(p.Changes, &Change{Op: "update", Kind: "config", Name: f.Name, Details: cfg, Reason: again,
		apply: func(ctx context.Context) error {
			return e.whenActive(ctx, f.Name, func() error {
				return e.roleRetry(ctx, f.Role, func() error { return e.SCF.UpdateFunctionConfiguration(ctx, upd) })
			})
		}})
}

// planCode compares the package's SHA-256 and the handler with SCF's.
func (e *Engine) planCode(ctx context.Context, p *Plan, f Function, fn tcapi.GetFunctionResponse, again string) error {
	addr, err := e.SCF.GetFunctionAddress(ctx, e.ref(f.Name))
	if err != nil {
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	hash := CodeSHA256(f.Code)
	if sameHash(hash, addr.CodeSha256) && fn.Handler == f.Handler && again == "" {
		return nil
	}
	details := []string{fmt.Sprintf("code sha256 %s -> %s (%d bytes)", orNone(short(addr.CodeSha256)), short(hash), len(f.Code))}
	if fn.Handler != f.Handler {
		details = append(details, fmt.Sprintf("handler %s -> %s", fn.Handler, f.Handler))
	}
	p.Changes = append(p.Changes, &Change{Op: "update", Kind: "code", Name: f.Name, Details: details, Reason: again,
		apply: func(ctx context.Context) error {
			req := tcapi.UpdateFunctionCodeRequest{FunctionName: f.Name, Handler: f.Handler, Namespace: e.Namespace,
				ZipFile: base64.StdEncoding.EncodeToString(f.Code), CodeSource: "ZipFile"}
			return e.whenActive(ctx, f.Name, func() error { return e.SCF.UpdateFunctionCode(ctx, req) })
		}})
	return nil
}

// sameRole compares GetFunction's Role with a role name. GetFunction
// answers the bare name (terraform-provider-tencentcloud reads it back into
// "role" unchanged, services/scf/resource_tc_scf_function.go); a form ending
// in "/<name>" (as in qcs::cam::uin/1:roleName/<name>) counts as the name
// too.
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

// diffEnv describes the differences, showing only public values. An element
// with an empty key (the clearing element {"Key":"","Value":""}, should SCF
// ever list it) is no variable.
func diffEnv(have []tcapi.Variable, want []tcapi.Variable, public map[string]bool) []string {
	old := map[string]string{}
	for _, v := range have {
		if v.Key != "" {
			old[v.Key] = v.Value
		}
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
