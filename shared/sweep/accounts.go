package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// Account is one account to sweep: the function's own (Role "") or the one a
// role ARN belongs to.
type Account struct {
	ID   string // uin (TENCENTCLOUD_UIN for the own account, "self" when unknown)
	Role string // role ARN to assume; "" = the function's own credentials
}

// AccountReport is one account's share of a report.
type AccountReport struct {
	Account     string
	Role        string `json:",omitempty"`
	Pages       int
	Scanned     int
	Candidates  int
	Cancelled   int
	Skipped     int
	Failed      int
	WouldCancel int
	Throttled   int64
	Truncated   bool
	Capped      bool
	Errors      []ListError // listings stopped early, or why the account could not be swept (AssumeRole)
	// Upcoming and CancelledTaskHours are the account's (see Report).
	Upcoming           int
	CancelledTaskHours float64
	// Fan-out (JANITOR_SWEEP_FANOUT=async): the account was handed to its own
	// invocation, whose SCF request id is InvokeRequestId.
	Dispatched      bool   `json:",omitempty"`
	InvokeRequestId string `json:",omitempty"`
}

// DefaultMaxParallelAccounts bounds the accounts swept at the same time by
// one invocation (each runs its own paging and cancel workers).
const DefaultMaxParallelAccounts = 16

// ClientsFunc returns the clients of one account's services (it assumes the
// account's role when it has one). Its error is reported for that account.
type ClientsFunc func(ctx context.Context, a Account, services []string) (map[string]Client, error)

// MultiSweep sweeps several accounts concurrently, each with its own Sweeper
// (and so its own limits, dedupe set and cap), and merges their reports. One
// account's failure never stops the others.
type MultiSweep struct {
	Accounts    []Account
	Clients     ClientsFunc
	Now         func() time.Time
	Logger      *slog.Logger
	MaxParallel int // default DefaultMaxParallelAccounts
	// MaxPages and MaxPasses are passed to each Sweeper.
	MaxPages, MaxPasses int
}

// Run sweeps every account with set and returns the merged report: the
// totals of all accounts (their invariant holds), Tasks and Failures with
// each entry's Account (the first MaxReportTasks of all accounts), and one
// Accounts entry per account, in the order of m.Accounts.
func (m *MultiSweep) Run(ctx context.Context, set Settings) *Report {
	started := time.Now()
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	par := m.MaxParallel
	if par <= 0 {
		par = DefaultMaxParallelAccounts
	}
	reps := make([]*Report, len(m.Accounts))
	inParallel(len(m.Accounts), par, func(i int) {
		a := m.Accounts[i]
		reps[i] = m.one(ctx, a, set, log.With(slog.String("account", a.ID)))
	}, func(i int, v any, stack []byte) {
		// A panic (a bug, or a library's) fails this account only; its
		// Sweeper, if it got that far, has ended its goroutines.
		a := m.Accounts[i]
		msg := clip(fmt.Sprintf("account %s: panic: %v", a.ID, v), 512)
		reps[i] = accountError(set, ListError{Service: strings.Join(set.Services, ","), Code: CodePanic, Message: msg})
		log.ErrorContext(ctx, "sweeper goroutine panicked", slog.String("account", a.ID), slog.String("error", msg), slog.String("stack", string(stack)))
	})
	rep := mergeReports(set, m.Accounts, reps)
	rep.DurationMs = time.Since(started).Milliseconds()
	level := slog.LevelInfo
	switch {
	case len(rep.Errors) > 0:
		level = slog.LevelError
	case rep.Failed > 0:
		level = slog.LevelWarn
	}
	// The report is complete: a logger that panics must not lose it.
	quietly(func() { log.LogAttrs(ctx, level, "sweep of all accounts finished", slog.Any("report", rep.summary())) })
	return rep
}

// inParallel calls fn(i) for every i below n, each in its own goroutine, at
// most par at a time, and returns once all have returned. A call that panics
// ends with onPanic(i, the value, its stack), in its goroutine; onPanic
// records the failure before it logs, and a panic of its own (a broken
// logger) is dropped, since in a goroutine it would crash the process.
func inParallel(n, par int, fn func(i int), onPanic func(i int, v any, stack []byte)) {
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				if v := recover(); v != nil {
					quietly(func() { onPanic(i, v, debug.Stack()) })
				}
			}()
			fn(i)
		})
	}
	wg.Wait()
}

// maxReport is how many Tasks (and Failures) entries a Run keeps.
func (s *Sweeper) maxReport() int {
	if s.MaxReport > 0 {
		return s.MaxReport
	}
	return MaxReportTasks
}

// minSharedPage is the smallest DescribeTasks page an account's share of
// the page size goes down to.
const minSharedPage = 20

// share is one account's part of a total over n accounts (at least 1).
func share(total, n int) int { return max(1, (total+n-1)/n) }

func (m *MultiSweep) one(ctx context.Context, a Account, set Settings, log *slog.Logger) *Report {
	clients, err := m.Clients(ctx, a, set.Services)
	if err != nil {
		code, msg := errorCode(err)
		log.ErrorContext(ctx, "account not swept", slog.String("role", a.Role), slog.String("code", code), slog.String("error", msg))
		return accountError(set, ListError{Service: "sts", Filter: "AssumeRole " + a.Role, Code: code, Message: msg})
	}
	// The invocation's memory and connections stay those of one sweep: the
	// accounts share the cancels in flight and the report's task list
	// (their quotas, rate limiters and caps are their own).
	n := len(m.Accounts)
	set.Concurrency = share(set.Concurrency, n)
	set.PageSize = min(set.PageSize, max(minSharedPage, share(set.PageSize, n)))
	sw := &Sweeper{Clients: clients, Now: m.Now, Logger: log, MaxPages: m.MaxPages, MaxPasses: m.MaxPasses,
		MaxReport: share(MaxReportTasks, n)}
	return sw.Run(ctx, set)
}

// accountError is the report of an account that could not be swept.
func accountError(set Settings, e ListError) *Report {
	return &Report{
		DryRun: set.DryRun, Services: slices.Clone(set.Services), Failures: []Failure{}, Tasks: []TaskResult{},
		Errors: []ListError{e}, UpcomingTasks: []UpcomingTask{},
	}
}

// accountReport is one account's counters.
func accountReport(a Account, r *Report) AccountReport {
	return AccountReport{
		Account: a.ID, Role: a.Role, Pages: r.Pages, Scanned: r.Scanned, Candidates: r.Candidates,
		Cancelled: r.Cancelled, Skipped: r.Skipped, Failed: r.Failed, WouldCancel: r.WouldCancel,
		Throttled: r.Throttled, Truncated: r.Truncated, Capped: r.Capped, Errors: slices.Clone(r.Errors),
		Upcoming: r.Upcoming, CancelledTaskHours: r.CancelledTaskHours,
	}
}

// mergeReports adds up the accounts' reports.
func mergeReports(set Settings, accts []Account, reps []*Report) *Report {
	out := &Report{
		DryRun: set.DryRun, Services: slices.Clone(set.Services),
		Failures: []Failure{}, Tasks: []TaskResult{}, Errors: []ListError{}, Accounts: []AccountReport{},
		UpcomingTasks: []UpcomingTask{},
	}
	for i, r := range reps {
		a := accts[i]
		if out.Cutoff == "" {
			out.Cutoff = r.Cutoff
		}
		out.Pages += r.Pages
		out.Scanned += r.Scanned
		out.Candidates += r.Candidates
		out.Cancelled += r.Cancelled
		out.Skipped += r.Skipped
		out.Failed += r.Failed
		out.WouldCancel += r.WouldCancel
		out.Throttled += r.Throttled
		out.Truncated = out.Truncated || r.Truncated
		out.Capped = out.Capped || r.Capped
		out.Passes = max(out.Passes, r.Passes)
		if r.PageSize > 0 && (out.PageSize == 0 || r.PageSize < out.PageSize) {
			out.PageSize = r.PageSize // the smallest any account had to use
		}
		out.TasksOmitted += r.TasksOmitted
		out.FailuresOmitted += r.FailuresOmitted
		out.Tasks = appendCapped(out.Tasks, r.Tasks, &out.TasksOmitted, func(t *TaskResult) { t.Account = a.ID })
		out.Failures = appendCapped(out.Failures, r.Failures, &out.FailuresOmitted, func(f *Failure) { f.Account = a.ID })
		out.Upcoming += r.Upcoming
		out.UpcomingOmitted += r.UpcomingOmitted
		out.UpcomingTasks = appendCapped(out.UpcomingTasks, r.UpcomingTasks, &out.UpcomingOmitted, func(u *UpcomingTask) { u.Account = a.ID })
		out.cancelledAge.addSum(r.cancelledAge)
		for _, e := range r.Errors {
			e.Account = a.ID
			out.Errors = append(out.Errors, e)
		}
		out.Accounts = append(out.Accounts, accountReport(a, r))
	}
	// Rounded once from the exact total, not summed from the accounts'
	// rounded figures.
	out.CancelledTaskHours = out.cancelledAge.rounded()
	return out
}

// appendCapped appends src's entries to dst, each marked, while dst holds
// fewer than MaxReportTasks, and counts the others in omitted.
func appendCapped[T any](dst, src []T, omitted *int, mark func(*T)) []T {
	for _, v := range src {
		if len(dst) >= MaxReportTasks {
			*omitted++
			continue
		}
		mark(&v)
		dst = append(dst, v)
	}
	return dst
}

// accountsOf lists the accounts a run sweeps: its own (unless SkipSelf),
// then each role's.
func accountsOf(set Settings, selfID string) []Account {
	var out []Account
	if !set.SkipSelf {
		out = append(out, Account{ID: selfID})
	}
	for _, arn := range set.Roles {
		id, err := RoleAccount(arn)
		if err != nil {
			id = arn // Validate refuses it first; keep the run going regardless
		}
		out = append(out, Account{ID: id, Role: arn})
	}
	return out
}
