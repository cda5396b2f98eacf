// Command cancel-task is the SCF function (runtime Go1) that cancels an AMS
// (audio) or VM (video) content moderation task when a signed webhook (Function
// URL or API Gateway) or a direct invocation asks. See docs/functions.md.
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
	logger, _ := logging.ForFunction(os.Stdout, os.Getenv, cancel.FunctionCancelTask)
	h := cancel.NewCancelTask(cancel.Options{Logger: logger, Limiters: tcapi.NewLimiters(20, 20)})
	if err := scf.Start(h.Handle); err != nil {
		fmt.Fprintln(os.Stderr, "cancel-task:", err)
		os.Exit(1)
	}
}
