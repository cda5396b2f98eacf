// Command zipfn writes an SCF code package: a zip with the given files at its
// root, each mode 0755, with fixed timestamps and a fixed entry order, so the
// same inputs always give the same bytes (no zip CLI needed).
//
//	go run ./cmd/zipfn -o dist/cancel-task.zip dist/bundle/cancel-task
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/scf-janitor/scf-janitor/internal/deploy/pack"
)

func main() {
	out := flag.String("o", "", "output zip `file` (required)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: zipfn -o OUT.zip FILE...\n\nWrites FILEs at the root of OUT.zip, mode 0755, timestamps fixed at %s.\n", pack.Epoch.Format("2006-01-02 15:04:05 MST"))
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := pack.WriteFile(*out, flag.Args()...); err != nil {
		fmt.Fprintln(os.Stderr, "zipfn:", err)
		os.Exit(1)
	}
}
