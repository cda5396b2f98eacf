package emulator

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"hash/fnv"
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

// Task is an AMS or VM moderation task. Status is the state as of the moment
// it is read; tasks advance lazily from the clock.
type Task struct {
	Service, TaskId, DataId, Name, BizType, Type, Status string
	CreatedAt                                            time.Time
	CreatedAtRaw                                         string // when set, returned verbatim as CreatedAt (for unparseable-date tests)
	UpdatedAt                                            time.Time
	// Suggestion is Block, Review or Pass; when empty, a FINISH task gets a
	// deterministic one derived from its TaskId.
	Suggestion string
	// Stuck freezes the status: it never advances by itself, only CancelTask
	// ends it (a job stuck on Tencent's side, which is what a sweeper is for).
	Stuck bool
	// Url is the input URL reported in InputInfo.
	Url string
	// Account is the uin owning the task ("" = the default account); only
	// credentials of that account see it (accounts.go).
	Account string `json:",omitempty"`
}

type taskRec struct {
	Task
	phaseStart time.Time // when the stored Status began
}

func taskKey(service, id string) string { return service + "/" + id }

func isLive(typ string) bool { return typ == TypeLiveAudio || typ == TypeLiveVideo }

// current returns the task as of now (status advanced lazily).
func (s *Server) current(rec *taskRec, now time.Time) Task {
	t := rec.Task
	if t.Stuck {
		return t
	}
	start := rec.phaseStart
	if t.Status == StatusPending && s.opts.PendingFor >= 0 {
		end := start.Add(s.opts.PendingFor)
		if !now.Before(end) {
			t.Status, start, t.UpdatedAt = StatusRunning, end, end
		}
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

func derivedSuggestion(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	switch v := h.Sum32() % 10; {
	case v < 7:
		return "Pass"
	case v < 9:
		return "Review"
	default:
		return "Block"
	}
}

// AddTask stores t and returns it as stored (status as of now). Defaults:
// Service "ams"; Type AUDIO (ams) or VIDEO (vm); Status PENDING; CreatedAt
// parsed from CreatedAtRaw when possible, else now; UpdatedAt = CreatedAt;
// TaskId generated. The lifecycle clock of the given Status starts now. A
// task with the same Service and TaskId is replaced.
func (s *Server) AddTask(t Task) Task {
	now := s.now()
	if t.Service == "" {
		t.Service = "ams"
	}
	if t.Type == "" {
		t.Type = TypeAudio
		if t.Service == "vm" {
			t.Type = TypeVideo
		}
	}
	if t.Status == "" {
		t.Status = StatusPending
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
	rec := &taskRec{Task: t, phaseStart: now}
	sc := scope(t.Account, t.Service)
	key := taskKey(sc, t.TaskId)
	list := s.order[sc]
	if old, ok := s.tasks[key]; ok {
		for i, r := range list {
			if r == old {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
	}
	i := sort.Search(len(list), func(i int) bool { return taskBefore(t, list[i].Task) })
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = rec
	s.order[sc] = list
	s.tasks[key] = rec
	return s.current(rec, now)
}

// uniqueTaskID must be called with s.mu held.
func (s *Server) uniqueTaskID(service string) string {
	prefix := "at-"
	if service == "vm" {
		prefix = "vt-"
	}
	return s.uniqueID(prefix, 24, func(id string) bool { _, dup := s.tasks[taskKey(service, id)]; return dup })
}

// Tasks returns the tasks of service ("" = all) as of now, newest first.
func (s *Server) Tasks(service string) []Task {
	now := s.now()
	s.mu.Lock()
	out := make([]Task, 0, len(s.tasks))
	for svc, list := range s.order {
		if svc == service || service == "" && !strings.Contains(svc, "|") { // the default account's (AccountTasks: the others')
			for _, rec := range list {
				out = append(out, s.current(rec, now))
			}
		}
	}
	s.mu.Unlock()
	if service == "" {
		sortTasks(out)
	}
	return out
}

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

// sortTasks orders newest first (CreatedAt descending, then TaskId descending).
func sortTasks(ts []Task) {
	sort.Slice(ts, func(i, j int) bool { return taskBefore(ts[i], ts[j]) })
}

func taskBefore(a, b Task) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.TaskId > b.TaskId
}

// ---- wire types ----

type taskLabel struct {
	Label      string
	Suggestion string
	Score      int64
	SubLabel   string
}

type mediaInfo struct {
	Codecs    string
	Duration  int64
	Width     int64
	Height    int64
	Thumbnail string
}

type bucketInfo struct {
	Bucket string `json:"Bucket,omitempty"`
	Region string `json:"Region,omitempty"`
	Object string `json:"Object,omitempty"`
}

type inputInfo struct {
	Type       string
	Url        string
	BucketInfo *bucketInfo
}

type taskData struct {
	DataId     string
	TaskId     string
	Name       string
	BizType    string
	Status     string
	Type       string
	Suggestion string
	Labels     []taskLabel
	MediaInfo  *mediaInfo
	InputInfo  *inputInfo
	CreatedAt  string
	UpdatedAt  string
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
		d.Labels = []taskLabel{{Label: label, Suggestion: t.Suggestion, Score: scoreFor(t.Suggestion)}}
		d.MediaInfo.Duration = int64(t.UpdatedAt.Sub(t.CreatedAt) / time.Millisecond)
		if d.MediaInfo.Duration < 0 {
			d.MediaInfo.Duration = 0
		}
	}
	return d
}

func scoreFor(sugg string) int64 {
	switch sugg {
	case "Block":
		return 95
	case "Review":
		return 70
	}
	return 0
}

// ---- CancelTask ----

type cancelTaskReq struct{ TaskId string }

func (s *Server) actCancelTask(c *apiCall) (any, *apiError) {
	var req cancelTaskReq
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	if req.TaskId == "" {
		return nil, errf("MissingParameter", "The request is missing the required parameter TaskId.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.tasks[taskKey(c.scope(), req.TaskId)]
	if !ok {
		return nil, errf("ResourceNotFound", "Task "+req.TaskId+" does not exist.")
	}
	cur := s.current(rec, c.now)
	if cur.Status != StatusPending && cur.Status != StatusRunning {
		return nil, s.endedError("Task " + req.TaskId + " has already ended with status " + cur.Status + ".")
	}
	rec.Task = cur
	rec.Status, rec.UpdatedAt, rec.phaseStart = StatusCancelled, c.now, c.now
	return struct{}{}, nil
}

// ---- DescribeTasks ----

type amsTaskFilter struct {
	BizType                      string
	Type, Suggestion, TaskStatus string
}

type vmTaskFilter struct {
	BizType                      []string
	Type, Suggestion, TaskStatus string
}

type describeTasksAMS struct {
	Limit                         int64
	Filter                        *amsTaskFilter
	PageToken, StartTime, EndTime string
}

type describeTasksVM struct {
	Limit                         int64
	Filter                        *vmTaskFilter
	PageToken, StartTime, EndTime string
}

type taskQuery struct {
	bizTypes                    []string
	typ, suggestion, taskStatus string
	start, end                  time.Time // end zero = no bound
}

func (q taskQuery) match(t Task) bool {
	if len(q.bizTypes) > 0 && !contains(q.bizTypes, t.BizType) {
		return false
	}
	if q.typ != "" && t.Type != q.typ {
		return false
	}
	if q.taskStatus != "" && t.Status != q.taskStatus {
		return false
	}
	if q.suggestion != "" && (t.Status != StatusFinish || t.Suggestion != q.suggestion) {
		return false
	}
	if t.CreatedAt.Before(q.start) {
		return false
	}
	if !q.end.IsZero() && t.CreatedAt.After(q.end) {
		return false
	}
	return true
}

// hash identifies the filter a page token belongs to (times excluded, so a
// client may recompute StartTime between pages).
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

// describeTasksReq is a DescribeTasks request of either service.
type describeTasksReq struct {
	limit                   int64
	token, startRaw, endRaw string
	q                       taskQuery
}

// decodeDescribeTasks reads the request: VM's Filter.BizType is a list,
// AMS's a single string.
func decodeDescribeTasks(c *apiCall) (describeTasksReq, *apiError) {
	var d describeTasksReq
	if c.service == "vm" {
		var req describeTasksVM
		if err := decodeParams(c.body, &req, true); err != nil {
			return d, err
		}
		d.limit, d.token, d.startRaw, d.endRaw = req.Limit, req.PageToken, req.StartTime, req.EndTime
		if f := req.Filter; f != nil {
			d.q.bizTypes, d.q.typ, d.q.suggestion, d.q.taskStatus = f.BizType, f.Type, f.Suggestion, f.TaskStatus
		}
		return d, nil
	}
	var req describeTasksAMS
	if err := decodeParams(c.body, &req, true); err != nil {
		return d, err
	}
	d.limit, d.token, d.startRaw, d.endRaw = req.Limit, req.PageToken, req.StartTime, req.EndTime
	if f := req.Filter; f != nil {
		if f.BizType != "" {
			d.q.bizTypes = []string{f.BizType}
		}
		d.q.typ, d.q.suggestion, d.q.taskStatus = f.Type, f.Suggestion, f.TaskStatus
	}
	return d, nil
}

// check validates the limit (0 becomes 10) and the filters, and sets the
// time window (default: the last 72 hours).
func (d *describeTasksReq) check(maxLimit int, now time.Time) *apiError {
	if d.limit < 0 || d.limit > int64(maxLimit) {
		return errf("InvalidParameterValue", fmt.Sprintf("Limit %d is out of range; it must be between 1 and %d (0 or absent means 10).", d.limit, maxLimit))
	}
	if d.limit == 0 {
		d.limit = 10
	}
	q := &d.q
	if q.typ != "" && !contains(taskTypes, q.typ) {
		return errf("InvalidParameterValue", "Filter.Type "+strconv.Quote(q.typ)+" is invalid; use one of "+strings.Join(taskTypes, ", ")+".")
	}
	if q.suggestion != "" && !contains(suggestions, q.suggestion) {
		return errf("InvalidParameterValue", "Filter.Suggestion "+strconv.Quote(q.suggestion)+" is invalid; use one of "+strings.Join(suggestions, ", ")+".")
	}
	if q.taskStatus != "" && !contains(taskStatuses, q.taskStatus) {
		return errf("InvalidParameterValue", "Filter.TaskStatus "+strconv.Quote(q.taskStatus)+" is invalid; use one of "+strings.Join(taskStatuses, ", ")+".")
	}
	q.start = now.Add(-72 * time.Hour)
	if d.startRaw != "" {
		t, err := parseISOTime("StartTime", d.startRaw)
		if err != nil {
			return err
		}
		q.start = t
	}
	if d.endRaw != "" {
		t, err := parseISOTime("EndTime", d.endRaw)
		if err != nil {
			return err
		}
		q.end = t
		if q.end.Before(q.start) {
			return errf("InvalidParameterValue", "EndTime "+d.endRaw+" is before StartTime.")
		}
	}
	return nil
}

func (s *Server) actDescribeTasks(c *apiCall) (any, *apiError) {
	d, aerr := decodeDescribeTasks(c)
	if aerr == nil {
		aerr = d.check(s.opts.MaxLimit, c.now)
	}
	if aerr != nil {
		return nil, aerr
	}
	q, token, limit := d.q, d.token, d.limit
	qh := q.hash(c.service)
	var tok pageToken
	if token != "" {
		var err *apiError
		if tok, err = decodePageToken(token, s.opts.Paging, qh); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// Matching tasks, newest first: the service's list is kept in that order.
	var matches []*taskRec
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
			from = sort.Search(len(matches), func(i int) bool { return taskBefore(key, matches[i].Task) })
		}
	}
	to := min(from+int(limit), len(matches))
	resp := describeTasksResp{Total: strconv.Itoa(len(matches)), Data: make([]taskData, 0, to-from)}
	for _, rec := range matches[from:to] {
		resp.Data = append(resp.Data, toTaskData(s.current(rec, c.now)))
	}
	if to < len(matches) {
		if s.opts.Paging == PagingOffset {
			resp.PageToken = encodePageToken(pageToken{mode: PagingOffset, offset: to, query: qh})
		} else {
			last := matches[to-1]
			resp.PageToken = encodePageToken(pageToken{mode: PagingCursor, created: last.CreatedAt, id: last.TaskId, query: qh})
		}
	}
	return resp, nil
}

// pageToken is the opaque DescribeTasks PageToken.
type pageToken struct {
	mode    string
	offset  int       // offset mode
	created time.Time // cursor mode: the last task returned
	id      string
	query   string
}

func encodePageToken(t pageToken) string {
	var raw string
	if t.mode == PagingOffset {
		raw = fmt.Sprintf("o1|%d|%s", t.offset, t.query)
	} else {
		raw = fmt.Sprintf("c1|%d|%s|%s", t.created.UnixNano(), t.query, t.id)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw + "|" + tokenSum(raw)))
}

// tokenSum is a checksum that makes a corrupted or hand-made token invalid.
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
	if err != nil {
		return bad("not a token issued by this server")
	}
	i := bytes.LastIndexByte(b, '|')
	if i < 0 || tokenSum(string(b[:i])) != string(b[i+1:]) {
		return bad("not a token issued by this server")
	}
	parts := strings.SplitN(string(b[:i]), "|", 4)
	switch {
	case mode == PagingOffset && len(parts) == 3 && parts[0] == "o1":
		off, err := strconv.Atoi(parts[1])
		if err != nil || off < 0 {
			return bad("not a token issued by this server")
		}
		if parts[2] != query {
			return bad("it belongs to a different Filter")
		}
		return pageToken{mode: mode, offset: off, query: query}, nil
	case mode == PagingCursor && len(parts) == 4 && parts[0] == "c1":
		n, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return bad("not a token issued by this server")
		}
		if parts[2] != query {
			return bad("it belongs to a different Filter")
		}
		return pageToken{mode: mode, created: time.Unix(0, n), id: parts[3], query: query}, nil
	}
	return bad("not a token issued by this server")
}

// ---- DescribeTaskDetail ----

type describeTaskDetailReq struct {
	TaskId          string
	ShowAllSegments bool
}

type taskDetailResp struct {
	TaskId, DataId, BizType, Name, Status, Type, Suggestion string
	Labels                                                  []taskLabel
	InputInfo                                               *inputInfo
	MediaInfo                                               *mediaInfo
	CreatedAt, UpdatedAt                                    string
	AudioSegments                                           []audioSegment
	ImageSegments                                           []imageSegment  `json:",omitempty"` // VM only
	SegmentCosUrlList                                       *segmentCosURLs `json:",omitempty"` // VM only
	AudioText                                               *string         `json:",omitempty"` // AMS only
	ErrorType, ErrorDescription, Label                      string
}

func (s *Server) actDescribeTaskDetail(c *apiCall) (any, *apiError) {
	var req describeTaskDetailReq
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	if req.TaskId == "" {
		return nil, errf("MissingParameter", "The request is missing the required parameter TaskId.")
	}
	s.mu.Lock()
	rec, ok := s.tasks[taskKey(c.scope(), req.TaskId)]
	var t Task
	if ok {
		t = s.current(rec, c.now)
	}
	s.mu.Unlock()
	if !ok {
		return nil, errf("ResourceNotFound", "Task "+req.TaskId+" does not exist.")
	}
	d := toTaskData(t)
	out := taskDetailResp{
		TaskId: d.TaskId, DataId: d.DataId, BizType: d.BizType, Name: d.Name, Status: d.Status,
		Type: d.Type, Suggestion: d.Suggestion, Labels: d.Labels, InputInfo: d.InputInfo,
		MediaInfo: d.MediaInfo, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	video := c.service == "vm"
	out.AudioSegments, out.ImageSegments, out.SegmentCosUrlList = segmentsOf(d, video)
	if video && out.ImageSegments == nil {
		out.ImageSegments = []imageSegment{}
	}
	if !video {
		text := ""
		out.AudioText, out.ImageSegments = &text, nil
	}
	if len(d.Labels) > 0 {
		out.Label = d.Labels[0].Label
	}
	return out, nil
}

// ---- Create{Audio,Video}ModerationTask ----

type storageInfo struct {
	Type       string
	Url        string
	BucketInfo *bucketInfo
}

type taskInput struct {
	DataId string
	Name   string
	Input  *storageInfo
}

type createModerationReq struct {
	BizType     string
	Type        string
	Seed        string
	CallbackUrl string
	Tasks       []taskInput
	Priority    int64
	User        map[string]any
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
		return nil, errf("MissingParameter", "The request is missing the required parameter Type.")
	}
	if !contains(allowed, req.Type) {
		return nil, errf("InvalidParameterValue", "Type "+strconv.Quote(req.Type)+" is invalid; use one of "+strings.Join(allowed, ", ")+".")
	}
	if len(req.Tasks) == 0 {
		return nil, errf("MissingParameter", "The request is missing the required parameter Tasks.")
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
