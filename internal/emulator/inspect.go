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

func (s *Server) serveInspect(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	var body []byte
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			inspectError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		body = b
	}
	switch {
	case path == "/_emulator" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"endpoints": inspectEndpoints})
	case path == "/_emulator/tasks" && r.Method == http.MethodGet:
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
	case path == "/_emulator/tasks" && r.Method == http.MethodPost:
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
	case path == "/_emulator/live-jobs" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.LiveJobs())
	case path == "/_emulator/live-jobs" && r.Method == http.MethodPost:
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
	case path == "/_emulator/transcriptions" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Transcriptions())
	case path == "/_emulator/transcriptions" && r.Method == http.MethodPost:
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
	case path == "/_emulator/stats" && r.Method == http.MethodGet:
		if q := r.URL.Query(); q.Has("account") { // ?account=<uin>; empty = the default account
			writeJSON(w, http.StatusOK, s.AccountStats(q.Get("account")))
			return
		}
		writeJSON(w, http.StatusOK, s.Stats())
	case path == "/_emulator/stats/reset" && r.Method == http.MethodPost:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case path == "/_emulator/faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.CurrentFaults().wire())
	case path == "/_emulator/faults" && r.Method == http.MethodPut:
		f, err := ParseFaultsJSON(body)
		if err != nil {
			inspectError(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, f.wire())
	case path == "/_emulator/demo" && r.Method == http.MethodPost:
		s.LoadDemo()
		writeJSON(w, http.StatusOK, map[string]int{"tasks": len(s.Tasks("")), "liveJobs": len(s.LiveJobs()), "transcriptions": len(s.Transcriptions())})
	case isControlInspectPath(path):
		s.serveControlInspect(w, r, path, body)
	case isRoleInspectPath(path):
		s.serveRoleInspect(w, r, path, body)
	case inspectMethods[path] != "":
		w.Header().Set("Allow", inspectMethods[path])
		inspectError(w, http.StatusMethodNotAllowed, "%s takes %s, not %s; GET /_emulator/ lists the endpoints", path, inspectMethods[path], r.Method)
	default:
		inspectError(w, http.StatusNotFound, "no inspection endpoint %s %s; GET /_emulator/ lists them", r.Method, r.URL.Path)
	}
}

// inspectMethods are the methods each inspection path takes, for the 405
// answer to another.
var inspectMethods = map[string]string{
	"/_emulator/tasks": "GET, POST", "/_emulator/live-jobs": "GET, POST", "/_emulator/transcriptions": "GET, POST",
	"/_emulator/stats": "GET", "/_emulator/stats/reset": "POST", "/_emulator/faults": "GET, PUT", "/_emulator/demo": "POST",
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
