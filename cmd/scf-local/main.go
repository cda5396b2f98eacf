// Command scf-local runs the project's SCF functions on this machine, as
// serverless.yml deploys them: each function is built and started as a real
// Go1 process driven over the SCF net/rpc protocol, behind a local Function
// URL gateway and timer triggers, against an embedded Tencent Cloud API
// emulator (or, with --cloud, the real APIs).
//
//	go run ./cmd/scf-local                      # gateway on 127.0.0.1:9000, emulator on 127.0.0.1:9100
//	go run ./cmd/scf-local invoke sweep-tasks --event testdata/events/timer.json
//	go run ./cmd/scf-local generate-event url --body '{"TaskId":"..."}' --secret S
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// End with the command that started scf-local, as on Ctrl-C, so that
	// nothing it started outlives it (`kill <go run>`, `kill -9 <make>`).
	ctx, unwatch := scflocal.ExitWithParent(ctx, 500*time.Millisecond, func(why string) {
		fmt.Fprintf(os.Stderr, "scf-local: %s; stopping\n", why)
	})
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	unwatch()
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) (string, bool)) int {
	cmd := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "invoke" || a == "generate-event" || a == "serve":
			cmd, args = a, args[1:]
		case a == "help" || a == "-h" || a == "-help" || a == "--help":
			printUsage(stdout)
			return 0
		case !strings.HasPrefix(a, "-"):
			fmt.Fprintf(stderr, "scf-local: unknown command %q: the commands are serve (the default), invoke and generate-event; run scf-local -h for help\n", a)
			return 2
		}
	}
	var err error
	switch cmd {
	case "serve":
		var o serveOptions
		if o, err = parseServe(args, stdout, stderr); err == nil {
			err = serve(ctx, o, getenv, stdout, stderr)
		}
	case "invoke":
		var o invokeOptions
		if o, err = parseInvoke(args, stdout, stderr); err == nil {
			err = invokeOnce(ctx, o, getenv, stdin, stdout, stderr)
		}
	case "generate-event":
		err = generateEventCmd(ctx, args, getenv, stdout, stderr)
	}
	switch {
	case err == nil, err == errHelp:
		return 0
	case err == errUsage:
		return 2
	case err == errFunctionFailed:
		return 1
	default:
		fmt.Fprintln(stderr, "scf-local:", err)
		return 1
	}
}

const usage = `scf-local runs the scf-janitor functions locally, as serverless.yml deploys them.

usage:
  scf-local [serve] [flags]                           Function URL gateway, timers, emulator (and its SCF Invoke API)
  scf-local invoke FUNCTION [--event FILE|-] [flags]  one invocation (event {} by default); the result on stdout
  scf-local generate-event apigw|url|timer|console [--body JSON] [--function F | --secret S] [--path P]

Run "scf-local COMMAND -h" for a command's flags. The flags of serve, the default command:

`

// printUsage prints the overview and serve's flags.
func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	serveFlags(&serveOptions{crons: cronFlag{}}, w).PrintDefaults()
}
