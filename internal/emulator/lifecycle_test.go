package emulator

import (
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/testkit/clocktest"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t, Options{PendingFor: 10 * time.Second, RunningFor: time.Minute})
	c := e.sdk(t, "", nil)
	var created struct{ Results []taskResult }
	mustCall(t, c, "ams", "CreateAudioModerationTask", map[string]any{"Type": TypeAudio,
		"Tasks": []map[string]any{{"DataId": "d", "Input": map[string]any{"Type": "URL", "Url": "https://x/a.mp3"}}}}, &created)
	id := created.Results[0].TaskId
	start := e.clock.Now()
	status := func() taskData {
		t.Helper()
		var d taskDetailResp
		mustCall(t, c, "ams", "DescribeTaskDetail", map[string]any{"TaskId": id}, &d)
		return taskData{Status: d.Status, Suggestion: d.Suggestion, UpdatedAt: d.UpdatedAt, Labels: d.Labels}
	}
	steps := []struct {
		at   time.Duration
		want string
	}{
		{0, StatusPending},
		{10*time.Second - time.Nanosecond, StatusPending},
		{10 * time.Second, StatusRunning},
		{70*time.Second - time.Nanosecond, StatusRunning},
		{70 * time.Second, StatusFinish},
		{100 * time.Hour, StatusFinish},
	}
	for _, st := range steps {
		e.clock.Set(start.Add(st.at))
		if got := status(); got.Status != st.want {
			t.Fatalf("at +%v: status %s, want %s", st.at, got.Status, st.want)
		}
	}
	d := status()
	if d.Suggestion == "" || len(d.Labels) != 1 || d.UpdatedAt != fmtTime(start.Add(70*time.Second)) {
		t.Fatalf("finished task: %+v", d)
	}
	wantCode(t, call(t, c, "ams", "CancelTask", map[string]any{"TaskId": id}, nil), "FailedOperation")
}

func TestLifecycleCancelFreezes(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.sdk(t, "", nil)
	tk := e.srv.AddTask(Task{Service: "vm", Type: TypeVideo})
	e.clock.Advance(DefaultPendingFor) // RUNNING now
	if got, _ := e.srv.Task("vm", tk.TaskId); got.Status != StatusRunning {
		t.Fatalf("status %s, want RUNNING", got.Status)
	}
	mustCall(t, c, "vm", "CancelTask", map[string]any{"TaskId": tk.TaskId}, nil)
	cancelledAt := e.clock.Now()
	e.clock.Advance(24 * time.Hour)
	got, _ := e.srv.Task("vm", tk.TaskId)
	if got.Status != StatusCancelled || !got.UpdatedAt.Equal(cancelledAt) {
		t.Fatalf("after cancel: %+v", got)
	}
}

func TestLifecycleOptions(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := clocktest.New(now)
	s := New(Options{Now: clock.Now, PendingFor: -1, RunningFor: -1})
	p := s.AddTask(Task{TaskId: "p"})
	r := s.AddTask(Task{TaskId: "r", Status: StatusRunning, CreatedAt: now.Add(-48 * time.Hour)})
	stuck := New(Options{Now: clock.Now}).AddTask(Task{TaskId: "s", Status: StatusPending, Stuck: true})
	clock.Advance(1000 * time.Hour)
	if got, _ := s.Task("ams", p.TaskId); got.Status != StatusPending {
		t.Fatalf("PendingFor<0: %s", got.Status)
	}
	if got, _ := s.Task("ams", r.TaskId); got.Status != StatusRunning {
		t.Fatalf("RunningFor<0: %s", got.Status)
	}
	if stuck.Status != StatusPending {
		t.Fatalf("stuck: %s", stuck.Status)
	}

	// The lifecycle clock of an added task starts at AddTask, not at CreatedAt.
	s2 := New(Options{Now: clock.Now})
	old := s2.AddTask(Task{TaskId: "old", Status: StatusRunning, CreatedAt: clock.Now().Add(-3 * time.Hour)})
	if old.Status != StatusRunning {
		t.Fatalf("old RUNNING task added as %s", old.Status)
	}
	clock.Advance(DefaultRunningFor)
	if got, _ := s2.Task("ams", "old"); got.Status != StatusFinish || !got.UpdatedAt.Equal(clock.Now()) {
		t.Fatalf("after RunningFor: %+v", got)
	}
}

func TestAddTaskDefaults(t *testing.T) {
	clock := newFakeClock()
	s := New(Options{Now: clock.Now, Seed: 3})
	a := s.AddTask(Task{})
	v := s.AddTask(Task{Service: "vm"})
	if a.Service != "ams" || a.Type != TypeAudio || a.Status != StatusPending || !a.CreatedAt.Equal(clock.Now()) ||
		!a.UpdatedAt.Equal(a.CreatedAt) || len(a.TaskId) != 27 {
		t.Fatalf("ams defaults: %+v", a)
	}
	if v.Type != TypeVideo || v.TaskId[:3] != "vt-" {
		t.Fatalf("vm defaults: %+v", v)
	}
	parsed := s.AddTask(Task{CreatedAtRaw: "2025-01-02T03:04:05Z"})
	if !parsed.CreatedAt.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("CreatedAt from CreatedAtRaw: %v", parsed.CreatedAt)
	}
	// Same seed, same ids.
	again := New(Options{Now: clock.Now, Seed: 3}).AddTask(Task{})
	if again.TaskId != a.TaskId {
		t.Fatalf("ids not deterministic: %s vs %s", again.TaskId, a.TaskId)
	}
	// Replacing by id.
	s.AddTask(Task{TaskId: a.TaskId, Status: StatusError})
	if got, _ := s.Task("ams", a.TaskId); got.Status != StatusError || len(s.Tasks("ams")) != 2 {
		t.Fatalf("replace: %+v, %d tasks", got, len(s.Tasks("ams")))
	}
}
