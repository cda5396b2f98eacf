package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// A target account of JANITOR_SWEEP_ROLES whose own keys are set
// (JANITOR_TARGET_<UIN>_SECRET_ID, _SECRET_KEY, optional _SESSION_TOKEN,
// from the shell or .env) gets its roles planned and applied by scf-deploy
// itself, through the same engine with a CAM client of its own keys. The keys
// are checked first (STS GetCallerIdentity's AccountId must be the ARN's
// uin), so keys of the wrong account change nothing anywhere.

// targetAccount is one target account scf-deploy has the keys of.
type targetAccount struct {
	uin   string
	roles []provision.Role
	eng   *provision.Engine
	plan  *provision.Plan
}

// targetEnvPrefix is the prefix of a target account's key variables.
func targetEnvPrefix(uin string) string { return "JANITOR_TARGET_" + uin + "_" }

// targetCredentials returns the keys of account uin, ok false when none is
// set. Half a pair is an error naming the missing variable.
func targetCredentials(lookup func(string) (string, bool), uin string) (tcapi.Credentials, bool, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	p := targetEnvPrefix(uin)
	c := tcapi.Credentials{SecretID: get(p + "SECRET_ID"), SecretKey: get(p + "SECRET_KEY"), Token: get(p + "SESSION_TOKEN")}
	missing := ""
	switch {
	case c.SecretID == "" && c.SecretKey == "" && c.Token == "":
		return c, false, nil
	case c.SecretID == "":
		missing = p + "SECRET_ID"
	case c.SecretKey == "":
		missing = p + "SECRET_KEY"
	}
	if missing != "" {
		return c, false, fmt.Errorf("target account %s: %s is not set: set both %sSECRET_ID and %sSECRET_KEY (or none of its %s* variables, to get the instructions printed instead)",
			uin, missing, p, p, p)
	}
	return c, true, nil
}

// sweeperFunction returns the selected sweeper with a role, or nil.
func sweeperFunction(selected []deploy.Function) *deploy.Function {
	var sweeper *deploy.Function
	for i := range selected {
		if selected[i].Handler == sweeperHandler {
			sweeper = &selected[i]
		}
	}
	if sweeper == nil || sweeper.Role == "" {
		return nil
	}
	return sweeper
}

// sweepTargets returns the roles of the sweeper's JANITOR_SWEEP_ROLES.
func sweepTargets(sweeper *deploy.Function) ([]provision.TargetRole, error) {
	var list string
	for _, kv := range sweeper.Env {
		if kv.Key == sweep.EnvSweepRoles {
			list = kv.Value
		}
	}
	targets, err := provision.ParseTargetRoles(list)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	return targets, nil
}

// targetAccounts groups roles by account and returns the accounts whose keys
// are set, each with an engine of its own keys checked to be that account's,
// and the roles of the others (for the printed instructions). role makes the
// desired role of a target.
func targetAccounts(ctx context.Context, lookup func(string) (string, bool), roles []provision.TargetRole, topts tcapi.Options,
	progress func(uin string, c *provision.Change), role func(provision.TargetRole) provision.Role) ([]*targetAccount, []provision.TargetRole, error) {
	var keyed []*targetAccount
	var keyless []provision.TargetRole
	byUin := map[string]*targetAccount{}
	for _, r := range roles {
		if a := byUin[r.Uin]; a != nil {
			a.roles = append(a.roles, role(r))
			continue
		}
		cred, ok, err := targetCredentials(lookup, r.Uin)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			keyless = append(keyless, r)
			continue
		}
		if err := checkAccount(ctx, cred, topts, r.Uin); err != nil {
			return nil, nil, err
		}
		copts := topts
		copts.Region = "" // CAM is global
		cam, err := tcapi.NewCAM(cred, copts)
		if err != nil {
			return nil, nil, fmt.Errorf("target account %s: %w", r.Uin, err)
		}
		a := &targetAccount{uin: r.Uin, roles: []provision.Role{role(r)}}
		uin := r.Uin
		a.eng = &provision.Engine{CAM: cam, Progress: func(c *provision.Change) { progress(uin, c) }}
		byUin[r.Uin] = a
		keyed = append(keyed, a)
	}
	return keyed, keyless, nil
}

// checkAccount makes sure cred are keys of account uin, before any change.
// GetCallerIdentity's AccountId is "当前调用者所属主账号Uin" (the uin of the
// caller's root account, for a sub-user's or a role session's keys too:
// tencentcloud-sdk-go sts/v20180813 GetCallerIdentityResponseParams).
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

// targetPlans plans each account's roles (delete: their removal).
func targetPlans(ctx context.Context, accts []*targetAccount, deleting bool) error {
	for _, a := range accts {
		var err error
		d := provision.Desired{Roles: a.roles}
		if deleting {
			a.plan, err = a.eng.PlanDelete(ctx, d)
		} else {
			a.plan, err = a.eng.Plan(ctx, d)
		}
		if err != nil {
			return fmt.Errorf("target account %s: %w", a.uin, err)
		}
	}
	return nil
}

// write prints the account's section of the plan, each line naming it.
func (a *targetAccount) write(w io.Writer) {
	names := make([]string, len(a.roles))
	for i, r := range a.roles {
		names[i] = r.Name
	}
	p := targetEnvPrefix(a.uin)
	fmt.Fprintf(w, "target account %s (its own keys, %sSECRET_ID): role %s\n", a.uin, p, strings.Join(names, ", "))
	for _, n := range a.plan.Notes {
		fmt.Fprintf(w, "account %s: note: %s\n", a.uin, n)
	}
	for _, c := range a.plan.Changes {
		fmt.Fprintf(w, "account %s: %s\n", a.uin, c)
		for _, d := range c.Details {
			fmt.Fprintf(w, "    %s\n", d)
		}
	}
	if a.plan.Empty() {
		fmt.Fprintf(w, "account %s: no changes\n", a.uin)
	} else {
		fmt.Fprintf(w, "account %s: %d change(s)\n", a.uin, len(a.plan.Changes))
	}
}

// writeKeylessDelete says what delete leaves in accounts without keys.
func writeKeylessDelete(w io.Writer, keyless []provision.TargetRole) {
	for _, r := range keyless {
		p := targetEnvPrefix(r.Uin)
		fmt.Fprintf(w, "target account %s: no keys (%sSECRET_ID, %sSECRET_KEY): its role %s, if any, is left; delete it signed in to that account "+
			"(tccli cam DetachRolePolicy, DeletePolicy %sPolicy, DeleteRole)\n", r.Uin, p, p, r.Name, r.Name)
	}
}
