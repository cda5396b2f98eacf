// Command stop-transcription is the SCF function (runtime Go1) that stops a
// TRTC cloud transcription task when a signed webhook (Function URL or API
// Gateway) or a direct invocation asks. See docs/functions.md.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func main() {
	// JANITOR_LOG_LEVEL is read once, here: a cancel function's level is the process's.
	logger, _ := logging.ForFunction(os.Stdout, os.Getenv, cancel.FunctionStopTranscription)
	h := cancel.NewStopTranscription(cancel.Options{Logger: logger, Limiters: tcapi.NewLimiters(20, 20)})
	if err := scf.Start(h.Handle); err != nil {
		fmt.Fprintln(os.Stderr, "stop-transcription:", err)
		os.Exit(1)
	}
}
