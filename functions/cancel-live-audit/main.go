// Command cancel-live-audit is the SCF function (runtime Go1) that cancels a
// Cloud Infinite live-stream moderation job when a signed webhook (Function URL
// or API Gateway) or a direct invocation asks. See docs/functions.md.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func main() {
	level, levelErr := config.LogLevel(os.Getenv)
	logger := logging.New(os.Stdout, level, cancel.FunctionCancelLiveAudit)
	if levelErr != nil {
		logger.Warn("using log level info", "error", levelErr.Error())
	}
	h := cancel.NewCancelLiveAudit(cancel.Options{Logger: logger, Limiters: tcapi.NewLimiters(20, 20), COSSigner: cossign.Transport})
	if err := scf.Start(h.Handle); err != nil {
		fmt.Fprintln(os.Stderr, "cancel-live-audit:", err)
		os.Exit(1)
	}
}
