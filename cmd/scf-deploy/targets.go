package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The sweeper's role gets a policy derived from its environment
// (provision.DeriveSweeperRole). A target account of JANITOR_SWEEP_ROLES
// whose keys are set (JANITOR_TARGET_<UIN>_SECRET_ID, _SECRET_KEY, optional
// _SESSION_TOKEN) gets its role planned and applied with a CAM client of its
// own keys, once STS GetCallerIdentity says they are that account's; for
// the others, what to create there is printed.

// targetRoleFile is the permission policy of a target account's role.
const targetRoleFile = "JanitorSweepTargetRole.json"

var reUin = regexp.MustCompile(`^[0-9]{1,20}$`)

// targetSetup is what the target accounts need: the desired role of each.
type targetSetup struct {
	sweeperUin, sweeperRole string
	trust, policy           string // compact JSON
}

// targetAccount is one target account scf-deploy has the keys of.
type targetAccount struct {
	uin   string
	roles []provision.Role
	eng   *provision.Engine
	plan  *provision.Plan
}

func targetEnvPrefix(uin string) string { return "JANITOR_TARGET_" + uin + "_" }

// targetCredentials returns the keys of account uin, ok false when none of
// its variables is set. Half a pair is an error naming the missing variable.
func targetCredentials(lookup func(string) (string, bool), uin string) (tcapi.Credentials, bool, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	p := targetEnvPrefix(uin)
	c := tcapi.Credentials{SecretID: get(p + "SECRET_ID"), SecretKey: get(p + "SECRET_KEY"), Token: get(p + "SESSION_TOKEN")}
	missing := p + "SECRET_ID"
	switch {
	case c == tcapi.Credentials{}:
		return c, false, nil
	case c.SecretID != "" && c.SecretKey != "":
		return c, true, nil
	case c.SecretID != "":
		missing = p + "SECRET_KEY"
	}
	return c, false, fmt.Errorf("target account %s: %s is not set: set both %sSECRET_ID and %sSECRET_KEY (or none of its %s* variables, to get the instructions printed instead)",
		uin, missing, p, p, p)
}

// sweeperFunction returns the selected sweeper with a role, or nil.
func sweeperFunction(selected []deploy.Function) *deploy.Function {
	var sweeper *deploy.Function
	for i := range selected {
		if selected[i].Handler == provision.SweeperHandler {
			sweeper = &selected[i]
		}
	}
	if sweeper == nil || sweeper.Role == "" {
		return nil
	}
	return sweeper
}

// targets finds the target accounts of the selected sweeper: those with
// keys get an engine (d.accts), the others are listed (d.keyless). Apply
// and plan first derive the sweeper's policy (d.targets).
func (d *deployment) findTargets(ctx context.Context) error {
	sweeper := sweeperFunction(d.selected)
	if sweeper == nil {
		return nil
	}
	env := sweeper.EnvMap()
	role := func(r provision.TargetRole) provision.Role { return provision.Role{Name: r.Name} }
	var roles []provision.TargetRole
	var err error
	if d.o.command == "delete" {
		roles, err = provision.ParseTargetRoles(env[sweep.EnvSweepRoles])
		if err != nil {
			return fmt.Errorf("function %s: %w", sweeper.Name, err)
		}
	} else {
		if d.targets, roles, err = d.sweeperPolicy(ctx, sweeper, env); err != nil || d.targets == nil {
			return err
		}
		role = d.targets.role
	}
	topts := tcapi.Options{Region: d.region, Endpoint: d.o.endpoint}
	byUin := map[string]*targetAccount{}
	for _, r := range roles {
		if a := byUin[r.Uin]; a != nil {
			a.roles = append(a.roles, role(r))
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
		if err := checkAccount(ctx, cred, topts, r.Uin); err != nil {
			return err
		}
		cam, err := tcapi.NewCAM(cred, tcapi.Options{Endpoint: d.o.endpoint}) // CAM is global
		if err != nil {
			return fmt.Errorf("target account %s: %w", r.Uin, err)
		}
		uin := r.Uin
		a := &targetAccount{uin: uin, roles: []provision.Role{role(r)}, eng: &provision.Engine{CAM: cam,
			Progress: func(c *provision.Change) { fmt.Fprintf(d.stdout, "account %s: %s ...\n", uin, c) }}}
		byUin[uin] = a
		d.accts = append(d.accts, a)
	}
	return nil
}

// checkAccount makes sure cred are keys of account uin, before any change:
// GetCallerIdentity's AccountId is the caller's root account uin (SDK sts
// 2018-08-13 GetCallerIdentityResponseParams).
func checkAccount(ctx context.Context, cred tcapi.Credentials, topts tcapi.Options, uin string) error {
	p := targetEnvPrefix(uin)
	sts, err := tcapi.NewSTS(cred, topts)
	if err != nil {
		return fmt.Errorf("target account %s: %w", uin, err)
	}
	id, err := sts.GetCallerIdentity(ctx)
	if err != nil {
		return fmt.Errorf("target account %s: checking whose keys %sSECRET_ID and %sSECRET_KEY are (STS GetCallerIdentity): %w", uin, p, p, err)
	}
	if id.AccountId != uin {
		return fmt.Errorf("target account %s: %sSECRET_ID and %sSECRET_KEY are keys of account %s, not %s: nothing changed; "+
			"set that account's own keys there (or remove them to get the instructions printed instead)", uin, p, p, id.AccountId, uin)
	}
	return nil
}

// sweeperPolicy derives the policy of the sweeper's role in d.desired.Roles
// from its resolved environment and returns, when it has target roles, what
// their accounts need.
func (d *deployment) sweeperPolicy(ctx context.Context, sweeper *deploy.Function, env map[string]string) (*targetSetup, []provision.TargetRole, error) {
	lookup := func(k string) string { return env[k] }
	targets, fanout, err := provision.SweeperSettings(lookup)
	if err != nil {
		return nil, nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	var account string
	if len(targets) > 0 || fanout {
		if account, err = d.callerUin(ctx); err != nil {
			return nil, nil, err
		}
	}
	invoke := ""
	if fanout {
		invoke = provision.FunctionResource(d.region, account, d.cfg.File.Inputs.Namespace, sweeper.Name)
	}
	if err := provision.DeriveSweeperRole(d.desired.Roles, sweeper.Role, targets, invoke); err != nil {
		return nil, nil, err
	}
	archive, err := provision.SweeperArchive(lookup, d.region)
	if err != nil {
		return nil, nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	if err := provision.DeriveSweeperArchive(d.desired.Roles, sweeper.Role, archive); err != nil || len(targets) == 0 {
		return nil, nil, err
	}
	ts := &targetSetup{sweeperUin: account, sweeperRole: sweeper.Role}
	files := []struct {
		name, what string
		dst        *string
		fill       func(string) string
	}{
		{"trust-sweeper.json", "trust", &ts.trust, func(s string) string { return provision.TargetTrustPolicy(s, account, sweeper.Role) }},
		{targetRoleFile, "permission", &ts.policy, func(s string) string { return s }},
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(d.root, "deploy", "cam", f.name))
		if err != nil {
			return nil, nil, fmt.Errorf("the target accounts' %s policy: %w", f.what, err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, []byte(f.fill(string(b)))); err != nil {
			return nil, nil, fmt.Errorf("deploy/cam/%s: %w", f.name, err)
		}
		*f.dst = c.String()
	}
	return ts, targets, nil
}

// callerUin is the uin of the account deployed to: --sweeper-uin, else STS
// GetCallerIdentity.
func (d *deployment) callerUin(ctx context.Context) (string, error) {
	if d.o.sweeperUin != "" {
		return d.o.sweeperUin, nil
	}
	sts, err := tcapi.NewSTS(d.cred, tcapi.Options{Region: d.region, Endpoint: d.o.endpoint})
	if err != nil {
		return "", err
	}
	id, err := sts.GetCallerIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("the sweeper's policy needs this account's uin: %w (or give it with --sweeper-uin)", err)
	}
	return id.AccountId, nil
}

// role is the desired role r in a target account.
func (ts *targetSetup) role(r provision.TargetRole) provision.Role {
	return provision.Role{Name: r.Name, TrustPolicy: ts.trust, Policy: ts.policy,
		TrustNote:    fmt.Sprintf("trusted by qcs::cam::uin/%s:roleName/%s (deploy/cam/trust-sweeper.json)", ts.sweeperUin, ts.sweeperRole),
		PolicySource: "deploy/cam/" + targetRoleFile}
}

// writeKeyless prints, for each target account without keys, the role to
// create there and how (delete: what is left there).
func (d *deployment) writeKeyless(w io.Writer) {
	for _, r := range d.keyless {
		p := targetEnvPrefix(r.Uin)
		if d.o.command == "delete" {
			fmt.Fprintf(w, "target account %s: no keys (%sSECRET_ID, %sSECRET_KEY): its role %s, if any, is left; delete it signed in to that account "+
				"(tccli cam DetachRolePolicy, DeletePolicy %sPolicy, DeleteRole)\n", r.Uin, p, p, r.Name, r.Name)
		}
	}
	if d.targets == nil || len(d.keyless) == 0 || d.o.command == "delete" {
		return
	}
	ts := d.targets
	fmt.Fprintf(w, "target accounts: scf-deploy cannot create their roles (no keys for them: set JANITOR_TARGET_<UIN>_SECRET_ID and _SECRET_KEY to let it); in each account below, create:\n")
	for _, r := range d.keyless {
		policyName := r.Name + "Policy"
		fmt.Fprintf(w, "  account %s: role %s, trusted by qcs::cam::uin/%s:roleName/%s, with policy %s (deploy/cam/%s)\n",
			r.Uin, r.Name, ts.sweeperUin, ts.sweeperRole, policyName, targetRoleFile)
		fmt.Fprintf(w, "    tccli cam CreateRole --RoleName %s --PolicyDocument '%s'\n", r.Name, ts.trust)
		fmt.Fprintf(w, "    tccli cam CreatePolicy --PolicyName %s --PolicyDocument '%s'\n", policyName, ts.policy)
		fmt.Fprintf(w, "    tccli cam AttachRolePolicy --AttachRoleName %s --PolicyName %s\n", r.Name, policyName)
	}
}
