// Command cancel-task is the SCF function (runtime Go1) that cancels an AMS
// (audio) or VM (video) content moderation task when a signed webhook (Function
// URL or API Gateway) or a direct invocation asks. See docs/functions.md.
package main

import (
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
)

func main() {
	if err := cancel.Serve(cancel.FunctionCancelTask, cancel.NewCancelTask, cancel.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "cancel-task:", err)
		os.Exit(1)
	}
}
