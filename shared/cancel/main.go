package cancel

import (
	"os"

	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Serve is the body of a cancel function's main: it builds the handler newHandler makes
// (NewCancelTask, NewCancelLiveAudit or NewStopTranscription) for function,
// with opts' Logger and Limiters set, and serves it with scf.Start. The logger
// is logging.ForFunction's: JANITOR_LOG_LEVEL is read once, here, as a cancel
// function's level is the process's. The limiters (20 calls a second per
// action, burst 20) are the process's, shared across invocations. Serve
// returns only when the runtime cannot be served (main exits with it).
func Serve(function string, newHandler func(Options) *Handler, opts Options) error {
	opts.Logger, _ = logging.ForFunction(os.Stdout, os.Getenv, function)
	opts.Limiters = tcapi.NewLimiters(20, 20)
	return scf.Start(newHandler(opts).Handle)
}
