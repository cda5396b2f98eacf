package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Execution roles. On SCF a function acts with the temporary credentials of
// its execution role (serverless.yml's role:), delivered in each
// invocation's Environment (tencentyun/scf-go-lib issue #18, PR #19).
// Against the emulator scf-local creates each function's role in the
// emulator's CAM unless it exists, and each invocation gets its keys there.

// scfService is the service principal SCF assumes execution roles as
// (CreateRole's example, cloud.tencent.com/document/api/598/36225); the
// trust policy used without deploy/cam/trust-scf.json names it.
const (
	scfService      = "scf.qcloud.com"
	defaultTrustSCF = `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"service":["scf.qcloud.com"]}}]}`
)

// How long SCF's role keys stay valid is not documented: scf-local takes STS
// AssumeRole's default, 7200 s (tencentcloud-sdk-go sts/v20180813
// AssumeRoleRequestParams.DurationSeconds), and replaces them when less than
// SCF's longest invocation (900 s) plus a minute is left.
const (
	roleCredLifetime  = emulator.DefaultRoleDuration
	roleRefreshBefore = 900*time.Second + time.Minute
)

// roleArn is the ARN of a role of the local account.
func roleArn(uin, role string) string { return "qcs::cam::uin/" + uin + ":roleName/" + role }

// roleCredentials hands out and refreshes each execution role's temporary
// credentials; safe for concurrent use.
type roleCredentials struct {
	uin   string                                                     // the account the roles are in
	issue func(ctx context.Context, arn string) (credentials, error) // new keys of a role
	now   func() time.Time
	keep  func(ctx context.Context, role string) (recreated bool, err error) // roleKeeper (nil: none)

	mu    sync.Mutex
	cache map[string]roleCred // by role name
}

type roleCred struct {
	c       credentials
	expires time.Time
}

// forRole returns role's current credentials, new ones when those held
// expire within roleRefreshBefore.
func (rc *roleCredentials) forRole(ctx context.Context, role string) (credentials, error) {
	recreated := false
	if rc.keep != nil {
		var err error
		if recreated, err = rc.keep(ctx, role); err != nil {
			return credentials{}, err
		}
	}
	now := rc.now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if c, ok := rc.cache[role]; ok && !recreated && now.Before(c.expires.Add(-roleRefreshBefore)) {
		return c.c, nil
	}
	c, err := rc.issue(ctx, roleArn(rc.uin, role))
	if err != nil {
		return credentials{}, fmt.Errorf("credentials of execution role %s: %w", role, err)
	}
	if rc.cache == nil {
		rc.cache = map[string]roleCred{}
	}
	rc.cache[role] = roleCred{c: c, expires: now.Add(roleCredLifetime)}
	return c, nil
}

// executionRoles is what scf-deploy would create for the functions: each
// role's trust policy and permissions ("" without deploy/cam/<Role>.json).
func executionRoles(root string, fns []deploy.Function) ([]provision.Role, []string, error) {
	camDir := filepath.Join(root, "deploy", "cam")
	var notes []string
	trust, err := os.ReadFile(filepath.Join(camDir, "trust-scf.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		trust = []byte(defaultTrustSCF)
		notes = append(notes, "deploy/cam/trust-scf.json not found: the roles trust scf.qcloud.com (SCF's trust policy)")
	case err != nil:
		return nil, nil, fmt.Errorf("execution roles: %w", err)
	}
	var roles []provision.Role
	seen := map[string]bool{}
	for _, fn := range fns {
		if fn.Role == "" || seen[fn.Role] {
			continue
		}
		seen[fn.Role] = true
		path, err := deploy.RolePolicyPath(root, fn.Role) // a CAM name: never a path outside deploy/cam
		if err != nil {
			return nil, nil, fmt.Errorf("function %s: %w", fn.Name, err)
		}
		policy, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			notes = append(notes, fmt.Sprintf("deploy/cam/%s.json not found: role %s has no permission policy (scf-deploy would refuse to deploy it)", fn.Role, fn.Role))
		case err != nil:
			return nil, nil, fmt.Errorf("role %s of function %s: %w", fn.Role, fn.Name, err)
		}
		roles = append(roles, provision.Role{Name: fn.Role, TrustPolicy: string(trust), Policy: string(policy)})
	}
	return roles, notes, nil
}

// deriveSweeperRole gives the sweeper's role (in roles, in place) the
// policy scf-deploy would (provision.DeriveSweeperRole and
// DeriveSweeperArchive), from the environment it runs with here. Call it
// after the functions' settings are resolved.
func (rc *runtimeConfig) deriveSweeperRole(roles []provision.Role) error {
	for _, fn := range rc.cfg.Functions {
		if fn.Handler != provision.SweeperHandler || fn.Role == "" {
			continue
		}
		if err := rc.deriveSweeper(roles, fn); err != nil {
			return fmt.Errorf("function %s: %w", fn.Name, err)
		}
	}
	return nil
}

func (rc *runtimeConfig) deriveSweeper(roles []provision.Role, fn deploy.Function) error {
	env := rc.effectiveEnv(fn)
	lookup := func(k string) string { return env[k] }
	targets, fanout, err := provision.SweeperSettings(lookup)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(roles, func(r provision.Role) bool { return r.Name == fn.Role && r.Policy == "" }) {
		return nil // no deploy/cam policy to add to (already reported)
	}
	invoke := ""
	if fanout {
		invoke = provision.FunctionResource(rc.region(), rc.uin, rc.cfg.File.Inputs.Namespace, fn.Name)
	}
	if err := provision.DeriveSweeperRole(roles, fn.Role, targets, invoke); err != nil {
		return err
	}
	archive, err := provision.SweeperArchive(lookup, rc.region())
	if err != nil {
		return err
	}
	return provision.DeriveSweeperArchive(roles, fn.Role, archive)
}

// LocalDescription marks the roles and policies scf-local creates in the
// emulator: not provision.ManagedDescription, so that scf-deploy delete
// leaves them alone and scf-deploy apply uses them as they are.
const LocalDescription = "managed by scf-local (scf-janitor)"

// ensureRoles creates, through the CAM API of the emulator at emuURL, each
// role that does not exist, with its permissions as a policy attached, marked
// LocalDescription. Existing roles and policies are used as they are.
func ensureRoles(ctx context.Context, emuURL string, roles []provision.Role) error {
	cam, err := tcapi.NewCAM(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Endpoint: emuURL})
	if err != nil {
		return err
	}
	for _, r := range roles {
		if err := ensureRole(ctx, cam, r); err != nil {
			return err
		}
	}
	return nil
}

// ensureRole creates role r unless it exists (see ensureRoles).
func ensureRole(ctx context.Context, cam *tcapi.CAM, r provision.Role) error {
	_, err := cam.GetRole(ctx, r.Name)
	switch {
	case err == nil:
		return nil // used as it is
	case !tcapi.HasCode(err, "InvalidParameter.RoleNotExist"):
		return fmt.Errorf("execution role %s: %w", r.Name, err)
	}
	if _, err := cam.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: r.Name, PolicyDocument: r.TrustPolicy, Description: LocalDescription}); err != nil &&
		!tcapi.HasCode(err, "InvalidParameter.RoleNameInUse") {
		return fmt.Errorf("create execution role %s: %w", r.Name, err)
	}
	if r.Policy == "" {
		return nil // no permissions to attach: the role alone
	}
	id, err := findPolicy(ctx, cam, r.PolicyName())
	if err != nil {
		return fmt.Errorf("execution role %s: %w", r.Name, err)
	}
	if id == 0 {
		out, err := cam.CreatePolicy(ctx, tcapi.CreatePolicyRequest{PolicyName: r.PolicyName(), PolicyDocument: r.Policy, Description: LocalDescription})
		if err != nil {
			return fmt.Errorf("execution role %s: create policy %s: %w", r.Name, r.PolicyName(), err)
		}
		id = out.PolicyId
	}
	if err := cam.AttachRolePolicy(ctx, id, r.Name); err != nil {
		return fmt.Errorf("execution role %s: attach policy %s: %w", r.Name, r.PolicyName(), err)
	}
	return nil
}

// findPolicy returns the id of the custom policy named name (0: none).
func findPolicy(ctx context.Context, cam *tcapi.CAM, name string) (uint64, error) {
	for page := uint64(1); page <= 200; page++ {
		out, err := cam.ListPolicies(ctx, tcapi.ListPoliciesRequest{Rp: 200, Page: page, Scope: "Local", Keyword: name})
		if err != nil {
			return 0, fmt.Errorf("policy %s: %w", name, err)
		}
		for _, p := range out.List {
			if p.PolicyName == name {
				return p.PolicyId, nil
			}
		}
		if page*200 >= out.TotalNum || len(out.List) == 0 {
			break
		}
	}
	return 0, nil
}

// roleKeeper returns a check, run before each invocation, that creates again
// a role deleted since start (else its functions would fail until a
// restart); recreated voids the keys held. It asks GET /_emulator/roles:
// CAM GetRole per invocation would meet the emulator's API rate limit.
func roleKeeper(emuURL string, roles []provision.Role) func(ctx context.Context, role string) (recreated bool, err error) {
	return func(ctx context.Context, role string) (bool, error) {
		i := slices.IndexFunc(roles, func(r provision.Role) bool { return r.Name == role })
		if i < 0 {
			return false, nil
		}
		var all []emulator.RoleInfo
		if err := emulatorCall(ctx, http.MethodGet, emuURL+"/_emulator/roles", nil, &all); err != nil {
			return false, fmt.Errorf("execution role %s: %w", role, err)
		}
		if slices.ContainsFunc(all, func(r emulator.RoleInfo) bool { return r.RoleName == role && r.Account == emulator.DefaultAccountUin }) {
			return false, nil
		}
		if err := ensureRoles(ctx, emuURL, roles[i:i+1]); err != nil {
			return false, fmt.Errorf("execution role %s was deleted; creating it again: %w", role, err)
		}
		return true, nil
	}
}

// emulatorRoleIssuer gets SCF's keys of a role from the emulator at emuURL
// (POST /_emulator/role-credentials).
func emulatorRoleIssuer(emuURL string) func(context.Context, string) (credentials, error) {
	return func(ctx context.Context, arn string) (credentials, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var c struct{ TmpSecretId, TmpSecretKey, Token string }
		req := map[string]string{"Service": scfService, "RoleArn": arn}
		if err := emulatorCall(ctx, http.MethodPost, emuURL+"/_emulator/role-credentials", req, &c); err != nil {
			return credentials{}, err
		}
		if c.TmpSecretId == "" {
			return credentials{}, fmt.Errorf("the emulator at %s gave no role credentials (an older emulator?)", emuURL)
		}
		return credentials{id: c.TmpSecretId, key: c.TmpSecretKey, token: c.Token}, nil
	}
}
