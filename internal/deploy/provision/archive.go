package provision

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The sweeper's report archive (JANITOR_REPORT_BUCKET) is granted as
// AssumeRole is: name/cos:PutObject on exactly
// qcs::cos:<region>:uid/<appid>:<bucket>/<prefix>*, the form of COS's own
// policy examples ("Working with COS API Authorization Policies",
// cloud.tencent.com/document/product/436/31923, which grants uploads under
// a prefix as .../examplebucket-1250000000/doc/*), and nothing without a
// bucket. Statements of the base document granting cos:PutObject are
// replaced, so the policy never grants more than the yml asks for.

// ActionPutObject is COS's simple upload, as CAM policies spell it.
const ActionPutObject = "name/cos:PutObject"

// ReportArchive is where the sweeper keeps its reports.
type ReportArchive struct {
	Bucket, Region, Prefix string
}

// SweeperArchive reads the sweeper's JANITOR_REPORT_BUCKET,
// JANITOR_REPORT_REGION (default region: the function's) and
// JANITOR_REPORT_PREFIX (default sweep.DefaultReportPrefix) from its
// resolved environment; the zero ReportArchive when no bucket is set.
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

// Resource is the CAM resource the sweeper may write to:
// qcs::cos:<region>:uid/<appid>:<bucket>/<prefix>*.
func (a ReportArchive) Resource() string {
	appID, _ := tcapi.ParseBucket(a.Bucket)
	return "qcs::cos:" + a.Region + ":uid/" + appID + ":" + a.Bucket + "/" + a.Prefix + "*"
}

// ArchivePolicy returns doc without its cos:PutObject statements, plus
// ActionPutObject on a.Resource() when a has a bucket.
func ArchivePolicy(doc string, a ReportArchive) (string, error) {
	var d policyDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return "", fmt.Errorf("the sweeper's policy document: %w", err)
	}
	kept := d.Statement[:0]
	for _, st := range d.Statement {
		if !grants(st, ActionPutObject) && !grants(st, strings.TrimPrefix(ActionPutObject, "name/")) {
			kept = append(kept, st)
		}
	}
	d.Statement = kept
	if a.Bucket != "" {
		d.Statement = append(d.Statement, map[string]any{"effect": "allow", "action": []string{ActionPutObject}, "resource": []string{a.Resource()}})
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// DeriveSweeperArchive applies ArchivePolicy to the policy of the sweeper's
// role (named role) in roles and notes the statement in its PolicyNotes.
// Call it after DeriveSweeperRole.
func DeriveSweeperArchive(roles []Role, role string, a ReportArchive) error {
	for i := range roles {
		if roles[i].Name != role {
			continue
		}
		var err error
		if roles[i].Policy, err = ArchivePolicy(roles[i].Policy, a); err != nil {
			return fmt.Errorf("role %s: %w", roles[i].Name, err)
		}
		if a.Bucket != "" {
			roles[i].PolicyNotes = append(roles[i].PolicyNotes, ActionPutObject+" on "+a.Resource()+" (JANITOR_REPORT_BUCKET)")
		}
	}
	return nil
}
