package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// The sweeper's report archive settings. Against the emulator an unset
// bucket is localReportBucket, so the archive works out of the box (the
// reports are under /_emulator/cos/<bucket>/).
const (
	envReportBucket   = "JANITOR_REPORT_BUCKET"
	envReportRegion   = "JANITOR_REPORT_REGION" // default: the functions' region
	localReportBucket = "scf-janitor-reports-" + localAppID
)

// reportBuckets are the COS buckets the sweepers write their reports to.
func (rc *runtimeConfig) reportBuckets() []emulator.Bucket {
	var out []emulator.Bucket
	for _, fn := range rc.cfg.Functions {
		if fn.Handler != provision.SweeperHandler {
			continue
		}
		env := rc.effectiveEnv(fn)
		b := emulator.Bucket{Name: env[envReportBucket], Region: cmp.Or(env[envReportRegion], rc.region())}
		if b.Name != "" && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// ensureReportBuckets creates each report bucket in the emulator at emuURL
// (PUT /_emulator/cos/<bucket>?region=<region>; an existing one is kept).
func ensureReportBuckets(ctx context.Context, emuURL string, buckets []emulator.Bucket) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, b := range buckets {
		u := emuURL + "/_emulator/cos/" + url.PathEscape(b.Name) + "?region=" + url.QueryEscape(b.Region)
		if err := emulatorCall(ctx, http.MethodPut, u, nil, nil); err != nil {
			return fmt.Errorf("create the report bucket %s in the emulator: %w", b.Name, err)
		}
	}
	return nil
}

// reportsLine is the banner's line about the reports ("" without a bucket).
func reportsLine(rc *runtimeConfig, emuURL string) string {
	bs := rc.reportBuckets()
	if len(bs) == 0 {
		return ""
	}
	return fmt.Sprintf("reports:   sweep-tasks keeps each run's report in COS bucket %s (%s): curl %s/_emulator/cos/%s/",
		bs[0].Name, bs[0].Region, emuURL, bs[0].Name)
}
