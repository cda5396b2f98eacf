package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// faultsJSON is the wire form of Faults: durations as Go duration strings.
type faultsJSON struct {
	Latency             string  `json:"Latency,omitempty"`
	Jitter              string  `json:"Jitter,omitempty"`
	InternalErrorRate   float64 `json:"InternalErrorRate"`
	BadGatewayRate      float64 `json:"BadGatewayRate"`
	ResetRate           float64 `json:"ResetRate"`
	SlowRate            float64 `json:"SlowRate"`
	SlowDelay           string  `json:"SlowDelay,omitempty"`
	InternalErrorStatus int     `json:"InternalErrorStatus,omitempty"`
}

func (f Faults) wire() faultsJSON {
	d := func(v time.Duration) string {
		if v == 0 {
			return ""
		}
		return v.String()
	}
	return faultsJSON{d(f.Latency), d(f.Jitter), f.InternalErrorRate, f.BadGatewayRate, f.ResetRate, f.SlowRate, d(f.SlowDelay), f.InternalErrorStatus}
}

func (j faultsJSON) faults() (Faults, error) {
	var f Faults
	parse := func(name, v string, dst *time.Duration) error {
		if v == "" {
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("field %s %q: want a non-negative Go duration such as 250ms", name, v)
		}
		*dst = d
		return nil
	}
	if err := parse("Latency", j.Latency, &f.Latency); err != nil {
		return f, err
	}
	if err := parse("Jitter", j.Jitter, &f.Jitter); err != nil {
		return f, err
	}
	if err := parse("SlowDelay", j.SlowDelay, &f.SlowDelay); err != nil {
		return f, err
	}
	rates := []struct {
		name string
		v    float64
	}{{"InternalErrorRate", j.InternalErrorRate}, {"BadGatewayRate", j.BadGatewayRate}, {"ResetRate", j.ResetRate}, {"SlowRate", j.SlowRate}}
	sum := 0.0
	for _, r := range rates {
		if r.v < 0 || r.v > 1 {
			return f, fmt.Errorf("field %s %v: want a probability between 0 and 1", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1 {
		return f, fmt.Errorf("the fault rates add up to %v: their sum must not exceed 1", sum)
	}
	if j.InternalErrorStatus != 0 && (j.InternalErrorStatus < 200 || j.InternalErrorStatus > 599) {
		return f, fmt.Errorf("field InternalErrorStatus %d: want an HTTP status between 200 and 599", j.InternalErrorStatus)
	}
	f.InternalErrorRate, f.BadGatewayRate, f.ResetRate, f.SlowRate = j.InternalErrorRate, j.BadGatewayRate, j.ResetRate, j.SlowRate
	f.InternalErrorStatus = j.InternalErrorStatus
	return f, nil
}

// Validate reports the first invalid field of f.
func (f Faults) Validate() error {
	_, err := f.wire().faults()
	return err
}

// ParseFaultsJSON decodes the /_emulator/faults JSON form of Faults.
func ParseFaultsJSON(b []byte) (Faults, error) {
	var j faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Faults{}, fmt.Errorf("decode faults: %w", err)
	}
	return j.faults()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // show & < > as they are (query strings, messages)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func inspectError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// decodeOneOrMany decodes a JSON object or an array of objects into []T.
func decodeOneOrMany[T any](body []byte) ([]T, bool, error) {
	body = bytes.TrimSpace(body)
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		return d.Decode(v)
	}
	if len(body) > 0 && body[0] == '[' {
		var many []T
		err := dec(&many)
		return many, true, err
	}
	var one T
	err := dec(&one)
	return []T{one}, false, err
}

// inspectBody reads a POST or PUT body; it answers 413 and reports false
// when the body is too large.
func inspectBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		inspectError(w, http.StatusRequestEntityTooLarge, "body too large")
		return nil, false
	}
	return b, true
}

// inspectNotFound answers a path under /_emulator/ that is no endpoint.
func inspectNotFound(w http.ResponseWriter, r *http.Request) {
	inspectError(w, http.StatusNotFound, "no inspection endpoint %s %s; GET /_emulator/ lists them", r.Method, r.URL.Path)
}

// inspectNotAllowed answers a method an inspection endpoint does not take.
func inspectNotAllowed(path, allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		inspectError(w, http.StatusMethodNotAllowed, "%s takes %s, not %s; GET /_emulator/ lists the endpoints", path, allow, r.Method)
	}
}

func (s *Server) inspectIndex(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": inspectEndpoints})
}

// inspectTasks is GET /_emulator/tasks[?service=ams|vm][&status=...][&account=UIN].
func (s *Server) inspectTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if sv := q.Get("service"); sv != "" && sv != "ams" && sv != "vm" {
		inspectError(w, http.StatusBadRequest, "service %q: want ams or vm (or no service for both)", sv)
		return
	}
	if st := q.Get("status"); st != "" && !contains(taskStatuses, st) {
		inspectError(w, http.StatusBadRequest, "status %q: want one of %s", st, strings.Join(taskStatuses, ", "))
		return
	}
	out := []Task{}
	tasks := s.Tasks(q.Get("service"))
	if acct := q.Get("account"); acct != "" {
		tasks = s.AccountTasks(acct, q.Get("service"))
	}
	for _, t := range tasks {
		if st := q.Get("status"); st == "" || st == t.Status {
			out = append(out, t)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) inspectAddTasks(w http.ResponseWriter, r *http.Request) {
	body, ok := inspectBody(w, r)
	if !ok {
		return
	}
	in, many, err := decodeOneOrMany[Task](body)
	if err != nil {
		inspectError(w, http.StatusBadRequest, "decode tasks: %v", err)
		return
	}
	for i, t := range in {
		if err := validateTask(t); err != nil {
			inspectError(w, http.StatusBadRequest, "task %d: %v", i, err)
			return
		}
	}
	out := make([]Task, 0, len(in))
	for _, t := range in {
		out = append(out, s.AddTask(t))
	}
	respondOneOrMany(w, out, many)
}

func (s *Server) inspectLiveJobs(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.LiveJobs())
}

func (s *Server) inspectAddLiveJobs(w http.ResponseWriter, r *http.Request) {
	body, ok := inspectBody(w, r)
	if !ok {
		return
	}
	in, many, err := decodeOneOrMany[LiveJob](body)
	if err != nil {
		inspectError(w, http.StatusBadRequest, "decode live jobs: %v", err)
		return
	}
	states := []string{"", LiveSubmitted, LiveAuditing, LiveSuccess, LiveFailed, LiveCancelled}
	for i, j := range in {
		if !contains(states, j.State) {
			inspectError(w, http.StatusBadRequest, "live job %d: State %q: want one of %s", i, j.State, strings.Join(states[1:], ", "))
			return
		}
	}
	out := make([]LiveJob, 0, len(in))
	for _, j := range in {
		out = append(out, s.AddLiveJob(j))
	}
	respondOneOrMany(w, out, many)
}

func (s *Server) inspectTranscriptions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Transcriptions())
}

func (s *Server) inspectAddTranscriptions(w http.ResponseWriter, r *http.Request) {
	body, ok := inspectBody(w, r)
	if !ok {
		return
	}
	in, many, err := decodeOneOrMany[Transcription](body)
	if err != nil {
		inspectError(w, http.StatusBadRequest, "decode transcriptions: %v", err)
		return
	}
	states := []string{"", TranscriptionIdle, TranscriptionInProgress, TranscriptionExited}
	for i, t := range in {
		if !contains(states, t.Status) {
			inspectError(w, http.StatusBadRequest, "transcription %d: Status %q: want one of %s", i, t.Status, strings.Join(states[1:], ", "))
			return
		}
		if t.Region != "" && !contains(TranscriptionRegions, t.Region) {
			inspectError(w, http.StatusBadRequest, "transcription %d: Region %q: want one of %s", i, t.Region, strings.Join(TranscriptionRegions, ", "))
			return
		}
	}
	out := make([]Transcription, 0, len(in))
	for _, t := range in {
		out = append(out, s.AddTranscription(t))
	}
	respondOneOrMany(w, out, many)
}

// inspectStats is GET /_emulator/stats[?account=UIN] (empty: the default
// account).
func (s *Server) inspectStats(w http.ResponseWriter, r *http.Request) {
	if q := r.URL.Query(); q.Has("account") {
		writeJSON(w, http.StatusOK, s.AccountStats(q.Get("account")))
		return
	}
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) inspectResetStats(w http.ResponseWriter, r *http.Request) {
	if _, ok := inspectBody(w, r); !ok {
		return
	}
	s.ResetStats()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) inspectFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.CurrentFaults().wire())
}

func (s *Server) inspectSetFaults(w http.ResponseWriter, r *http.Request) {
	body, ok := inspectBody(w, r)
	if !ok {
		return
	}
	f, err := ParseFaultsJSON(body)
	if err != nil {
		inspectError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.SetFaults(f)
	writeJSON(w, http.StatusOK, f.wire())
}

func (s *Server) inspectLoadDemo(w http.ResponseWriter, r *http.Request) {
	if _, ok := inspectBody(w, r); !ok {
		return
	}
	s.LoadDemo()
	writeJSON(w, http.StatusOK, map[string]int{"tasks": len(s.Tasks("")), "liveJobs": len(s.LiveJobs()), "transcriptions": len(s.Transcriptions())})
}

// inspectEndpoints is what GET /_emulator/ answers (the package
// documentation describes each).
var inspectEndpoints = []string{
	"GET  /_emulator/                      this list",
	"GET  /_emulator/tasks[?service=ams|vm][&status=PENDING|RUNNING|FINISH|ERROR|CANCELLED]",
	"POST /_emulator/tasks                 one Task or an array",
	"GET  /_emulator/live-jobs             CI live jobs, with their Bucket and Region",
	"POST /_emulator/live-jobs             one LiveJob or an array",
	"GET  /_emulator/transcriptions        POST /_emulator/transcriptions",
	"GET  /_emulator/stats[?account=UIN]   POST /_emulator/stats/reset",
	"GET  /_emulator/faults                PUT  /_emulator/faults",
	"POST /_emulator/demo                  load the demo data",
	"GET  /_emulator/functions             SCF functions with their triggers (scf-deploy's target)",
	"GET  /_emulator/roles                 GET  /_emulator/policies (CAM)",
	"POST /_emulator/fail-next             queue one control-plane failure {\"Action\":\"scf.CreateTrigger\",\"Code\":\"InternalError\"}",
	"                                      or a settle fault {\"Action\":\"scf.CreateFunction\",\"Settle\":\"CreateFailed\"} (the call succeeds, the function ends CreateFailed; UpdateFailed for scf.UpdateFunctionCode/Configuration)",
	"GET  /_emulator/notifications         POST (a receiver: any path below it), DELETE to clear",
	"POST /_emulator/accounts              accept another account's keys {\"Uin\":\"100000000002\",\"SecretId\":\"...\",\"SecretKey\":\"...\"}",
	"POST /_emulator/role-credentials      a service's keys for a role {\"Service\":\"scf.qcloud.com\",\"RoleArn\":\"...\"} (what SCF gives a function)",
	"GET  /_emulator/cos/                  COS buckets; PUT /_emulator/cos/<bucket>[?region=R] creates one, DELETE removes it",
	"GET  /_emulator/cos/<bucket>/[?prefix=P]   its objects; GET /_emulator/cos/<bucket>/<key> an object's content",
}

func respondOneOrMany[T any](w http.ResponseWriter, out []T, many bool) {
	if many {
		writeJSON(w, http.StatusCreated, out)
		return
	}
	writeJSON(w, http.StatusCreated, out[0])
}

func validateTask(t Task) error {
	if t.Service != "" && t.Service != "ams" && t.Service != "vm" {
		return fmt.Errorf("field Service %q: want ams or vm", t.Service)
	}
	if t.Type != "" && !contains(taskTypes, t.Type) {
		return fmt.Errorf("field Type %q: want one of %s", t.Type, strings.Join(taskTypes, ", "))
	}
	if t.Status != "" && !contains(taskStatuses, t.Status) {
		return fmt.Errorf("field Status %q: want one of %s", t.Status, strings.Join(taskStatuses, ", "))
	}
	if t.Suggestion != "" && !contains(suggestions, t.Suggestion) {
		return fmt.Errorf("field Suggestion %q: want one of %s", t.Suggestion, strings.Join(suggestions, ", "))
	}
	return nil
}
