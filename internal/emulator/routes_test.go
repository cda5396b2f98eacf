package emulator

import (
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateRoutes = flag.Bool("update-routes", false, "rewrite testdata/routes.golden from the current answers")

// routeCases are requests whose answers are decided by the routing alone:
// unknown paths, wrong methods, trailing slashes and paths that are not
// clean, on each of the three surfaces (API 3.0, CI, /_emulator/). Their
// answers were recorded before the emulator moved to http.ServeMux, so the
// golden file pins each surface's error shape (Tencent JSON, CI XML,
// inspection JSON) and status.
var routeCases = []struct{ method, path, body string }{
	// API 3.0: any other path, any method.
	{"POST", "/", "{}"},
	{"GET", "/", ""},
	{"PUT", "/", "{}"},
	{"DELETE", "/anything/else", ""},
	{"POST", "/video", "{}"},
	{"POST", "/_emulatorx", "{}"},
	{"HEAD", "/", ""},
	{"OPTIONS", "/", ""},
	{"POST", "//", "{}"},
	{"POST", "/a/../b", "{}"},
	// CI.
	{"POST", "/video/auditing", "<Request/>"},
	{"GET", "/video/auditing", ""},
	{"PUT", "/video/auditing", ""},
	{"POST", "/video/auditing/", ""},
	{"GET", "/video/auditing/av1", ""},
	{"GET", "/video/auditing/", ""},
	{"GET", "/video/auditing/a/b", ""},
	{"HEAD", "/video/auditing/av1", ""},
	{"DELETE", "/video/auditing/av1", ""},
	{"POST", "/video/auditing/av1", ""},
	{"POST", "/video/cancel_auditing/av1", ""},
	{"POST", "/video/cancel_auditing/", ""},
	{"GET", "/video/cancel_auditing/av1", ""},
	{"POST", "/video/cancel_auditing", ""},
	{"GET", "/video/", ""},
	{"POST", "/video/other", ""},
	{"GET", "/video/auditingx", ""},
	{"GET", "/video//auditing/av1", ""},
	// Inspection.
	{"GET", "/_emulator/", ""},
	{"GET", "/_emulator", ""},
	{"POST", "/_emulator/", "{}"},
	{"GET", "/_emulator/tasks", ""},
	{"GET", "/_emulator/tasks/", ""},
	{"GET", "/_emulator/tasks?service=x", ""},
	{"GET", "/_emulator/tasks?status=x", ""},
	{"POST", "/_emulator/tasks", "x"},
	{"POST", "/_emulator/tasks/", "[{\"Service\":\"x\"}]"},
	{"DELETE", "/_emulator/tasks", ""},
	{"HEAD", "/_emulator/tasks", ""},
	{"PUT", "/_emulator/live-jobs", "{}"},
	{"POST", "/_emulator/live-jobs", "{\"State\":\"x\"}"},
	{"GET", "/_emulator/live-jobs", ""},
	{"POST", "/_emulator/transcriptions", "{\"Region\":\"x\"}"},
	{"DELETE", "/_emulator/transcriptions", ""},
	{"GET", "/_emulator/stats/reset", ""},
	{"POST", "/_emulator/stats", ""},
	{"PUT", "/_emulator/faults", "{\"ResetRate\":2}"},
	{"POST", "/_emulator/faults", "{}"},
	{"GET", "/_emulator/faults/", ""},
	{"GET", "/_emulator/demo", ""},
	{"GET", "/_emulator/functions", ""},
	{"POST", "/_emulator/functions", ""},
	{"GET", "/_emulator/roles/", ""},
	{"DELETE", "/_emulator/policies", ""},
	{"GET", "/_emulator/fail-next", ""},
	{"POST", "/_emulator/fail-next", "{}"},
	{"GET", "/_emulator/accounts", ""},
	{"POST", "/_emulator/accounts", "{}"},
	{"POST", "/_emulator/role-credentials/", "{\"Service\":\"\"}"},
	{"PUT", "/_emulator/role-credentials", ""},
	{"GET", "/_emulator/notifications", ""},
	{"PATCH", "/_emulator/notifications", ""},
	{"PATCH", "/_emulator/notifications/hook", ""},
	{"GET", "/_emulator/nothing", ""},
	{"POST", "/_emulator/tasks/x", "{}"},
	{"GET", "/_emulator//tasks", ""},
	{"POST", "/_emulator/stats/reset/", ""},
	{"GET", "/_emulator/notifications/x", ""},
	{"DELETE", "/_emulator/notifications/", ""},
	{"OPTIONS", "/_emulator/tasks/", ""},
	{"GET", "/_emulator/tasks/x/", ""},
	{"HEAD", "/_emulator/", ""},
	{"HEAD", "/_emulator/functions", ""},
	{"HEAD", "/_emulator/notifications", ""},
	{"GET", "/_emulator/notifications//x", ""},
	{"PUT", "/_emulator/./faults", "{}"},
	{"GET", "/video/auditing/a//b", ""},
	{"POST", "/video/cancel_auditing/./x", ""},
	{"PUT", "/video/auditing/a/../b", ""},
	{"GET", "/video/auditing/a%2Fb", ""},
	{"HEAD", "/video/auditing", ""},
	{"HEAD", "/video/x", ""},
	{"GET", "/_emulator/faults?x=1", ""},
	{"POST", "/video/./x", ""},
	{"DELETE", "//x/../", ""},
}

var reRequestID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestRoutesKeepTheirAnswers compares each routing case's status, headers
// and body (request ids masked) with testdata/routes.golden; run with
// -update-routes to record them again.
func TestRoutesKeepTheirAnswers(t *testing.T) {
	var got strings.Builder
	for _, c := range routeCases {
		srv := New(Options{})
		req := httptest.NewRequest(c.method, "http://127.0.0.1:9100"+c.path, strings.NewReader(c.body))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		res := rec.Result()
		fmt.Fprintf(&got, "### %s %s\n%d ct=%q allow=%q location=%q\n%s\n", c.method, c.path, res.StatusCode,
			res.Header.Get("Content-Type"), res.Header.Get("Allow"), res.Header.Get("Location"),
			strings.TrimSpace(reRequestID.ReplaceAllString(rec.Body.String(), "<id>")))
	}
	path := filepath.Join("testdata", "routes.golden")
	if *updateRoutes {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gotCases, wantCases := strings.Split(got.String(), "### "), strings.Split(string(want), "### ")
	if len(gotCases) != len(wantCases) {
		t.Fatalf("%d cases, golden has %d: run with -update-routes after adding cases", len(gotCases), len(wantCases))
	}
	for i := range gotCases {
		if gotCases[i] != wantCases[i] {
			t.Errorf("answer changed:\ngot:  %s\nwant: %s", gotCases[i], wantCases[i])
		}
	}
}
