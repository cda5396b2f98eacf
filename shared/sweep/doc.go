// Package sweep is the sweep-tasks function: a scheduled sweeper that lists
// AMS/VM moderation tasks with DescribeTasks and cancels every one that has
// been PENDING or RUNNING for longer than a maximum age.
//
// Settings come from JANITOR_SWEEP_* variables (LoadSettings) and may be
// overridden per run by a timer's Message or a direct invocation's JSON
// (Settings.Override); a run's notifyUrl may only choose among the deployed
// JANITOR_NOTIFY_URL, and the notification format and secret are the
// function's alone. Sweeper.Run does the work behind a narrow Client
// interface (*tcapi.Moderation implements it): one listing per filter
// combination, a client-side recheck that fails closed, paging overlapped with
// a pool of cancel workers, duplicates cancelled once, repeated passes for
// servers whose pages shift, a cancel cap and a deadline margin. Everything
// that happens is in the returned Report, whose counts always satisfy
// Candidates = Cancelled + Skipped + Failed + WouldCancel. With a warning
// window (Settings.WarnBefore) the tasks that will be stale within it are
// reported as Upcoming, never cancelled and not candidates; each cancelled
// task carries its age, and CancelledTaskHours adds them up (exactly, rounded
// once). One goroutine, the run loop, owns a run's report and dedupe set; a
// lister and a pool of cancel workers exchange pages, candidates and outcomes
// with it over channels (engine.go). A panic in any of its goroutines (a bug,
// a client's, a logger's) is an Errors entry with code Panic, never a crash or
// a hang, and no goroutine of the run outlives Run (panic_test.go injects one
// at every seam: each client method, the logger's every line, the clock).
//
// Around that single-account engine: MultiSweep sweeps several accounts at
// once (the function's own and those of JANITOR_SWEEP_ROLES, reached with STS
// AssumeRole), each with its own limiters, and merges their reports (Accounts);
// Fanout instead hands each account to its own asynchronous invocation (SCF
// Invoke); and a run that matches JANITOR_NOTIFY_ON posts a summary through
// package notify, within a time budget kept out of the sweep's deadline.
//
// Handler wires it to the SCF runtime (functions/sweep-tasks). docs/sweep.md
// documents the settings, behaviour and report format.
package sweep
