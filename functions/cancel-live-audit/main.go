// Command cancel-live-audit is the SCF function (runtime Go1) that cancels a
// Cloud Infinite live-stream moderation job when a signed webhook (Function URL
// or API Gateway) or a direct invocation asks. See docs/functions.md.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func main() {
	// JANITOR_LOG_LEVEL is read once, here: a cancel function's level is the process's.
	logger, _ := logging.ForFunction(os.Stdout, os.Getenv, cancel.FunctionCancelLiveAudit)
	h := cancel.NewCancelLiveAudit(cancel.Options{Logger: logger, Limiters: tcapi.NewLimiters(20, 20), COSSigner: cossign.Transport})
	if err := scf.Start(h.Handle); err != nil {
		fmt.Fprintln(os.Stderr, "cancel-live-audit:", err)
		os.Exit(1)
	}
}
