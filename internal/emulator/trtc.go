package emulator

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// TRTC cloud transcription statuses.
const (
	TranscriptionIdle       = "Idle"
	TranscriptionInProgress = "InProgress"
	TranscriptionExited     = "Exited"
)

// Transcription is a TRTC cloud transcription task, Status as of when read.
type Transcription struct {
	TaskId                 string
	SdkAppId               uint64
	RoomId, Region, Status string
	StartTime              time.Time
}

func transKey(region string, app uint64, id string) string {
	return region + "/" + strconv.FormatUint(app, 10) + "/" + id
}

func (s *Server) currentTrans(rec *record[Transcription], now time.Time) Transcription {
	t := rec.v
	if t.Status == TranscriptionIdle && s.pendingOver(rec.since, now) {
		t.Status = TranscriptionInProgress
	}
	return t
}

// AddTranscription stores t; zero fields get defaults (docs/emulator.md#inspection-api).
func (s *Server) AddTranscription(t Transcription) Transcription {
	t.SdkAppId = cmp.Or(t.SdkAppId, DefaultSdkAppID)
	t.Region, t.Status = cmp.Or(t.Region, "ap-guangzhou"), cmp.Or(t.Status, TranscriptionInProgress)
	key := func(id string) string { return transKey(t.Region, t.SdkAppId, id) }
	return addRecord(s, s.transcriptions, &t, &t.TaskId, &t.StartTime, "tt-", key, s.currentTrans)
}

// Transcriptions returns every transcription as of now, newest first.
func (s *Server) Transcriptions() []Transcription {
	return newestFirst(s, s.transcriptions, s.currentTrans, func(t Transcription) (time.Time, string) { return t.StartTime, t.TaskId })
}

type createTranscriptionReq struct {
	SdkAppId           uint64
	RoomId             string
	RoomIdType         int64
	TranscriptionParam *struct {
		UserId, UserSig string
		MaxIdleTime     int64
	}
}

// checkApp refuses an app that is not the caller's (all are the default account's).
func (s *Server) checkApp(c *apiCall, app uint64) *apiError {
	if app == 0 {
		return errMissing("MissingParameter.SdkAppId", "SdkAppId")
	}
	if c.account != "" || !slices.Contains(s.opts.SdkAppIDs, app) {
		return errf("InvalidParameter.SdkAppId", "SdkAppId "+strconv.FormatUint(app, 10)+" does not exist or does not belong to this account.")
	}
	return nil
}

func (s *Server) actCreateCloudTranscription(c *apiCall) (any, *apiError) {
	var req createTranscriptionReq
	// Lenient: the full parameter list (AsrParam, ...) is not modelled.
	if err := decodeParams(c.body, &req, false); err != nil {
		return nil, err
	}
	if err := s.checkApp(c, req.SdkAppId); err != nil {
		return nil, err
	}
	if req.RoomId == "" {
		return nil, errMissing("MissingParameter.RoomId", "RoomId")
	}
	if req.TranscriptionParam == nil || req.TranscriptionParam.UserId == "" {
		return nil, errMissing("MissingParameter.UserId", "TranscriptionParam.UserId")
	}
	t := s.AddTranscription(Transcription{SdkAppId: req.SdkAppId, RoomId: req.RoomId, Region: c.region,
		Status: TranscriptionIdle, StartTime: c.now})
	return struct{ TaskId string }{t.TaskId}, nil
}

// lookupTranscription is the task a request names; s.mu held.
func (s *Server) lookupTranscription(c *apiCall) (*record[Transcription], *apiError) {
	var req struct {
		SdkAppId uint64
		TaskId   string
	}
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	if err := s.checkApp(c, req.SdkAppId); err != nil {
		return nil, err
	}
	if req.TaskId == "" {
		return nil, errMissing("MissingParameter.TaskId", "TaskId")
	}
	rec, ok := s.transcriptions[transKey(c.region, req.SdkAppId, req.TaskId)]
	if !ok {
		return nil, errf("ResourceNotFound", "Transcription task "+req.TaskId+" does not exist for SdkAppId "+strconv.FormatUint(req.SdkAppId, 10)+" in "+c.region+".")
	}
	return rec, nil
}

func (s *Server) actDescribeCloudTranscription(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupTranscription(c)
	if err != nil {
		return nil, err
	}
	t := s.currentTrans(rec, c.now)
	return struct {
		TaskId    string
		Status    string
		StartTime uint64
	}{t.TaskId, t.Status, uint64(t.StartTime.UnixMilli())}, nil
}

// endedError answers a cancel of an ended job (the real code is undocumented).
func (s *Server) endedError(msg string) *apiError {
	if s.opts.SpecificEndedCodes {
		return errf("FailedOperation.TaskEnded", msg)
	}
	return errf("FailedOperation", msg)
}

func (s *Server) actDeleteCloudTranscription(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupTranscription(c)
	if err != nil {
		return nil, err
	}
	t := s.currentTrans(rec, c.now)
	if t.Status == TranscriptionExited {
		return nil, s.endedError("Transcription task " + t.TaskId + " has already exited.")
	}
	rec.v, rec.since = t, c.now
	rec.v.Status = TranscriptionExited
	return struct{ TaskId string }{t.TaskId}, nil
}
