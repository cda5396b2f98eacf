package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func (e *env) inspect(t testing.TB, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestInspectTasks(t *testing.T) {
	e := newEnv(t, Options{})
	created := e.clock.Now().Add(-5 * time.Hour).UTC()
	status, body := e.inspect(t, "POST", "/_emulator/tasks", `{"Service":"vm","TaskId":"v1","Type":"LIVE_VIDEO","Status":"RUNNING","BizType":"live","CreatedAt":"`+created.Format(time.RFC3339)+`"}`)
	if status != 201 {
		t.Fatalf("POST one: %d %s", status, body)
	}
	var one Task
	if err := json.Unmarshal(body, &one); err != nil || one.TaskId != "v1" || one.Status != StatusRunning || !one.CreatedAt.Equal(created) {
		t.Fatalf("POST one returned %s (%v)", body, err)
	}
	status, body = e.inspect(t, "POST", "/_emulator/tasks", `[{"TaskId":"a1"},{"TaskId":"a2","Status":"FINISH","Suggestion":"Block"}]`)
	var many []Task
	if err := json.Unmarshal(body, &many); status != 201 || err != nil || len(many) != 2 || many[0].Service != "ams" {
		t.Fatalf("POST many: %d %s", status, body)
	}
	// The created task is visible to the API.
	var r describeResp
	mustCall(t, e.sdk(t, "", nil), "vm", "DescribeTasks", map[string]any{}, &r)
	if len(r.Data) != 1 || r.Data[0].TaskId != "v1" || r.Data[0].Type != TypeLiveVideo {
		t.Fatalf("API sees %+v", r.Data)
	}

	for _, tc := range []struct{ query, want string }{
		{"", "a1,a2,v1"}, {"?service=ams", "a1,a2"}, {"?service=ams&status=FINISH", "a2"}, {"?status=RUNNING", "v1"},
	} {
		_, body := e.inspect(t, "GET", "/_emulator/tasks"+tc.query, "")
		var got []Task
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range got {
			ids = append(ids, x.TaskId)
		}
		// a1 and a2 share CreatedAt; order by id descending then.
		if s := strings.Join(sortedCopy(ids), ","); s != tc.want {
			t.Fatalf("GET %s = %s, want %s", tc.query, s, tc.want)
		}
	}

	for _, bad := range []string{`{"Service":"cvm"}`, `{"Status":"DONE"}`, `{"Type":"IMAGE"}`, `{"Suggestion":"block"}`, `{"Unknown":1}`, `[{"TaskId":1}]`, `nope`} {
		if status, body := e.inspect(t, "POST", "/_emulator/tasks", bad); status != 400 || !bytes.Contains(body, []byte(`"error"`)) {
			t.Fatalf("POST %s: %d %s", bad, status, body)
		}
	}
	if n := len(e.srv.Tasks("")); n != 3 {
		t.Fatalf("%d tasks after rejected posts, want 3", n)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestInspectLiveJobsTranscriptionsStatsFaults(t *testing.T) {
	e := newEnv(t, Options{})
	if status, body := e.inspect(t, "POST", "/_emulator/live-jobs", `{"JobId":"av1","DataId":"d","State":"Auditing"}`); status != 201 {
		t.Fatalf("live job: %d %s", status, body)
	}
	if status, _ := e.inspect(t, "POST", "/_emulator/live-jobs", `{"State":"Running"}`); status != 400 {
		t.Fatalf("bad state accepted: %d", status)
	}
	_, body := e.inspect(t, "GET", "/_emulator/live-jobs", "")
	var jobs []LiveJob
	if err := json.Unmarshal(body, &jobs); err != nil || len(jobs) != 1 || jobs[0].JobId != "av1" {
		t.Fatalf("live jobs: %s", body)
	}

	if status, body := e.inspect(t, "POST", "/_emulator/transcriptions", `[{"TaskId":"tt1","Region":"ap-hongkong"},{"SdkAppId":1400000000}]`); status != 201 {
		t.Fatalf("transcriptions: %d %s", status, body)
	}
	for _, bad := range []string{`{"Region":"ap-chengdu"}`, `{"Status":"Running"}`} {
		if status, _ := e.inspect(t, "POST", "/_emulator/transcriptions", bad); status != 400 {
			t.Fatalf("%s accepted", bad)
		}
	}
	_, body = e.inspect(t, "GET", "/_emulator/transcriptions", "")
	var trans []Transcription
	if err := json.Unmarshal(body, &trans); err != nil || len(trans) != 2 {
		t.Fatalf("transcriptions: %s", body)
	}
	var desc struct{ Status string }
	mustCall(t, e.sdk(t, "ap-hongkong", nil), "trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": DefaultSdkAppID, "TaskId": "tt1"}, &desc)
	if desc.Status != TranscriptionInProgress {
		t.Fatalf("added transcription: %+v", desc)
	}

	_, body = e.inspect(t, "GET", "/_emulator/stats", "")
	var st Stats
	if err := json.Unmarshal(body, &st); err != nil || st.Actions["trtc.DescribeCloudTranscription"].Requests != 1 {
		t.Fatalf("stats: %s", body)
	}
	if status, _ := e.inspect(t, "POST", "/_emulator/stats/reset", ""); status != 204 || len(e.srv.Stats().Actions) != 0 {
		t.Fatalf("reset: %d", status)
	}

	status, body := e.inspect(t, "PUT", "/_emulator/faults", `{"Latency":"15ms","Jitter":"5ms","InternalErrorRate":0.25,"SlowDelay":"2s","InternalErrorStatus":503}`)
	want := Faults{Latency: 15 * time.Millisecond, Jitter: 5 * time.Millisecond, InternalErrorRate: 0.25, SlowDelay: 2 * time.Second, InternalErrorStatus: 503}
	if status != 200 || !reflect.DeepEqual(e.srv.CurrentFaults(), want) {
		t.Fatalf("PUT faults: %d %s -> %+v", status, body, e.srv.CurrentFaults())
	}
	_, body = e.inspect(t, "GET", "/_emulator/faults", "")
	if f, err := ParseFaultsJSON(body); err != nil || !reflect.DeepEqual(f, want) {
		t.Fatalf("GET faults %s: %+v %v", body, f, err)
	}
	for _, bad := range []string{`{"Latency":"fast"}`, `{"ResetRate":1.5}`, `{"ResetRate":0.6,"BadGatewayRate":0.6}`, `{"Latency":"-1s"}`, `{"Bogus":1}`, `{"InternalErrorStatus":42}`} {
		if status, _ := e.inspect(t, "PUT", "/_emulator/faults", bad); status != 400 {
			t.Fatalf("PUT faults %s: %d", bad, status)
		}
	}
	if !reflect.DeepEqual(e.srv.CurrentFaults(), want) {
		t.Fatal("a rejected PUT changed the faults")
	}
	if status, _ := e.inspect(t, "GET", "/_emulator/nothing", ""); status != 404 {
		t.Fatalf("unknown endpoint: %d", status)
	}
	if status, _ := e.inspect(t, "DELETE", "/_emulator/tasks", ""); status != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE tasks: %d, want 405 (the path exists, the method does not)", status)
	}
}

func TestLoadDemo(t *testing.T) {
	clock := newFakeClock()
	a := New(Options{Now: clock.Now, Seed: 5})
	b := New(Options{Now: clock.Now, Seed: 5})
	a.LoadDemo()
	b.LoadDemo()
	if !reflect.DeepEqual(a.Tasks(""), b.Tasks("")) || !reflect.DeepEqual(a.LiveJobs(), b.LiveJobs()) || !reflect.DeepEqual(a.Transcriptions(), b.Transcriptions()) {
		t.Fatal("LoadDemo is not deterministic for the same seed and clock")
	}
	now := clock.Now()
	tasks := a.Tasks("")
	if len(tasks) < 200 {
		t.Fatalf("%d demo tasks", len(tasks))
	}
	count := map[string]int{}
	for _, tk := range tasks {
		old := now.Sub(tk.CreatedAt) > DemoStaleAge
		unfinished := tk.Status == StatusPending || tk.Status == StatusRunning
		switch {
		case unfinished && old && isLive(tk.Type):
			count["stale live"]++
		case unfinished && old:
			count["stale"]++
			if !tk.Stuck {
				t.Fatalf("stale non-live task %s is not Stuck", tk.TaskId)
			}
		case unfinished:
			count["young unfinished"]++
		}
		if now.Sub(tk.CreatedAt) > 72*time.Hour {
			count["older than 3 days"]++
		}
		count[tk.Service+" "+tk.Type]++
		count[tk.Status]++
	}
	for _, k := range []string{"stale live", "stale", "young unfinished", "older than 3 days", "ams AUDIO", "ams LIVE_AUDIO", "vm VIDEO", "vm LIVE_VIDEO",
		StatusFinish, StatusCancelled, StatusError, StatusPending, StatusRunning} {
		if count[k] == 0 {
			t.Errorf("demo has no %q task (%v)", k, count)
		}
	}
	var staleJobs, youngJobs int
	for _, j := range a.LiveJobs() {
		if j.State == LiveAuditing || j.State == LiveSubmitted {
			if now.Sub(j.CreationTime) > DemoStaleAge {
				staleJobs++
			} else {
				youngJobs++
			}
		}
	}
	if staleJobs == 0 || youngJobs == 0 {
		t.Errorf("live jobs: %d stale, %d young", staleJobs, youngJobs)
	}
	var staleTrans, youngTrans int
	for _, tr := range a.Transcriptions() {
		if tr.SdkAppId != DefaultSdkAppID {
			t.Errorf("transcription %s has SdkAppId %d", tr.TaskId, tr.SdkAppId)
		}
		if tr.Status == TranscriptionInProgress && tr.Region == "ap-guangzhou" {
			if now.Sub(tr.StartTime) > DemoStaleAge {
				staleTrans++
			} else {
				youngTrans++
			}
		}
	}
	if staleTrans == 0 || youngTrans == 0 {
		t.Errorf("transcriptions: %d stale, %d young in ap-guangzhou", staleTrans, youngTrans)
	}
	// Relative to Now: a later clock shifts every time by the same amount.
	clock.Advance(7 * time.Hour)
	c := New(Options{Now: clock.Now, Seed: 5})
	c.LoadDemo()
	ct := c.Tasks("")
	for i := range ct {
		if ct[i].TaskId != tasks[i].TaskId || ct[i].CreatedAt.Sub(tasks[i].CreatedAt) != 7*time.Hour {
			t.Fatalf("task %d: %s at %v vs %s at %v", i, ct[i].TaskId, ct[i].CreatedAt, tasks[i].TaskId, tasks[i].CreatedAt)
		}
	}
}

// TestCOSInspectUncleanPaths: a COS inspection path that is not clean is no
// endpoint (it never lists the buckets or names an object).
func TestCOSInspectUncleanPaths(t *testing.T) {
	s := New(Options{})
	for _, p := range []string{"/_emulator/cos//x", "/_emulator/cos/./", "/_emulator/cos/b/../c"} {
		t.Run(p, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+p, nil))
			if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no inspection endpoint") {
				t.Errorf("GET %s = %d %s, want 404 no inspection endpoint", p, w.Code, w.Body)
			}
		})
	}
}
