package provision

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Plan compares d with what exists.
func (e *Engine) Plan(ctx context.Context, d Desired) (*Plan, error) {
	for _, f := range d.Functions {
		if n := base64.StdEncoding.EncodedLen(len(f.Code)); n > MaxCodeBase64 {
			return nil, fmt.Errorf("function %s: its code package is %d bytes, %d as base64, over the %d bytes scf-deploy can send: "+
				"a signed Tencent Cloud API request is limited to 10 MB, so a zip must stay under about %.1f MB; make the package smaller",
				f.Name, len(f.Code), n, MaxCodeBase64, float64(MaxCodeBase64)*3/4/1e6)
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

// envSet describes a variable being set: its value only when public.
func envSet(v tcapi.Variable, public map[string]bool) string {
	if public[v.Key] {
		return fmt.Sprintf("env %s = %q", v.Key, v.Value)
	}
	return fmt.Sprintf("env %s (set, %d chars)", v.Key, len(v.Value))
}

func (e *Engine) planFunction(ctx context.Context, p *Plan, f Function) error {
	fn, err := e.SCF.GetFunction(ctx, e.ref(f.Name))
	switch {
	case tcapi.HasCode(err, functionNotFound...):
		p.add(e.createFunction(f, ""))
		return e.planTriggers(p, f, nil)
	case err != nil:
		return fmt.Errorf("function %s: %w", f.Name, err)
	case !slices.Contains(fn.Tags, managedTag):
		return fmt.Errorf("function %s exists in this region and namespace but was not created by scf-deploy (it has no tag %s=%s): "+
			"refusing to change it; delete or rename it, or deploy to another region", f.Name, ManagedTagKey, ManagedTagValue)
	case fn.Status == "CreateFailed":
		// Deleted and created again, as tencent-component-toolkit does
		// (scf/entities/scf.ts, getInitialStatus and tryToDelete).
		p.add(e.createFunction(f, "it is "+statusText(fn)))
		return e.planTriggers(p, f, nil)
	case fn.Status == "DeleteFailed":
		return fmt.Errorf("function %s is %s: ask Tencent Cloud support or delete it in the console, then apply again", f.Name, statusText(fn))
	case fn.Runtime != f.Runtime:
		return fmt.Errorf("function %s has runtime %s, serverless.yml says %s: SCF cannot change a runtime; delete the function (scf-deploy delete --only %s --yes) and apply again",
			f.Name, fn.Runtime, f.Runtime, f.Name)
	}
	// UpdateFailed: configuration and code are sent again.
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

// createFunction creates f or, with a reason, replaces the failed one.
func (e *Engine) createFunction(f Function, replace string) *Change {
	details := []string{fmt.Sprintf("runtime %s, handler %s, memory %d MB, timeout %s, role %s", f.Runtime, f.Handler, f.MemoryMB, f.Timeout, orNone(f.Role))}
	for _, v := range variables(f.Env) {
		details = append(details, envSet(v, f.Public))
	}
	details = append(details, fmt.Sprintf("code %d bytes, sha256 %s", len(f.Code), short(CodeSHA256(f.Code))))
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
		req := tcapi.CreateFunctionRequest{FunctionName: f.Name, Handler: f.Handler, Runtime: f.Runtime, MemorySize: int64(f.MemoryMB),
			Timeout: int64(f.Timeout / time.Second), Role: f.Role, Namespace: e.Namespace, CodeSource: "ZipFile",
			Code: &tcapi.Code{ZipFile: base64.StdEncoding.EncodeToString(f.Code)},
			Tags: []tcapi.Tag{managedTag}}
		if len(f.Env) > 0 {
			req.Environment = &tcapi.Environment{Variables: variables(f.Env)}
		}
		if err := e.roleRetry(ctx, f.Role, func() error { return e.SCF.CreateFunction(ctx, req) }); err != nil {
			return err
		}
		return e.waitActive(ctx, f.Name)
	}
	return c
}

// deleteFunction deletes a function and waits until it is gone.
func (e *Engine) deleteFunction(ctx context.Context, name string) error {
	if err := gone(e.SCF.DeleteFunction(ctx, e.ref(name)), functionNotFound...); err != nil {
		return err
	}
	_, err := e.waitSettled(ctx, name)
	if err == nil {
		return fmt.Errorf("function %s is still there after DeleteFunction", name)
	}
	return gone(err, functionNotFound...)
}

// roleNotReadyCodes: SDK scf errors.go CreateFunction. CAM changes take
// seconds to reach SCF (terraform-provider-tencentcloud
// resource_tc_cam_role_policy_attachment.go sleeps 10 s).
var roleNotReadyCodes = []string{"ResourceNotFound.Role", "ResourceNotFound.RoleCheck", "FailedOperation.CallRoleFailed", "InternalError.GetRoleError"}

// roleRetry calls call again while SCF answers that role is not usable yet.
func (e *Engine) roleRetry(ctx context.Context, role string, call func() error) error {
	wait := cmp.Or(e.RoleWait, 30*time.Second)
	for waited := time.Duration(0); ; {
		err := call()
		if err == nil || role == "" || wait < 0 || !tcapi.HasCode(err, roleNotReadyCodes...) {
			return err
		}
		if waited >= wait {
			return fmt.Errorf("role %s is still not usable by SCF after %s: %w", role, waited, err)
		}
		if waited == 0 {
			code := err.Error()
			if te := (*tcapi.Error)(nil); errors.As(err, &te) {
				code = te.Code
			}
			if e.Note != nil {
				e.Note(fmt.Sprintf("waiting for role %s to reach SCF (%s): trying again for up to %s", role, code, wait))
			}
		}
		d := min(3*time.Second, wait-waited)
		if err := e.sleep(ctx, d); err != nil {
			return fmt.Errorf("waiting for role %s to reach SCF: %w", role, err)
		}
		waited += d
	}
}

// planConfig compares memory, timeout, role and environment (again: all).
func (e *Engine) planConfig(p *Plan, f Function, fn tcapi.GetFunctionResponse, again string) {
	var cfg []string
	upd := tcapi.UpdateFunctionConfigurationRequest{FunctionName: f.Name, Namespace: e.Namespace}
	if mb := int64(f.MemoryMB); fn.MemorySize != mb || again != "" {
		cfg = append(cfg, fmt.Sprintf("memory %d -> %d MB", fn.MemorySize, mb))
		upd.MemorySize = mb
	}
	if want := int64(f.Timeout / time.Second); fn.Timeout != want || again != "" {
		cfg = append(cfg, fmt.Sprintf("timeout %ds -> %ds", fn.Timeout, want))
		upd.Timeout = want
	}
	if !sameRole(fn.Role, f.Role) || again != "" {
		cfg = append(cfg, fmt.Sprintf("role %s -> %s", orNone(fn.Role), orNone(f.Role)))
		upd.Role = &f.Role
	}
	if env := diffEnv(fn.Environment.Variables, variables(f.Env), f.Public); len(env) > 0 || again != "" {
		cfg = append(cfg, env...)
		upd.Environment = &tcapi.Environment{Variables: variables(f.Env)}
		if len(f.Env) == 0 {
			// SCF ignores an empty list (tencent-component-toolkit
			// scf/entities/scf.ts updateConfigure; terraform-provider-
			// tencentcloud service_tencentcloud_scf.go ModifyFunctionConfig).
			upd.Environment.Variables = []tcapi.Variable{{Key: "", Value: ""}}
		}
	}
	if len(cfg) > 0 {
		p.add(&Change{Op: "update", Kind: "config", Name: f.Name, Details: cfg, Reason: again,
			apply: func(ctx context.Context) error {
				return e.whenActive(ctx, f.Name, func() error {
					return e.roleRetry(ctx, f.Role, func() error { return e.SCF.UpdateFunctionConfiguration(ctx, upd) })
				})
			}})
	}
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
	req := tcapi.UpdateFunctionCodeRequest{FunctionName: f.Name, Handler: f.Handler, Namespace: e.Namespace, CodeSource: "ZipFile"}
	p.add(&Change{Op: "update", Kind: "code", Name: f.Name, Details: details, Reason: again,
		apply: func(ctx context.Context) error {
			req.ZipFile = base64.StdEncoding.EncodeToString(f.Code)
			return e.whenActive(ctx, f.Name, func() error { return e.SCF.UpdateFunctionCode(ctx, req) })
		}})
	return nil
}

// sameRole compares GetFunction's Role, the bare name (terraform-provider-
// tencentcloud resource_tc_scf_function.go), with a name; ".../<name>" too.
func sameRole(have, want string) bool {
	return have == want || (want != "" && strings.HasSuffix(have, "/"+want))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// diffEnv describes the differences, showing only public values; reserved
// keys and the empty clearing element are no difference.
func diffEnv(have []tcapi.Variable, want []tcapi.Variable, public map[string]bool) []string {
	old := map[string]string{}
	for _, v := range have {
		if v.Key != "" && !slices.ContainsFunc(deploy.ReservedEnvPrefixes, func(p string) bool { return strings.HasPrefix(v.Key, p) }) {
			old[v.Key] = v.Value
		}
	}
	var out []string
	for _, v := range want {
		cur, ok := old[v.Key]
		delete(old, v.Key)
		switch {
		case !ok:
			out = append(out, envSet(v, public))
		case cur != v.Value && public[v.Key]:
			out = append(out, fmt.Sprintf("env %s: %q -> %q", v.Key, cur, v.Value))
		case cur != v.Value:
			out = append(out, fmt.Sprintf("env %s (changed)", v.Key))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(old)) {
		out = append(out, fmt.Sprintf("env %s (removed)", k))
	}
	return out
}
