// Command stop-transcription is the SCF function (runtime Go1) that stops a
// TRTC cloud transcription task when a signed webhook (Function URL or API
// Gateway) or a direct invocation asks. See docs/functions.md.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
)

func main() {
	if err := cancel.Serve(cancel.FunctionStopTranscription, cancel.NewStopTranscription, cancel.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "stop-transcription:", err)
		os.Exit(1)
	}
}
