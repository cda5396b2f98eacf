package emulator

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apiCall is one authenticated API 3.0 request handed to an action handler.
type apiCall struct {
	ctx                               context.Context
	service, action, region, secretID string
	account                           string // the credential's account ("" = default)
	body                              []byte
	now                               time.Time
}

type actionFunc func(s *Server, c *apiCall) (any, *apiError)

type serviceDef struct {
	version        string
	regionRequired bool
	regions        []string // nil = any region
	actions        map[string]actionFunc
}

// TranscriptionRegions: the Chinese (647/129057) and international docs' regions.
var TranscriptionRegions = []string{"ap-beijing", "ap-guangzhou", "ap-hongkong", "ap-shanghai", "ap-singapore"}

var services = map[string]serviceDef{
	"ams": {version: "2020-12-29", actions: moderationActions("CreateAudioModerationTask")},
	"vm":  {version: "2020-12-29", actions: moderationActions("CreateVideoModerationTask")},
	"trtc": {version: "2019-07-22", regionRequired: true, regions: TranscriptionRegions, actions: map[string]actionFunc{
		"CreateCloudTranscription":   (*Server).actCreateCloudTranscription,
		"DescribeCloudTranscription": (*Server).actDescribeCloudTranscription,
		"DeleteCloudTranscription":   (*Server).actDeleteCloudTranscription,
	}},
	"scf": {version: "2018-04-16", actions: mergeActions(scfControlActions, scfInvokeActions)},
	"cam": {version: "2019-01-16", actions: camActions},
	"sts": {version: "2018-08-13", actions: stsActions},
}

// moderationActions are AMS's or VM's actions, create creating tasks.
func moderationActions(create string) map[string]actionFunc {
	return map[string]actionFunc{"CancelTask": (*Server).actCancelTask, "DescribeTasks": (*Server).actDescribeTasks,
		"DescribeTaskDetail": (*Server).actDescribeTaskDetail, create: (*Server).actCreateModerationTask}
}

// mergeActions joins action tables; a name in two panics.
func mergeActions(tables ...map[string]actionFunc) map[string]actionFunc {
	out := map[string]actionFunc{}
	for _, t := range tables {
		for name, fn := range t {
			if _, dup := out[name]; dup {
				panic("emulator: action " + name + " registered twice")
			}
			out[name] = fn
		}
	}
	return out
}

// api3Fail writes e as the request's Tencent-shaped error.
func api3Fail(w http.ResponseWriter, info *reqInfo, e *apiError) {
	info.code = e.Code
	writeAPIError(w, e, info.requestID)
}

// serveAPI3AnyMethod serves one API 3.0 call: authenticate, resolve, check
// the body, admit, run.
func (s *Server) serveAPI3AnyMethod(w http.ResponseWriter, r *http.Request) {
	info := requestInfo(r)
	info.requestID = newRequestID()
	info.action = r.Header.Get("X-TC-Action")
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		api3Fail(w, info, errf("UnsupportedProtocol", "Only GET and POST requests are supported, got "+r.Method+"."))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		api3Fail(w, info, errf("RequestSizeLimitExceeded", "The request body exceeds 10 MB."))
		return
	}
	auth, cred, aerr := verifyTC3(tc3Request{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Host: r.Host, Header: r.Header, Body: body,
	}, s.acct.credentials(), s.opts.AuthNow())
	if aerr != nil {
		api3Fail(w, info, aerr)
		return
	}
	call, fn, aerr := resolveAPI3(r, auth.Service, info)
	if aerr == nil {
		call.body, aerr = api3Body(r, body)
	}
	if aerr != nil {
		api3Fail(w, info, aerr)
		return
	}
	call.secretID, call.account = cred.SecretID, s.acct.accountOf(cred.SecretID)
	if !s.admitAPI3(w, r, info, call) {
		return
	}
	call.now = s.now()
	call.ctx = r.Context()
	res, aerr := fn(s, call)
	if aerr != nil {
		api3Fail(w, info, aerr)
		return
	}
	writeAPIResult(w, res, info.requestID)
}

// resolveAPI3 finds the action and checks its version and region.
func resolveAPI3(r *http.Request, service string, info *reqInfo) (*apiCall, actionFunc, *apiError) {
	svc, ok := services[service]
	if !ok {
		return nil, nil, errf("InvalidAction", "Service "+service+" (from the credential scope) is not served here; the emulator serves ams, vm, trtc, scf, cam and sts.")
	}
	action := r.Header.Get("X-TC-Action")
	if action == "" {
		return nil, nil, errf("MissingParameter", "The request is missing the required header X-TC-Action.")
	}
	fn, ok := svc.actions[action]
	if !ok {
		return nil, nil, errf("InvalidAction", "The action "+action+" does not exist for service "+service+".")
	}
	info.action = service + "." + action
	version := r.Header.Get("X-TC-Version")
	if version == "" {
		return nil, nil, errf("MissingParameter", "The request is missing the required header X-TC-Version.")
	}
	if version != svc.version {
		return nil, nil, errf("NoSuchVersion", "Version "+version+" does not exist for "+service+"; use "+svc.version+".")
	}
	region := r.Header.Get("X-TC-Region")
	if svc.regionRequired && region == "" {
		return nil, nil, errf("MissingParameter", "The request is missing the required header X-TC-Region.")
	}
	if svc.regions != nil && region != "" && !slices.Contains(svc.regions, region) {
		return nil, nil, errf("UnsupportedRegion", action+" does not support region "+region+"; use one of "+strings.Join(svc.regions, ", ")+".")
	}
	return &apiCall{service: service, action: action, region: region}, fn, nil
}

// api3Body checks the request is a POST of one JSON object ("{}" when empty).
func api3Body(r *http.Request, body []byte) ([]byte, *apiError) {
	if r.Method == http.MethodGet {
		return nil, errf("UnsupportedOperation", "The emulator accepts API 3.0 calls as POST with Content-Type application/json only.")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, errf("UnsupportedOperation", "Content-Type must be application/json, got "+ct+".")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if aerr := checkOneObject(body); aerr != nil {
		return nil, aerr
	}
	return body, nil
}

// admitAPI3 applies the policies, the rate limit and the faults; false when refused.
func (s *Server) admitAPI3(w http.ResponseWriter, r *http.Request, info *reqInfo, c *apiCall) bool {
	resource := func() string { return s.policyResource(c.service, c.action, c.region, c.account, c.body) }
	if msg := s.authorize(c.secretID, policyAction(c.service, c.action), resource); msg != "" {
		api3Fail(w, info, errf("UnauthorizedOperation", msg))
		return false
	}
	if !s.admit(info.action, c.secretID) {
		api3Fail(w, info, errf("RequestLimitExceeded", "Your current request is too frequent: "+info.action+" allows "+formatRate(s.opts.Rate)+" requests per second per SecretId."))
		return false
	}
	if done, internal := s.injectFault(w, r, info); done {
		return false
	} else if internal != 0 {
		api3Fail(w, info, &apiError{Code: "InternalError", Message: "An internal error occurred (injected fault).", status: internal})
		return false
	}
	return true
}

// faultNames are the access log's codes of the transport faults.
var faultNames = map[faultKind]string{faultReset: "fault:reset", faultBadGateway: "fault:502", faultSlow: "fault:slow"}

func formatRate(r float64) string {
	b, _ := json.Marshal(r)
	return string(b)
}

func writeAPIError(w http.ResponseWriter, e *apiError, requestID string) {
	b, _ := json.Marshal(map[string]any{"Response": map[string]any{ // keys in Tencent's order
		"Error": map[string]string{"Code": e.Code, "Message": e.Message}, "RequestId": requestID}})
	writeAPIJSON(w, cmp.Or(e.status, http.StatusOK), b, requestID)
}

func writeAPIJSON(w http.ResponseWriter, status int, b []byte, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-TC-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeAPIResult writes {"Response":{...res fields..., "RequestId":id}}.
func writeAPIResult(w http.ResponseWriter, res any, requestID string) {
	inner, err := json.Marshal(res)
	if err != nil || len(inner) < 2 || inner[0] != '{' {
		writeAPIError(w, &apiError{Code: "InternalError", Message: "emulator could not encode the response", status: http.StatusInternalServerError}, requestID)
		return
	}
	rid, _ := json.Marshal(requestID)
	var b bytes.Buffer
	b.WriteString(`{"Response":`)
	b.Write(inner[:len(inner)-1])
	if len(inner) > 2 {
		b.WriteByte(',')
	}
	b.WriteString(`"RequestId":`)
	b.Write(rid)
	b.WriteString("}}")
	writeAPIJSON(w, http.StatusOK, b.Bytes(), requestID)
}

// decodeParams decodes body into v; strict answers UnknownParameter, as Tencent does.
func decodeParams(body []byte, v any, strict bool) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return errf("InvalidParameter", "Parameter "+te.Field+" has the wrong type: got JSON "+te.Value+", want "+jsonKind(te.Type.Kind().String())+".")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errf("UnknownParameter", "The parameter "+name+" is not recognized.")
		default:
			return errf("InvalidParameter", "The request body is not a valid JSON object: "+err.Error()+".")
		}
	}
	return checkEnd(dec)
}

// checkEnd refuses trailing data (dec.More misses a stray "]" or "}").
func checkEnd(dec *json.Decoder) *apiError {
	if _, err := dec.Token(); err != io.EOF {
		return errf("InvalidParameter", "The request body has trailing data after the JSON object.")
	}
	return nil
}

// checkOneObject reports whether body is exactly one JSON object.
func checkOneObject(body []byte) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return errf("InvalidParameter", "The request body is not a JSON object.")
	}
	return checkEnd(dec)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64":
		return "an integer in range"
	case "uint", "uint8", "uint16", "uint32", "uint64":
		return "a non-negative integer in range"
	}
	return "a number"
}
