package emulator

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Task statuses and types of AMS/VM.
const (
	StatusPending   = "PENDING"
	StatusRunning   = "RUNNING"
	StatusFinish    = "FINISH"
	StatusError     = "ERROR"
	StatusCancelled = "CANCELLED"

	TypeAudio     = "AUDIO"
	TypeLiveAudio = "LIVE_AUDIO"
	TypeVideo     = "VIDEO"
	TypeLiveVideo = "LIVE_VIDEO"
)

var (
	taskStatuses = []string{StatusFinish, StatusPending, StatusRunning, StatusError, StatusCancelled}
	taskTypes    = []string{TypeAudio, TypeLiveAudio, TypeVideo, TypeLiveVideo}
	suggestions  = []string{"Block", "Review", "Pass"}
)

// timeLayout is how AMS/VM format CreatedAt/UpdatedAt ("2024-10-23T08:41:07.947Z").
const timeLayout = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Task is an AMS or VM moderation task, its Status as of when it is read
// (docs/emulator.md#api-30-ams-vm-trtc describes the fields).
type Task struct {
	Service, TaskId, DataId, Name, BizType, Type, Status string
	CreatedAt                                            time.Time
	CreatedAtRaw                                         string
	UpdatedAt                                            time.Time
	Suggestion                                           string
	Stuck                                                bool
	Url                                                  string
	Account                                              string `json:",omitempty"`
}

// record is a stored task, live job or transcription, its state as last
// set, and when that state began.
type record[T any] struct {
	v     T
	since time.Time
}

func taskKey(service, id string) string { return service + "/" + id }

func isLive(typ string) bool { return typ == TypeLiveAudio || typ == TypeLiveVideo }

func (s *Server) current(rec *record[Task], now time.Time) Task {
	t := rec.v
	if t.Stuck {
		return t
	}
	start := rec.since
	if t.Status == StatusPending && s.pendingOver(start, now) {
		start = start.Add(s.opts.PendingFor)
		t.Status, t.UpdatedAt = StatusRunning, start
	}
	if t.Status == StatusRunning && !isLive(t.Type) && s.opts.RunningFor >= 0 {
		end := start.Add(s.opts.RunningFor)
		if !now.Before(end) {
			t.Status, t.UpdatedAt = StatusFinish, end
		}
	}
	if t.Status == StatusFinish && t.Suggestion == "" {
		t.Suggestion = derivedSuggestion(t.TaskId)
	}
	return t
}

// pendingOver reports whether a record pending since start has left that state.
func (s *Server) pendingOver(start, now time.Time) bool {
	return s.opts.PendingFor >= 0 && !now.Before(start.Add(s.opts.PendingFor))
}

// derivedSuggestion is 70% Pass, 20% Review, 10% Block, fixed by the id.
func derivedSuggestion(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return [10]string{"Pass", "Pass", "Pass", "Pass", "Pass", "Pass", "Pass", "Review", "Review", "Block"}[h.Sum32()%10]
}

// AddTask stores (or replaces) t and returns it as of now; zero fields get
// defaults (docs/emulator.md#inspection-api).
func (s *Server) AddTask(t Task) Task {
	now := s.now()
	t.Service, t.Status = cmp.Or(t.Service, "ams"), cmp.Or(t.Status, StatusPending)
	if t.Type == "" {
		t.Type = TypeAudio
		if t.Service == "vm" {
			t.Type = TypeVideo
		}
	}
	if t.CreatedAt.IsZero() {
		if p, err := time.Parse(time.RFC3339Nano, t.CreatedAtRaw); t.CreatedAtRaw != "" && err == nil {
			t.CreatedAt = p
		} else {
			t.CreatedAt = now
		}
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.TaskId == "" {
		t.TaskId = s.uniqueTaskID(t.Service)
	}
	rec := &record[Task]{t, now}
	sc := scope(t.Account, t.Service)
	key := taskKey(sc, t.TaskId)
	list := s.order[sc]
	if i := slices.Index(list, s.tasks[key]); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	i := sort.Search(len(list), func(i int) bool { return taskBefore(t, list[i].v) })
	s.order[sc] = slices.Insert(list, i, rec)
	s.tasks[key] = rec
	return s.current(rec, now)
}

func (s *Server) uniqueTaskID(service string) string {
	return s.uniqueID(taskIDPrefix(service), 24, func(id string) bool { _, dup := s.tasks[taskKey(service, id)]; return dup })
}

func taskIDPrefix(service string) string {
	if service == "vm" {
		return "vt-"
	}
	return "at-"
}

// Tasks returns the default account's tasks of service ("" = all) as of
// now, newest first.
func (s *Server) Tasks(service string) []Task { return s.AccountTasks("", service) }

// Task returns one task as of now.
func (s *Server) Task(service, id string) (Task, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.tasks[taskKey(service, id)]
	if !ok {
		return Task{}, false
	}
	return s.current(rec, now), true
}

func taskBefore(a, b Task) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.TaskId > b.TaskId
}

type taskLabel struct {
	Label, Suggestion string
	Score             int64
	SubLabel          string
}

type mediaInfo struct {
	Codecs                  string
	Duration, Width, Height int64
	Thumbnail               string
}

type bucketInfo struct {
	Bucket string `json:"Bucket,omitempty"`
	Region string `json:"Region,omitempty"`
	Object string `json:"Object,omitempty"`
}

type inputInfo struct {
	Type, Url  string
	BucketInfo *bucketInfo
}

// taskData is a task as DescribeTasks answers it.
type taskData struct {
	DataId, TaskId, Name, BizType, Status, Type, Suggestion string
	Labels                                                  []taskLabel
	MediaInfo                                               *mediaInfo
	InputInfo                                               *inputInfo
	CreatedAt, UpdatedAt                                    string
}

func toTaskData(t Task) taskData {
	d := taskData{
		DataId: t.DataId, TaskId: t.TaskId, Name: t.Name, BizType: t.BizType,
		Status: t.Status, Type: t.Type, Labels: []taskLabel{},
		MediaInfo: &mediaInfo{},
		InputInfo: &inputInfo{Type: "URL", Url: t.Url},
		CreatedAt: fmtTime(t.CreatedAt), UpdatedAt: fmtTime(t.UpdatedAt),
	}
	if t.CreatedAtRaw != "" {
		d.CreatedAt = t.CreatedAtRaw
	}
	if t.Status == StatusFinish {
		d.Suggestion = t.Suggestion
		label := "Normal"
		if t.Suggestion != "Pass" {
			label = "Porn"
		}
		d.Labels = []taskLabel{{Label: label, Suggestion: t.Suggestion, Score: map[string]int64{"Block": 95, "Review": 70}[t.Suggestion]}}
		d.MediaInfo.Duration = max(0, t.UpdatedAt.Sub(t.CreatedAt).Milliseconds())
	}
	return d
}

// findTask is the caller's task id; s.mu must be held.
func (s *Server) findTask(c *apiCall, id string) (*record[Task], *apiError) {
	if id == "" {
		return nil, errMissing("MissingParameter", "TaskId")
	}
	rec, ok := s.tasks[taskKey(c.scope(), id)]
	if !ok {
		return nil, errf("ResourceNotFound", "Task "+id+" does not exist.")
	}
	return rec, nil
}

func (s *Server) actCancelTask(c *apiCall) (any, *apiError) {
	var req struct{ TaskId string }
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.findTask(c, req.TaskId)
	if err != nil {
		return nil, err
	}
	cur := s.current(rec, c.now)
	if cur.Status != StatusPending && cur.Status != StatusRunning {
		return nil, s.endedError("Task " + req.TaskId + " has already ended with status " + cur.Status + ".")
	}
	rec.v, rec.since = cur, c.now
	rec.v.Status, rec.v.UpdatedAt = StatusCancelled, c.now
	return struct{}{}, nil
}

// describeTasksIn is DescribeTasks' request: Filter.BizType is a string
// (AMS) or a list (VM).
type describeTasksIn[B any] struct {
	Limit  int64
	Filter *struct {
		BizType                      B
		Type, Suggestion, TaskStatus string
	}
	PageToken, StartTime, EndTime string
}

// taskQuery is a checked DescribeTasks request.
type taskQuery struct {
	bizTypes                    []string
	typ, suggestion, taskStatus string
	start, end                  time.Time // end zero = no bound
	limit                       int64
	token                       string
}

func (q taskQuery) match(t Task) bool {
	return (len(q.bizTypes) == 0 || slices.Contains(q.bizTypes, t.BizType)) &&
		(q.typ == "" || t.Type == q.typ) &&
		(q.taskStatus == "" || t.Status == q.taskStatus) &&
		(q.suggestion == "" || t.Status == StatusFinish && t.Suggestion == q.suggestion) &&
		!t.CreatedAt.Before(q.start) && (q.end.IsZero() || !t.CreatedAt.After(q.end))
}

// hash identifies the filter of a page token (times excluded).
func (q taskQuery) hash(service string) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s", service, strings.Join(q.bizTypes, ","), q.typ, q.suggestion, q.taskStatus)
	return strconv.FormatUint(h.Sum64(), 36)
}

func parseISOTime(name, v string) (time.Time, *apiError) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errf("InvalidParameterValue", name+" "+strconv.Quote(v)+" is not an ISO 8601 time such as 2024-10-23T08:41:07Z.")
}

type describeTasksResp struct {
	Total     string
	Data      []taskData
	PageToken string
}

func decodeDescribeTasks(c *apiCall, maxLimit int) (taskQuery, *apiError) {
	if c.service == "vm" {
		return decodeTasksIn(c.body, maxLimit, c.now, func(b []string) []string { return b })
	}
	return decodeTasksIn(c.body, maxLimit, c.now, func(b string) []string {
		if b == "" {
			return nil
		}
		return []string{b}
	})
}

// decodeTasksIn decodes and checks the limit (0 becomes 10), the filters and
// the time window (default: the last 72 hours).
func decodeTasksIn[B any](body []byte, maxLimit int, now time.Time, bizTypes func(B) []string) (q taskQuery, aerr *apiError) {
	var in describeTasksIn[B]
	if aerr = decodeParams(body, &in, true); aerr != nil {
		return q, aerr
	}
	if f := in.Filter; f != nil {
		q = taskQuery{bizTypes: bizTypes(f.BizType), typ: f.Type, suggestion: f.Suggestion, taskStatus: f.TaskStatus}
	}
	if in.Limit < 0 || in.Limit > int64(maxLimit) {
		return q, errf("InvalidParameterValue", fmt.Sprintf("Limit %d is out of range; it must be between 1 and %d (0 or absent means 10).", in.Limit, maxLimit))
	}
	q.limit, q.token, q.start = cmp.Or(in.Limit, 10), in.PageToken, now.Add(-72*time.Hour)
	for _, f := range [...]struct {
		name, v string
		valid   []string
	}{{"Filter.Type", q.typ, taskTypes}, {"Filter.Suggestion", q.suggestion, suggestions}, {"Filter.TaskStatus", q.taskStatus, taskStatuses}} {
		if f.v != "" && !slices.Contains(f.valid, f.v) {
			return q, errf("InvalidParameterValue", f.name+" "+strconv.Quote(f.v)+" is invalid; use one of "+strings.Join(f.valid, ", ")+".")
		}
	}
	if in.StartTime != "" {
		if q.start, aerr = parseISOTime("StartTime", in.StartTime); aerr != nil {
			return q, aerr
		}
	}
	if in.EndTime != "" {
		if q.end, aerr = parseISOTime("EndTime", in.EndTime); aerr != nil {
			return q, aerr
		}
		if q.end.Before(q.start) {
			return q, errf("InvalidParameterValue", "EndTime "+in.EndTime+" is before StartTime.")
		}
	}
	return q, nil
}

func (s *Server) actDescribeTasks(c *apiCall) (any, *apiError) {
	q, aerr := decodeDescribeTasks(c, s.opts.MaxLimit)
	if aerr != nil {
		return nil, aerr
	}
	token, qh := q.token, q.hash(c.service)
	var tok pageToken
	if token != "" {
		var err *apiError
		if tok, err = decodePageToken(token, s.opts.Paging, qh); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var matches []*record[Task]
	for _, rec := range s.order[c.scope()] {
		if q.match(s.current(rec, c.now)) {
			matches = append(matches, rec)
		}
	}
	from := 0
	if token != "" {
		if s.opts.Paging == PagingOffset {
			from = min(tok.offset, len(matches))
		} else {
			key := Task{CreatedAt: tok.created, TaskId: tok.id}
			from = sort.Search(len(matches), func(i int) bool { return taskBefore(key, matches[i].v) })
		}
	}
	to := min(from+int(q.limit), len(matches))
	resp := describeTasksResp{Total: strconv.Itoa(len(matches)), Data: make([]taskData, 0, to-from)}
	for _, rec := range matches[from:to] {
		resp.Data = append(resp.Data, toTaskData(s.current(rec, c.now)))
	}
	if to < len(matches) {
		if s.opts.Paging == PagingOffset {
			resp.PageToken = encodePageToken(pageToken{mode: PagingOffset, offset: to, query: qh})
		} else {
			last := matches[to-1]
			resp.PageToken = encodePageToken(pageToken{mode: PagingCursor, created: last.v.CreatedAt, id: last.v.TaskId, query: qh})
		}
	}
	return resp, nil
}

// pageToken is the opaque, checksummed DescribeTasks PageToken.
type pageToken struct {
	mode    string
	offset  int
	created time.Time
	id      string
	query   string
}

func encodePageToken(t pageToken) string {
	n := t.created.UnixNano()
	if t.mode == PagingOffset {
		n = int64(t.offset)
	}
	raw := fmt.Sprintf("%s|%d|%s|%s", t.mode, n, t.query, t.id)
	return base64.RawURLEncoding.EncodeToString([]byte(raw + "|" + tokenSum(raw)))
}

func tokenSum(raw string) string {
	h := fnv.New32a()
	h.Write([]byte("emulator-page-token|" + raw))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

func decodePageToken(s, mode, query string) (pageToken, *apiError) {
	bad := func(why string) (pageToken, *apiError) {
		return pageToken{}, errf("InvalidParameterValue", "PageToken is invalid: "+why+". Pass the PageToken of the previous response unchanged, with the same Filter.")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	i := bytes.LastIndexByte(b, '|')
	if err != nil || i < 0 || tokenSum(string(b[:i])) != string(b[i+1:]) {
		return bad("not a token issued by this server")
	}
	parts := strings.SplitN(string(b[:i]), "|", 4)
	if len(parts) != 4 || parts[0] != mode {
		return bad("not a token issued by this server")
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || mode == PagingOffset && n < 0 {
		return bad("not a token issued by this server")
	}
	if parts[2] != query {
		return bad("it belongs to a different Filter")
	}
	return pageToken{mode: mode, offset: int(n), created: time.Unix(0, n), id: parts[3], query: query}, nil
}

type taskDetailResp struct {
	taskData
	AudioSegments                      []audioSegment
	ImageSegments                      []imageSegment  `json:",omitempty"` // VM only
	SegmentCosUrlList                  *segmentCosURLs `json:",omitempty"` // VM only
	AudioText                          *string         `json:",omitempty"` // AMS only
	ErrorType, ErrorDescription, Label string
}

func (s *Server) actDescribeTaskDetail(c *apiCall) (any, *apiError) {
	var req struct {
		TaskId          string
		ShowAllSegments bool
	}
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	s.mu.Lock()
	rec, err := s.findTask(c, req.TaskId)
	var t Task
	if err == nil {
		t = s.current(rec, c.now)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := taskDetailResp{taskData: toTaskData(t)}
	video := c.service == "vm"
	out.AudioSegments, out.ImageSegments, out.SegmentCosUrlList = segmentsOf(out.taskData, video)
	if !video {
		out.AudioText = new(string)
	}
	if len(out.Labels) > 0 {
		out.Label = out.Labels[0].Label
	}
	return out, nil
}

type createModerationReq struct {
	BizType, Type, Seed, CallbackUrl string
	Tasks                            []struct {
		DataId, Name string
		Input        *inputInfo
	}
	Priority int64
	User     map[string]any
}

type taskResult struct {
	DataId, TaskId, Code, Message string
}

// MaxCreateTasks is the most Tasks one Create*ModerationTask call accepts.
const MaxCreateTasks = 10

func (s *Server) actCreateModerationTask(c *apiCall) (any, *apiError) {
	var req createModerationReq
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	allowed := []string{TypeAudio, TypeLiveAudio}
	if c.service == "vm" {
		allowed = []string{TypeVideo, TypeLiveVideo}
	}
	if req.Type == "" {
		return nil, errMissing("MissingParameter", "Type")
	}
	if !slices.Contains(allowed, req.Type) {
		return nil, errf("InvalidParameterValue", "Type "+strconv.Quote(req.Type)+" is invalid; use one of "+strings.Join(allowed, ", ")+".")
	}
	if len(req.Tasks) == 0 {
		return nil, errMissing("MissingParameter", "Tasks")
	}
	if len(req.Tasks) > MaxCreateTasks {
		return nil, errf("InvalidParameterValue", fmt.Sprintf("Tasks has %d items; at most %d are accepted per request.", len(req.Tasks), MaxCreateTasks))
	}
	results := make([]taskResult, 0, len(req.Tasks))
	for _, in := range req.Tasks {
		res := taskResult{DataId: in.DataId}
		switch {
		case in.Input == nil:
			res.Code, res.Message = "InvalidParameter", "Input is required."
		case in.Input.Type != "URL" && in.Input.Type != "COS":
			res.Code, res.Message = "InvalidParameterValue", "Input.Type must be URL or COS."
		case in.Input.Type == "URL" && in.Input.Url == "":
			res.Code, res.Message = "InvalidParameter", "Input.Url is required when Input.Type is URL."
		case in.Input.Type == "COS" && (in.Input.BucketInfo == nil || in.Input.BucketInfo.Object == ""):
			res.Code, res.Message = "InvalidParameter", "Input.BucketInfo is required when Input.Type is COS."
		}
		if res.Code == "" {
			t := s.AddTask(Task{Account: c.account, Service: c.service, DataId: in.DataId, Name: in.Name, BizType: req.BizType,
				Type: req.Type, Status: StatusPending, CreatedAt: c.now, Url: in.Input.Url})
			res.TaskId, res.Code = t.TaskId, "OK"
		}
		results = append(results, res)
	}
	return struct{ Results []taskResult }{results}, nil
}
