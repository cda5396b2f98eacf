// Command bench-sweep measures the sweeper against the Tencent API emulator
// and prints the figures docs/sweep.md records:
//
//   - throughput: cancels per second as a fraction of the configured rate,
//     the emulator's busiest one-second window per action, throttled answers;
//   - speed-up over a naive sequential list-then-cancel loop at 50 ms latency;
//   - peak heap of the sweeper at 1k and 100k stale tasks.
//
// The emulator runs in a child process (this binary, "serve-emulator"), so
// the heap figures are the sweeper's own: its clients, pages, workers,
// dedupe set and report, not the emulator's task store.
//
//	go run ./cmd/bench-sweep            # everything (about a minute)
//	go run ./cmd/bench-sweep -quick     # smaller sizes
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
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/emulator"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "serve-emulator" {
		err = serveEmulator(os.Args[2:])
	} else {
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
	prodCompare     bool
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench-sweep", flag.ContinueOnError)
	var c config
	quick := fs.Bool("quick", false, "smaller sizes (a few seconds)")
	fs.Float64Var(&c.rate, "rate", 200, "sweeper requests/second per action (scaled up from 15 to keep the run short)")
	fs.Float64Var(&c.emuRate, "emulator-rate", 250, "emulator limit, requests/second per action")
	fs.DurationVar(&c.latency, "latency", 50*time.Millisecond, "emulator latency per request")
	fs.IntVar(&c.concurrency, "concurrency", 16, "cancels in flight (needs > rate x latency)")
	fs.IntVar(&c.throughputTasks, "tasks", 3000, "stale tasks in the throughput run")
	fs.IntVar(&c.naiveTasks, "naive-tasks", 300, "stale tasks in the naive-loop comparison")
	fs.IntVar(&c.heapSmall, "heap-small", 1000, "stale tasks, small heap run")
	fs.IntVar(&c.heapLarge, "heap-large", 100000, "stale tasks, large heap run")
	fs.BoolVar(&c.prodCompare, "production-rate", true, "also compare with the naive loop at the production rate (15/s vs a 20/s emulator)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		c.throughputTasks, c.naiveTasks, c.heapLarge, c.prodCompare = 600, 100, 20000, false
	}
	ctx := context.Background()
	fmt.Printf("bench-sweep: %s, GOMAXPROCS %d\n\n", runtime.Version(), runtime.GOMAXPROCS(0))

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
	fmt.Printf("== peak heap of the sweeper (emulator in a child process; no rate limit or latency)\n")
	one, err := heap(ctx, c.heapSmall, 1)
	if err != nil {
		return err
	}
	small, err := heap(ctx, c.heapSmall, c.heapLarge/c.heapSmall)
	if err != nil {
		return err
	}
	large, err := heap(ctx, c.heapLarge, 1)
	if err != nil {
		return err
	}
	for _, h := range []heapResult{one, small, large} {
		fmt.Printf("%7d stale tasks x %3d runs: cancelled %7d in %6s, %d GCs\n", h.tasks, h.reps, h.cancelled, h.elapsed.Round(time.Millisecond), h.gcs)
		fmt.Printf("        runtime live heap (/gc/heap/live): peak %.2f MiB (before the first run %.2f MiB); heap incl. garbage: peak %.2f MiB\n",
			mib(h.peakLive), mib(h.baseline), mib(h.peakAlloc))
		fmt.Printf("        forced GC every 10ms, %d samples: peak %.2f MiB, p99 %.2f MiB, p90 %.2f MiB, median %.2f MiB\n",
			h.samples, mib(h.quantile(1)), mib(h.quantile(0.99)), mib(h.quantile(0.9)), mib(h.quantile(0.5)))
	}
	fmt.Printf("%dk vs %dk stale tasks per run, same total work (%d runs of %d vs one of %d):\n", c.heapLarge/1000, c.heapSmall/1000, c.heapLarge/c.heapSmall, c.heapSmall, c.heapLarge)
	fmt.Printf("  peak live heap ratio %.2f, forced-GC peak %.2f, p99 %.2f, p90 %.2f, median %.2f (target <= 1.20)\n",
		ratio(large.peakLive, small.peakLive), ratio(large.quantile(1), small.quantile(1)), ratio(large.quantile(0.99), small.quantile(0.99)),
		ratio(large.quantile(0.9), small.quantile(0.9)), ratio(large.quantile(0.5), small.quantile(0.5)))
	fmt.Printf("%dk stale tasks vs a single %dk run: peak live heap ratio %.2f, forced-GC p90 %.2f (the single short run sees few GC cycles)\n",
		c.heapLarge/1000, c.heapSmall/1000, ratio(large.peakLive, one.peakLive), ratio(large.quantile(0.9), one.quantile(0.9)))
	return nil
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
		resp, err := c.DescribeTasks(ctx, req)
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

type heapResult struct {
	tasks, reps        int
	cancelled          int
	elapsed            time.Duration
	baseline, peakLive uint64
	peakAlloc          uint64
	gcs                uint64
	samples            int
	q                  map[float64]uint64 // quantiles of the live heap after forced GCs
}

func (h heapResult) quantile(q float64) uint64 { return h.q[q] }

// sampleBuf holds the forced-GC samples of one heap run. It is allocated once,
// before any measurement, so it weighs the same in every run.
var sampleBuf = make([]uint64, 0, 1<<16)

// heap sweeps reps batches of n stale tasks (a new batch is added to the
// emulator between runs, outside the measurement) and samples the sweeper
// process's heap while the sweeper runs.
func heap(ctx context.Context, n, reps int) (res heapResult, err error) {
	em, err := startEmulator(ctx, n, 0, -1, 0)
	if err != nil {
		return heapResult{}, err
	}
	defer em.close()
	clients, err := newClients(em.url, 1e6)
	if err != nil {
		return heapResult{}, err
	}
	set := settings(1e6, 16, n)
	res = heapResult{tasks: n, reps: reps}
	forced := sampleBuf[:0]
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	var measuring atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Two samplers while the sweeper runs: the runtime's own live-heap figure
	// (updated at every GC cycle, read each millisecond), and a forced
	// collection every 10ms whose HeapAlloc right after is the live heap at
	// that instant.
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		s := slices.Clone(samples)
		for {
			if measuring.Load() {
				metrics.Read(s)
				res.peakLive = max(res.peakLive, s[0].Value.Uint64())
				res.peakAlloc = max(res.peakAlloc, s[1].Value.Uint64())
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if measuring.Load() && len(forced) < cap(forced) {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				forced = append(forced, ms.HeapAlloc)
			}
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
		slices.Sort(forced)
		res.samples = len(forced)
		res.q = map[float64]uint64{}
		for _, q := range []float64{0.5, 0.9, 0.99, 1} {
			if len(forced) > 0 {
				res.q[q] = forced[min(len(forced)-1, int(q*float64(len(forced))))]
			}
		}
	}()
	var gcs uint64
	for rep := range reps {
		if rep > 0 {
			if err := em.addTasks(n); err != nil {
				return res, err
			}
		}
		runtime.GC()
		runtime.GC()
		metrics.Read(samples)
		if rep == 0 {
			res.baseline = samples[0].Value.Uint64()
		}
		gc0 := samples[2].Value.Uint64()
		measuring.Store(true)
		start := time.Now()
		r := (&sweep.Sweeper{Clients: clients}).Run(ctx, set)
		res.elapsed += time.Since(start)
		measuring.Store(false)
		metrics.Read(samples)
		gcs += samples[2].Value.Uint64() - gc0
		res.cancelled += r.Cancelled
		if r.Cancelled != n {
			return res, fmt.Errorf("heap run cancelled %d of %d (errors %v)", r.Cancelled, n, r.Errors)
		}
	}
	res.gcs = gcs
	return res, nil
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
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "serve-emulator",
		fmt.Sprint("-stale=", stale), fmt.Sprint("-young=", young), fmt.Sprint("-rate=", rate), "-latency="+latency.String())
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
	var st emulator.Stats
	resp, err := http.Get(e.url + "/_emulator/stats")
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := emulator.New(emulator.Options{Rate: *rate, Faults: emulator.Faults{Latency: *latency}})
	now := time.Now()
	for i := range *stale {
		srv.AddTask(emulator.Task{Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true,
			DataId: fmt.Sprintf("data-%06d", i), CreatedAt: now.Add(-3*time.Hour - time.Duration(i)*time.Millisecond)})
	}
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
