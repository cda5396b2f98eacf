package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// bodyForFunction is a request body that function accepts, for
// generate-event --function: with ids of live demo jobs from the emulator at
// emulatorAddr when one answers (a running scf-local's), else with made-up
// ids (the function then answers ResourceNotFound). config maps a function
// name to its handler; the handler names the kind of body.
func bodyForFunction(ctx context.Context, function, kind, config, emulatorAddr string, stderr io.Writer) ([]byte, error) {
	handler := function
	if cfg, err := deploy.Load(config); err == nil {
		fn, ok := cfg.Function(function)
		if !ok {
			return nil, fmt.Errorf("--function %s: no such function in %s (have %v)", function, config, cfg.Names())
		}
		handler = fn.Handler
	}
	var live func(ctx context.Context, base string) (map[string]any, error)
	var body map[string]any
	switch handler {
	case "cancel-task":
		body = map[string]any{"TaskId": "task-audio-XwxJ4fFCEWT8Bf4g", "Service": "ams"}
		live = func(ctx context.Context, base string) (map[string]any, error) {
			var tasks []emulator.Task
			if err := getJSON(ctx, base+"/_emulator/tasks?service=ams&status=RUNNING", &tasks); err != nil || len(tasks) == 0 {
				return nil, err
			}
			pick := tasks[0]
			for _, t := range tasks {
				if t.Type == emulator.TypeLiveAudio { // live tasks never finish by themselves
					pick = t
					break
				}
			}
			return map[string]any{"TaskId": pick.TaskId, "Service": "ams"}, nil
		}
	case "cancel-live-audit":
		body = map[string]any{"JobId": "av14d9ca15af3a11eea6f4525400b5aa5f"}
		live = func(ctx context.Context, base string) (map[string]any, error) {
			var jobs []emulator.LiveJob
			if err := getJSON(ctx, base+"/_emulator/live-jobs", &jobs); err != nil {
				return nil, err
			}
			for _, j := range jobs {
				if j.State == emulator.LiveAuditing || j.State == emulator.LiveSubmitted {
					return map[string]any{"JobId": j.JobId}, nil
				}
			}
			return nil, nil
		}
	case "stop-transcription":
		body = map[string]any{"TaskId": "task-transcription-id", "SdkAppId": emulator.DefaultSdkAppID, "Region": "ap-guangzhou"}
		live = func(ctx context.Context, base string) (map[string]any, error) {
			var ts []emulator.Transcription
			if err := getJSON(ctx, base+"/_emulator/transcriptions", &ts); err != nil {
				return nil, err
			}
			for _, t := range ts {
				if t.Status == emulator.TranscriptionInProgress || t.Status == emulator.TranscriptionIdle {
					return map[string]any{"TaskId": t.TaskId, "SdkAppId": t.SdkAppId, "Region": t.Region}, nil
				}
			}
			return nil, nil
		}
	case "sweep-tasks":
		if kind == "url" || kind == "apigw" {
			return nil, fmt.Errorf("--function %s: sweep-tasks refuses HTTP events (403); generate a timer or console event for it", function)
		}
		// Per-run overrides (README: sweep-tasks, Per-run overrides).
		return []byte(`{"dryRun":true}`), nil
	default:
		return nil, fmt.Errorf("--function %s: no sample body for handler %q (cancel-task, cancel-live-audit, stop-transcription and sweep-tasks have one); pass --body", function, handler)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if found, err := live(ctx, "http://"+emulatorAddr); err == nil && found != nil {
		body = found
		fmt.Fprintf(stderr, "scf-local: generate-event: %s's body names a running job of the emulator at %s\n", function, emulatorAddr)
	} else {
		fmt.Fprintf(stderr, "scf-local: generate-event: no emulator with a running job at %s: %s's body has a made-up id (start scf-local for real ones)\n", emulatorAddr, function)
	}
	return json.Marshal(body)
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
