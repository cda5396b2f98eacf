// Command bench-cancel measures the three cancel functions against the issue's
// targets and prints the figures:
//
//   - handler latency per invocation (a signed Function URL event, decoded,
//     verified, parsed and sent through the real SDK over loopback to an
//     in-process emulator), p50 and p99, next to the bare API round trip of the
//     same call made with tcapi alone; overhead = handler - round trip
//     (target p50 < 1 ms);
//   - cold start, from exec to the first successful Invoke (a real cancel),
//     as a ratio to an empty Go1 handler built the same way (target < 1.5),
//     next to a "bare" Go1 function making only the same tcapi call (no
//     handler): bare - empty is the cost of a process's first API call
//     (net/http's first request, a new connection, SDK and JSON first use),
//     function - bare is what the handler adds;
//   - the stripped binary size, as packaged (target < 10 MB).
//
// Run from anywhere inside the module:
//
//	go run ./cmd/bench-cancel [-n 2000] [-cold 41]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"net/rpc"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/internal/scflocal"
	"github.com/scf-janitor/scf-janitor/internal/testkit/benchjobs"
	"github.com/scf-janitor/scf-janitor/shared/cancel"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

func main() {
	n := flag.Int("n", 2000, "invocations per function for the latency figures")
	cold := flag.Int("cold", 41, "cold starts per binary (medians of few runs are noisy on a loaded machine)")
	flag.Parse()
	if err := run(*n, *cold); err != nil {
		fmt.Fprintln(os.Stderr, "bench-cancel:", err)
		os.Exit(1)
	}
}

type figures struct {
	name                    string
	p50, p99                time.Duration // handler
	rtt50, rtt99            time.Duration // bare API round trip
	coldMedian, emptyMedian time.Duration
	coldP25, emptyP25       time.Duration
	bareMedian              time.Duration // the same tcapi call without the handler
	firstInvoke             time.Duration // median of the first Invoke alone (after the port answers)
	emptyFirst, bareFirst   time.Duration
	size                    int64
}

func run(n, coldRuns int) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bench-cancel-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	ctx := context.Background()
	emptyBin, bareBin, bareCIBin := filepath.Join(tmp, "empty"), filepath.Join(tmp, "bare"), filepath.Join(tmp, "bare-ci")
	if err := scflocal.Build(ctx, filepath.Join(root, "cmd/bench-cancel/testdata/empty"), emptyBin); err != nil {
		return err
	}
	if err := scflocal.Build(ctx, filepath.Join(root, "cmd/bench-cancel/testdata/bare"), bareBin); err != nil {
		return err
	}
	// cancel-live-audit's baseline also links the COS signer, as the function does.
	if err := scflocal.Build(ctx, filepath.Join(root, "cmd/bench-cancel/testdata/bare"), bareCIBin, "bareci"); err != nil {
		return err
	}
	var rows []figures
	for _, job := range benchjobs.All() {
		f := figures{name: job.Function}
		if f.p50, f.p99, f.rtt50, f.rtt99, err = latency(job, n); err != nil {
			return fmt.Errorf("%s latency: %w", job.Function, err)
		}
		bin := filepath.Join(tmp, job.Function)
		if err := scflocal.Build(ctx, filepath.Join(root, "functions", job.Function), bin); err != nil {
			return err
		}
		st, err := os.Stat(bin)
		if err != nil {
			return err
		}
		f.size = st.Size()
		bare := bareBin
		if job.Function == cancel.FunctionCancelLiveAudit {
			bare = bareCIBin
		}
		if err := coldStarts(&f, job, bin, emptyBin, bare, coldRuns); err != nil {
			return fmt.Errorf("%s cold start: %w", job.Function, err)
		}
		rows = append(rows, f)
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "function\thandler p50\thandler p99\tAPI RTT p50\tAPI RTT p99\toverhead p50\toverhead p99\tcold start\t(1st invoke)\tempty Go1\tcold ratio\t(p25 ratio)\tbinary MB\t\n")
	for _, f := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t\n", f.name,
			ms(f.p50), ms(f.p99), ms(f.rtt50), ms(f.rtt99), ms(f.p50-f.rtt50), ms(f.p99-f.rtt99),
			ms(f.coldMedian), ms(f.firstInvoke), ms(f.emptyMedian), float64(f.coldMedian)/float64(f.emptyMedian), float64(f.coldP25)/float64(f.emptyP25), float64(f.size)/(1<<20))
	}
	w.Flush()
	fmt.Printf("targets: overhead p50 < 1 ms, cold ratio < 1.5, binary < 10 MB; n=%d invocations, %d cold starts each\n", n, coldRuns)
	fmt.Println()
	fmt.Println("where the cold start goes (medians; bare = a Go1 function making only the same tcapi call, no handler):")
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "function\tempty\tbare\tfunction\tbare ratio\t1st invoke empty\t1st invoke bare\t1st invoke function\t\n")
	for _, f := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t\n", f.name, ms(f.emptyMedian), ms(f.bareMedian), ms(f.coldMedian),
			float64(f.bareMedian)/float64(f.emptyMedian), ms(f.emptyFirst), ms(f.bareFirst), ms(f.firstInvoke))
	}
	w.Flush()
	return nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
}

// latency measures n signed HTTP invocations of the handler and n bare tcapi
// calls of the same action, each cancelling a fresh running job.
func latency(job benchjobs.Job, n int) (p50, p99, rtt50, rtt99 time.Duration, err error) {
	emu := emulator.New(emulator.Options{Rate: -1})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	env := benchjobs.Env(srv.URL)
	const secret = "whsec-bench"
	env["JANITOR_WEBHOOK_SECRET"] = secret
	limiters := tcapi.NewLimiters(1e9, 1<<30)
	h := job.NewHandler(cancel.Options{Limiters: limiters, COSSigner: cossign.Transport})
	ctx := scf.NewContext(context.Background(), &scf.FunctionContext{RequestID: "bench", Env: env})

	warm := n/10 + 10
	handler := make([]time.Duration, 0, n)
	for i := range n + warm {
		body := job.Request(job.Seed(emu))
		ev := benchjobs.URLEvent(body, webhook.Sign(secret, time.Now(), []byte(body)))
		start := time.Now()
		out, err := h.Handle(ctx, ev)
		d := time.Since(start)
		if err := benchjobs.CheckOK(out, err); err != nil {
			return 0, 0, 0, 0, err
		}
		if i >= warm {
			handler = append(handler, d)
		}
	}
	bare := make([]time.Duration, 0, n)
	for i := range n + warm {
		id := job.Seed(emu)
		start := time.Now()
		err := job.Bare(context.Background(), srv.URL, limiters, id)
		d := time.Since(start)
		if err != nil {
			return 0, 0, 0, 0, err
		}
		if i >= warm {
			bare = append(bare, d)
		}
	}
	p50, p99 = percentiles(handler)
	rtt50, rtt99 = percentiles(bare)
	return p50, p99, rtt50, rtt99, nil
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// quartile returns the 25th percentile: less sensitive than the median to
// other load on the machine.
func quartile(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/4]
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}

// coldStarts alternates runs of bin, empty and bare and records the median
// (and 25th percentile) time from exec to the first successful Invoke of
// each, and of that first Invoke alone.
func coldStarts(f *figures, job benchjobs.Job, bin, empty, bare string, runs int) error {
	emu := emulator.New(emulator.Options{Rate: -1})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	env := benchjobs.Env(srv.URL)
	var fns, firsts, bases, baseFirsts, bares, bareFirsts []time.Duration
	for range runs {
		d, inv, err := coldStart(bin, []byte(job.Request(job.Seed(emu))), env)
		if err != nil {
			return err
		}
		fns, firsts = append(fns, d), append(firsts, inv)
		if d, inv, err = coldStart(empty, []byte(`{}`), nil); err != nil {
			return err
		}
		bases, baseFirsts = append(bases, d), append(baseFirsts, inv)
		barePayload, _ := json.Marshal(map[string]string{"Function": job.Function, "Id": job.Seed(emu)})
		if d, inv, err = coldStart(bare, barePayload, env); err != nil {
			return err
		}
		bares, bareFirsts = append(bares, d), append(bareFirsts, inv)
	}
	f.coldMedian, f.coldP25, f.firstInvoke = median(fns), quartile(fns), median(firsts)
	f.emptyMedian, f.emptyP25, f.emptyFirst = median(bases), quartile(bases), median(baseFirsts)
	f.bareMedian, f.bareFirst = median(bares), median(bareFirsts)
	return nil
}

// coldStart execs bin as the SCF Go1 runtime does, polls its port every
// 200µs, and invokes it once (a direct invocation with env as the
// invocation's Environment). The result must not be an error.
func coldStart(bin string, payload []byte, env map[string]string) (total, invoke time.Duration, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	envJSON, _ := json.Marshal(env)

	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), scf.EnvServerPort + "=" + port, scf.EnvServerHost + "=127.0.0.1"}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	var conn net.Conn
	for {
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			return 0, 0, fmt.Errorf("%s did not listen within 10s", bin)
		}
		time.Sleep(200 * time.Microsecond)
	}
	client := rpc.NewClient(conn)
	defer client.Close()
	invokeStart := time.Now()
	dl := time.Now().Add(10 * time.Second)
	req := &scf.InvokeRequest{Payload: payload, RequestId: "cold", Deadline: scf.Deadline{Seconds: dl.Unix(), Nanos: int64(dl.Nanosecond())},
		FunctionName: filepath.Base(bin), MemoryLimitInMb: 128, TimeLimitInMs: 10000, Environment: string(envJSON)}
	var resp scf.InvokeResponse
	if err := client.Call(scf.ServiceName+".Invoke", req, &resp); err != nil {
		return 0, 0, err
	}
	end := time.Now()
	if resp.Error != nil {
		return 0, 0, errors.New(filepath.Base(bin) + " first invocation failed: " + resp.Error.Message)
	}
	return end.Sub(start), end.Sub(invokeStart), nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run inside the scf-janitor module (no go.mod found)")
		}
		dir = parent
	}
}
