package tcapi

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi/cossign"
)

// upstreamSeeds are answers a server has sent or might send: Tencent's
// shapes, and the ones issue 11 lists as not a success.
var upstreamSeeds = []string{
	`null`, `{}`, `[]`, `""`, `0`, `{"Response":null}`, `{"Response":{}}`, `{"Response":[]}`, `{"Response":"x"}`,
	`{"Response":{"RequestId":"r"}}`, `{"Response":{"RequestId":""}}`, `{"Response":{"RequestId":7}}`,
	`{"Response":{"Error":null,"RequestId":"r"}}`, `{"Response":{"Error":{},"RequestId":"r"}}`,
	`{"Response":{"Error":{"Code":"FailedOperation","Message":"m"},"RequestId":"r"}}`,
	`{"Response":{"Total":"3","Data":[{"TaskId":"a","Status":"RUNNING"}],"PageToken":"p","RequestId":"r"}}`,
	`{"Response":{"Total":3,"Data":null,"RequestId":"r"}}`, `{"Response":{"Total":"x","Data":"no","RequestId":"r"}}`,
	`{"Response":{"TaskId":"t-1","Status":"Exited","StartTime":1,"RequestId":"r"}}`,
	`{"Response":{"TaskId":"other","Status":"FINISH","RequestId":"r"}}`,
	`{"code":4100,"message":"m","codeDesc":"AuthFailure"}`, `{"code":"x"}`, `<html>502</html>`, "\xff\xfe", ``,
}

// answerServer answers every request with HTTP 200, contentType and the
// body last stored in body.
func answerServer(f *testing.F, contentType string) (srv *httptest.Server, body *atomic.Value) {
	body = new(atomic.Value)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body.Load().([]byte))
	}))
	f.Cleanup(srv.Close)
	return srv, body
}

// FuzzAPI3Answer serves arbitrary bodies with HTTP 200 to every API 3.0 call:
// none may panic, and a call succeeds only on a Tencent success (a Response
// object with a RequestId and no Error), which it returns with that
// RequestId.
func FuzzAPI3Answer(f *testing.F) {
	for _, s := range upstreamSeeds {
		f.Add([]byte(s))
	}
	srv, body := answerServer(f, "application/json")
	opts := Options{Endpoint: srv.URL, Region: "ap-guangzhou", Limiters: NewLimiters(1e6, 1000), MaxAttempts: 1, Timeout: 5 * time.Second}
	m, err := NewModeration("ams", testCred, opts)
	if err != nil {
		f.Fatal(err)
	}
	tr, err := NewTRTC(testCred, opts)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(b)
		ctx := context.Background()
		var head struct {
			Response *struct {
				Error     json.RawMessage
				RequestId string
			}
		}
		success := json.Unmarshal(b, &head) == nil && head.Response != nil && head.Response.RequestId != "" &&
			(len(head.Response.Error) == 0 || string(head.Response.Error) == "null")
		check := func(call string, rid string, err error) {
			t.Helper()
			if err == nil && !success {
				t.Fatalf("%s succeeded on %q", call, b)
			}
			if err == nil && rid != head.Response.RequestId {
				t.Fatalf("%s: RequestId %q, want %q", call, rid, head.Response.RequestId)
			}
			if err != nil {
				if e, ok := err.(*Error); !ok || e.Code == "" {
					t.Fatalf("%s: error %T %v, want *Error with a Code", call, err, err)
				}
			}
		}
		c, err := m.CancelTask(ctx, "t-1")
		check("CancelTask", c.RequestId, err)
		p, err := m.DescribeTaskSummaries(ctx, DescribeTasksRequest{})
		check("DescribeTaskSummaries", p.RequestId, err)
		d, err := m.DescribeTaskDetail(ctx, "t-1")
		check("DescribeTaskDetail", d.RequestId, err)
		if err == nil && d.TaskId != "" && d.TaskId != "t-1" {
			t.Fatalf("DescribeTaskDetail answered for %q", d.TaskId)
		}
		del, err := tr.DeleteCloudTranscription(ctx, 1400000000, "t-1")
		check("DeleteCloudTranscription", del.RequestId, err)
		ds, err := tr.DescribeCloudTranscription(ctx, 1400000000, "t-1")
		check("DescribeCloudTranscription", ds.RequestId, err)
	})
}

// FuzzCIAnswer serves arbitrary bodies with HTTP 200 to the CI calls: none
// may panic, and a cancel or query succeeds only when the answer is about
// the job asked for.
func FuzzCIAnswer(f *testing.F) {
	for _, s := range []string{`<Response/>`, `<Response></Response>`, `<Error><Code>X</Code></Error>`,
		`<Response><JobsDetail><JobId>av1</JobId><State>Auditing</State></JobsDetail><RequestId>r</RequestId></Response>`,
		`<Response><JobsDetail><JobId>av2</JobId></JobsDetail></Response>`,
		`<Response><JobsDetail><DataId>d</DataID></JobsDetail></Response>`, `null`, `{}`, ``, `<html/>`} {
		f.Add([]byte(s))
	}
	srv, body := answerServer(f, "application/xml")
	c, err := NewCI(testCred, CIOptions{Endpoint: srv.URL, Limiters: NewLimiters(1e6, 1000), MaxAttempts: 1, Signer: cossign.Transport})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(b)
		var a struct {
			XMLName    xml.Name `xml:"Response"`
			JobsDetail struct{ JobId string }
		}
		about := xml.Unmarshal(b, &a) == nil && strings.TrimSpace(a.JobsDetail.JobId) == "av1"
		resp, err := c.CancelLiveAudit(context.Background(), "av1")
		if err == nil && (!about || resp.JobsDetail.JobId != "av1") {
			t.Fatalf("cancel succeeded on %q", b)
		}
		job, err := c.GetLiveAudit(context.Background(), "av1")
		if err == nil && (!about || job.JobId != "av1") {
			t.Fatalf("query succeeded on %q", b)
		}
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code == "" {
				t.Fatalf("error %T %v, want *Error with a Code", err, err)
			}
		}
	})
}
