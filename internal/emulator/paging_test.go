package emulator

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// seedTasks adds n stuck RUNNING tasks of service, one minute apart, and
// returns their ids newest first.
func seedTasks(e *env, service string, n int) []string {
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		t := e.srv.AddTask(Task{Service: service, TaskId: fmt.Sprintf("%s-%03d", service, i), Status: StatusRunning, Stuck: true,
			BizType: "b", CreatedAt: e.clock.Now().Add(-time.Duration(i+1) * time.Minute)})
		ids = append(ids, t.TaskId)
	}
	return ids
}

func describeAll(t *testing.T, c *common.Client, service string, params map[string]any) (pages [][]string, totals []string) {
	t.Helper()
	p := map[string]any{}
	for k, v := range params {
		p[k] = v
	}
	for i := 0; i < 100; i++ {
		var r describeResp
		mustCall(t, c, service, "DescribeTasks", p, &r)
		pages = append(pages, taskIDs(r.Data))
		totals = append(totals, r.Total)
		if r.PageToken == "" {
			return pages, totals
		}
		p["PageToken"] = r.PageToken
	}
	t.Fatal("paging never ended")
	return nil, nil
}

func TestPagingWalksEverythingOnce(t *testing.T) {
	for _, mode := range []string{PagingCursor, PagingOffset} {
		for _, service := range []string{"ams", "vm"} {
			t.Run(mode+"/"+service, func(t *testing.T) {
				e := newEnv(t, Options{Paging: mode})
				want := seedTasks(e, service, 25)
				e.srv.AddTask(Task{Service: otherService(service)}) // never listed
				pages, totals := describeAll(t, e.sdk(t, "", nil), service, map[string]any{"Limit": 10})
				if len(pages) != 3 || len(pages[0]) != 10 || len(pages[1]) != 10 || len(pages[2]) != 5 {
					t.Fatalf("page sizes = %v", pages)
				}
				if got := slices.Concat(pages...); !slices.Equal(got, want) {
					t.Fatalf("walk = %v\nwant (newest first) %v", got, want)
				}
				for _, total := range totals {
					if total != "25" {
						t.Fatalf("Total = %q on some page, want \"25\"", total)
					}
				}
			})
		}
	}
}

func otherService(s string) string {
	if s == "ams" {
		return "vm"
	}
	return "ams"
}

// Cancelling tasks of the first page while walking a TaskStatus=RUNNING
// listing: cursor paging still returns every remaining task; offset paging
// skips as many as left the set, as a naive server does.
func TestPagingWhenTasksLeaveTheFilteredSet(t *testing.T) {
	for _, tc := range []struct {
		mode        string
		wantMissing int
	}{{PagingCursor, 0}, {PagingOffset, 4}} {
		t.Run(tc.mode, func(t *testing.T) {
			e := newEnv(t, Options{Paging: tc.mode})
			all := seedTasks(e, "ams", 30)
			c := e.sdk(t, "", nil)
			params := map[string]any{"Limit": 10, "Filter": map[string]any{"TaskStatus": StatusRunning}}
			var seen []string
			for {
				var r describeResp
				mustCall(t, c, "ams", "DescribeTasks", params, &r)
				ids := taskIDs(r.Data)
				seen = append(seen, ids...)
				if len(seen) == 10 { // cancel 4 tasks of the first page, as a sweeper would
					for _, id := range ids[:4] {
						mustCall(t, c, "ams", "CancelTask", map[string]any{"TaskId": id}, nil)
					}
				}
				if r.PageToken == "" {
					break
				}
				params["PageToken"] = r.PageToken
			}
			seenSet := map[string]bool{}
			for _, id := range seen {
				if seenSet[id] {
					t.Fatalf("task %s listed twice", id)
				}
				seenSet[id] = true
			}
			missing := 0
			for _, id := range all {
				if !seenSet[id] {
					missing++
				}
			}
			if missing != tc.wantMissing {
				t.Fatalf("%d tasks never listed, want %d", missing, tc.wantMissing)
			}
		})
	}
}

func TestPageTokenValidation(t *testing.T) {
	cursor := newEnv(t, Options{Paging: PagingCursor})
	offset := newEnv(t, Options{Paging: PagingOffset})
	seedTasks(cursor, "vm", 15)
	seedTasks(offset, "vm", 15)
	token := func(e *env, params map[string]any) string {
		var r describeResp
		mustCall(t, e.sdk(t, "", nil), "vm", "DescribeTasks", params, &r)
		if r.PageToken == "" {
			t.Fatal("no PageToken")
		}
		return r.PageToken
	}
	ct := token(cursor, map[string]any{})
	ot := token(offset, map[string]any{})
	filtered := map[string]any{"Filter": map[string]any{"BizType": []string{"b"}}}
	for _, tc := range []struct {
		name   string
		e      *env
		params map[string]any
		code   string
	}{
		{"cursor token, same filter, new StartTime", cursor, map[string]any{"PageToken": ct, "StartTime": time.Now().Add(-time.Hour).Format(time.RFC3339)}, ""},
		{"cursor token in offset mode", offset, map[string]any{"PageToken": ct}, "InvalidParameterValue"},
		{"offset token in cursor mode", cursor, map[string]any{"PageToken": ot}, "InvalidParameterValue"},
		{"token of another filter", cursor, map[string]any{"PageToken": ct, "Filter": filtered["Filter"]}, "InvalidParameterValue"},
		{"truncated token", cursor, map[string]any{"PageToken": ct[:len(ct)-3]}, "InvalidParameterValue"},
		{"not base64", offset, map[string]any{"PageToken": "%%%"}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, call(t, tc.e.sdk(t, "", nil), "vm", "DescribeTasks", tc.params, nil), tc.code)
		})
	}
	// An offset beyond the end (tasks vanished) is an empty last page.
	var r describeResp
	mustCall(t, offset.sdk(t, "", nil), "vm", "DescribeTasks", map[string]any{"PageToken": encodePageToken(pageToken{mode: PagingOffset, offset: 99, query: taskQuery{}.hash("vm")})}, &r)
	if len(r.Data) != 0 || r.PageToken != "" || r.Total != "15" {
		t.Fatalf("past the end: %+v", r)
	}
}

func TestDescribeTasksLimit(t *testing.T) {
	e := newEnv(t, Options{MaxLimit: 50})
	seedTasks(e, "ams", 60)
	c := e.sdk(t, "", nil)
	var r describeResp
	mustCall(t, c, "ams", "DescribeTasks", map[string]any{"Limit": 50}, &r)
	if len(r.Data) != 50 || r.PageToken == "" {
		t.Fatalf("Limit 50: %d tasks, token %q", len(r.Data), r.PageToken)
	}
	wantCode(t, call(t, c, "ams", "DescribeTasks", map[string]any{"Limit": 51}, nil), "InvalidParameterValue")
	mustCall(t, c, "ams", "DescribeTasks", map[string]any{"Limit": 0}, &r)
	if len(r.Data) != 10 {
		t.Fatalf("Limit 0: %d tasks, want the default 10", len(r.Data))
	}
}

func TestDescribeTasksFilters(t *testing.T) {
	e := newEnv(t, Options{})
	now := e.clock.Now()
	add := func(service, id, biz, typ, status, sugg string, age time.Duration) {
		e.srv.AddTask(Task{Service: service, TaskId: id, BizType: biz, Type: typ, Status: status, Suggestion: sugg,
			Stuck: true, CreatedAt: now.Add(-age)})
	}
	add("ams", "a1", "chat", TypeAudio, StatusFinish, "Block", time.Hour)
	add("ams", "a2", "chat", TypeLiveAudio, StatusRunning, "", 2*time.Hour)
	add("ams", "a3", "game", TypeAudio, StatusPending, "", 3*time.Hour)
	add("ams", "a4", "game", TypeAudio, StatusFinish, "Pass", 4*time.Hour)
	add("ams", "a5", "chat", TypeAudio, StatusCancelled, "", 5*time.Hour)
	add("ams", "a6", "chat", TypeAudio, StatusError, "", 6*time.Hour)
	add("ams", "old", "chat", TypeAudio, StatusRunning, "", 73*time.Hour) // outside the default 3-day window
	add("vm", "v1", "feed", TypeVideo, StatusFinish, "Review", time.Hour)
	add("vm", "v2", "live", TypeLiveVideo, StatusRunning, "", 2*time.Hour)
	add("vm", "v3", "ads", TypeVideo, StatusRunning, "", 3*time.Hour)
	add("vm", "v4", "feed", TypeVideo, StatusFinish, "Block", 100*time.Hour)

	iso := func(d time.Duration) string { return now.Add(-d).UTC().Format(time.RFC3339) }
	for _, tc := range []struct {
		name, service string
		params        map[string]any
		want          []string
	}{
		{"ams default window", "ams", nil, []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
		{"ams StartTime reaches back", "ams", map[string]any{"StartTime": iso(80 * time.Hour)}, []string{"a1", "a2", "a3", "a4", "a5", "a6", "old"}},
		{"ams StartTime with millis", "ams", map[string]any{"StartTime": now.Add(-150 * time.Minute).UTC().Format(timeLayout)}, []string{"a1", "a2"}},
		{"ams EndTime", "ams", map[string]any{"EndTime": iso(3 * time.Hour)}, []string{"a3", "a4", "a5", "a6"}},
		{"ams window", "ams", map[string]any{"StartTime": iso(4 * time.Hour), "EndTime": iso(2 * time.Hour)}, []string{"a2", "a3", "a4"}},
		{"ams BizType", "ams", map[string]any{"Filter": map[string]any{"BizType": "game"}}, []string{"a3", "a4"}},
		{"ams empty BizType = any", "ams", map[string]any{"Filter": map[string]any{"BizType": ""}}, []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
		{"ams Type", "ams", map[string]any{"Filter": map[string]any{"Type": TypeLiveAudio}}, []string{"a2"}},
		{"ams TaskStatus", "ams", map[string]any{"Filter": map[string]any{"TaskStatus": StatusFinish}}, []string{"a1", "a4"}},
		{"ams Suggestion", "ams", map[string]any{"Filter": map[string]any{"Suggestion": "Block"}}, []string{"a1"}},
		{"ams combined", "ams", map[string]any{"Filter": map[string]any{"BizType": "chat", "Type": TypeAudio, "TaskStatus": StatusCancelled}}, []string{"a5"}},
		{"vm BizType array", "vm", map[string]any{"Filter": map[string]any{"BizType": []string{"feed", "ads"}}}, []string{"v1", "v3"}},
		{"vm BizType array + StartTime", "vm", map[string]any{"StartTime": iso(200 * time.Hour), "Filter": map[string]any{"BizType": []string{"feed"}}}, []string{"v1", "v4"}},
		{"vm Type", "vm", map[string]any{"Filter": map[string]any{"Type": TypeLiveVideo}}, []string{"v2"}},
		{"vm Suggestion", "vm", map[string]any{"Filter": map[string]any{"Suggestion": "Review"}}, []string{"v1"}},
		{"vm TaskStatus", "vm", map[string]any{"Filter": map[string]any{"TaskStatus": StatusRunning}}, []string{"v2", "v3"}},
		{"vm nothing matches", "vm", map[string]any{"Filter": map[string]any{"TaskStatus": StatusError}}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := tc.params
			if params == nil {
				params = map[string]any{}
			}
			var r describeResp
			mustCall(t, e.sdk(t, "", nil), tc.service, "DescribeTasks", params, &r)
			got := taskIDs(r.Data)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if r.Total != fmt.Sprint(len(tc.want)) {
				t.Fatalf("Total %q, want %d", r.Total, len(tc.want))
			}
			for _, d := range r.Data {
				if _, err := time.Parse(timeLayout, d.CreatedAt); err != nil {
					t.Fatalf("CreatedAt %q: %v", d.CreatedAt, err)
				}
			}
		})
	}
}

func TestCreatedAtRawVerbatim(t *testing.T) {
	e := newEnv(t, Options{})
	e.srv.AddTask(Task{TaskId: "raw", CreatedAtRaw: "not-a-date", Status: StatusRunning})
	var r describeResp
	mustCall(t, e.sdk(t, "", nil), "ams", "DescribeTasks", map[string]any{}, &r)
	if len(r.Data) != 1 || r.Data[0].CreatedAt != "not-a-date" {
		t.Fatalf("got %+v", r.Data)
	}
}

func TestTasksNewestFirst(t *testing.T) {
	e := newEnv(t, Options{})
	seedTasks(e, "ams", 5)
	seedTasks(e, "vm", 5)
	ts := e.srv.Tasks("")
	if len(ts) != 10 || !sort.SliceIsSorted(ts, func(i, j int) bool { return taskBefore(ts[i], ts[j]) }) {
		t.Fatalf("Tasks(\"\") not newest first: %v", ts)
	}
}
