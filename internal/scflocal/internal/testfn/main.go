// Command testfn is the function binary the scflocal tests drive. Direct
// events choose what it does:
//
//	{"action":"echo"}         reply with its FunctionContext, deadline and process environment
//	{"action":"hang"}         sleep for an hour, ignoring the deadline
//	{"action":"exit"}         write "testfn: dying" to stderr and exit 3 mid-invocation
//	{"action":"spawn"}        start a long-lived child process and reply with its pid
//	{"action":"ignore-term"}  ignore SIGTERM from now on
//	{"action":"sleep","ms":N} sleep N milliseconds, then echo
//	{"action":"panic"}        panic (the reply asks for a new instance: ShouldExit)
//	{"action":"log"}          print "testfn: log <request id>" to stdout, then echo
//
// With TESTFN_FAIL_AT_START set it exits 2 before serving; with
// TESTFN_NO_SERVE set it never serves; TESTFN_START_DELAY_MS delays serving.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/scf"
)

func main() {
	if os.Getenv("TESTFN_FAIL_AT_START") != "" {
		fmt.Fprintln(os.Stderr, "testfn: refusing to start")
		os.Exit(2)
	}
	if ms, err := strconv.Atoi(os.Getenv("TESTFN_START_DELAY_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if os.Getenv("TESTFN_NO_SERVE") != "" {
		time.Sleep(time.Hour)
	}
	if err := scf.Start(handle); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type reply struct {
	Context     *scf.FunctionContext `json:"context"`
	DeadlineIn  time.Duration        `json:"deadlineIn"`
	ProcessEnv  []string             `json:"processEnv"`
	ChildPID    int                  `json:"childPid,omitempty"`
	PayloadSeen string               `json:"payloadSeen"`
	Executable  string               `json:"executable"`
}

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var in struct {
		Action string
		Ms     int
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	r := reply{ProcessEnv: os.Environ(), PayloadSeen: string(payload)}
	r.Executable, _ = os.Executable()
	r.Context, _ = scf.FromContext(ctx)
	if dl, ok := ctx.Deadline(); ok {
		r.DeadlineIn = time.Until(dl)
	}
	switch in.Action {
	case "hang":
		time.Sleep(time.Hour)
	case "exit":
		fmt.Fprintln(os.Stderr, "testfn: dying")
		os.Exit(3)
	case "spawn":
		cmd := exec.Command("sleep", "300")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		r.ChildPID = cmd.Process.Pid
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
	case "sleep":
		time.Sleep(time.Duration(in.Ms) * time.Millisecond)
	case "panic":
		panic("testfn: asked to panic")
	case "log":
		fmt.Printf("testfn: log %s\n", r.Context.RequestID)
	}
	return r, nil
}
