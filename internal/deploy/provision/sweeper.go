package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The sweeper's policy is derived from what is deployed: its base
// permissions (deploy/cam/<role>.json) plus
//
//   - name/sts:AssumeRole on exactly the role ARNs of JANITOR_SWEEP_ROLES,
//     and no such statement without roles;
//   - scf:InvokeFunction on the sweeper itself
//     (qcs::scf:<region>:uin/<uin>:namespace/<ns>/function/<name>) only
//     with JANITOR_SWEEP_FANOUT=async.
//
// The action spellings are those of CAM's documentation: "name/sts:AssumeRole"
// for assuming a role (intl.cloud.tencent.com/document/product/598/19422,
// whose resource is the role's qcs::cam::uin/<uin>:roleName/<name>) and
// "scf:InvokeFunction" on a function's six-segment resource (SCF's CAM
// documentation). Statements of the base document with either action are
// replaced, so the derived policy never grants more than the yml asks for.

// Actions the derivation owns.
const (
	ActionAssumeRole     = "name/sts:AssumeRole"
	ActionInvokeFunction = "scf:InvokeFunction"
)

// SweeperHandler is the sweeper's executable (Go1 handler): the function
// whose role gets the derived policy.
const SweeperHandler = "sweep-tasks"

// SweeperSettings reads what the sweeper's resolved environment (lookup of
// a variable, "" when unset) asks of its policy: the roles of
// JANITOR_SWEEP_ROLES, and fanout when JANITOR_SWEEP_FANOUT is async.
// They are read through the function's own settings table
// (sweep.SweepPolicyInputs), so a value the function refuses is refused here.
func SweeperSettings(lookup func(key string) string) (targets []TargetRole, fanout bool, err error) {
	roles, fanout, err := sweep.SweepPolicyInputs(lookup)
	if err != nil {
		return nil, false, err
	}
	targets, err = ParseTargetRoles(strings.Join(roles, ","))
	return targets, fanout, err
}

// DeriveSweeperRole replaces, in roles, the policy of the sweeper's role
// (named role) with SweeperPolicy(its policy, targets, invoke) and lists the
// derived statements in its PolicyNotes.
func DeriveSweeperRole(roles []Role, role string, targets []TargetRole, invoke string) error {
	for i := range roles {
		if roles[i].Name != role {
			continue
		}
		var err error
		if roles[i].Policy, err = SweeperPolicy(roles[i].Policy, targets, invoke); err != nil {
			return fmt.Errorf("role %s: %w", roles[i].Name, err)
		}
		for _, t := range targets {
			roles[i].PolicyNotes = append(roles[i].PolicyNotes, ActionAssumeRole+" on "+t.Arn+" ("+sweep.EnvSweepRoles+")")
		}
		if invoke != "" {
			roles[i].PolicyNotes = append(roles[i].PolicyNotes, ActionInvokeFunction+" on "+invoke+" ("+sweep.EnvSweepFanout+"=async)")
		}
	}
	return nil
}

// TargetRole is a role of another account the sweeper assumes.
type TargetRole struct {
	Arn, Uin, Name string
}

// ParseTargetRoles reads JANITOR_SWEEP_ROLES (comma-separated role ARNs,
// tcapi.ParseRoleARN, the parser the sweeper uses). Every malformed entry
// is reported, with the form wanted. A role given by its id
// (qcs::cam::uin/<uin>:role/<id>), which the sweeper can assume, is refused
// here: scf-deploy grants name/sts:AssumeRole on the role's
// qcs::cam::uin/<uin>:roleName/<name>, the resource CAM documents for it
// (intl.cloud.tencent.com/document/product/598/19422), and creates a
// target account's role by its name.
func ParseTargetRoles(list string) ([]TargetRole, error) {
	var out []TargetRole
	var bad, byID []string
	seen := map[string]bool{}
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		r, err := tcapi.ParseRoleARN(v)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%q", v))
		case r.Name == "":
			byID = append(byID, fmt.Sprintf("%q", v))
		default:
			out = append(out, TargetRole{Arn: v, Uin: r.Uin, Name: r.Name})
		}
	}
	var errs []error
	if len(bad) > 0 {
		errs = append(errs, fmt.Errorf("%s: %s: want role ARNs such as qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole "+
			"(the account's uin in digits, then roleName/ and the role's name), comma-separated", sweep.EnvSweepRoles, strings.Join(bad, ", ")))
	}
	if len(byID) > 0 {
		errs = append(errs, fmt.Errorf("%s: %s: give the role by its name (qcs::cam::uin/<uin>:roleName/<name>): "+
			"scf-deploy grants the sweeper name/sts:AssumeRole on that resource, the form CAM documents, and creates target roles by name", sweep.EnvSweepRoles, strings.Join(byID, ", ")))
	}
	return out, errors.Join(errs...)
}

// FunctionResource is a function's CAM resource description.
func FunctionResource(region, uin, namespace, name string) string {
	if namespace == "" {
		namespace = "default"
	}
	return fmt.Sprintf("qcs::scf:%s:uin/%s:namespace/%s/function/%s", region, uin, namespace, name)
}

type policyDoc struct {
	Version   string           `json:"version"`
	Statement []map[string]any `json:"statement"`
}

// SweeperPolicy returns base with the derived statements: AssumeRole on
// roles (none: no statement) and InvokeFunction on invoke (a function
// resource; "": no statement).
func SweeperPolicy(base string, roles []TargetRole, invoke string) (string, error) {
	var d policyDoc
	if err := json.Unmarshal([]byte(base), &d); err != nil {
		return "", fmt.Errorf("the sweeper's policy document: %w", err)
	}
	kept := d.Statement[:0]
	for _, st := range d.Statement {
		if !grants(st, ActionAssumeRole) && !grants(st, ActionInvokeFunction) {
			kept = append(kept, st)
		}
	}
	d.Statement = kept
	if len(roles) > 0 {
		arns := make([]string, len(roles))
		for i, r := range roles {
			arns[i] = r.Arn
		}
		d.Statement = append(d.Statement, map[string]any{"effect": "allow", "action": []string{ActionAssumeRole}, "resource": arns})
	}
	if invoke != "" {
		d.Statement = append(d.Statement, map[string]any{"effect": "allow", "action": []string{ActionInvokeFunction}, "resource": []string{invoke}})
	}
	if len(d.Statement) == 0 {
		return "", fmt.Errorf("the sweeper's policy document grants nothing else: keep its ams/vm statement")
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// grants reports whether a statement names action (as a string or in a list).
func grants(st map[string]any, action string) bool {
	switch a := st["action"].(type) {
	case string:
		return a == action
	case []any:
		for _, v := range a {
			if v == action {
				return true
			}
		}
	}
	return false
}

// TargetTrustPolicy fills a target role's trust policy template
// (deploy/cam/trust-sweeper.json) with the sweeper's account uin and role
// name (${SWEEPER_UIN}, ${SWEEPER_ROLE}).
func TargetTrustPolicy(template, sweeperUin, sweeperRole string) string {
	return strings.NewReplacer("${SWEEPER_UIN}", sweeperUin, "${SWEEPER_ROLE}", sweeperRole).Replace(template)
}
