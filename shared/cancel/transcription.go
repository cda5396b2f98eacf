package cancel

import (
	"context"
	"encoding/json"
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
	r, e := parseTranscriptionRequest(body, getenv)
	if e != nil {
		return r, e
	}
	return r, nil
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
		fields: "TaskId, SdkAppId and Region", permission: "trtc:DeleteCloudTranscription and trtc:DescribeCloudTranscription"}
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
