package emulator

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// CI live moderation job states.
const (
	LiveSubmitted = "Submitted"
	LiveAuditing  = "Auditing"
	LiveSuccess   = "Success"
	LiveFailed    = "Failed"
	LiveCancelled = "Cancelled"
)

// ciTimeLayout is how CI formats CreationTime (China Standard Time).
const ciTimeLayout = "2006-01-02T15:04:05-0700"

var cst = time.FixedZone("CST", 8*3600)

func fmtCITime(t time.Time) string { return t.In(cst).Format(ciTimeLayout) }

// LiveJob is a CI live-stream (live_video) moderation job. State is as of the
// moment it is read. Bucket and Region are those of the ci host the job was
// created on (<Bucket>.ci.<Region>.myqcloud.com); jobs are per bucket ("":
// a job added without one, reachable from any bucket).
type LiveJob struct {
	JobId, DataId, Url, BizType, State string
	CreationTime                       time.Time
	Bucket, Region                     string
}

// Bucket is a COS bucket the CI emulator knows (Options.Buckets).
type Bucket struct{ Name, Region string }

// The bucket of the demo data's live jobs.
const (
	DefaultBucket       = "examplebucket-1250000000"
	DefaultBucketRegion = "ap-guangzhou"
)

// reCIHost matches a bucket's CI host, <name-appid>.ci.<region>.myqcloud.com.
var reCIHost = regexp.MustCompile(`^([a-z0-9-]+-[0-9]+)\.ci\.([a-z0-9-]+)\.myqcloud\.com(:[0-9]+)?$`)

// ciBucket is the bucket a CI request addresses, from its Host. name is ""
// when the host names no bucket (an IP address or localhost: a client
// pointed at the emulator without a bucket host); the request is then not
// scoped to one. ok is false for a bucket outside Options.Buckets (when set):
// NoSuchBucket.
func (s *Server) ciBucket(host string) (b Bucket, ok bool) {
	m := reCIHost.FindStringSubmatch(strings.ToLower(host))
	if m == nil {
		return Bucket{}, true
	}
	b = Bucket{Name: m[1], Region: m[2]}
	if len(s.opts.Buckets) == 0 {
		return b, true
	}
	return b, slices.Contains(s.opts.Buckets, b)
}

func bucketNote(b Bucket) string {
	if b.Name == "" {
		return ""
	}
	return " in bucket " + b.Name + " (" + b.Region + ")"
}

// inBucket reports whether job j can be addressed through bucket b: a job
// belongs to the bucket it was created in; one added without a bucket
// (AddLiveJob, the inspection API) and a request naming none match any.
func inBucket(j LiveJob, b Bucket) bool {
	return b.Name == "" || j.Bucket == "" || j.Bucket == b.Name && j.Region == b.Region
}

type liveJobRec struct {
	LiveJob
	phaseStart time.Time
}

func (s *Server) currentLive(rec *liveJobRec, now time.Time) LiveJob {
	j := rec.LiveJob
	if j.State == LiveSubmitted && s.opts.PendingFor >= 0 && !now.Before(rec.phaseStart.Add(s.opts.PendingFor)) {
		j.State = LiveAuditing
	}
	return j
}

// AddLiveJob stores j. Defaults: State Auditing, CreationTime now, JobId
// generated ("av" + 32 hex digits).
func (s *Server) AddLiveJob(j LiveJob) LiveJob {
	now := s.now()
	if j.State == "" {
		j.State = LiveAuditing
	}
	if j.CreationTime.IsZero() {
		j.CreationTime = now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.JobId == "" {
		j.JobId = s.uniqueID("av", 32, func(id string) bool { _, dup := s.liveJobs[id]; return dup })
	}
	rec := &liveJobRec{LiveJob: j, phaseStart: now}
	s.liveJobs[j.JobId] = rec
	return s.currentLive(rec, now)
}

// LiveJobs returns every live job as of now, newest first.
func (s *Server) LiveJobs() []LiveJob {
	return newestFirst(s, s.liveJobs, s.currentLive, func(j LiveJob) (time.Time, string) { return j.CreationTime, j.JobId })
}

// ---- HTTP ----

type ciErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestId string   `xml:"RequestId"`
	TraceId   string   `xml:"TraceId"`
}

func writeCIError(w http.ResponseWriter, e *ciError, requestID string) {
	writeXML(w, e.status, ciErrorBody{Code: e.Code, Message: e.Message, RequestId: requestID, TraceId: requestID}, requestID)
}

func writeXML(w http.ResponseWriter, status int, v any, requestID string) {
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte("<Error><Code>InternalError</Code><Message>emulator could not encode the response</Message></Error>")
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ci-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

type ciCreateReq struct {
	XMLName xml.Name `xml:"Request"`
	Type    string   `xml:"Type"`
	Input   struct {
		Url    string `xml:"Url"`
		DataId string `xml:"DataId"`
		Object string `xml:"Object"`
	} `xml:"Input"`
	Conf struct {
		BizType  string `xml:"BizType"`
		Callback string `xml:"Callback"`
	} `xml:"Conf"`
}

type ciJobSummary struct {
	DataId       string `xml:"DataId"`
	JobId        string `xml:"JobId"`
	State        string `xml:"State"`
	CreationTime string `xml:"CreationTime"`
	Url          string `xml:"Url"`
}

type ciCreateResp struct {
	XMLName    xml.Name     `xml:"Response"`
	JobsDetail ciJobSummary `xml:"JobsDetail"`
	RequestId  string       `xml:"RequestId"`
}

// ciJobDetail is the query's JobsDetail: the nodes of the published live
// sample (tencentcloud.com doc 1045/49342: Code, Message, DataId, JobId,
// State, CreationTime, Type, SnapshotCount, Result, Label, PornInfo,
// AdsInfo) that cos-go-sdk-v5's AuditingJobDetail decodes. No frame is
// moderated here, so the counts are 0, Result 0 (normal) and Label Normal.
type ciJobDetail struct {
	Code          string     `xml:"Code"`
	Message       string     `xml:"Message"`
	DataId        string     `xml:"DataId"`
	JobId         string     `xml:"JobId"`
	State         string     `xml:"State"`
	CreationTime  string     `xml:"CreationTime"`
	Url           string     `xml:"Url"`
	Type          string     `xml:"Type"`
	BizType       string     `xml:"BizType"`
	SnapshotCount string     `xml:"SnapshotCount"`
	Result        int        `xml:"Result"`
	Label         string     `xml:"Label"`
	PornInfo      ciHitCount `xml:"PornInfo"`
	AdsInfo       ciHitCount `xml:"AdsInfo"`
}

// ciHitCount is a scene's summary in a query answer (RecognitionInfo in
// cos-go-sdk-v5: HitFlag, Count).
type ciHitCount struct {
	HitFlag int `xml:"HitFlag"`
	Count   int `xml:"Count"`
}

type ciGetResp struct {
	XMLName    xml.Name    `xml:"Response"`
	JobsDetail ciJobDetail `xml:"JobsDetail"`
	RequestId  string      `xml:"RequestId"`
}

// ciCancelResp is the cancel's answer: the doc's DataId, JobId and
// CreationTime ("取消直播审核任务"), and the State and Url that
// cos-go-sdk-v5 decodes it into (PutVideoAuditingJobResult, which
// PostVideoAuditingCancelJob returns).
type ciCancelResp struct {
	XMLName    xml.Name     `xml:"Response"`
	JobsDetail ciJobSummary `xml:"JobsDetail"`
	RequestId  string       `xml:"RequestId"`
}

// ciRequest is one admitted CI request handed to an action: authenticated,
// in a known bucket, allowed, within the rate limit and past the faults.
type ciRequest struct {
	info   *reqInfo
	body   []byte
	bucket Bucket
	jobID  string // from the path; "" for CreateAuditing
	now    time.Time
}

func (c *ciRequest) fail(w http.ResponseWriter, e *ciError) {
	c.info.code = e.Code
	writeCIError(w, e, c.info.requestID)
}

func (s *Server) ciNotFound(w http.ResponseWriter, r *http.Request) {
	info := requestInfo(r)
	info.requestID = newRequestID()
	(&ciRequest{info: info}).fail(w, ciErrf(http.StatusNotFound, "ResourceNotFound", "No CI API at "+r.URL.Path+
		"; the emulator serves POST /video/auditing, GET /video/auditing/<jobId> and POST /video/cancel_auditing/<jobId>."))
}

func (s *Server) ciMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	info := requestInfo(r)
	info.requestID = newRequestID()
	(&ciRequest{info: info}).fail(w, ciErrf(http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path+"."))
}

// ciAction is the handler of one CI action: it admits the request (body,
// COS signature, bucket, job id, policy, rate limit, faults, in that order)
// and hands it to act.
func (s *Server) ciAction(action string, act func(*Server, http.ResponseWriter, *ciRequest)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &ciRequest{info: requestInfo(r), jobID: r.PathValue("jobId")}
		c.info.requestID = newRequestID()
		c.info.action = action
		if !s.admitCI(w, r, c) {
			return
		}
		c.now = s.now()
		act(s, w, c)
	}
}

// admitCI checks what every CI action checks; it writes the error and
// reports false when the request is refused.
func (s *Server) admitCI(w http.ResponseWriter, r *http.Request, c *ciRequest) bool {
	action := c.info.action
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		c.fail(w, ciErrf(http.StatusRequestEntityTooLarge, "EntityTooLarge", "The request body exceeds 10 MB."))
		return false
	}
	c.body = body
	cred, cerr := verifyCOS(r, s.acct.credentials(), s.opts.AuthNow())
	if cerr != nil {
		c.fail(w, cerr)
		return false
	}
	bucket, known := s.ciBucket(r.Host)
	if !known {
		c.fail(w, ciErrf(http.StatusNotFound, "NoSuchBucket", "The specified bucket "+bucket.Name+" does not exist in "+bucket.Region+"."))
		return false
	}
	c.bucket = bucket
	if action != "ci.CreateAuditing" && (c.jobID == "" || strings.Contains(c.jobID, "/")) {
		c.fail(w, ciErrf(http.StatusBadRequest, "InvalidArgument", "The job id in the path is empty or malformed."))
		return false
	}
	if !s.authorizeCI(w, c.info, cred.SecretID) {
		return false
	}
	if !s.admit(action, cred.SecretID) {
		c.fail(w, ciErrf(http.StatusTooManyRequests, "RequestLimitExceeded", "Too many requests: "+action+" allows "+formatRate(s.opts.Rate)+" requests per second per SecretId."))
		return false
	}
	if done, internal := s.injectFault(w, r, c.info); done {
		return false
	} else if internal != 0 {
		c.fail(w, ciErrf(internal, "InternalError", "An internal error occurred (injected fault)."))
		return false
	}
	return true
}

// ciCreateAuditing is POST /video/auditing: a live_video job.
func (s *Server) ciCreateAuditing(w http.ResponseWriter, c *ciRequest) {
	var req ciCreateReq
	if err := xml.NewDecoder(bytes.NewReader(c.body)).Decode(&req); err != nil {
		c.fail(w, ciErrf(http.StatusBadRequest, "InvalidArgument", "The request body is not a <Request> XML document: "+err.Error()+"."))
		return
	}
	if req.Type != "live_video" {
		c.fail(w, ciErrf(http.StatusBadRequest, "InvalidArgument", "Type must be live_video (only live-stream moderation is emulated), got "+req.Type+"."))
		return
	}
	if req.Input.Url == "" {
		c.fail(w, ciErrf(http.StatusBadRequest, "InvalidArgument", "Input.Url (the stream address) is required for live_video."))
		return
	}
	j := s.AddLiveJob(LiveJob{DataId: req.Input.DataId, Url: req.Input.Url, BizType: req.Conf.BizType, State: LiveSubmitted, CreationTime: c.now,
		Bucket: c.bucket.Name, Region: c.bucket.Region})
	writeXML(w, http.StatusOK, ciCreateResp{JobsDetail: ciJobSummary{DataId: j.DataId, JobId: j.JobId, State: j.State,
		CreationTime: fmtCITime(j.CreationTime), Url: j.Url}, RequestId: c.info.requestID}, c.info.requestID)
}

// ciGetAuditing is GET /video/auditing/{jobId}.
func (s *Server) ciGetAuditing(w http.ResponseWriter, c *ciRequest) {
	s.mu.Lock()
	rec, ok := s.liveJobs[c.jobID]
	ok = ok && inBucket(rec.LiveJob, c.bucket)
	var j LiveJob
	if ok {
		j = s.currentLive(rec, c.now)
	}
	s.mu.Unlock()
	if !ok {
		c.fail(w, ciErrf(http.StatusNotFound, "ResourceNotFound", "Job "+c.jobID+" does not exist"+bucketNote(c.bucket)+"."))
		return
	}
	writeXML(w, http.StatusOK, ciGetResp{JobsDetail: ciJobDetail{Code: "Success", DataId: j.DataId, JobId: j.JobId,
		State: j.State, CreationTime: fmtCITime(j.CreationTime), Url: j.Url, Type: "live_video", BizType: j.BizType,
		SnapshotCount: "0", Label: "Normal"},
		RequestId: c.info.requestID}, c.info.requestID)
}

// ciCancelAuditing is POST /video/cancel_auditing/{jobId}.
func (s *Server) ciCancelAuditing(w http.ResponseWriter, c *ciRequest) {
	s.mu.Lock()
	rec, ok := s.liveJobs[c.jobID]
	ok = ok && inBucket(rec.LiveJob, c.bucket)
	var j LiveJob
	ended := false
	if ok {
		j = s.currentLive(rec, c.now)
		if j.State == LiveSubmitted || j.State == LiveAuditing {
			rec.LiveJob = j
			rec.State, rec.phaseStart = LiveCancelled, c.now
		} else {
			ended = true
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		c.fail(w, ciErrf(http.StatusNotFound, "ResourceNotFound", "Job "+c.jobID+" does not exist"+bucketNote(c.bucket)+"."))
	case ended && s.opts.SpecificEndedCodes:
		c.fail(w, ciErrf(http.StatusConflict, "FailedOperation.JobEnded", "Job "+c.jobID+" has already ended with state "+j.State+"."))
	case ended:
		// The CI cancel doc lists no special error codes; the status and
		// code of Tencent's real answer are unknown.
		c.fail(w, ciErrf(http.StatusBadRequest, "FailedOperation", "Job "+c.jobID+" has already ended with state "+j.State+"."))
	default:
		writeXML(w, http.StatusOK, ciCancelResp{JobsDetail: ciJobSummary{DataId: j.DataId, JobId: j.JobId, State: LiveCancelled,
			CreationTime: fmtCITime(j.CreationTime), Url: j.Url}, RequestId: c.info.requestID}, c.info.requestID)
	}
}
