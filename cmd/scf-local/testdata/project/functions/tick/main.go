// Command tick is a test function for timer triggers: it reports the timer
// event it received and the TRIGGER_SRC variable.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	ev, err := trigger.Decode(payload)
	if err != nil {
		return nil, err
	}
	fmt.Printf("tick: a %s event\n", ev.Kind) // for the Invoke API's LogType Tail
	if ev.Kind != trigger.KindTimer {
		return map[string]any{"kind": ev.Kind, "direct": ev.Direct}, nil
	}
	return map[string]any{
		"Cancelled":   1,
		"Scanned":     2,
		"TriggerName": ev.Timer.TriggerName,
		"Message":     ev.Timer.Message,
		"TriggerSrc":  scf.Getenv(ctx, "TRIGGER_SRC"),
	}, nil
}

func main() {
	if err := scf.Start(handle); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
