package cancel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// TranscriptionRequest is the request of stop-transcription. SdkAppId and
// Region default to JANITOR_TRTC_SDKAPPID and JANITOR_TRTC_REGION (else
// TENCENTCLOUD_REGION).
type TranscriptionRequest struct {
	TaskId   string
	SdkAppId uint64
	Region   string // one of tcapi.TranscriptionRegions
}

// TranscriptionResult is the answer of stop-transcription.
type TranscriptionResult struct {
	TaskId    string
	RequestId string
}

// NewStopTranscription returns the stop-transcription handler: it stops a
// TRTC cloud transcription task with DeleteCloudTranscription.
func NewStopTranscription(opts Options) *Handler {
	return newHandler(FunctionStopTranscription, transcriptionJob{}, opts)
}

type transcriptionJob struct{}

const transcriptionExample = `{"TaskId":"<TaskId from CreateCloudTranscription>","SdkAppId":1400000000,"Region":"ap-guangzhou"}`

var transcriptionFields = []string{"TaskId", "SdkAppId", "Region"}

func (transcriptionJob) example() string { return transcriptionExample }

// ParseTranscriptionRequest parses and validates a stop-transcription request
// body, taking defaults from getenv. A non-nil error is an *Error (400, or
// 500 for an invalid setting).
func ParseTranscriptionRequest(body []byte, getenv func(string) string) (TranscriptionRequest, error) {
	return withError(parseTranscriptionRequest(body, getenv))
}

func parseTranscriptionRequest(body []byte, getenv func(string) string) (TranscriptionRequest, *Error) {
	var w struct {
		TaskId   *string
		SdkAppId json.RawMessage
		Region   *string
	}
	if e := decodeObject(body, &w, transcriptionFields, transcriptionExample); e != nil {
		return TranscriptionRequest{}, e
	}
	id, e := transcriptionTaskID.check(w.TaskId, "send the TaskId that CreateCloudTranscription returned, such as "+transcriptionExample)
	if e != nil {
		return TranscriptionRequest{}, e
	}
	app, present, e := parseSdkAppID(w.SdkAppId)
	if e != nil {
		return TranscriptionRequest{}, e
	}
	if !present {
		env := strings.TrimSpace(getenv(EnvTRTCSdkAppID))
		if env == "" {
			return TranscriptionRequest{}, badRequest(CodeMissingParameter,
				"SdkAppId is required: send the SDKAppID of the TRTC application (such as 1400000000) or set %s on the function", EnvTRTCSdkAppID)
		}
		n, ok := parsePositive(env)
		if !ok {
			// A setting's value is named, never echoed: it may hold
			// something pasted into the wrong variable.
			return TranscriptionRequest{}, configError("%s is not valid (value not shown): set it to %s", EnvTRTCSdkAppID, trtcSdkAppIDRule.want)
		}
		app = n
	}
	region, e := transcriptionRegion(optString(w.Region), getenv)
	if e != nil {
		return TranscriptionRequest{}, e
	}
	return TranscriptionRequest{TaskId: id, SdkAppId: app, Region: region}, nil
}

// transcriptionRegion resolves Region: request, JANITOR_TRTC_REGION, then
// TENCENTCLOUD_REGION; only the regions TRTC transcription supports pass.
func transcriptionRegion(value string, getenv func(string) string) (string, *Error) {
	supported := strings.Join(tcapi.TranscriptionRegions, ", ")
	if value = strings.TrimSpace(value); value != "" {
		if !slices.Contains(tcapi.TranscriptionRegions, value) {
			return "", badRequest(CodeInvalidParameterValue, "Region %q does not support cloud transcription: use one of %s", oneLine(value, 40), supported)
		}
		return value, nil
	}
	if v := strings.TrimSpace(getenv(EnvTRTCRegion)); v != "" {
		if !trtcRegionRule.valid(v) {
			return "", configError("%s is not valid (value not shown): set it to %s", EnvTRTCRegion, trtcRegionRule.want)
		}
		return v, nil
	}
	v := strings.TrimSpace(getenv(envRegion))
	if slices.Contains(tcapi.TranscriptionRegions, v) {
		return v, nil
	}
	if v == "" {
		return "", badRequest(CodeMissingParameter, "Region is required: send one of %s, or set %s on the function", supported, EnvTRTCRegion)
	}
	return "", badRequest(CodeMissingParameter, "Region is required: the function's region (%s) does not serve cloud transcription; send one of %s, or set %s",
		envRegion, supported, EnvTRTCRegion)
}

func (transcriptionJob) prepare(body []byte, getenv func(string) string) (*prepared, *Error) {
	req, e := parseTranscriptionRequest(body, getenv)
	if e != nil {
		return nil, e
	}
	app := strconv.FormatUint(req.SdkAppId, 10)
	t := target{what: "transcription task", id: req.TaskId, where: "TRTC application " + app + " (" + req.Region + ")",
		fields: "TaskId, SdkAppId and Region", permission: "trtc:DeleteCloudTranscription and trtc:DescribeCloudTranscription",
		forgetsEnded: true}
	return &prepared{
		id:     req.TaskId,
		target: t,
		send: func(ctx context.Context, c clients, cred tcapi.Credentials, env sendEnv) (any, string, int64, error) {
			tr, err := c.trtc(cred, env.options(req.Region, env.base.TRTCEndpoint))
			if err != nil {
				return nil, "", 0, configError("trtc client: %v", err)
			}
			resp, err := tr.DeleteCloudTranscription(ctx, req.SdkAppId, req.TaskId)
			if err != nil {
				n := attemptsOf(tr, err)
				if worthLookingUp(ctx, err) {
					d, lerr := tr.DescribeCloudTranscription(ctx, req.SdkAppId, req.TaskId)
					if lerr != nil && lookupAnswered(lerr) {
						if tcapi.HasCode(err, CodeTaskEnded) {
							return nil, "", n, err // the delete itself said so: 409
						}
						return nil, "", n, endedOrNeverExisted(err, lerr, t)
					}
					if s, ok := lookupState(d.Status, d.Ended(), transcriptionRunning(d.Status), d.RequestId, lerr); ok {
						if e := fromState(err, s, t, CodeTaskEnded); e != nil {
							return nil, "", n, e
						}
					}
				}
				return nil, "", n, err
			}
			id := resp.TaskId
			if id == "" {
				id = req.TaskId
			}
			return TranscriptionResult{TaskId: id, RequestId: resp.RequestId}, resp.RequestId, attemptsOf(tr, nil), nil
		},
	}, nil
}

// endedOrNeverExisted answers a refused DeleteCloudTranscription whose lookup
// Tencent answered with an error. DescribeCloudTranscription "only works
// while the task runs; after it exits a query returns an error" (成功开启转录后，
// 可以使用此接口来查询录制状态。仅在转录任务进行时有效，转录退出后查询将会返回错误:
// tencentcloud-sdk-go tencentcloud/trtc/v20190722/client.go, tccli
// trtc/v20190722/api.json), and no code is documented for that error (the
// SDK lists AuthFailure, FailedOperation, InternalError, InvalidParameter,
// MissingParameter and ResourceNotFound for it). So whichever code it is,
// the task has ended or never existed: 404, nothing to stop. A lookup error
// about the function itself or a transient one (InternalError: an outage
// fails the delete and the lookup alike) never gets here: lookupAnswered.
func endedOrNeverExisted(deleteErr, lookupErr error, t target) *Error {
	var de, le *tcapi.Error
	errors.As(deleteErr, &de)
	errors.As(lookupErr, &le)
	refused := tencentText(de)
	if de.Attempts > 1 {
		refused = fmt.Sprintf("Tencent refused attempt %d of this request (%s), so an earlier attempt most likely stopped it "+
			"(its answer was lost)", de.Attempts, refused)
	} else {
		refused = "Tencent refused to stop it (" + refused + ")"
	}
	return &Error{Status: http.StatusNotFound, Code: "ResourceNotFound", RequestID: firstOf(le.RequestID, de.RequestID), Upstream: true,
		Message: fmt.Sprintf("%s %s has ended, or never existed, in %s: %s, and DescribeCloudTranscription, which answers "+
			"only while a task runs, answered %s; nothing to stop (if it should be running, check %s)",
			t.what, t.id, t.where, refused, tencentText(le), t.fields)}
}

// tencentText is "Code: Message" of a Tencent error.
func tencentText(te *tcapi.Error) string {
	if te.Message == "" {
		return te.Code
	}
	return te.Code + ": " + oneLine(te.Message, 200)
}
