package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/sweep"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The many-accounts figures (issue 13): N accounts in one emulator, the
// function's own (the emulator's default account) and N-1 reached through STS
// AssumeRole, each with its own per-action limit. The sweep runs through the
// real handler (settings, AssumeRole, per-account limiters, MultiSweep).

// roleOf is the role ARN of the i-th other account (i from 1).
func roleOf(i int) (uin, arn string) {
	uin = fmt.Sprint(200000000000 + i)
	return uin, "qcs::cam::uin/" + uin + ":roleName/JanitorSweepTargetRole"
}

func roles(accounts int) []string {
	var out []string
	for i := 1; i < accounts; i++ {
		_, arn := roleOf(i)
		out = append(out, arn)
	}
	return out
}

// addAccounts makes accounts-1 assumable roles, each account holding stale
// tasks like the default one.
func addAccounts(srv *emulator.Server, accounts, stale int, now time.Time) {
	for i := 1; i < accounts; i++ {
		uin, arn := roleOf(i)
		srv.AddRole(emulator.Role{Arn: arn, Trusted: []string{""}})
		for j := range stale {
			srv.AddTask(emulator.Task{Account: uin, Service: "ams", Type: emulator.TypeLiveAudio, Status: emulator.StatusRunning, Stuck: true,
				DataId: fmt.Sprintf("data-%s-%06d", uin, j), CreatedAt: now.Add(-3*time.Hour - time.Duration(j)*time.Millisecond)})
		}
	}
}

// handlerCtx is an invocation of sweep-tasks against the emulator at url.
func handlerCtx(ctx context.Context, url string, accounts int) context.Context {
	env := map[string]string{
		"TENCENTCLOUD_SECRETID": emulator.DefaultSecretID, "TENCENTCLOUD_SECRETKEY": emulator.DefaultSecretKey,
		"JANITOR_AMS_ENDPOINT": url, "JANITOR_STS_ENDPOINT": url, "TENCENTCLOUD_UIN": "100000000001",
		"JANITOR_SWEEP_ROLES": strings.Join(roles(accounts), ","),
	}
	return scf.NewContext(ctx, &scf.FunctionContext{RequestID: "bench", FunctionName: "sweep-tasks", Env: env})
}

// accountStats is the emulator's counters for one account.
func accountStats(base, account string) (emulator.Stats, error) {
	return emulatorStats(base + "/_emulator/stats?account=" + url.QueryEscape(account))
}

// accountsThroughput: every account limited to emuRate per action, the
// sweeper at rate per account.
func accountsThroughput(ctx context.Context, accounts, perAccount int, rate, emuRate float64, latency time.Duration) error {
	fmt.Printf("== many accounts: %d accounts x %d stale tasks, each account limited to %.0f/s per action, sweeper rate %.0f/s, latency %s, through the handler (AssumeRole, per-account limiters)\n",
		accounts, perAccount, emuRate, rate, latency)
	em, err := startEmulatorArgs(ctx, fmt.Sprint("-stale=", perAccount), fmt.Sprint("-rate=", emuRate), "-latency="+latency.String(),
		fmt.Sprint("-accounts=", accounts))
	if err != nil {
		return err
	}
	defer em.close()
	h := sweep.NewHandler(sweep.HandlerOptions{})
	overrides := fmt.Sprintf(`{"rate":%g,"maxCancels":%d,"statuses":["RUNNING"]}`, rate, perAccount+1)
	start := time.Now()
	out, err := h.Handle(handlerCtx(ctx, em.url, accounts), json.RawMessage(overrides))
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	rep := out.(*sweep.Report)
	want := accounts * perAccount
	if rep.Cancelled != want || len(rep.Errors) > 0 {
		return fmt.Errorf("cancelled %d of %d (errors %v)", rep.Cancelled, want, rep.Errors)
	}
	agg := float64(rep.Cancelled) / elapsed.Seconds()
	target := 0.9 * float64(accounts) * rate
	fmt.Printf("cancelled %d in %s: aggregate %.1f cancels/s = %.3f of %d x %.0f (target >= 0.9, i.e. %.1f/s)\n",
		rep.Cancelled, elapsed.Round(time.Millisecond), agg, agg/(float64(accounts)*rate), accounts, rate, target)
	fmt.Printf("throttled answers seen by the sweeper: %d (target 0)\n", rep.Throttled)
	ids := []string{""}
	for i := 1; i < accounts; i++ {
		uin, _ := roleOf(i)
		ids = append(ids, uin)
	}
	worst := int64(0)
	for _, id := range ids {
		st, err := accountStats(em.url, id)
		if err != nil {
			return err
		}
		name := id
		if name == "" {
			name = "own account"
		}
		var parts []string
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range st.Actions {
				if !yield(k) {
					return
				}
			}
		}) {
			a := st.Actions[k]
			parts = append(parts, fmt.Sprintf("%s %d req, busiest 1s %d, throttled %d", k, a.Requests, a.MaxPerSecond, a.Throttled))
			if a.Throttled > 0 {
				worst = max(worst, 1<<40)
			}
			worst = max(worst, a.MaxPerSecond)
		}
		fmt.Printf("  %-14s %s\n", name, strings.Join(parts, "; "))
	}
	fmt.Printf("busiest one-second window of any action in any account: %d (limit %.0f)\n\n", worst, emuRate)
	return nil
}

// multiClients is the heap child's ClientsFunc: AssumeRole through tcapi,
// then clients with each account's own limiters.
func multiClients(base string, rate float64) sweep.ClientsFunc {
	self := tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey}
	return func(ctx context.Context, a sweep.Account, _ []string) (map[string]sweep.Client, error) {
		cred := self
		if a.Role != "" {
			sts, err := tcapi.NewSTS(self, tcapi.Options{Endpoint: base})
			if err != nil {
				return nil, err
			}
			out, err := sts.AssumeRole(ctx, tcapi.AssumeRoleRequest{RoleArn: a.Role, RoleSessionName: "bench-sweep", DurationSeconds: 900})
			if err != nil {
				return nil, err
			}
			cred = out.Credentials
		}
		m, err := tcapi.NewModeration("ams", cred, tcapi.Options{Endpoint: base, Limiters: tcapi.NewLimiters(rate, 1)})
		if err != nil {
			return nil, err
		}
		return map[string]sweep.Client{"ams": m}, nil
	}
}

// accountsSection prints the many-accounts figures.
func accountsSection(ctx context.Context, c config) error {
	if err := accountsThroughput(ctx, c.accounts, c.accountTasks, 15, 20, 50*time.Millisecond); err != nil {
		return err
	}
	n := c.accountHeap
	fmt.Printf("== peak heap, %d accounts x %dk stale tasks vs one account x %dk (each sweep in a fresh process, no rate limit)\n", c.accounts, n/1000, n/1000)
	var res [2]heapResult
	for i, accts := range []int{1, c.accounts} {
		em, err := startEmulatorArgs(ctx, fmt.Sprint("-stale=", n), "-rate=-1", fmt.Sprint("-accounts=", accts))
		if err != nil {
			return err
		}
		h, err := heapChild(ctx, em.url, n, n, fmt.Sprint("-accounts=", accts))
		em.close()
		if err != nil {
			return err
		}
		res[i] = h
		fmt.Printf("%d account(s): cancelled %d in %s; live heap before %.2f MiB; peak %.2f, p90 %.2f, median %.2f MiB (%d samples)\n",
			accts, h.Cancelled, h.Elapsed.Round(time.Millisecond), mib(h.Baseline), mib(h.peak()), mib(h.quantile(0.9)), mib(h.quantile(0.5)), len(h.Forced))
	}
	fmt.Printf("%d accounts vs 1: peak live heap ratio %.2f (p90 %.2f, median %.2f; target <= 1.5)\n",
		c.accounts, ratio(res[1].peak(), res[0].peak()), ratio(res[1].quantile(0.9), res[0].quantile(0.9)), ratio(res[1].quantile(0.5), res[0].quantile(0.5)))
	return nil
}
