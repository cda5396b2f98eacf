// Command empty is the baseline for bench-cancel's cold-start ratio: a Go1
// function that does nothing, served by the same runtime (shared/scf) and
// built the same way as the cancel functions.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/shared/scf"
)

func main() {
	err := scf.Start(func(_ context.Context, payload json.RawMessage) (any, error) { return payload, nil })
	if err != nil {
		fmt.Fprintln(os.Stderr, "empty:", err)
		os.Exit(1)
	}
}
