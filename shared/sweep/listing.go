package sweep

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// This file lists: one goroutine per pass fetches the pages of every listing
// in turn and sends them, and whatever stops a listing, to the run loop.

// listing is one DescribeTasks filter combination: the API takes one value
// per filter field, so each (service, status, type, BizType) is listed on
// its own (vm takes every BizType in one array).
type listing struct {
	service string
	filter  tcapi.TaskFilter
}

func (l listing) String() string {
	parts := []string{"TaskStatus=" + l.filter.TaskStatus}
	if l.filter.Type != "" {
		parts = append(parts, "Type="+l.filter.Type)
	}
	if len(l.filter.BizTypes) > 0 {
		parts = append(parts, "BizType="+strings.Join(l.filter.BizTypes, ","))
	}
	return strings.Join(parts, " ")
}

// listings returns the filter combinations set asks for, in order.
func listings(set Settings) []listing {
	types := set.Types
	if len(types) == 0 {
		types = []string{""}
	}
	biz := set.includedBizTypes()
	var out []listing
	for _, svc := range set.Services {
		var groups [][]string
		switch {
		case len(biz) == 0:
			groups = [][]string{nil}
		case svc == "ams": // one BizType per request
			for _, b := range biz {
				groups = append(groups, []string{b})
			}
		default:
			groups = [][]string{biz}
		}
		for _, st := range set.Statuses {
			for _, ty := range types {
				for _, g := range groups {
					out = append(out, listing{service: svc, filter: tcapi.TaskFilter{TaskStatus: st, Type: ty, BizTypes: g}})
				}
			}
		}
	}
	return out
}

// listed is what the lister sends the run loop: a page, a listing stopped
// (err), its own panic (it sends nothing after one) or that time is up.
type listed struct {
	seq     uint64 // the page's fetch sequence number (see run.fetches)
	service string
	tasks   []tcapi.TaskSummary
	err     *ListError
	panic   *panicReport
	// outOfTime: the lister stopped early because no call may start any
	// more (the run is truncated).
	outOfTime bool
}

// panicReport is a recovered panic, for the report and the log.
type panicReport struct {
	where string
	value string
	stack []byte
}

func recovered(where string, v any) *panicReport {
	// fmt recovers a panicking String or Error method.
	return &panicReport{where: where, value: fmt.Sprint(v), stack: debug.Stack()}
}

// paging is the listing state kept across passes. The pass's lister
// goroutine owns it while it runs; the run loop reads it once the lister has
// returned.
type paging struct {
	pageSize int             // DescribeTasks Limit: set.PageSize, halved while Tencent rejects it
	broken   map[string]bool // listings stopped by a paging error: not listed again this run
	pages    int             // pages received
}

// lister fetches the pages of every listing of one pass.
type lister struct {
	r     *run
	ctx   context.Context // cancelled when the run loop wants no more pages
	out   chan<- listed
	state *paging
}

// produce fetches the pages of every listing in turn, one at a time: the
// channel holds one page, so listing runs a page ahead of the run loop. A
// panic (a client's, the logger's, a bug) is sent as the last message.
func (l *lister) produce() {
	defer close(l.out)
	defer func() {
		if v := recover(); v != nil {
			l.out <- listed{panic: recovered("listing", v)}
		}
	}()
	for _, ls := range listings(l.r.set) {
		if l.state.broken[ls.service+" "+ls.String()] {
			continue
		}
		c := l.r.s.Clients[ls.service]
		if c == nil {
			l.stopped(ls, "ClientError", "no client for service "+ls.service, false)
			continue
		}
		if !l.pages(ls, c) {
			if l.r.gate.Err() != nil {
				l.out <- listed{outOfTime: true}
			}
			return
		}
	}
}

// stopping reports whether the lister should fetch no more: the run loop
// wants no more pages, or no call may start any more.
func (l *lister) stopping() bool {
	return l.ctx.Err() != nil || l.r.gate.Err() != nil
}

// pages fetches one listing's pages; false means stop listing altogether.
func (l *lister) pages(ls listing, c Client) bool {
	maxPages := l.r.s.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	filter := ls.filter
	req := tcapi.DescribeTasksRequest{
		Filter:    &filter,
		StartTime: l.r.start.Format(time.RFC3339), EndTime: l.r.listEnd.Format(time.RFC3339),
	}
	var loop pageLoop
	for n := 0; ; n++ {
		if l.stopping() {
			return false
		}
		if n >= maxPages {
			l.stopped(ls, "PageLimit", fmt.Sprintf("stopped after %d pages (the page limit); the next run continues", maxPages), true)
			return true
		}
		seq := l.r.fetches.Add(1)
		resp, err := l.describe(c, ls, req)
		if err != nil {
			if l.stopping() {
				return false // out of time (reported as Truncated), or stopped on purpose
			}
			code, msg := errorCode(err)
			l.stopped(ls, code, "DescribeTasks: "+msg, false)
			return true
		}
		l.state.pages++
		select {
		case l.out <- listed{seq: seq, service: ls.service, tasks: resp.Data}:
		case <-l.ctx.Done():
			return false
		}
		if resp.PageToken == "" {
			return true
		}
		if loop.repeated(maphash.String(l.r.seed, resp.PageToken)) {
			l.stopped(ls, "PageTokenRepeated", fmt.Sprintf("PageToken %q came back after %d pages; listing stopped to avoid a loop", clip(resp.PageToken, 64), n+1), true)
			return true
		}
		req.PageToken = resp.PageToken
	}
}

// stopped sends the error that stopped a listing to the run loop; broken
// keeps the listing out of later passes (its paging cannot be trusted; a
// failed call, by contrast, is tried again in the next pass).
func (l *lister) stopped(ls listing, code, msg string, broken bool) {
	if broken {
		l.state.broken[ls.service+" "+ls.String()] = true
	}
	l.out <- listed{err: &ListError{Service: ls.service, Filter: ls.String(), Code: code, Message: msg}}
}

// describe fetches one page with the run's page size. Tencent documents no
// maximum Limit (default 10): when it rejects the request as a bad parameter
// and the page size is above 10, the page size is halved (down to 10) for the
// rest of the run, and the page asked for again. The report's PageSize is
// the size that was used in the end.
func (l *lister) describe(c taskLister, ls listing, req tcapi.DescribeTasksRequest) (tcapi.DescribeTaskSummariesResponse, error) {
	for {
		size := l.state.pageSize
		req.Limit = size
		resp, err := c.DescribeTaskSummaries(l.ctx, req)
		// Only a first page: on a later one, a bad parameter is more likely
		// the PageToken than the Limit that the first page was served with.
		if err == nil || size <= minPageSize || req.PageToken != "" || !tcapi.HasCode(err, "InvalidParameter", "InvalidParameterValue", "LimitExceeded") {
			return resp, err
		}
		code, msg := errorCode(err)
		l.state.pageSize = max(minPageSize, size/2)
		l.r.log.LogAttrs(l.r.callCtx, slog.LevelWarn, "page size rejected: halving it",
			slog.String("service", ls.service), slog.String("filter", ls.String()), slog.Int("page_size", size),
			slog.Int("next_page_size", l.state.pageSize), slog.String("code", code), slog.String("error", msg))
	}
}

// pageLoop spots a listing whose PageToken comes back, in constant memory
// (a set of every token would grow with the pages of a listing). It keeps the
// last few tokens, which catches a short loop at once, and a checkpoint token
// moved to the current one after 1, 2, 4, 8... pages (Brent's cycle
// detection), which catches a loop of any length within about twice its
// length, long before the page limit.
type pageLoop struct {
	recent [16]uint64 // hashes of the last tokens
	n      int        // tokens seen
	mark   uint64     // checkpoint, valid once n > 0
	power  int        // tokens between checkpoint moves
	since  int        // tokens since the checkpoint moved
}

// repeated records the hash of the next PageToken and reports whether it
// was seen before (among the recent ones, or as the checkpoint).
func (l *pageLoop) repeated(h uint64) bool {
	if slices.Contains(l.recent[:min(l.n, len(l.recent))], h) || (l.n > 0 && h == l.mark) {
		return true
	}
	l.recent[l.n%len(l.recent)] = h
	l.n++
	if l.since++; l.since >= l.power {
		l.mark, l.power, l.since = h, max(1, 2*l.power), 0
	}
	return false
}
