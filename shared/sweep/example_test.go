package sweep_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Sweep an emulated AMS account: the 3-hour-old live task is cancelled, the
// 10-minute-old one is left alone.
func ExampleSweeper_Run() {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv := emulator.New(emulator.Options{Now: clock, Rate: -1})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	srv.AddTask(emulator.Task{Service: "ams", Type: "LIVE_AUDIO", Status: "RUNNING", CreatedAt: now.Add(-3 * time.Hour), Stuck: true})
	srv.AddTask(emulator.Task{Service: "ams", Type: "LIVE_AUDIO", Status: "RUNNING", CreatedAt: now.Add(-10 * time.Minute), Stuck: true})

	ams, err := tcapi.NewModeration("ams", tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Endpoint: ts.URL, Limiters: tcapi.NewLimiters(sweep.DefaultRate, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	sw := &sweep.Sweeper{Clients: map[string]sweep.Client{"ams": ams}, Now: clock}
	r := sw.Run(context.Background(), sweep.DefaultSettings())
	fmt.Println("cutoff", r.Cutoff)
	fmt.Println("candidates", r.Candidates, "cancelled", r.Cancelled, "skipped", r.Skipped, "failed", r.Failed)
	// Output:
	// cutoff 2026-03-14T10:00:00Z
	// candidates 1 cancelled 1 skipped 0 failed 0
}
