package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Invoker invokes a function (*tcapi.SCFInvoker implements it).
type Invoker interface {
	Invoke(ctx context.Context, req tcapi.InvokeRequest) (tcapi.InvokeResponse, error)
}

// Fanout hands each account to its own asynchronous invocation of the
// function (SCF Invoke, InvocationType Event): SCF runs them in parallel, each
// with its own timeout, and each child sweeps one account and notifies on its
// own. A child's event is the parent's overrides plus "roles" and "self"
// naming its account and "fanout":"none", so it never fans out again.
type Fanout struct {
	Invoker   Invoker
	Function  string // SCF_FUNCTIONNAME
	Namespace string // "" = default
	Qualifier string // "" = $LATEST
	Logger    *slog.Logger
	// MaxParallel bounds the Invoke calls in flight (default 8).
	MaxParallel int
}

// Run dispatches every account and reports what it dispatched: one Accounts
// entry per account (Dispatched with the child's request id, or the Invoke
// error in its Errors and in the report's Errors). Counters stay 0: the
// children report their own sweeps.
func (f *Fanout) Run(ctx context.Context, set Settings, accts []Account, overrides []byte) *Report {
	started := time.Now()
	log := f.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := &Report{DryRun: set.DryRun, Services: slices.Clone(set.Services), Failures: []Failure{}, Tasks: []TaskResult{},
		Errors: []ListError{}, UpcomingTasks: []UpcomingTask{}, Accounts: make([]AccountReport, len(accts))}
	base, err := childBase(overrides)
	par := f.MaxParallel
	if par <= 0 {
		par = 8
	}
	invoke := "Invoke " + f.Function
	inParallel(len(accts), par, func(i int) {
		a := accts[i]
		rep.Accounts[i] = AccountReport{Account: a.ID, Role: a.Role, Errors: []ListError{}}
		ar := &rep.Accounts[i] // this goroutine's alone
		if err != nil {
			ar.Errors = append(ar.Errors, ListError{Service: "scf", Filter: invoke, Code: "InvalidOverrides", Message: err.Error(), Account: a.ID})
			return
		}
		event, err := childEvent(base, a)
		var out tcapi.InvokeResponse
		if err == nil {
			out, err = f.Invoker.Invoke(ctx, tcapi.InvokeRequest{FunctionName: f.Function, InvocationType: tcapi.InvokeAsync,
				ClientContext: string(event), Namespace: f.Namespace, Qualifier: f.Qualifier})
		}
		if err != nil {
			code, msg := errorCode(err)
			ar.Errors = append(ar.Errors, ListError{Service: "scf", Filter: invoke, Code: code, Message: msg, Account: a.ID})
			log.ErrorContext(ctx, "account not dispatched", slog.String("account", a.ID), slog.String("code", code), slog.String("error", msg))
		} else {
			ar.Dispatched, ar.InvokeRequestId = true, out.Result.FunctionRequestId
			log.InfoContext(ctx, "account dispatched", slog.String("account", a.ID), slog.String("invoke_request_id", ar.InvokeRequestId))
		}
	}, func(i int, v any, stack []byte) {
		// A panic (a bug, or the invoker's) fails this account's dispatch only.
		a := accts[i]
		msg := clip(fmt.Sprintf("dispatch %s: panic: %v", a.ID, v), 512)
		rep.Accounts[i].Errors = append(rep.Accounts[i].Errors, ListError{Service: "scf", Filter: invoke, Code: CodePanic, Message: msg, Account: a.ID})
		log.ErrorContext(ctx, "sweeper goroutine panicked", slog.String("account", a.ID), slog.String("error", msg), slog.String("stack", string(stack)))
	})
	for _, a := range rep.Accounts {
		rep.Errors = append(rep.Errors, a.Errors...)
	}
	rep.DurationMs = time.Since(started).Milliseconds()
	level := slog.LevelInfo
	if len(rep.Errors) > 0 {
		level = slog.LevelError
	}
	// The report is complete: a logger that panics must not lose it.
	quietly(func() { log.LogAttrs(ctx, level, "sweep dispatched", slog.Any("report", rep.summary())) })
	return rep
}

// childBase parses the parent's overrides (already validated) as an object.
func childBase(overrides []byte) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(overrides) == 0 || string(overrides) == "null" {
		return m, nil
	}
	if err := json.Unmarshal(overrides, &m); err != nil {
		return nil, fmt.Errorf("overrides are not a JSON object: %w", err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// childEvent is the direct-invocation event of one account's child.
func childEvent(base map[string]json.RawMessage, a Account) ([]byte, error) {
	m := make(map[string]json.RawMessage, len(base)+3)
	for k, v := range base {
		m[k] = v
	}
	roles := []string{}
	if a.Role != "" {
		roles = append(roles, a.Role)
	}
	r, _ := json.Marshal(roles)
	m[setRoles.key] = r
	m[setSelf.key] = json.RawMessage(fmt.Sprint(a.Role == ""))
	m[setFanout.key] = json.RawMessage(`"` + FanoutNone + `"`)
	b, err := json.Marshal(m)
	if err == nil && len(b) > tcapi.MaxAsyncEvent {
		err = fmt.Errorf("child event of %d bytes is over the %d an asynchronous invocation takes", len(b), tcapi.MaxAsyncEvent)
	}
	return b, err
}
