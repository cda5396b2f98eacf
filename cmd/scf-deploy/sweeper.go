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

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
)

// sweeperHandler is the sweeper's executable: the function whose role gets
// the derived policy.
const sweeperHandler = provision.SweeperHandler

// targetRoleFile is the permission policy of a target account's role.
const targetRoleFile = "JanitorSweepTargetRole.json"

var reUin = regexp.MustCompile(`^[0-9]{1,20}$`)

// targetSetup is what the target accounts of JANITOR_SWEEP_ROLES need; roles
// are, after targetAccounts, those whose keys scf-deploy does not have (it
// prints what to create there).
type targetSetup struct {
	sweeperUin, sweeperRole string
	roles                   []provision.TargetRole
	trust, policy           string // compact JSON
}

// sweeperPolicies derives the policy of the sweeper's role in roles (in
// place) from its resolved environment: AssumeRole on exactly
// JANITOR_SWEEP_ROLES, InvokeFunction on itself with JANITOR_SWEEP_FANOUT=async,
// cos:PutObject under the report archive's prefix with JANITOR_REPORT_BUCKET.
// uin returns the sweeper account's uin (asked only when needed). It returns
// what the target accounts need, or nil without roles.
func sweeperPolicies(ctx context.Context, root, region, namespace string, selected []deploy.Function, roles []provision.Role,
	uin func(ctx context.Context) (string, error)) (*targetSetup, error) {
	sweeper := sweeperFunction(selected)
	if sweeper == nil {
		return nil, nil
	}
	env := map[string]string{}
	for _, kv := range sweeper.Env {
		env[kv.Key] = kv.Value
	}
	targets, fanout, err := provision.SweeperSettings(func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	var account string
	if len(targets) > 0 || fanout {
		if account, err = uin(ctx); err != nil {
			return nil, err
		}
	}
	invoke := ""
	if fanout {
		invoke = provision.FunctionResource(region, account, namespace, sweeper.Name)
	}
	if err := provision.DeriveSweeperRole(roles, sweeper.Role, targets, invoke); err != nil {
		return nil, err
	}
	archive, err := provision.SweeperArchive(func(k string) string { return env[k] }, region)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	if err := provision.DeriveSweeperArchive(roles, sweeper.Role, archive); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, nil
	}
	camDir := filepath.Join(root, "deploy", "cam")
	trust, err := os.ReadFile(filepath.Join(camDir, "trust-sweeper.json"))
	if err != nil {
		return nil, fmt.Errorf("the target accounts' trust policy: %w", err)
	}
	policy, err := os.ReadFile(filepath.Join(camDir, targetRoleFile))
	if err != nil {
		return nil, fmt.Errorf("the target accounts' permission policy: %w", err)
	}
	ts := &targetSetup{sweeperUin: account, sweeperRole: sweeper.Role, roles: targets}
	if ts.trust, err = compactJSON(provision.TargetTrustPolicy(string(trust), account, sweeper.Role)); err != nil {
		return nil, fmt.Errorf("deploy/cam/trust-sweeper.json: %w", err)
	}
	if ts.policy, err = compactJSON(string(policy)); err != nil {
		return nil, fmt.Errorf("deploy/cam/%s: %w", targetRoleFile, err)
	}
	return ts, nil
}

func compactJSON(s string) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkUin validates --sweeper-uin.
func checkUin(v string) error {
	if v != "" && !reUin.MatchString(v) {
		return fmt.Errorf("--sweeper-uin %q: want the sweeper account's uin, digits only (such as 100000000001)", v)
	}
	return nil
}

// role is the desired role r in a target account: trust-sweeper.json filled
// in, JanitorSweepTargetRole.json's permissions.
func (ts *targetSetup) role(r provision.TargetRole) provision.Role {
	return provision.Role{Name: r.Name, TrustPolicy: ts.trust, Policy: ts.policy,
		TrustNote:    fmt.Sprintf("trusted by qcs::cam::uin/%s:roleName/%s (deploy/cam/trust-sweeper.json)", ts.sweeperUin, ts.sweeperRole),
		PolicySource: "deploy/cam/" + targetRoleFile}
}

// write prints, for each target account without keys, the role to create
// there and how.
func (ts *targetSetup) write(w io.Writer) {
	if ts == nil || len(ts.roles) == 0 {
		return
	}
	fmt.Fprintf(w, "target accounts: scf-deploy cannot create their roles (no keys for them: set JANITOR_TARGET_<UIN>_SECRET_ID and _SECRET_KEY to let it); in each account below, create:\n")
	for _, r := range ts.roles {
		policyName := r.Name + "Policy"
		fmt.Fprintf(w, "  account %s: role %s, trusted by qcs::cam::uin/%s:roleName/%s, with policy %s (deploy/cam/%s)\n",
			r.Uin, r.Name, ts.sweeperUin, ts.sweeperRole, policyName, targetRoleFile)
		fmt.Fprintf(w, "    tccli cam CreateRole --RoleName %s --PolicyDocument '%s'\n", r.Name, ts.trust)
		fmt.Fprintf(w, "    tccli cam CreatePolicy --PolicyName %s --PolicyDocument '%s'\n", policyName, ts.policy)
		fmt.Fprintf(w, "    tccli cam AttachRolePolicy --AttachRoleName %s --PolicyName %s\n", r.Name, policyName)
	}
}
