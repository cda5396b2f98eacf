package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// sampleBody is a request a webhook function accepts (fields in the order
// docs/functions.md shows them).
type sampleBody struct {
	TaskId   string `json:",omitempty"`
	JobId    string `json:",omitempty"`
	Service  string `json:",omitempty"`
	SdkAppId uint64 `json:",omitempty"`
	Region   string `json:",omitempty"`
}

// madeUpBodies name no real job: the function answers ResourceNotFound.
var madeUpBodies = map[string]sampleBody{
	"cancel-task":        {TaskId: "task-audio-XwxJ4fFCEWT8Bf4g", Service: "ams"},
	"cancel-live-audit":  {JobId: "av14d9ca15af3a11eea6f4525400b5aa5f"},
	"stop-transcription": {TaskId: "task-transcription-id", SdkAppId: emulator.DefaultSdkAppID, Region: "ap-guangzhou"},
}

// liveBody is a request the function of handler accepts that names a
// running job of the emulator at base (ok false: none, or no emulator): a
// young task (the sweeper leaves it alone), live ones first (they never end).
func liveBody(ctx context.Context, base, handler string) (b sampleBody, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	switch handler {
	case "cancel-task":
		var tasks []emulator.Task
		if emulatorCall(ctx, http.MethodGet, base+"/_emulator/tasks?service=ams&status=RUNNING", nil, &tasks) != nil {
			return b, false
		}
		cutoff := time.Now().Add(-emulator.DemoStaleAge + 10*time.Minute)
		tasks = slices.DeleteFunc(tasks, func(t emulator.Task) bool { return t.CreatedAt.Before(cutoff) })
		notLive := func(t emulator.Task) string { return strconv.FormatBool(t.Type != emulator.TypeLiveAudio) }
		slices.SortFunc(tasks, func(a, b emulator.Task) int {
			return cmp.Or(cmp.Compare(notLive(a), notLive(b)), cmp.Compare(a.TaskId, b.TaskId))
		})
		if len(tasks) > 0 {
			return sampleBody{TaskId: tasks[0].TaskId, Service: "ams"}, true
		}
	case "cancel-live-audit":
		var jobs []emulator.LiveJob
		_ = emulatorCall(ctx, http.MethodGet, base+"/_emulator/live-jobs", nil, &jobs)
		slices.SortFunc(jobs, func(a, b emulator.LiveJob) int { return cmp.Compare(a.JobId, b.JobId) })
		if i := slices.IndexFunc(jobs, func(j emulator.LiveJob) bool { return j.State == emulator.LiveAuditing }); i >= 0 {
			return sampleBody{JobId: jobs[i].JobId}, true // Bucket and Region: the function's defaults
		}
	case "stop-transcription":
		var trs []emulator.Transcription
		_ = emulatorCall(ctx, http.MethodGet, base+"/_emulator/transcriptions", nil, &trs)
		slices.SortFunc(trs, func(a, b emulator.Transcription) int { return cmp.Compare(a.TaskId, b.TaskId) })
		if i := slices.IndexFunc(trs, func(t emulator.Transcription) bool { return t.Status == emulator.TranscriptionInProgress }); i >= 0 {
			return sampleBody{TaskId: trs[i].TaskId, SdkAppId: trs[i].SdkAppId, Region: trs[i].Region}, true
		}
	}
	return b, false
}

// exampleBody is a request the function of handler accepts: for a running
// job of the emulator at emuURL when one answers.
func exampleBody(ctx context.Context, emuURL, handler string) string {
	b, ok := madeUpBodies[handler]
	if !ok {
		return "{}"
	}
	if live, found := liveBody(ctx, emuURL, handler); found {
		b = live
	}
	out, _ := json.Marshal(b)
	return string(out)
}

// bodyForFunction is the body of generate-event --function: a request the
// function accepts, naming a running job of the emulator when one answers.
func bodyForFunction(ctx context.Context, function, kind, config, emulatorAddr string, stderr io.Writer) ([]byte, error) {
	handler := function
	if cfg, err := deploy.Load(config); err == nil {
		fn, ok := cfg.Function(function)
		if !ok {
			return nil, fmt.Errorf("--function %s: no such function in %s (have %v)", function, config, cfg.Names())
		}
		handler = fn.Handler
	}
	if handler == "sweep-tasks" {
		if kind == "url" || kind == "apigw" {
			return nil, fmt.Errorf("--function %s: sweep-tasks refuses HTTP events (403); generate a timer or console event for it", function)
		}
		return []byte(`{"dryRun":true}`), nil // README: sweep-tasks, Per-run overrides
	}
	if _, ok := madeUpBodies[handler]; !ok {
		return nil, fmt.Errorf("--function %s: no sample body for handler %q (cancel-task, cancel-live-audit, stop-transcription and sweep-tasks have one); pass --body", function, handler)
	}
	b, found := liveBody(ctx, "http://"+emulatorAddr, handler)
	if found {
		fmt.Fprintf(stderr, "scf-local: generate-event: %s's body names a running job of the emulator at %s\n", function, emulatorAddr)
	} else {
		b = madeUpBodies[handler]
		fmt.Fprintf(stderr, "scf-local: generate-event: no emulator with a running job at %s: %s's body has a made-up id (start scf-local for real ones)\n", emulatorAddr, function)
	}
	return json.Marshal(b)
}
