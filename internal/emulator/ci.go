package emulator

import (
	"bytes"
	"cmp"
	"encoding/xml"
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

// LiveJob is a CI live_video moderation job, State as of when it is read, in
// the bucket of the ci host it was created on ("": any bucket).
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

// ciBucket is the bucket a CI request's Host names (Name "" for none, such as
// localhost); ok is false for one outside Options.Buckets.
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

// inBucket reports whether job j can be addressed through bucket b.
func inBucket(j LiveJob, b Bucket) bool {
	return b.Name == "" || j.Bucket == "" || j.Bucket == b.Name && j.Region == b.Region
}

func (s *Server) currentLive(rec *record[LiveJob], now time.Time) LiveJob {
	j := rec.v
	if j.State == LiveSubmitted && s.pendingOver(rec.since, now) {
		j.State = LiveAuditing
	}
	return j
}

// AddLiveJob stores j; zero fields get defaults (docs/emulator.md#inspection-api).
func (s *Server) AddLiveJob(j LiveJob) LiveJob {
	j.State = cmp.Or(j.State, LiveAuditing)
	return addRecord(s, s.liveJobs, &j, &j.JobId, &j.CreationTime, "av", func(id string) string { return id }, s.currentLive)
}

// LiveJobs returns every live job as of now, newest first.
func (s *Server) LiveJobs() []LiveJob {
	return newestFirst(s, s.liveJobs, s.currentLive, func(j LiveJob) (time.Time, string) { return j.CreationTime, j.JobId })
}

type ciCreateReq struct {
	XMLName xml.Name `xml:"Request"`
	Type    string
	Input   struct{ Url, DataId, Object string }
	Conf    struct{ BizType, Callback string }
}

// ciResp is a CI answer: a ciJobSummary (create, cancel) or ciJobDetail.
type ciResp[D any] struct {
	XMLName    xml.Name `xml:"Response"`
	JobsDetail D
	RequestId  string
}

// ciJobSummary: the cancel doc's nodes ("取消直播审核任务") and what
// cos-go-sdk-v5 PutVideoAuditingJobResult decodes.
type ciJobSummary struct {
	DataId, JobId, State, CreationTime, Url string
}

// ciJobDetail: the nodes of the live sample (doc 1045/49342) that
// cos-go-sdk-v5 AuditingJobDetail decodes; no frame is moderated.
type ciJobDetail struct {
	Code, Message string
	ciJobSummary
	Type, BizType, SnapshotCount string
	Result                       int
	Label                        string
	PornInfo, AdsInfo            ciHitCount
}

// ciHitCount is a scene's summary (RecognitionInfo in cos-go-sdk-v5).
type ciHitCount struct{ HitFlag, Count int }

func summary(j LiveJob) ciJobSummary {
	return ciJobSummary{DataId: j.DataId, JobId: j.JobId, State: j.State, CreationTime: fmtCITime(j.CreationTime), Url: j.Url}
}

func (s *Server) ciNotFound(w http.ResponseWriter, r *http.Request) {
	s.ciRefuse(w, r, ciErrf(http.StatusNotFound, "ResourceNotFound", "No CI API at "+r.URL.Path+
		"; the emulator serves POST /video/auditing, GET /video/auditing/<jobId> and POST /video/cancel_auditing/<jobId>."))
}

func (s *Server) ciMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.ciRefuse(w, r, ciErrf(http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path+"."))
}

func (s *Server) ciRefuse(w http.ResponseWriter, r *http.Request, e *ciError) {
	info := requestInfo(r)
	info.requestID = newRequestID()
	(&xmlCall{w: w, info: info}).fail(e)
}

// ciAction admits a CI request (admitXML, bucket, job id), then runs act.
func (s *Server) ciAction(action string, act func(*Server, *xmlCall)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &xmlCall{w: w, info: requestInfo(r), jobID: r.PathValue("jobId")}
		c.info.requestID = newRequestID()
		c.info.action = action
		check := func() *ciError {
			bucket, known := s.ciBucket(r.Host)
			c.bucket = bucket
			if !known {
				return ciErrf(http.StatusNotFound, "NoSuchBucket", "The specified bucket "+bucket.Name+" does not exist in "+bucket.Region+".")
			}
			if action != "ci.CreateAuditing" && (c.jobID == "" || strings.Contains(c.jobID, "/")) {
				return ciErrf(http.StatusBadRequest, "InvalidArgument", "The job id in the path is empty or malformed.")
			}
			return nil
		}
		if s.admitXML(r, c, ciPolicyActions[action], func() string { return "" }, check) {
			act(s, c)
		}
	}
}

// ciCreateAuditing is POST /video/auditing: a live_video job.
func (s *Server) ciCreateAuditing(c *xmlCall) {
	var req ciCreateReq
	if err := xml.NewDecoder(bytes.NewReader(c.body)).Decode(&req); err != nil {
		c.fail(ciErrf(http.StatusBadRequest, "InvalidArgument", "The request body is not a <Request> XML document: "+err.Error()+"."))
		return
	}
	if req.Type != "live_video" {
		c.fail(ciErrf(http.StatusBadRequest, "InvalidArgument", "Type must be live_video (only live-stream moderation is emulated), got "+req.Type+"."))
		return
	}
	if req.Input.Url == "" {
		c.fail(ciErrf(http.StatusBadRequest, "InvalidArgument", "Input.Url (the stream address) is required for live_video."))
		return
	}
	j := s.AddLiveJob(LiveJob{DataId: req.Input.DataId, Url: req.Input.Url, BizType: req.Conf.BizType, State: LiveSubmitted, CreationTime: c.now,
		Bucket: c.bucket.Name, Region: c.bucket.Region})
	c.reply(http.StatusOK, ciResp[ciJobSummary]{JobsDetail: summary(j), RequestId: c.info.requestID})
}

// liveJob is the job c names and its state now; s.mu held.
func (s *Server) liveJob(c *xmlCall) (*record[LiveJob], LiveJob, *ciError) {
	rec, ok := s.liveJobs[c.jobID]
	if !ok || !inBucket(rec.v, c.bucket) {
		return nil, LiveJob{}, ciErrf(http.StatusNotFound, "ResourceNotFound", "Job "+c.jobID+" does not exist"+bucketNote(c.bucket)+".")
	}
	return rec, s.currentLive(rec, c.now), nil
}

// ciGetAuditing is GET /video/auditing/{jobId}.
func (s *Server) ciGetAuditing(c *xmlCall) {
	s.mu.Lock()
	_, j, e := s.liveJob(c)
	s.mu.Unlock()
	if e != nil {
		c.fail(e)
		return
	}
	c.reply(http.StatusOK, ciResp[ciJobDetail]{JobsDetail: ciJobDetail{Code: "Success", ciJobSummary: summary(j), Type: "live_video",
		BizType: j.BizType, SnapshotCount: "0", Label: "Normal"}, RequestId: c.info.requestID})
}

// ciCancelAuditing: the CI cancel doc gives no error for an ended job (assumption, SpecificEndedCodes).
func (s *Server) ciCancelAuditing(c *xmlCall) {
	s.mu.Lock()
	rec, j, e := s.liveJob(c)
	if e == nil && j.State != LiveSubmitted && j.State != LiveAuditing {
		e = ciErrf(http.StatusBadRequest, "FailedOperation", "Job "+c.jobID+" has already ended with state "+j.State+".")
		if s.opts.SpecificEndedCodes {
			e = ciErrf(http.StatusConflict, "FailedOperation.JobEnded", e.Message)
		}
	} else if e == nil {
		j.State = LiveCancelled
		rec.v, rec.since = j, c.now
	}
	s.mu.Unlock()
	if e != nil {
		c.fail(e)
		return
	}
	c.reply(http.StatusOK, ciResp[ciJobSummary]{JobsDetail: summary(j), RequestId: c.info.requestID})
}
