// Command bench-sweep measures the sweeper against the Tencent API emulator
// and prints the figures docs/sweep.md records:
//
//   - throughput: cancels per second as a fraction of the configured rate,
//     the emulator's busiest one-second window per action, throttled answers;
//   - speed-up over a naive sequential list-then-cancel loop at 50 ms latency;
//   - peak heap of the sweeper at 1k and 100k stale tasks, one sweep each
//     (see heap.go for how it is measured and how growth is told apart from
//     sampling);
//   - many accounts (accounts.go): aggregate cancels/s of 5 accounts, each
//     limited per action, swept through the handler (STS AssumeRole,
//     per-account limiters), and peak heap of 5 accounts vs 1.
//
// The emulator runs in a child process (this binary, "serve-emulator"), and
// each heap measurement in another ("heap-run"), so the heap figures are the
// sweeper's own: its clients, pages, workers, dedupe set and report, not the
// emulator's task store.
//
//	go run ./cmd/bench-sweep             # everything (a few minutes)
//	go run ./cmd/bench-sweep -quick      # smaller sizes
//	go run ./cmd/bench-sweep -heap-only  # only the peak-heap figures
//	go run ./cmd/bench-sweep -accounts-only  # only the many-accounts figures
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "serve-emulator":
		err = serveEmulator(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "heap-run":
		err = heapRun(os.Args[2:])
	default:
		err = bench(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-sweep:", err)
		os.Exit(1)
	}
}

type config struct {
	rate, emuRate   float64
	latency         time.Duration
	concurrency     int
	throughputTasks int
	naiveTasks      int
	heapSmall       int
	heapLarge       int
	heapSmallRuns   int
	prodCompare     bool
	accounts        int
	accountTasks    int
	accountHeap     int
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench-sweep", flag.ContinueOnError)
	var c config
	quick := fs.Bool("quick", false, "smaller sizes (a few seconds)")
	heapOnly := fs.Bool("heap-only", false, "only the peak-heap figures")
	accountsOnly := fs.Bool("accounts-only", false, "only the many-accounts figures")
	fs.IntVar(&c.accounts, "accounts", 5, "accounts in the many-accounts figures")
	fs.IntVar(&c.accountTasks, "account-tasks", 300, "stale tasks per account, many-accounts throughput (at 15/s: 20 s)")
	fs.IntVar(&c.accountHeap, "account-heap-tasks", 20000, "stale tasks per account, many-accounts heap")
	fs.Float64Var(&c.rate, "rate", 200, "sweeper requests/second per action (scaled up from 15 to keep the run short)")
	fs.Float64Var(&c.emuRate, "emulator-rate", 250, "emulator limit, requests/second per action")
	fs.DurationVar(&c.latency, "latency", 50*time.Millisecond, "emulator latency per request")
	fs.IntVar(&c.concurrency, "concurrency", 16, "cancels in flight (needs > rate x latency)")
	fs.IntVar(&c.throughputTasks, "tasks", 3000, "stale tasks in the throughput run")
	fs.IntVar(&c.naiveTasks, "naive-tasks", 300, "stale tasks in the naive-loop comparison")
	fs.IntVar(&c.heapSmall, "heap-small", 1000, "stale tasks, small heap run")
	fs.IntVar(&c.heapLarge, "heap-large", 100000, "stale tasks, large heap run")
	fs.IntVar(&c.heapSmallRuns, "heap-small-runs", 100, "small heap runs, each in a fresh process (the first is the single-run figure)")
	fs.BoolVar(&c.prodCompare, "production-rate", true, "also compare with the naive loop at the production rate (15/s vs a 20/s emulator)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		c.throughputTasks, c.naiveTasks, c.heapLarge, c.heapSmallRuns, c.prodCompare = 600, 100, 20000, 20, false
		c.accountTasks, c.accountHeap = 75, 5000
	}
	ctx := context.Background()
	fmt.Printf("bench-sweep: %s, GOMAXPROCS %d\n\n", runtime.Version(), runtime.GOMAXPROCS(0))
	if *heapOnly {
		return heapSection(ctx, c)
	}
	if *accountsOnly {
		return accountsSection(ctx, c)
	}

	// 1. Throughput under the rate limit, with latency.
	fmt.Printf("== throughput: %d stale tasks, sweeper rate %.0f/s, emulator limit %.0f/s, latency %s, concurrency %d\n",
		c.throughputTasks, c.rate, c.emuRate, c.latency, c.concurrency)
	tp, err := throughput(ctx, c.throughputTasks, c.rate, c.emuRate, c.latency, c.concurrency)
	if err != nil {
		return err
	}
	fmt.Printf("cancelled %d in %s: %.1f cancels/s = %.3f of the configured rate (target >= 0.95)\n",
		tp.rep.Cancelled, tp.elapsed.Round(time.Millisecond), tp.perSecond, tp.perSecond/c.rate)
	fmt.Printf("cancel phase only (first to last cancel): %.1f cancels/s = %.3f of the rate\n", tp.cancelPhase, tp.cancelPhase/c.rate)
	for _, k := range slices.Sorted(maps.Keys(tp.emu.Actions)) {
		a := tp.emu.Actions[k]
		fmt.Printf("emulator %-20s requests %6d  busiest 1s window %4d (limit %.0f)  throttled %d\n", k, a.Requests, a.MaxPerSecond, c.emuRate, a.Throttled)
	}
	fmt.Printf("throttled answers seen by the sweeper: %d (target 0); pages %d, passes %d\n\n", tp.rep.Throttled, tp.rep.Pages, tp.rep.Passes)

	// 2. Naive sequential loop vs the sweeper, same limiter and latency.
	fmt.Printf("== speed-up over a naive sequential list-then-cancel loop (latency %s)\n", c.latency)
	if err := compare(ctx, c.naiveTasks, c.rate, c.emuRate, c.latency, c.concurrency); err != nil {
		return err
	}
	if c.prodCompare { // production rate and concurrency: at 50ms both are limited by the rate; at 200ms the naive loop is not
		for _, lat := range []time.Duration{c.latency, 200 * time.Millisecond} {
			fmt.Printf("(latency %s) ", lat)
			if err := compare(ctx, 60, 15, 20, lat, 8); err != nil {
				return err
			}
		}
	}
	fmt.Println()

	// 3. Peak heap, 1k vs 100k stale tasks.
	if err := heapSection(ctx, c); err != nil {
		return err
	}
	fmt.Println()
	// 4. Many accounts.
	return accountsSection(ctx, c)
}

func ratio(a, b uint64) float64 { return float64(a) / float64(max(b, 1)) }

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// ---- scenarios ----

type throughputResult struct {
	rep         *sweep.Report
	elapsed     time.Duration
	perSecond   float64
	cancelPhase float64
	emu         emulator.Stats
}

func throughput(ctx context.Context, n int, rate, emuRate float64, latency time.Duration, conc int) (throughputResult, error) {
	em, err := startEmulator(ctx, n, 50, emuRate, latency)
	if err != nil {
		return throughputResult{}, err
	}
	defer em.close()
	clients, err := newClients(em.url, rate)
	if err != nil {
		return throughputResult{}, err
	}
	set := settings(rate, conc, n)
	var mu sync.Mutex
	var first, last time.Time
	sw := &sweep.Sweeper{Clients: withCancelTimes(clients, &mu, &first, &last)}
	start := time.Now()
	rep := sw.Run(ctx, set)
	elapsed := time.Since(start)
	if rep.Cancelled != n || len(rep.Errors) > 0 {
		return throughputResult{}, fmt.Errorf("throughput run cancelled %d of %d (errors %v, failed %d)", rep.Cancelled, n, rep.Errors, rep.Failed)
	}
	st, err := em.stats()
	if err != nil {
		return throughputResult{}, err
	}
	phase := float64(n-1) / last.Sub(first).Seconds()
	return throughputResult{rep: rep, elapsed: elapsed, perSecond: float64(rep.Cancelled) / elapsed.Seconds(), cancelPhase: phase, emu: st}, nil
}

func compare(ctx context.Context, n int, rate, emuRate float64, latency time.Duration, conc int) error {
	// The sweeper.
	em, err := startEmulator(ctx, n, 0, emuRate, latency)
	if err != nil {
		return err
	}
	clients, err := newClients(em.url, rate)
	if err != nil {
		em.close()
		return err
	}
	start := time.Now()
	rep := (&sweep.Sweeper{Clients: clients}).Run(ctx, settings(rate, conc, n))
	fast := time.Since(start)
	em.close()
	if rep.Cancelled != n {
		return fmt.Errorf("sweeper cancelled %d of %d", rep.Cancelled, n)
	}
	// The naive loop: list every page, then cancel one task at a time.
	em, err = startEmulator(ctx, n, 0, emuRate, latency)
	if err != nil {
		return err
	}
	defer em.close()
	clients, err = newClients(em.url, rate)
	if err != nil {
		return err
	}
	start = time.Now()
	done, err := naive(ctx, clients["ams"])
	slow := time.Since(start)
	if err != nil {
		return err
	}
	if done != n {
		return fmt.Errorf("naive loop cancelled %d of %d", done, n)
	}
	fmt.Printf("%4d tasks at rate %3.0f/s: naive %7s (%5.1f/s), sweeper %7s (%5.1f/s): speed-up %.1fx\n",
		n, rate, slow.Round(time.Millisecond), float64(n)/slow.Seconds(), fast.Round(time.Millisecond), float64(n)/fast.Seconds(), slow.Seconds()/fast.Seconds())
	return nil
}

// naive is the loop a first version would write.
func naive(ctx context.Context, c sweep.Client) (int, error) {
	now := time.Now().UTC()
	req := tcapi.DescribeTasksRequest{Limit: 100, Filter: &tcapi.TaskFilter{TaskStatus: "RUNNING"},
		StartTime: now.Add(-72 * time.Hour).Format(time.RFC3339), EndTime: now.Add(-2 * time.Hour).Format(time.RFC3339)}
	var ids []string
	for {
		resp, err := c.DescribeTaskSummaries(ctx, req)
		if err != nil {
			return 0, err
		}
		for _, t := range resp.Data {
			ids = append(ids, t.TaskId)
		}
		if resp.PageToken == "" {
			break
		}
		req.PageToken = resp.PageToken
	}
	n := 0
	for _, id := range ids {
		if _, err := c.CancelTask(ctx, id); err == nil {
			n++
		}
	}
	return n, nil
}

func settings(rate float64, conc, n int) sweep.Settings {
	s := sweep.DefaultSettings()
	s.Rate = rate
	s.Concurrency = conc
	s.MaxCancels = n + 1
	s.Statuses = []string{"RUNNING"}
	return s
}

func newClients(url string, rate float64) (map[string]sweep.Client, error) {
	lim := tcapi.NewLimiters(rate, 1)
	m, err := tcapi.NewModeration("ams", tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey},
		tcapi.Options{Endpoint: url, Limiters: lim})
	if err != nil {
		return nil, err
	}
	return map[string]sweep.Client{"ams": m}, nil
}

// timedClient records when the first and last successful cancels returned.
type timedClient struct {
	sweep.Client
	mu          *sync.Mutex
	first, last *time.Time
}

func (c timedClient) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	resp, err := c.Client.CancelTask(ctx, id)
	if err == nil {
		now := time.Now()
		c.mu.Lock()
		if c.first.IsZero() {
			*c.first = now
		}
		*c.last = now
		c.mu.Unlock()
	}
	return resp, err
}

func (c timedClient) Stats() tcapi.Stats { return c.Client.(interface{ Stats() tcapi.Stats }).Stats() }

func withCancelTimes(in map[string]sweep.Client, mu *sync.Mutex, first, last *time.Time) map[string]sweep.Client {
	out := map[string]sweep.Client{}
	for k, c := range in {
		out[k] = timedClient{Client: c, mu: mu, first: first, last: last}
	}
	return out
}

// ---- the emulator child process ----

type emuProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

func startEmulator(ctx context.Context, stale, young int, rate float64, latency time.Duration) (*emuProcess, error) {
	return startEmulatorArgs(ctx, fmt.Sprint("-stale=", stale), fmt.Sprint("-young=", young), fmt.Sprint("-rate=", rate), "-latency="+latency.String())
}

// startEmulatorArgs starts the emulator child with serve-emulator's flags.
func startEmulatorArgs(ctx context.Context, args ...string) (*emuProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"serve-emulator"}, args...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "LISTEN ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("emulator child did not start: %q %v", line, err)
	}
	return &emuProcess{cmd: cmd, stdin: stdin, url: strings.TrimSpace(strings.TrimPrefix(line, "LISTEN "))}, nil
}

func (e *emuProcess) stats() (emulator.Stats, error) {
	return emulatorStats(e.url + "/_emulator/stats")
}

// emulatorStats reads the emulator's counters at statsURL (its
// /_emulator/stats, for one account or all).
func emulatorStats(statsURL string) (emulator.Stats, error) {
	var st emulator.Stats
	resp, err := http.Get(statsURL)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("emulator stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// addTasks stores n more stale tasks through the inspection API.
func (e *emuProcess) addTasks(n int) error {
	now := time.Now()
	tasks := make([]emulator.Task, n)
	for i := range tasks {
		tasks[i] = emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true,
			DataId: fmt.Sprintf("data-%06d", i), CreatedAt: now.Add(-3*time.Hour - time.Duration(i)*time.Millisecond)}
	}
	body, err := json.Marshal(tasks)
	if err != nil {
		return err
	}
	resp, err := http.Post(e.url+"/_emulator/tasks", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("add tasks: %s", resp.Status)
	}
	return nil
}

// close ends the child: closing its stdin tells it to exit.
func (e *emuProcess) close() {
	_ = e.stdin.Close()
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
}

func serveEmulator(args []string) error {
	fs := flag.NewFlagSet("serve-emulator", flag.ContinueOnError)
	stale := fs.Int("stale", 1000, "stale RUNNING LIVE_AUDIO tasks (3h old)")
	young := fs.Int("young", 0, "young RUNNING tasks (10m old)")
	rate := fs.Float64("rate", 20, "requests/second per action (negative: unlimited)")
	latency := fs.Duration("latency", 0, "latency per request")
	accounts := fs.Int("accounts", 1, "accounts: the default one plus accounts-1 reached through AssumeRole, each with -stale tasks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := emulator.New(emulator.Options{Rate: *rate, Faults: emulator.Faults{Latency: *latency}})
	now := time.Now()
	for i := range *stale {
		srv.AddTask(emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true,
			DataId: fmt.Sprintf("data-%06d", i), CreatedAt: now.Add(-3*time.Hour - time.Duration(i)*time.Millisecond)})
	}
	addAccounts(srv, *accounts, *stale, now)
	for i := range *young {
		srv.AddTask(emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true,
			CreatedAt: now.Add(-10*time.Minute - time.Duration(i)*time.Millisecond)})
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); _ = hs.Close() }()
	fmt.Printf("LISTEN http://%s\n", lis.Addr())
	if err := hs.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
