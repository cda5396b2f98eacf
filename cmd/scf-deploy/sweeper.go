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

	"github.com/scf-janitor/scf-janitor/shared/deploy"
	"github.com/scf-janitor/scf-janitor/shared/provision"
)

// sweeperHandler is the sweeper's executable: the function whose role gets
// the derived policy.
const sweeperHandler = "sweep-tasks"

// targetRoleFile is the permission policy of a target account's role.
const targetRoleFile = "JanitorSweepTargetRole.json"

var reUin = regexp.MustCompile(`^[0-9]{1,20}$`)

// targetSetup is what the target accounts of JANITOR_SWEEP_ROLES must
// create themselves: scf-deploy holds the sweeper account's keys only.
type targetSetup struct {
	sweeperUin, sweeperRole string
	roles                   []provision.TargetRole
	trust, policy           string // compact JSON
}

// sweeperPolicies derives the policy of the sweeper's role in roles (in
// place) from its resolved environment: AssumeRole on exactly
// JANITOR_SWEEP_ROLES, InvokeFunction on itself with JANITOR_SWEEP_FANOUT=async.
// uin returns the sweeper account's uin (asked only when needed). It returns
// what the target accounts need, or nil without roles.
func sweeperPolicies(ctx context.Context, root, region, namespace string, selected []deploy.Function, roles []provision.Role,
	uin func(ctx context.Context) (string, error)) (*targetSetup, error) {
	var sweeper *deploy.Function
	for i := range selected {
		if selected[i].Handler == sweeperHandler {
			sweeper = &selected[i]
		}
	}
	if sweeper == nil || sweeper.Role == "" {
		return nil, nil
	}
	var rolesVar, fanout string
	for _, kv := range sweeper.Env {
		switch kv.Key {
		case "JANITOR_SWEEP_ROLES":
			rolesVar = kv.Value
		case "JANITOR_SWEEP_FANOUT":
			fanout = strings.ToLower(strings.TrimSpace(kv.Value))
		}
	}
	targets, err := provision.ParseTargetRoles(rolesVar)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", sweeper.Name, err)
	}
	var account string
	if len(targets) > 0 || fanout == "async" {
		if account, err = uin(ctx); err != nil {
			return nil, err
		}
	}
	invoke := ""
	if fanout == "async" {
		invoke = provision.FunctionResource(region, account, namespace, sweeper.Name)
	}
	for i := range roles {
		if roles[i].Name != sweeper.Role {
			continue
		}
		if roles[i].Policy, err = provision.SweeperPolicy(roles[i].Policy, targets, invoke); err != nil {
			return nil, fmt.Errorf("role %s: %w", roles[i].Name, err)
		}
		for _, t := range targets {
			roles[i].PolicyNotes = append(roles[i].PolicyNotes, provision.ActionAssumeRole+" on "+t.Arn+" (JANITOR_SWEEP_ROLES)")
		}
		if invoke != "" {
			roles[i].PolicyNotes = append(roles[i].PolicyNotes, provision.ActionInvokeFunction+" on "+invoke+" (JANITOR_SWEEP_FANOUT=async)")
		}
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

// write prints, for each target account, the role to create there and how.
func (ts *targetSetup) write(w io.Writer) {
	if ts == nil {
		return
	}
	fmt.Fprintf(w, "target accounts: scf-deploy cannot create their roles (it has this account's keys only); in each account below, create:\n")
	for _, r := range ts.roles {
		policyName := r.Name + "Policy"
		fmt.Fprintf(w, "  account %s: role %s, trusted by qcs::cam::uin/%s:roleName/%s, with policy %s (deploy/cam/%s)\n",
			r.Uin, r.Name, ts.sweeperUin, ts.sweeperRole, policyName, targetRoleFile)
		fmt.Fprintf(w, "    tccli cam CreateRole --RoleName %s --PolicyDocument '%s'\n", r.Name, ts.trust)
		fmt.Fprintf(w, "    tccli cam CreatePolicy --PolicyName %s --PolicyDocument '%s'\n", policyName, ts.policy)
		fmt.Fprintf(w, "    tccli cam AttachRolePolicy --AttachRoleName %s --PolicyName %s\n", r.Name, policyName)
	}
}
