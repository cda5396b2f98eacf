package provision

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The sweeper's policy is its deploy/cam permissions plus statements derived
// from its resolved environment (docs/deploy.md): AssumeRole on
// JANITOR_SWEEP_ROLES (CAM doc 598/19422), InvokeFunction on itself with
// fan-out and PutObject under the report prefix (COS doc 436/31923).
const (
	ActionAssumeRole     = "name/sts:AssumeRole"
	ActionInvokeFunction = "scf:InvokeFunction"
	ActionPutObject      = "name/cos:PutObject"
)

// SweeperHandler is the sweeper's executable (Go1 handler).
const SweeperHandler = "sweep-tasks"

// SweeperSettings reads JANITOR_SWEEP_ROLES and whether JANITOR_SWEEP_FANOUT
// is async as the sweeper does (sweep.SweepPolicyInputs).
func SweeperSettings(lookup func(key string) string) (targets []TargetRole, fanout bool, err error) {
	roles, fanout, err := sweep.SweepPolicyInputs(lookup)
	if err != nil {
		return nil, false, err
	}
	targets, err = ParseTargetRoles(strings.Join(roles, ","))
	return targets, fanout, err
}

// DeriveSweeperRole applies SweeperPolicy to role in roles, with notes.
func DeriveSweeperRole(roles []Role, role string, targets []TargetRole, invoke string) error {
	var notes []string
	for _, t := range targets {
		notes = append(notes, ActionAssumeRole+" on "+t.Arn+" ("+sweep.EnvSweepRoles+")")
	}
	if invoke != "" {
		notes = append(notes, ActionInvokeFunction+" on "+invoke+" ("+sweep.EnvSweepFanout+"=async)")
	}
	return derive(roles, role, notes, func(doc string) (string, error) { return SweeperPolicy(doc, targets, invoke) })
}

// DeriveSweeperArchive applies ArchivePolicy to role in roles, with a note;
// call it after DeriveSweeperRole.
func DeriveSweeperArchive(roles []Role, role string, a ReportArchive) error {
	var notes []string
	if a.Bucket != "" {
		notes = append(notes, ActionPutObject+" on "+a.Resource()+" (JANITOR_REPORT_BUCKET)")
	}
	return derive(roles, role, notes, func(doc string) (string, error) { return ArchivePolicy(doc, a) })
}

func derive(roles []Role, role string, notes []string, policy func(string) (string, error)) error {
	for i := range roles {
		if roles[i].Name == role {
			var err error
			if roles[i].Policy, err = policy(roles[i].Policy); err != nil {
				return fmt.Errorf("role %s: %w", role, err)
			}
			roles[i].PolicyNotes = append(roles[i].PolicyNotes, notes...)
		}
	}
	return nil
}

// TargetRole is a role of another account the sweeper assumes.
type TargetRole struct {
	Arn, Uin, Name string
}

// ParseTargetRoles reads JANITOR_SWEEP_ROLES as the sweeper does
// (tcapi.ParseRoleARN) and reports every malformed entry. A role given by
// id is refused: AssumeRole is granted on roleName/<name> (CAM doc 598/19422).
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
	return fmt.Sprintf("qcs::scf:%s:uin/%s:namespace/%s/function/%s", region, uin, cmp.Or(namespace, "default"), name)
}

// SweeperPolicy returns base with the derived statements: AssumeRole on
// roles and InvokeFunction on invoke ("": none).
func SweeperPolicy(base string, roles []TargetRole, invoke string) (string, error) {
	var arns, fns []string
	for _, r := range roles {
		arns = append(arns, r.Arn)
	}
	if invoke != "" {
		fns = []string{invoke}
	}
	return replaceStatements(base, []string{ActionAssumeRole, ActionInvokeFunction}, true,
		grant{ActionAssumeRole, arns}, grant{ActionInvokeFunction, fns})
}

// ReportArchive is where the sweeper keeps its reports.
type ReportArchive struct {
	Bucket, Region, Prefix string
}

// SweeperArchive reads JANITOR_REPORT_BUCKET, _REGION (default region) and
// _PREFIX; the zero ReportArchive when no bucket is set.
func SweeperArchive(lookup func(key string) string, region string) (ReportArchive, error) {
	a := ReportArchive{Bucket: strings.TrimSpace(lookup("JANITOR_REPORT_BUCKET"))}
	if a.Bucket == "" {
		return ReportArchive{}, nil
	}
	a.Region = cmp.Or(strings.TrimSpace(lookup("JANITOR_REPORT_REGION")), region)
	a.Prefix = cmp.Or(strings.TrimSpace(lookup("JANITOR_REPORT_PREFIX")), sweep.DefaultReportPrefix)
	if _, err := tcapi.ParseBucket(a.Bucket); err != nil {
		return ReportArchive{}, fmt.Errorf("JANITOR_REPORT_BUCKET: %w", err)
	}
	if strings.Contains(a.Prefix, "*") || strings.HasPrefix(a.Prefix, "/") {
		return ReportArchive{}, fmt.Errorf("JANITOR_REPORT_PREFIX %q: want a key prefix such as %s, not starting with / and without * (the policy grants <prefix>*)",
			a.Prefix, sweep.DefaultReportPrefix)
	}
	if a.Region == "" {
		return ReportArchive{}, fmt.Errorf("JANITOR_REPORT_REGION: the report bucket's region is unknown: set it, or deploy with a region")
	}
	return a, nil
}

// Resource is qcs::cos:<region>:uid/<appid>:<bucket>/<prefix>*.
func (a ReportArchive) Resource() string {
	appID, _ := tcapi.ParseBucket(a.Bucket)
	return "qcs::cos:" + a.Region + ":uid/" + appID + ":" + a.Bucket + "/" + a.Prefix + "*"
}

// ArchivePolicy replaces doc's cos:PutObject statements with one on
// a.Resource() when a has a bucket.
func ArchivePolicy(doc string, a ReportArchive) (string, error) {
	var res []string
	if a.Bucket != "" {
		res = []string{a.Resource()}
	}
	return replaceStatements(doc, []string{ActionPutObject, strings.TrimPrefix(ActionPutObject, "name/")}, false, grant{ActionPutObject, res})
}

// grant is a statement to add: action on resources (none: no statement).
type grant struct {
	action    string
	resources []string
}

// replaceStatements drops doc's statements granting any of drop and adds
// the grants; needSome refuses a result that grants nothing.
func replaceStatements(doc string, drop []string, needSome bool, add ...grant) (string, error) {
	var d struct {
		Version   string           `json:"version"`
		Statement []map[string]any `json:"statement"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return "", fmt.Errorf("the sweeper's policy document: %w", err)
	}
	d.Statement = slices.DeleteFunc(d.Statement, func(st map[string]any) bool {
		return slices.ContainsFunc(drop, func(a string) bool { return grants(st, a) })
	})
	for _, g := range add {
		if len(g.resources) > 0 {
			d.Statement = append(d.Statement, map[string]any{"effect": "allow", "action": []string{g.action}, "resource": g.resources})
		}
	}
	if needSome && len(d.Statement) == 0 {
		return "", fmt.Errorf("the sweeper's policy document grants nothing else: keep its ams/vm statement")
	}
	b, err := json.MarshalIndent(d, "", "  ")
	return string(b), err
}

// grants reports whether a statement names action (as a string or in a list).
func grants(st map[string]any, action string) bool {
	switch a := st["action"].(type) {
	case string:
		return a == action
	case []any:
		return slices.Contains(a, any(action))
	}
	return false
}

// TargetTrustPolicy fills a target role's trust policy template
// (deploy/cam/trust-sweeper.json): ${SWEEPER_UIN} and ${SWEEPER_ROLE}.
func TargetTrustPolicy(template, sweeperUin, sweeperRole string) string {
	return strings.NewReplacer("${SWEEPER_UIN}", sweeperUin, "${SWEEPER_ROLE}", sweeperRole).Replace(template)
}
