// Command sweep-tasks is the scheduled SCF function that cancels stale
// moderation tasks (AMS/VM). Settings: JANITOR_SWEEP_* (docs/sweep.md); a
// timer's Message or a direct invocation's JSON overrides them per run.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func main() {
	level := new(slog.LevelVar)
	// cossign: the report archive (JANITOR_REPORT_BUCKET) writes to COS.
	h := sweep.NewHandler(sweep.HandlerOptions{Logger: logging.New(os.Stdout, level, "sweep-tasks"), Level: level,
		COSSigner: cossign.Transport})
	if err := scf.Start(h.Handle); err != nil {
		fmt.Fprintln(os.Stderr, "sweep-tasks:", err)
		os.Exit(1)
	}
}
