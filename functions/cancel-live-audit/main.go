// Command cancel-live-audit is the SCF function (runtime Go1) that cancels a
// Cloud Infinite live-stream moderation job when a signed webhook (Function URL
// or API Gateway) or a direct invocation asks. See docs/functions.md.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

func main() {
	if err := cancel.Serve(cancel.FunctionCancelLiveAudit, cancel.NewCancelLiveAudit, cancel.Options{COSSigner: cossign.Transport}); err != nil {
		fmt.Fprintln(os.Stderr, "cancel-live-audit:", err)
		os.Exit(1)
	}
}
