// Command sweep-tasks is the scheduled SCF function that cancels stale
// moderation tasks (AMS/VM). Settings: JANITOR_SWEEP_* (docs/sweep.md); a
// timer's Message or a direct invocation's JSON overrides them per run.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func main() {
	// JANITOR_LOG_LEVEL is read here and again per invocation (the handler
	// sets level from the invocation's environment). cossign: the report
	// archive (JANITOR_REPORT_BUCKET) writes to COS.
	logger, level := logging.ForFunction(os.Stdout, os.Getenv, "sweep-tasks")
	h := sweep.NewHandler(sweep.HandlerOptions{Logger: logger, Level: level, COSSigner: cossign.Transport})
	if err := scf.Start(h.Handle); err != nil {
		fmt.Fprintln(os.Stderr, "sweep-tasks:", err)
		os.Exit(1)
	}
}
