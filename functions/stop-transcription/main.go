// Command stop-transcription is the SCF function (runtime Go1) that stops a
// TRTC cloud transcription task when a signed webhook (Function URL or API
// Gateway) or a direct invocation asks. See docs/functions.md.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func main() {
	level, levelErr := config.LogLevel(os.Getenv)
	logger := logging.New(os.Stdout, level, cancel.FunctionStopTranscription)
	if levelErr != nil {
		logger.Warn("using log level info", "error", levelErr.Error())
	}
	h := cancel.NewStopTranscription(cancel.Options{Logger: logger, Limiters: tcapi.NewLimiters(20, 20)})
	if err := scf.Start(h.Handle); err != nil {
		fmt.Fprintln(os.Stderr, "stop-transcription:", err)
		os.Exit(1)
	}
}
