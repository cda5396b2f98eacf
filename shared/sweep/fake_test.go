package sweep

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// fakeAPI behaves like DescribeTasks/CancelTask of one service: server-side
// filters, cursor paging that status changes do not shift, cancel moving
// PENDING/RUNNING to CANCELLED and answering TaskEnded / ResourceNotFound.
// Knobs make it misbehave the ways a real server might.
type fakeAPI struct {
	service string

	mu          sync.Mutex
	tasks       []tcapi.TaskSummary
	cancels     map[string]int // CancelTask calls per TaskId
	inflight    int
	maxInflight int
	prevPage    []tcapi.TaskSummary
	index       map[string]int // TaskId -> position in tasks

	overlap     int                             // each page repeats the previous page's last rows (a snapshot)
	token       func(page int) string           // overrides the PageToken of page n (1-based); data stays page 1
	describeErr func(call int) error            // fails DescribeTasks call n (1-based) when non-nil
	cancelErr   func(t tcapi.TaskSummary) error // fails CancelTask of a task when non-nil
	cancelDelay time.Duration
	describes   int
}

func newFake(service string) *fakeAPI {
	return &fakeAPI{service: service, cancels: map[string]int{}, index: map[string]int{}}
}

// add appends n tasks with the given status, type and BizType, created age ago.
func (f *fakeAPI) add(n int, status, typ, biz string, age time.Duration) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for range n {
		id := fmt.Sprintf("%s-task-%05d", f.service, len(f.tasks))
		f.tasks = append(f.tasks, tcapi.TaskSummary{
			TaskId: id, DataId: "data-" + id, BizType: biz, Type: typ, Status: status,
			CreatedAt: epoch.Add(-age).Format("2006-01-02T15:04:05.000Z"),
		})
		ids = append(ids, id)
		f.index[id] = len(f.tasks) - 1
	}
	return ids
}

func (f *fakeAPI) match(t tcapi.TaskSummary, req tcapi.DescribeTasksRequest) bool {
	if fl := req.Filter; fl != nil {
		if fl.TaskStatus != "" && t.Status != fl.TaskStatus || fl.Type != "" && t.Type != fl.Type {
			return false
		}
		if len(fl.BizTypes) > 0 && !slices.Contains(fl.BizTypes, t.BizType) {
			return false
		}
	}
	created, err := time.Parse(time.RFC3339Nano, t.CreatedAt)
	if err != nil {
		return true // the server knows the real time; the raw text is what we see
	}
	end, _ := time.Parse(time.RFC3339, req.EndTime)
	start, _ := time.Parse(time.RFC3339, req.StartTime)
	return !created.After(end) && !created.Before(start)
}

func (f *fakeAPI) DescribeTaskSummaries(ctx context.Context, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	if f.describeErr != nil {
		if err := f.describeErr(f.describes); err != nil {
			return tcapi.DescribeTaskSummariesResponse{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return tcapi.DescribeTaskSummariesResponse{}, err
	}
	limit := req.Limit
	if limit == 0 {
		limit = 10
	}
	if f.token != nil { // misbehaving tokens: always the first page's data
		n, _ := strconv.Atoi(req.PageToken)
		var data []tcapi.TaskSummary
		for _, t := range f.tasks {
			if len(data) < limit && f.match(t, req) {
				data = append(data, t)
			}
		}
		tok := f.token(n + 1)
		return tcapi.DescribeTaskSummariesResponse{Data: data, PageToken: tok}, nil
	}
	pos := 0
	if req.PageToken != "" {
		var err error
		if pos, err = strconv.Atoi(req.PageToken); err != nil {
			return tcapi.DescribeTaskSummariesResponse{}, &tcapi.Error{Service: f.service, Action: "DescribeTasks", Code: "InvalidParameterValue", Message: "bad PageToken"}
		}
	}
	var data []tcapi.TaskSummary
	if req.PageToken != "" && f.overlap > 0 {
		data = append(data, f.prevPage[max(0, len(f.prevPage)-f.overlap):]...)
	}
	next := ""
	fresh := 0
	for i := pos; i < len(f.tasks); i++ {
		if !f.match(f.tasks[i], req) {
			continue
		}
		if fresh == limit {
			next = strconv.Itoa(i)
			break
		}
		data = append(data, f.tasks[i])
		fresh++
	}
	f.prevPage = slices.Clone(data)
	return tcapi.DescribeTaskSummariesResponse{Total: strconv.Itoa(len(data)), Data: data, PageToken: next, RequestId: "req"}, nil
}

func (f *fakeAPI) CancelTask(ctx context.Context, id string) (tcapi.CancelTaskResponse, error) {
	f.mu.Lock()
	f.cancels[id]++
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if f.cancelDelay > 0 {
		select {
		case <-time.After(f.cancelDelay):
		case <-ctx.Done():
			return tcapi.CancelTaskResponse{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.index[id]
	if !ok {
		return tcapi.CancelTaskResponse{}, &tcapi.Error{Service: f.service, Action: "CancelTask", Code: "ResourceNotFound", Message: "no task " + id}
	}
	if f.cancelErr != nil {
		if err := f.cancelErr(f.tasks[i]); err != nil {
			return tcapi.CancelTaskResponse{}, err
		}
	}
	switch f.tasks[i].Status {
	case "PENDING", "RUNNING":
		f.tasks[i].Status = "CANCELLED"
		return tcapi.CancelTaskResponse{RequestId: "req"}, nil
	}
	return tcapi.CancelTaskResponse{}, &tcapi.Error{Service: f.service, Action: "CancelTask", Code: "FailedOperation.TaskEnded", Message: "task ended"}
}

func (f *fakeAPI) status(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, ok := f.index[id]; ok {
		return f.tasks[i].Status
	}
	return ""
}

func (f *fakeAPI) cancelCalls() (total int, max int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.cancels {
		total += n
		if n > max {
			max = n
		}
	}
	return total, max
}

func fixedClock() time.Time { return epoch }
