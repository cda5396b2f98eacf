package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/deploy"
	"github.com/scf-janitor/scf-janitor/shared/emulator"
	"github.com/scf-janitor/scf-janitor/shared/provision"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Execution roles. On SCF a function acts with the temporary credentials of
// its execution role (serverless.yml's role:), delivered in each
// invocation's Environment (FACTS.md §4). Against the emulator scf-local does
// the same: at start it creates each function's role in the emulator's CAM
// (default account) the way scf-deploy does, unless it already exists, and
// each invocation gets that role's keys from the emulator's STS side
// (Server.ServiceRoleCredential("scf.qcloud.com", <role ARN>)).

// scfService is the service principal SCF assumes execution roles as; the
// trust policy of deploy/cam/trust-scf.json names it (CreateRole's documented
// example, cloud.tencent.com/document/api/598/36225).
const scfService = "scf.qcloud.com"

// defaultTrustSCF is the trust policy used when the project has no
// deploy/cam/trust-scf.json: the same document (SCF may assume the role).
const defaultTrustSCF = `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"service":["scf.qcloud.com"]}}]}`

// Role credential lifetime. How long the keys SCF hands a function stay valid
// is not documented; STS AssumeRole's default is 7200 s (tencentcloud-sdk-go
// sts/v20180813 AssumeRoleRequestParams.DurationSeconds), so scf-local takes
// that as their lifetime and replaces them when less than roleRefreshBefore
// is left: SCF's longest invocation (900 s) plus a minute, so keys handed to
// an invocation outlive it.
const (
	roleCredLifetime  = emulator.DefaultRoleDuration
	roleRefreshBefore = 900*time.Second + time.Minute
)

// roleArn is the ARN of a role of the local account.
func roleArn(uin, role string) string { return "qcs::cam::uin/" + uin + ":roleName/" + role }

// roleCredentials hands out and refreshes each execution role's temporary
// credentials; safe for concurrent use.
type roleCredentials struct {
	uin string // the account the roles are in
	// issue gets new temporary keys of a role (by ARN).
	issue func(ctx context.Context, arn string) (credentials, error)
	now   func() time.Time

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
	now := rc.now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if c, ok := rc.cache[role]; ok && now.Before(c.expires.Add(-roleRefreshBefore)) {
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

// serviceRoleIssuer gets SCF's keys of a role from an emulator in this process.
func serviceRoleIssuer(emu *emulator.Server) func(context.Context, string) (credentials, error) {
	return func(_ context.Context, arn string) (credentials, error) {
		c, err := emu.ServiceRoleCredential(scfService, arn)
		if err != nil {
			return credentials{}, err
		}
		return credentials{id: c.SecretID, key: c.SecretKey, token: c.Token}, nil
	}
}

// executionRoles is what scf-deploy would create for the functions: each
// role's trust policy (deploy/cam/trust-scf.json) and permissions
// (deploy/cam/<Role>.json; "" when the file does not exist).
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
		policy, err := os.ReadFile(filepath.Join(camDir, fn.Role+".json"))
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

// deriveSweeperRole gives the sweeper's role (in roles, in place) the policy
// scf-deploy would create for it (provision.DeriveSweeperRole): its
// deploy/cam permissions plus name/sts:AssumeRole on the roles of its
// JANITOR_SWEEP_ROLES and, with JANITOR_SWEEP_FANOUT=async, scf:InvokeFunction
// on itself, from the environment it runs with here (serverless.yml, .env,
// --env-vars). Call it after the functions' settings are resolved.
func (rc *runtimeConfig) deriveSweeperRole(roles []provision.Role) error {
	for _, fn := range rc.cfg.Functions {
		if fn.Handler != provision.SweeperHandler || fn.Role == "" {
			continue
		}
		env := rc.effectiveEnv(fn)
		targets, fanout, err := provision.SweeperSettings(func(k string) string { return env[k] })
		if err != nil {
			return fmt.Errorf("function %s: %w", fn.Name, err)
		}
		invoke := ""
		if fanout {
			invoke = provision.FunctionResource(rc.region(), rc.uin, rc.cfg.File.Inputs.Namespace, fn.Name)
		}
		if slices.ContainsFunc(roles, func(r provision.Role) bool { return r.Name == fn.Role && r.Policy == "" }) {
			continue // no deploy/cam policy to add to (already reported)
		}
		if err := provision.DeriveSweeperRole(roles, fn.Role, targets, invoke); err != nil {
			return fmt.Errorf("function %s: %w", fn.Name, err)
		}
	}
	return nil
}

// ensureRoles creates, through the CAM API of the emulator at emuURL (with
// the default account's keys), every role of roles that does not exist yet,
// with its policy attached as scf-deploy does (provision.Engine). Existing
// roles are used as they are.
func ensureRoles(ctx context.Context, emuURL string, roles []provision.Role) error {
	cam, err := tcapi.NewCAM(tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Endpoint: emuURL})
	if err != nil {
		return err
	}
	var missing []provision.Role
	for _, r := range roles {
		_, err := cam.GetRole(ctx, r.Name)
		switch {
		case err == nil: // used as it is
		case tcapi.HasCode(err, "InvalidParameter.RoleNotExist"):
			if r.Policy == "" {
				// No permissions to attach: the role alone.
				if _, err := cam.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: r.Name, PolicyDocument: r.TrustPolicy, Description: provision.ManagedDescription}); err != nil {
					return fmt.Errorf("create execution role %s: %w", r.Name, err)
				}
				continue
			}
			missing = append(missing, r)
		default:
			return fmt.Errorf("execution role %s: %w", r.Name, err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	e := &provision.Engine{CAM: cam}
	plan, err := e.Plan(ctx, provision.Desired{Roles: missing})
	if err != nil {
		return fmt.Errorf("execution roles: %w", err)
	}
	if _, err := e.Apply(ctx, plan); err != nil {
		return fmt.Errorf("execution roles: %w", err)
	}
	return nil
}

// emulatorRoleIssuer gets SCF's keys of a role from a running emulator at
// emuURL (POST /_emulator/role-credentials), when scf-local reuses one.
func emulatorRoleIssuer(emuURL string) func(context.Context, string) (credentials, error) {
	return func(ctx context.Context, arn string) (credentials, error) {
		body, err := json.Marshal(map[string]string{"Service": scfService, "RoleArn": arn})
		if err != nil {
			return credentials{}, err
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, emuURL+"/_emulator/role-credentials", bytes.NewReader(body))
		if err != nil {
			return credentials{}, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return credentials{}, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return credentials{}, err
		}
		if resp.StatusCode != http.StatusOK {
			var e struct{ Error string }
			if json.Unmarshal(b, &e) != nil || e.Error == "" {
				e.Error = strings.TrimSpace(string(b))
			}
			return credentials{}, fmt.Errorf("the emulator at %s answered %d: %s", emuURL, resp.StatusCode, e.Error)
		}
		var c struct{ TmpSecretId, TmpSecretKey, Token string }
		if err := json.Unmarshal(b, &c); err != nil || c.TmpSecretId == "" {
			return credentials{}, fmt.Errorf("the emulator at %s gave no role credentials (an older emulator?)", emuURL)
		}
		return credentials{id: c.TmpSecretId, key: c.TmpSecretKey, token: c.Token}, nil
	}
}
