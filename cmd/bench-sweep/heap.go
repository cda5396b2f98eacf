package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The heap figures: the issue's target is "peak heap at 1k vs 100k stale
// tasks, flat within 20%", i.e. one sweep of 1k against one sweep of 100k.
//
// Each measured sweep runs in a fresh process of its own ("bench-sweep
// heap-run"), so nothing an earlier run left behind (idle connections, caches,
// pools) is counted, and the emulator runs in yet another process, so the
// figures are the sweeper's own: its clients and connections, the pages in
// flight, the dedupe set and the report. The samplers' buffers are global
// arrays (static data, not heap), so they weigh nothing in the figures.
//
// A peak is the maximum of samples, and a run 100 times longer takes 100 times
// more samples, so it catches rarer transient highs (a page being decoded while
// every worker holds a response) even when nothing grows. To tell that apart
// from real growth, the 100k run also reports its peak per window of 1k
// cancels (the same work as the 1k run): growth shows as late windows above
// early ones, sampling as windows that stay level while the maximum over all
// of them is higher. And the 1k sweep is repeated in fresh processes, so its
// peak is also known over as many samples as the 100k run takes.

// heapResult is what one heap-run child prints (JSON).
type heapResult struct {
	Tasks, Cancelled int
	Elapsed          time.Duration
	Baseline         uint64   // live heap after two GCs, just before the sweep
	PeakLive         uint64   // runtime's /gc/heap/live, read every millisecond: any GC cycle, forced or not
	PeakAlloc        uint64   // heap objects including garbage, same reads
	GCs              uint64   // GC cycles during the sweep (forced ones included)
	Forced           []uint64 // live heap marked by a forced GC every 10ms, sorted
	Windows          []uint64 // max of Forced per window of -window cancels, in run order
}

func (h heapResult) quantile(q float64) uint64 {
	if len(h.Forced) == 0 {
		return 0
	}
	return h.Forced[min(len(h.Forced)-1, int(q*float64(len(h.Forced))))]
}

func (h heapResult) peak() uint64 { return h.quantile(1) }

func heapSection(ctx context.Context, c config) error {
	fmt.Printf("== peak heap of the sweeper: every sweep in a fresh process (emulator in another), no rate limit or latency\n")
	window := c.heapSmall
	em, err := startEmulator(ctx, c.heapSmall, 0, -1, 0)
	if err != nil {
		return err
	}
	var small []heapResult
	for i := range c.heapSmallRuns {
		if i > 0 {
			if err := em.addTasks(c.heapSmall); err != nil {
				em.close()
				return err
			}
		}
		h, err := heapChild(ctx, em.url, c.heapSmall, window)
		if err != nil {
			em.close()
			return err
		}
		small = append(small, h)
	}
	em.close()
	em, err = startEmulator(ctx, c.heapLarge, 0, -1, 0)
	if err != nil {
		return err
	}
	large, err := heapChild(ctx, em.url, c.heapLarge, window)
	em.close()
	if err != nil {
		return err
	}

	one := small[0]
	for _, h := range []heapResult{one, large} {
		fmt.Printf("%7d stale tasks, one sweep: cancelled %d in %s, %d GC cycles; live heap before the sweep %.2f MiB\n",
			h.Tasks, h.Cancelled, h.Elapsed.Round(time.Millisecond), h.GCs, mib(h.Baseline))
		fmt.Printf("        live heap (a forced GC every 10ms, %d samples): peak %.2f, p90 %.2f, median %.2f MiB\n",
			len(h.Forced), mib(h.peak()), mib(h.quantile(0.9)), mib(h.quantile(0.5)))
		fmt.Printf("        any GC cycle's marked heap peak %.2f MiB (/gc/heap/live), heap with garbage peak %.2f MiB\n",
			mib(h.PeakLive), mib(h.PeakAlloc))
	}
	fmt.Printf("%dk vs %dk stale tasks (target: flat, within 20%%):\n", c.heapLarge/1000, c.heapSmall/1000)
	fmt.Printf("  one sweep each: peak live heap ratio %.2f (p90 %.2f, median %.2f); above the pre-sweep heap %.2f vs %.2f MiB\n",
		ratio(large.peak(), one.peak()), ratio(large.quantile(0.9), one.quantile(0.9)), ratio(large.quantile(0.5), one.quantile(0.5)),
		mib(sub(large.peak(), large.Baseline)), mib(sub(one.peak(), one.Baseline)))
	fmt.Printf("  any GC cycle's marked heap, peak ratio %.2f; heap with garbage, peak ratio %.2f\n",
		ratio(large.PeakLive, one.PeakLive), ratio(large.PeakAlloc, one.PeakAlloc))
	if len(small) > 1 {
		// A peak is a maximum of samples: how far does the same 1k sweep's peak vary?
		peaks := make([]uint64, len(small))
		lives := make([]uint64, len(small))
		samples := 0
		for i, h := range small {
			peaks[i], lives[i] = h.peak(), h.PeakLive
			samples += len(h.Forced)
		}
		fmt.Printf("  the same %dk sweep in %d fresh processes: peak live heap min %.2f, median %.2f, max %.2f MiB (any GC cycle's marked heap: min %.2f, median %.2f, max %.2f MiB)\n",
			c.heapSmall/1000, len(small), mib(slices.Min(peaks)), mib(median(peaks)), mib(slices.Max(peaks)),
			mib(slices.Min(lives)), mib(median(lives)), mib(slices.Max(lives)))
		fmt.Printf("  %dk sweep vs the %dk sweep's peak over those %d sweeps (%d samples; the %dk sweep took %d): peak live heap ratio %.2f (any GC cycle's marked heap %.2f)\n",
			c.heapLarge/1000, c.heapSmall/1000, len(small), samples, c.heapLarge/1000, len(large.Forced),
			ratio(large.peak(), slices.Max(peaks)), ratio(large.PeakLive, slices.Max(lives)))
	}
	// Growth shows as late windows above early ones.
	if w := large.Windows; len(w) >= 3 {
		tenth := max(1, len(w)/10)
		first, last := mean(w[:tenth]), mean(w[len(w)-tenth:])
		fmt.Printf("  growth within the %dk sweep, peak live heap per window of %d cancels (%d windows): first %.2f, median %.2f, last %.2f, max %.2f MiB; last tenth vs first tenth %.2f\n",
			c.heapLarge/1000, window, len(w), mib(w[0]), mib(median(w)), mib(w[len(w)-1]), mib(slices.Max(w)), ratio(last, first))
	}
	return nil
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

func median(v []uint64) uint64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

func mean(v []uint64) uint64 {
	var t uint64
	for _, x := range v {
		t += x
	}
	return t / uint64(len(v))
}

// heapChild runs one measured sweep of n tasks in a fresh process.
func heapChild(ctx context.Context, url string, n, window int, extra ...string) (heapResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return heapResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"heap-run", "-url=" + url, fmt.Sprint("-tasks=", n), fmt.Sprint("-window=", window)}, extra...)...)
	// Stop-the-world collections: a forced GC then marks a frozen heap, so
	// its marked bytes are exactly what is reachable at that instant, not
	// that plus whatever goroutines allocate while a concurrent mark runs.
	godebug := "gcstoptheworld=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return heapResult{}, fmt.Errorf("heap-run %d: %w", n, err)
	}
	var h heapResult
	if err := json.Unmarshal(out, &h); err != nil {
		return heapResult{}, fmt.Errorf("heap-run %d output: %w", n, err)
	}
	return h, nil
}

type sample struct {
	done int64
	heap uint64
}

// Sampler storage: static arrays, outside the measured heap.
var (
	forcedBuf [1 << 16]sample
	windowBuf [1 << 12]uint64
)

// countingClient counts finished cancels (the progress the windows follow).
type countingClient struct {
	*tcapi.Moderation
	done *atomic.Int64
}

func (c countingClient) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	resp, err := c.Moderation.CancelTask(ctx, id)
	c.done.Add(1)
	return resp, err
}

// heapRun is the child: one sweep of the emulator at -url, which holds -tasks
// stale tasks, sampled while it runs.
func heapRun(args []string) error {
	fs := flag.NewFlagSet("heap-run", flag.ContinueOnError)
	url := fs.String("url", "", "emulator URL")
	n := fs.Int("tasks", 1000, "stale tasks the emulator holds")
	window := fs.Int("window", 1000, "cancels per window")
	accounts := fs.Int("accounts", 1, "accounts to sweep (see serve-emulator -accounts): -tasks is then per account")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res := heapResult{Tasks: *n}
	h := &heapSampler{res: &res, stop: make(chan struct{})}
	sw, err := newHeapSweep(*url, *n, *accounts, &h.done)
	if err != nil {
		return err
	}
	gc := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	h.start()
	runtime.GC()
	runtime.GC()
	metrics.Read(gc)
	res.Baseline = gc[0].Value.Uint64()
	gc0 := gc[1].Value.Uint64()
	h.measuring.Store(true)
	start := time.Now()
	r := sw.run(context.Background())
	res.Elapsed = time.Since(start)
	h.measuring.Store(false)
	close(h.stop)
	h.wg.Wait()
	metrics.Read(gc)
	res.GCs = gc[1].Value.Uint64() - gc0
	res.Cancelled = r.Cancelled
	if r.Cancelled != sw.total {
		return fmt.Errorf("heap run cancelled %d of %d (errors %v)", r.Cancelled, sw.total, r.Errors)
	}
	res.summarize(forcedBuf[:h.nforced], sw.total, *window)
	return json.NewEncoder(os.Stdout).Encode(res)
}

// heapSampler reads the heap while the sweep runs.
type heapSampler struct {
	res       *heapResult
	done      atomic.Int64 // cancels so far
	measuring atomic.Bool
	nforced   int // samples in forcedBuf; read after wg.Wait
	stop      chan struct{}
	wg        sync.WaitGroup
}

func (h *heapSampler) start() {
	h.wg.Go(h.peaks)
	h.wg.Go(h.forced)
}

// peaks reads the runtime's live-heap figure (updated at every GC cycle)
// each millisecond.
func (h *heapSampler) peaks() {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	for {
		if h.measuring.Load() {
			metrics.Read(s)
			h.res.PeakLive = max(h.res.PeakLive, s[0].Value.Uint64())
			h.res.PeakAlloc = max(h.res.PeakAlloc, s[1].Value.Uint64())
		}
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
	}
}

// forced forces a collection every 10ms; the bytes it marked are the live
// heap at that instant. (HeapAlloc read after it would also count what
// other goroutines allocated between the end of the collection and the
// read.)
func (h *heapSampler) forced() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	m := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		if h.measuring.Load() && h.nforced < len(forcedBuf) {
			d := h.done.Load()
			metrics.Read(m)
			before := m[0].Value.Uint64()
			runtime.GC()
			metrics.Read(m)
			if m[0].Value.Uint64() != before+1 {
				continue // another cycle ended meanwhile: the figure may be its
			}
			forcedBuf[h.nforced] = sample{done: d, heap: m[1].Value.Uint64()}
			h.nforced++
		}
	}
}

// heapSweep is the sweep measured: one account, or several at once.
type heapSweep struct {
	run   func(ctx context.Context) *sweep.Report
	total int // stale tasks in all
}

func newHeapSweep(url string, n, accounts int, done *atomic.Int64) (heapSweep, error) {
	set := settings(1e6, 16, n)
	if accounts <= 1 {
		clients, err := newClients(url, 1e6)
		if err != nil {
			return heapSweep{}, err
		}
		clients["ams"] = countingClient{Moderation: clients["ams"].(*tcapi.Moderation), done: done}
		return heapSweep{total: n, run: func(ctx context.Context) *sweep.Report { return (&sweep.Sweeper{Clients: clients}).Run(ctx, set) }}, nil
	}
	// Every account at once, each through AssumeRole with its own limiters,
	// as the handler sweeps them (MultiSweep).
	accts := []sweep.Account{{ID: "self"}}
	for i := 1; i < accounts; i++ {
		uin, arn := roleOf(i)
		accts = append(accts, sweep.Account{ID: uin, Role: arn})
	}
	mc := multiClients(url, 1e6)
	m := &sweep.MultiSweep{Accounts: accts, Clients: func(ctx context.Context, a sweep.Account, svcs []string) (map[string]sweep.Client, error) {
		cs, err := mc(ctx, a, svcs)
		if err != nil {
			return nil, err
		}
		cs["ams"] = countingClient{Moderation: cs["ams"].(*tcapi.Moderation), done: done}
		return cs, nil
	}}
	return heapSweep{total: n * accounts, run: func(ctx context.Context) *sweep.Report { return m.Run(ctx, set) }}, nil
}

// summarize keeps the forced samples, sorted, and the peak of each window
// of cancels.
func (res *heapResult) summarize(forced []sample, total, window int) {
	nw := 0
	for _, s := range forced {
		// Samples after the last cancel (the final, empty listing pass) count in the last window.
		i := min(int(s.done), total-1) / max(window, 1)
		i = min(i, len(windowBuf)-1)
		windowBuf[i] = max(windowBuf[i], s.heap)
		nw = max(nw, i+1)
	}
	for _, s := range forced {
		res.Forced = append(res.Forced, s.heap)
	}
	slices.Sort(res.Forced)
	// Windows with no sample (a window shorter than 10ms) are left out.
	for _, v := range windowBuf[:nw] {
		if v > 0 {
			res.Windows = append(res.Windows, v)
		}
	}
}
