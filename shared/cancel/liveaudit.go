package cancel

import (
	"context"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// LiveAuditRequest is the request of cancel-live-audit. Bucket and Region
// default to JANITOR_CI_BUCKET and JANITOR_CI_REGION.
type LiveAuditRequest struct {
	JobId  string
	Bucket string // examplebucket-1250000000
	Region string // ap-beijing
}

// JobsDetail describes the cancelled live moderation job.
type JobsDetail struct {
	DataId       string
	JobId        string
	CreationTime string
}

// LiveAuditResult is the answer of cancel-live-audit.
type LiveAuditResult struct {
	JobsDetail JobsDetail
	RequestId  string
}

// NewCancelLiveAudit returns the cancel-live-audit handler: it cancels a
// Cloud Infinite live-stream moderation job (POST /video/cancel_auditing/<id>).
// opts.COSSigner signs the requests (cossign.Transport).
func NewCancelLiveAudit(opts Options) *Handler {
	return newHandler(FunctionCancelLiveAudit, liveAuditJob{}, opts)
}

type liveAuditJob struct{}

const liveAuditExample = `{"JobId":"av14d9ca15af3a11eea6f4525400b5aa5f","Bucket":"examplebucket-1250000000","Region":"ap-beijing"}`

var liveAuditFields = []string{"JobId", "Bucket", "Region"}

func (liveAuditJob) example() string { return liveAuditExample }

// ParseLiveAuditRequest parses and validates a cancel-live-audit request body,
// taking Bucket and Region from getenv (JANITOR_CI_BUCKET, JANITOR_CI_REGION)
// when the body has none. A non-nil error is an *Error (400, or 500 for an
// invalid setting).
func ParseLiveAuditRequest(body []byte, getenv func(string) string) (LiveAuditRequest, error) {
	return withError(parseLiveAuditRequest(body, getenv))
}

func parseLiveAuditRequest(body []byte, getenv func(string) string) (LiveAuditRequest, *Error) {
	var w struct {
		JobId  *string
		Bucket *string
		Region *string
	}
	if e := decodeObject(body, &w, liveAuditFields, liveAuditExample); e != nil {
		return LiveAuditRequest{}, e
	}
	id, e := liveJobID.check(w.JobId, "send the JobId of the live moderation job to cancel, such as "+liveAuditExample)
	if e != nil {
		return LiveAuditRequest{}, e
	}
	bucket, e := resolve("Bucket", optString(w.Bucket), ciBucketRule.env, getenv, ciBucketRule.valid, ciBucketRule.want)
	if e != nil {
		return LiveAuditRequest{}, e
	}
	region, e := resolve("Region", optString(w.Region), ciRegionRule.env, getenv, ciRegionRule.valid, ciRegionRule.want)
	if e != nil {
		return LiveAuditRequest{}, e
	}
	return LiveAuditRequest{JobId: id, Bucket: bucket, Region: region}, nil
}

// resolve takes a field from the request, else from the setting env; a bad
// request value is a 400, a bad setting a 500, neither a 400 naming both.
func resolve(field, value, env string, getenv func(string) string, valid func(string) bool, want string) (string, *Error) {
	if value = strings.TrimSpace(value); value != "" {
		if !valid(value) {
			return "", badRequest(CodeInvalidParameterValue, "%s %q is not valid: want %s", field, oneLine(value, 64), want)
		}
		return value, nil
	}
	value = strings.TrimSpace(getenv(env))
	if value == "" {
		return "", badRequest(CodeMissingParameter, "%s is required: send it in the request (%s) or set %s on the function", field, want, env)
	}
	if !valid(value) {
		// Named, never echoed: the variable may hold something pasted there by mistake.
		return "", configError("%s is not valid (value not shown): set it to %s", env, want)
	}
	return value, nil
}

func (liveAuditJob) prepare(body []byte, getenv func(string) string) (*prepared, *Error) {
	req, e := parseLiveAuditRequest(body, getenv)
	if e != nil {
		return nil, e
	}
	t := target{what: "live audit job", id: req.JobId, where: "bucket " + req.Bucket + " (" + req.Region + ")",
		fields: "JobId, Bucket and Region", permission: "ci:CancelAuditingJobs and ci:DescribeAuditingJobs on bucket " + req.Bucket}
	return &prepared{
		id:     req.JobId,
		target: t,
		send: func(ctx context.Context, c clients, cred tcapi.Credentials, env sendEnv) (any, string, int64, error) {
			o := env.opts
			ci, err := c.ci(cred, tcapi.CIOptions{Bucket: req.Bucket, Region: req.Region, Endpoint: env.base.CIEndpoint,
				Limiters: o.Limiters, MaxAttempts: o.MaxAttempts, BaseDelay: o.BaseDelay, MaxDelay: o.MaxDelay, Timeout: o.Timeout, Rand: o.Rand,
				Signer: o.COSSigner})
			if err != nil {
				return nil, "", 0, configError("ci client: %v", err)
			}
			resp, err := ci.CancelLiveAudit(ctx, req.JobId)
			if err != nil {
				n := attemptsOf(ci, err)
				if worthLookingUp(ctx, err) {
					j, lerr := ci.GetLiveAudit(ctx, req.JobId)
					ended, running := liveAuditState(j.State)
					if s, ok := lookupState(j.State, ended, running, j.RequestId, lerr); ok {
						if e := fromState(err, s, t, CodeJobEnded); e != nil {
							return nil, "", n, e
						}
					}
				}
				return nil, "", n, err
			}
			d := resp.JobsDetail
			if d.JobId == "" {
				d.JobId = req.JobId
			}
			return LiveAuditResult{JobsDetail: JobsDetail{DataId: d.DataId, JobId: d.JobId, CreationTime: d.CreationTime}, RequestId: resp.RequestId},
				resp.RequestId, attemptsOf(ci, nil), nil
		},
	}, nil
}
