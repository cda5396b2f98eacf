package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/scf-janitor/scf-janitor/internal/creds"
	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// A target account of JANITOR_SWEEP_ROLES whose keys are set gets its role
// planned with its own keys, once STS says they are its; for the others,
// what to create is printed (docs/deploy.md).

// targetRoleFile is the permission policy of a target account's role.
const targetRoleFile = "JanitorSweepTargetRole.json"

var reUin = regexp.MustCompile(`^[0-9]{1,20}$`)

// targetAccount is one target account scf-deploy has the keys of.
type targetAccount struct {
	uin   string
	roles []provision.Role
	eng   *provision.Engine
	plan  *provision.Plan
}

func targetEnvPrefix(uin string) string { return "JANITOR_TARGET_" + uin + "_" }

// targetCredentials returns the keys of account uin, ok false when none is
// set; half a pair, or a token alone, is an error.
func targetCredentials(lookup func(string) (string, bool), uin string) (tcapi.Credentials, bool, error) {
	p := targetEnvPrefix(uin)
	c, missing := creds.Names{ID: p + "SECRET_ID", Key: p + "SECRET_KEY", Token: []string{p + "SESSION_TOKEN"}}.Read(lookup)
	if missing != "" {
		return c, false, fmt.Errorf("target account %s: %s is not set: set both %sSECRET_ID and %sSECRET_KEY (or none of its %s* variables, to get the instructions printed instead)",
			uin, missing, p, p, p)
	}
	return c, c.SecretID != "", nil
}

// findTargets finds the selected sweeper's target accounts: with keys in
// d.accts, without in d.keyless; plan and apply derive its policy first.
func (d *deployment) findTargets(ctx context.Context) error {
	i := slices.IndexFunc(d.selected, func(f deploy.Function) bool { return f.Handler == provision.SweeperHandler && f.Role != "" })
	if i < 0 {
		return nil
	}
	sweeper := d.selected[i]
	env := sweeper.EnvMap()
	var roles []provision.TargetRole
	var err error
	if d.o.command == "delete" {
		roles, err = provision.ParseTargetRoles(env[sweep.EnvSweepRoles])
	} else {
		roles, err = d.sweeperPolicy(ctx, sweeper, env)
	}
	if err != nil {
		return err
	}
	byUin := map[string]*targetAccount{}
	for _, r := range roles {
		if a := byUin[r.Uin]; a != nil {
			a.roles = append(a.roles, d.targetRole(r))
			continue
		}
		cred, ok, err := targetCredentials(d.lookup, r.Uin)
		if err != nil {
			return err
		}
		if !ok {
			d.keyless = append(d.keyless, r)
			continue
		}
		if err := d.checkAccount(ctx, cred, r.Uin); err != nil {
			return err
		}
		cam, err := tcapi.NewCAM(cred, tcapi.Options{Endpoint: d.o.endpoint}) // CAM is global
		if err != nil {
			return fmt.Errorf("target account %s: %w", r.Uin, err)
		}
		uin := r.Uin
		a := &targetAccount{uin: uin, roles: []provision.Role{d.targetRole(r)}, eng: &provision.Engine{CAM: cam,
			Progress: func(c *provision.Change) { fmt.Fprintf(d.stdout, "account %s: %s ...\n", uin, c) }}}
		byUin[uin] = a
		d.accts = append(d.accts, a)
	}
	return nil
}

// callerUin is cred's account (SDK sts 2018-08-13
// GetCallerIdentityResponseParams AccountId).
func (d *deployment) callerUin(ctx context.Context, cred tcapi.Credentials) (string, error) {
	sts, err := tcapi.NewSTS(cred, tcapi.Options{Region: d.region, Endpoint: d.o.endpoint})
	if err != nil {
		return "", err
	}
	id, err := sts.GetCallerIdentity(ctx)
	return id.AccountId, err
}

// checkAccount makes sure cred are keys of account uin, before any change.
func (d *deployment) checkAccount(ctx context.Context, cred tcapi.Credentials, uin string) error {
	p := targetEnvPrefix(uin)
	account, err := d.callerUin(ctx, cred)
	if err != nil {
		return fmt.Errorf("target account %s: checking whose keys %sSECRET_ID and %sSECRET_KEY are (STS GetCallerIdentity): %w", uin, p, p, err)
	}
	if account != uin {
		return fmt.Errorf("target account %s: %sSECRET_ID and %sSECRET_KEY are keys of account %s, not %s: nothing changed; "+
			"set that account's own keys there (or remove them to get the instructions printed instead)", uin, p, p, account, uin)
	}
	return nil
}

// sweeperPolicy derives the sweeper role's policy in d.desired.Roles and,
// with target roles, what their accounts need (d.trust, d.policy).
func (d *deployment) sweeperPolicy(ctx context.Context, sweeper deploy.Function, env map[string]string) ([]provision.TargetRole, error) {
	lookup := func(k string) string { return env[k] }
	targets, fanout, err := provision.SweeperSettings(lookup)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	if (len(targets) > 0 || fanout) && d.sweeperUin == "" {
		if d.sweeperUin, err = d.callerUin(ctx, d.cred); err != nil {
			return nil, fmt.Errorf("the sweeper's policy needs this account's uin: %w (or give it with --sweeper-uin)", err)
		}
	}
	invoke := ""
	if fanout {
		invoke = provision.FunctionResource(d.region, d.sweeperUin, d.cfg.File.Inputs.Namespace, sweeper.Name)
	}
	if err := provision.DeriveSweeperRole(d.desired.Roles, sweeper.Role, targets, invoke); err != nil {
		return nil, err
	}
	archive, err := provision.SweeperArchive(lookup, d.region)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	if err := provision.DeriveSweeperArchive(d.desired.Roles, sweeper.Role, archive); err != nil || len(targets) == 0 {
		return nil, err
	}
	d.sweeperRole = sweeper.Role
	files := []string{"trust-sweeper.json", targetRoleFile}
	for i, dst := range []*string{&d.trust, &d.policy} {
		b, err := os.ReadFile(filepath.Join(d.root, "deploy", "cam", files[i]))
		if err != nil {
			return nil, fmt.Errorf("the target accounts' policy: %w", err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			return nil, fmt.Errorf("deploy/cam/%s: %w", files[i], err)
		}
		*dst = c.String()
	}
	d.trust = provision.TargetTrustPolicy(d.trust, d.sweeperUin, sweeper.Role)
	return targets, nil
}

// targetRole is the desired role r in a target account (delete: its name).
func (d *deployment) targetRole(r provision.TargetRole) provision.Role {
	if d.trust == "" {
		return provision.Role{Name: r.Name}
	}
	return provision.Role{Name: r.Name, TrustPolicy: d.trust, Policy: d.policy,
		TrustNote:    fmt.Sprintf("trusted by qcs::cam::uin/%s:roleName/%s (deploy/cam/trust-sweeper.json)", d.sweeperUin, d.sweeperRole),
		PolicySource: "deploy/cam/" + targetRoleFile}
}

// writeKeyless prints what to create in each keyless account (delete: what
// is left there).
func (d *deployment) writeKeyless() {
	w := d.stdout
	if d.o.command == "delete" {
		for _, r := range d.keyless {
			p := targetEnvPrefix(r.Uin)
			fmt.Fprintf(w, "target account %s: no keys (%sSECRET_ID, %sSECRET_KEY): its role %s, if any, is left; delete it signed in to that account "+
				"(tccli cam DetachRolePolicy, DeletePolicy %sPolicy, DeleteRole)\n", r.Uin, p, p, r.Name, r.Name)
		}
		return
	}
	if d.trust == "" || len(d.keyless) == 0 {
		return
	}
	fmt.Fprintf(w, "target accounts: scf-deploy cannot create their roles (no keys for them: set JANITOR_TARGET_<UIN>_SECRET_ID and _SECRET_KEY to let it); in each account below, create:\n")
	for _, r := range d.keyless {
		policyName := r.Name + "Policy"
		fmt.Fprintf(w, "  account %s: role %s, trusted by qcs::cam::uin/%s:roleName/%s, with policy %s (deploy/cam/%s)\n",
			r.Uin, r.Name, d.sweeperUin, d.sweeperRole, policyName, targetRoleFile)
		fmt.Fprintf(w, "    tccli cam CreateRole --RoleName %s --PolicyDocument '%s'\n", r.Name, d.trust)
		fmt.Fprintf(w, "    tccli cam CreatePolicy --PolicyName %s --PolicyDocument '%s'\n", policyName, d.policy)
		fmt.Fprintf(w, "    tccli cam AttachRolePolicy --AttachRoleName %s --PolicyName %s\n", r.Name, policyName)
	}
}
