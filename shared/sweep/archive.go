package sweep

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The report archive: after each run (dry runs too) the full JSON report is
// written to COS (PUT Object, cloud.tencent.com/document/product/436/7749)
// as <prefix><YYYY>/<MM>/<DD>/<UTC start, RFC 3339 basic>-<request id>.json,
// with the invocation's own role credentials.

// ReportArchive says where the reports are kept (JANITOR_REPORT_*); the
// zero Bucket turns the archive off. These are the function's settings: a
// run cannot override them (the CAM policy grants exactly this place).
type ReportArchive struct {
	Bucket   string // JANITOR_REPORT_BUCKET: <name>-<appid>
	Region   string // JANITOR_REPORT_REGION: "" = the function's region
	Prefix   string // JANITOR_REPORT_PREFIX: DefaultReportPrefix when unset
	Endpoint string // JANITOR_COS_ENDPOINT: base URL override ("" = https://<bucket>.cos.<region>.myqcloud.com)
}

// DefaultReportPrefix is JANITOR_REPORT_PREFIX's default.
const DefaultReportPrefix = "scf-janitor/sweeps/"

// DefaultArchiveBudget is the longest time kept at the end of a run for
// writing the report (at most a quarter of the time left), before the
// notification's own budget.
const DefaultArchiveBudget = 10 * time.Second

// reportContentType is the archived object's Content-Type.
const reportContentType = "application/json"

// maxPrefix bounds JANITOR_REPORT_PREFIX, leaving room in COS's key length
// for the date, time and request id.
const maxPrefix = 200

// archiveSettings declare the JANITOR_REPORT_* settings and
// JANITOR_COS_ENDPOINT: the function's alone (the sweeper's CAM policy
// allows writing reports only where they say), so a per-run override of
// any of them is refused.
var archiveSettings = []*setting{
	archiveSetting("JANITOR_REPORT_BUCKET", "reportBucket", func(s *Settings) any { return &s.Archive.Bucket }),
	archiveSetting("JANITOR_REPORT_REGION", "reportRegion", func(s *Settings) any { return &s.Archive.Region }),
	archiveSetting("JANITOR_REPORT_PREFIX", "reportPrefix", func(s *Settings) any { return &s.Archive.Prefix }),
	{env: "JANITOR_COS_ENDPOINT", key: "cosEndpoint", field: func(s *Settings) any { return &s.Archive.Endpoint },
		fromEnv: func(st *setting, g config.Getenv, s *Settings) (err error) {
			s.Archive.Endpoint, err = config.URL(g, st.env)
			return err
		},
		fromJSON: refuseArchiveOverride},
}

func archiveSetting(env, key string, field func(*Settings) any) *setting {
	return &setting{env: env, key: key, field: field,
		fromEnv: func(st *setting, g config.Getenv, s *Settings) error {
			if v := strings.TrimSpace(g(st.env)); v != "" {
				*st.field(s).(*string) = v
			}
			return nil
		},
		fromJSON: refuseArchiveOverride}
}

func refuseArchiveOverride(st *setting, _ json.RawMessage, _ *Settings) error {
	return fmt.Errorf("is set on the function (%s), not per run: the sweeper's CAM policy allows writing reports only there", st.env)
}

// prefix is Prefix or its default.
func (a ReportArchive) prefix() string { return cmp.Or(a.Prefix, DefaultReportPrefix) }

// validateArchive checks the archive settings (nothing when the bucket is
// unset: the others are then unused).
func (s Settings) validateArchive() []error {
	a := s.Archive
	if a.Bucket == "" {
		return nil
	}
	var errs []error
	if _, err := tcapi.ParseBucket(a.Bucket); err != nil {
		errs = append(errs, fmt.Errorf("reportBucket (JANITOR_REPORT_BUCKET) %w", err))
	}
	if a.Region != "" && !tcapi.ValidRegion(a.Region) {
		errs = append(errs, fmt.Errorf("reportRegion (JANITOR_REPORT_REGION) %q: want a Tencent Cloud region such as ap-guangzhou (unset: the function's region)", a.Region))
	}
	p := a.prefix()
	bad := strings.HasPrefix(p, "/") || strings.Contains(p, "*") || len(p) > maxPrefix ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f })
	if bad {
		errs = append(errs, fmt.Errorf("reportPrefix (JANITOR_REPORT_PREFIX) %q: want a key prefix such as %s: not starting with /, without * or control characters, at most %d bytes",
			p, DefaultReportPrefix, maxPrefix))
	}
	return errs
}

// ReportKey is the object key of a run's report: prefix, the run's start
// date in UTC as YYYY/MM/DD/, its start time in RFC 3339 basic format
// (20261207T231541Z), "-", the request id and ".json".
func ReportKey(prefix string, start time.Time, requestID string) string {
	t := start.UTC()
	return prefix + t.Format("2006/01/02/") + t.Format("20060102T150405Z") + "-" + requestID + ".json"
}

// archiveRun is one run's archive: where its report goes and the time kept
// for writing it.
type archiveRun struct {
	a       ReportArchive
	region  string
	key     string
	budget  time.Duration
	cos     *tcapi.COS
	initErr error // the client could not be built: the run's ReportError
}

// planArchive prepares the archive of a run starting now; nil when the
// bucket is unset.
func (h *Handler) planArchive(ctx context.Context, set Settings, base config.Base, cred tcapi.Credentials) *archiveRun {
	a := set.Archive
	if a.Bucket == "" {
		return nil
	}
	run := &archiveRun{a: a, region: cmp.Or(a.Region, base.Region), budget: archiveBudget(ctx)}
	var requestID string
	if fc, ok := scf.FromContext(ctx); ok {
		requestID = fc.RequestID
	}
	if requestID == "" { // a call outside SCF: any unique name
		var b [8]byte
		_, _ = rand.Read(b[:])
		requestID = "local-" + hex.EncodeToString(b[:])
	}
	run.key = ReportKey(a.prefix(), h.now(), requestID)
	switch {
	case h.opts.COSSigner == nil:
		run.initErr = errors.New("sweep-tasks was built without a COS signer (HandlerOptions.COSSigner): the report cannot be written")
	case run.region == "":
		run.initErr = errors.New("the report bucket's region is unknown: set JANITOR_REPORT_REGION (the function's region is not set either)")
	default:
		run.cos, run.initErr = tcapi.NewCOS(cred, tcapi.COSOptions{Bucket: a.Bucket, Region: run.region, Endpoint: a.Endpoint,
			Transport: h.opts.Transport, Signer: h.opts.COSSigner})
	}
	return run
}

// archiveBudget is the time kept for the report: DefaultArchiveBudget, at
// most a quarter of the time left.
func archiveBudget(ctx context.Context) time.Duration {
	b := DefaultArchiveBudget
	if dl, ok := ctx.Deadline(); ok {
		b = min(b, time.Until(dl)/4)
	}
	return b
}

// write stores rep; a failure is rep.ReportError (redacted by tcapi: never
// a key or token) and a warning, and changes nothing else in rep.
func (run *archiveRun) write(ctx context.Context, rep *Report, log *slog.Logger) {
	err := run.initErr
	if err == nil {
		var body []byte
		if body, err = json.Marshal(rep); err == nil {
			var res tcapi.PutObjectResult
			res, err = run.cos.PutObject(ctx, run.key, body, reportContentType)
			if err == nil {
				log.InfoContext(ctx, "report archived", slog.String("bucket", run.a.Bucket), slog.String("region", run.region),
					slog.String("key", run.key), slog.Int("bytes", len(body)), slog.String("cos_request_id", res.RequestID))
				return
			}
		}
	}
	rep.ReportError = fmt.Sprintf("report not archived to cos://%s/%s: %v", run.a.Bucket, run.key, err)
	log.WarnContext(ctx, "report not archived", slog.String("error", rep.ReportError))
}

// reserveTails gives the sweep a context that ends early enough for the
// report's write and then the notification (each has its own budget, as
// notifyBudget keeps the notification's), and the archive a context that
// ends before the notification's budget. cancel releases both.
func reserveTails(ctx context.Context, notifyBudget time.Duration, run *archiveRun) (sweepCtx, archiveCtx context.Context, cancel context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx, ctx, func() {}
	}
	archiveCtx, cancelArchive := ctx, context.CancelFunc(func() {})
	if run != nil {
		archiveCtx, cancelArchive = context.WithDeadline(ctx, dl.Add(-notifyBudget))
		notifyBudget += run.budget
	}
	sweepCtx, cancelSweep := ctx, context.CancelFunc(func() {})
	if notifyBudget > 0 {
		sweepCtx, cancelSweep = context.WithDeadline(ctx, dl.Add(-notifyBudget))
	}
	return sweepCtx, archiveCtx, func() { cancelSweep(); cancelArchive() }
}

func (h *Handler) now() time.Time {
	if h.opts.Now != nil {
		return h.opts.Now()
	}
	return time.Now()
}
