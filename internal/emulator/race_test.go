package emulator

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// Many SDK clients at once: every task is cancelled exactly once although
// each is cancelled by two clients concurrently, listings stay consistent,
// and the counters add up. Run with -race.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, Options{Rate: -1})
	const tasks = 120
	for i := 0; i < tasks; i++ {
		e.srv.AddTask(Task{Service: []string{"ams", "vm"}[i%2], TaskId: fmt.Sprintf("t%03d", i), BizType: "orig", Status: StatusRunning, Stuck: true})
	}
	jobs := make([]string, 20)
	for i := range jobs {
		jobs[i] = e.srv.AddLiveJob(LiveJob{DataId: fmt.Sprint(i)}).JobId
	}
	var cancelled, ended, listed, ciCancelled atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := e.sdk(t, "", common.NewCredential(DefaultSecretID, DefaultSecretKey))
			// Two workers share each slice of tasks, so every cancel races another.
			for i := (w / 2) % 8; i < tasks; i += 8 {
				service := []string{"ams", "vm"}[i%2]
				switch code := sdkCode(t, call(t, c, service, "CancelTask", map[string]any{"TaskId": fmt.Sprintf("t%03d", i)}, nil)); code {
				case "":
					cancelled.Add(1)
				case "FailedOperation":
					ended.Add(1)
				default:
					t.Errorf("cancel t%03d: %s", i, code)
				}
				var biz any = "orig"
				if service == "vm" {
					biz = []string{"orig"}
				}
				var r describeResp
				if err := call(t, c, service, "DescribeTasks", map[string]any{"Limit": 5, "Filter": map[string]any{"BizType": biz}}, &r); err != nil {
					t.Errorf("describe: %v", err)
					continue
				}
				if r.Total != fmt.Sprint(tasks/2) {
					t.Errorf("Total %s", r.Total)
				}
				listed.Add(int64(len(r.Data)))
			}
			cc, _ := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", nil)
			for i := w % 2; i < len(jobs); i += 2 {
				if _, _, err := cc.CI.PostVideoAuditingCancelJob(context.Background(), jobs[i]); err == nil {
					ciCancelled.Add(1)
				}
				e.srv.AddTask(Task{Service: "ams", BizType: "extra"})
				_ = e.srv.Stats()
				_ = e.srv.Tasks("vm")
			}
		}(w)
	}
	wg.Wait()
	if cancelled.Load() != tasks || ended.Load() != tasks {
		t.Fatalf("cancelled %d, already ended %d; want %d each", cancelled.Load(), ended.Load(), tasks)
	}
	for _, tk := range e.srv.Tasks("") {
		if tk.BizType != "extra" && tk.Status != StatusCancelled {
			t.Fatalf("task %s is %s", tk.TaskId, tk.Status)
		}
	}
	if ciCancelled.Load() != int64(len(jobs)) {
		t.Fatalf("CI cancelled %d of %d", ciCancelled.Load(), len(jobs))
	}
	st := e.srv.Stats().Actions
	if st["ams.CancelTask"].Requests+st["vm.CancelTask"].Requests != 2*tasks || st["ci.CancelAuditing"].Requests != 8*int64(len(jobs)) {
		t.Fatalf("stats %+v", st)
	}
}
