package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// faultsJSON is the wire form of Faults: durations as Go duration strings.
type faultsJSON struct {
	Latency, Jitter                                        faultDuration `json:",omitempty"`
	InternalErrorRate, BadGatewayRate, ResetRate, SlowRate float64
	SlowDelay                                              faultDuration `json:",omitempty"`
	InternalErrorStatus                                    int           `json:",omitempty"`
}

type faultDuration time.Duration

func (d faultDuration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *faultDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil && s != "" {
		return fmt.Errorf("duration %q: want a Go duration such as 250ms", s)
	}
	*d = faultDuration(v)
	return nil
}

func (f Faults) wire() faultsJSON {
	return faultsJSON{faultDuration(f.Latency), faultDuration(f.Jitter), f.InternalErrorRate, f.BadGatewayRate, f.ResetRate,
		f.SlowRate, faultDuration(f.SlowDelay), f.InternalErrorStatus}
}

// Validate reports the first invalid field of f.
func (f Faults) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Latency", f.Latency}, {"Jitter", f.Jitter}, {"SlowDelay", f.SlowDelay}} {
		if d.v < 0 {
			return fmt.Errorf("field %s %v: want a non-negative Go duration such as 250ms", d.name, d.v)
		}
	}
	rates := []struct {
		name string
		v    float64
	}{{"InternalErrorRate", f.InternalErrorRate}, {"BadGatewayRate", f.BadGatewayRate}, {"ResetRate", f.ResetRate}, {"SlowRate", f.SlowRate}}
	sum := 0.0
	for _, r := range rates {
		if r.v < 0 || r.v > 1 {
			return fmt.Errorf("field %s %v: want a probability between 0 and 1", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1 {
		return fmt.Errorf("the fault rates add up to %v: their sum must not exceed 1", sum)
	}
	if f.InternalErrorStatus != 0 && (f.InternalErrorStatus < 200 || f.InternalErrorStatus > 599) {
		return fmt.Errorf("field InternalErrorStatus %d: want an HTTP status between 200 and 599", f.InternalErrorStatus)
	}
	return nil
}

// ParseFaultsJSON decodes the /_emulator/faults JSON form of Faults.
func ParseFaultsJSON(b []byte) (Faults, error) {
	var j faultsJSON
	if err := decodeStrict(b, &j); err != nil {
		return Faults{}, fmt.Errorf("decode faults: %w", err)
	}
	f := Faults{time.Duration(j.Latency), time.Duration(j.Jitter), j.InternalErrorRate, j.BadGatewayRate, j.ResetRate, j.SlowRate,
		time.Duration(j.SlowDelay), j.InternalErrorStatus}
	return f, f.Validate()
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
func decodeOneOrMany[T any](body []byte) (out []T, many bool, err error) {
	body = bytes.TrimSpace(body)
	if many = len(body) > 0 && body[0] == '['; many {
		return out, many, decodeStrict(body, &out)
	}
	out = make([]T, 1)
	return out, many, decodeStrict(body, &out[0])
}

// decodeStrict decodes the first JSON value of b into v; unknown fields are errors.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// inspectBody reads a body; false when it answered 413.
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
	if err := oneOf("status", q.Get("status"), taskStatuses...); err != nil {
		inspectError(w, http.StatusBadRequest, "%v", err)
		return
	}
	out := []Task{}
	for _, t := range s.AccountTasks(q.Get("account"), q.Get("service")) {
		if st := q.Get("status"); st == "" || st == t.Status {
			out = append(out, t)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) inspectAddTasks(w http.ResponseWriter, r *http.Request) {
	inspectAdd(w, r, "task", func(t Task) error {
		if t.Service != "" && t.Service != "ams" && t.Service != "vm" {
			return fmt.Errorf("field Service %q: want ams or vm", t.Service)
		}
		return cmp.Or(oneOf("field Type", t.Type, taskTypes...), oneOf("field Status", t.Status, taskStatuses...),
			oneOf("field Suggestion", t.Suggestion, suggestions...))
	}, s.AddTask)
}

func (s *Server) inspectAddLiveJobs(w http.ResponseWriter, r *http.Request) {
	inspectAdd(w, r, "live job", func(j LiveJob) error {
		return oneOf("State", j.State, LiveSubmitted, LiveAuditing, LiveSuccess, LiveFailed, LiveCancelled)
	}, s.AddLiveJob)
}

func (s *Server) inspectAddTranscriptions(w http.ResponseWriter, r *http.Request) {
	inspectAdd(w, r, "transcription", func(t Transcription) error {
		return cmp.Or(oneOf("Status", t.Status, TranscriptionIdle, TranscriptionInProgress, TranscriptionExited),
			oneOf("Region", t.Region, TranscriptionRegions...))
	}, s.AddTranscription)
}

// inspectAdd checks then adds one record or an array; 201 with what was stored.
func inspectAdd[T any](w http.ResponseWriter, r *http.Request, what string, check func(T) error, add func(T) T) {
	body, ok := inspectBody(w, r)
	if !ok {
		return
	}
	in, many, err := decodeOneOrMany[T](body)
	if err != nil {
		inspectError(w, http.StatusBadRequest, "decode %ss: %v", what, err)
		return
	}
	for i, v := range in {
		if err := check(v); err != nil {
			inspectError(w, http.StatusBadRequest, "%s %d: %v", what, i, err)
			return
		}
	}
	out := make([]T, 0, len(in))
	for _, v := range in {
		out = append(out, add(v))
	}
	if many {
		writeJSON(w, http.StatusCreated, out)
		return
	}
	writeJSON(w, http.StatusCreated, out[0])
}

// oneOf reports a field whose value, when set, is not one of valid.
func oneOf(field, v string, valid ...string) error {
	if v == "" || slices.Contains(valid, v) {
		return nil
	}
	return fmt.Errorf("%s %q: want one of %s", field, v, strings.Join(valid, ", "))
}

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

// inspectEndpoints is what GET /_emulator/ answers.
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
