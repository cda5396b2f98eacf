package main

import (
	"context"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// warnedSweep is what TestSweepWarningWindowThenCancel reads of a run.
type warnedSweep struct {
	Cancelled, Candidates, Upcoming int
	UpcomingTasks                   []struct{ TaskId, CancelAfter string }
	CancelledTaskHours              float64
}

// TestSweepWarningWindowThenCancel: through scf-local (the real sweep-tasks
// binary, the emulator's real clock), a task eight seconds short of the max
// age is reported upcoming and left running; the first run after its
// CancelAfter cancels it. A young task is neither.
func TestSweepWarningWindowThenCancel(t *testing.T) {
	skipShort(t, "builds the sweeper and waits for a task to turn stale")
	t.Parallel() // its own scf-local on free ports; it waits more than it computes
	out, _ := startServeConfig(t, sweepProjectWith(t, sweepProject{noRoles: true}), nil, "--demo=false", "--timers=false")
	emu := out.field(t, "emulator:")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const maxAge = 2 * time.Hour
	// Eight seconds short of stale: room for the first run to list it in
	// time on a loaded machine.
	created := time.Now().Add(-maxAge + 8*time.Second).Truncate(time.Second)
	var added []emulator.Task
	emuPost(t, emu+"/_emulator/tasks", []emulator.Task{
		{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true, CreatedAt: created},
		{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true, CreatedAt: time.Now().Add(-10 * time.Minute)},
	}, &added)
	if len(added) != 2 {
		t.Fatalf("added %+v", added)
	}
	event := `{"maxAge":"2h","warnBefore":"1h"}`

	var first, second warnedSweep
	invokeSweepTasks(ctx, t, emu, event, &first)
	if first.Upcoming != 1 || len(first.UpcomingTasks) != 1 || first.UpcomingTasks[0].TaskId != added[0].TaskId || first.Cancelled != 0 || first.Candidates != 0 {
		t.Fatalf("first run %+v: want the older task upcoming, nothing cancelled", first)
	}
	after, err := time.Parse(time.RFC3339Nano, first.UpcomingTasks[0].CancelAfter)
	if err != nil || !after.Equal(created.Add(maxAge)) {
		t.Fatalf("CancelAfter %q (%v), want %s", first.UpcomingTasks[0].CancelAfter, err, created.Add(maxAge).UTC().Format(time.RFC3339))
	}
	var tasks []emulator.Task
	emuGet(t, emu+"/_emulator/tasks?status=RUNNING", &tasks)
	if len(tasks) != 2 {
		t.Fatalf("after the warning run %d tasks run, want both", len(tasks))
	}

	// The task turns stale: the next run cancels it.
	time.Sleep(time.Until(after.Add(2 * time.Second)))
	invokeSweepTasks(ctx, t, emu, event, &second)
	if second.Cancelled != 1 || second.Upcoming != 0 {
		t.Fatalf("second run %+v: want the task cancelled, none upcoming", second)
	}
	if second.CancelledTaskHours < 2 || second.CancelledTaskHours > 2.01 {
		t.Errorf("CancelledTaskHours %.2f, want 2.00 (one task cancelled two hours and a few seconds old)", second.CancelledTaskHours)
	}
	emuGet(t, emu+"/_emulator/tasks?status=RUNNING", &tasks)
	if len(tasks) != 1 || tasks[0].TaskId != added[1].TaskId {
		t.Fatalf("after the second run running tasks %+v, want the young one only", tasks)
	}
}
