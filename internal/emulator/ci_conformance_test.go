package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"
)

// ciKeysets is testdata/conformance/ci_keysets.json.
type ciKeysets struct {
	Answers map[string]struct {
		Also          []string          `json:"also"`
		NotApplicable map[string]string `json:"not_applicable"`
	} `json:"answers"`
}

// sdkXMLPaths lists the element paths cos-go-sdk-v5 decodes a result type
// from, descending two levels into nested nodes (JobsDetail.PornInfo.Count).
func sdkXMLPaths(t reflect.Type, prefix string, depth int) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "XMLName" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		out = append(out, path)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && depth > 0 {
			out = append(out, sdkXMLPaths(ft, path+".", depth-1)...)
		}
	}
	return out
}

// xmlPaths lists the element paths of an XML document below its root.
func xmlPaths(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("answer is not XML: %v\n%s", err, body)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el.Name.Local)
			if len(stack) > 1 {
				out[strings.Join(stack[1:], ".")] = true
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// notApplicable reports whether path or one of its ancestors is listed.
func notApplicable(list map[string]string, path string) bool {
	for p := path; ; {
		if list[p] != "" {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// bodyRecorder keeps the last response body it carried.
type bodyRecorder struct{ last []byte }

func (b *bodyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b.last, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b.last))
	return resp, err
}

// TestCIAnswersCarryWhatTheSDKDecodes holds each CI answer to the nodes
// cos-go-sdk-v5's result type for it decodes: every one is in the answer or
// listed in testdata as not applying to a live-stream job, with the reason.
func TestCIAnswersCarryWhatTheSDKDecodes(t *testing.T) {
	raw, err := os.ReadFile("testdata/conformance/ci_keysets.json")
	if err != nil {
		t.Fatal(err)
	}
	var sets ciKeysets
	if err := json.Unmarshal(raw, &sets); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{})
	rec := &bodyRecorder{}
	c, _ := e.cosClient(t, DefaultSecretID, DefaultSecretKey, "", rec)
	ctx := context.Background()

	answers := map[string][]byte{}
	created, _, err := c.CI.PutVideoAuditingJob(ctx, &cos.PutVideoAuditingJobOptions{
		Type: "live_video", InputUrl: "rtmp://live.example.com/app/s1", InputDataId: "room-1",
		Conf: &cos.VideoAuditingJobConf{BizType: "biz"},
	})
	if err != nil {
		t.Fatal(err)
	}
	answers["ci.CreateAuditing"] = rec.last
	if _, _, err := c.CI.GetVideoAuditingJob(ctx, created.JobsDetail.JobId); err != nil {
		t.Fatal(err)
	}
	answers["ci.GetAuditing"] = rec.last
	cancelled, _, err := c.CI.PostVideoAuditingCancelJob(ctx, created.JobsDetail.JobId)
	if err != nil {
		t.Fatal(err)
	}
	answers["ci.CancelAuditing"] = rec.last
	if cancelled.JobsDetail.State != LiveCancelled || cancelled.JobsDetail.Url != "rtmp://live.example.com/app/s1" {
		t.Errorf("cancel decoded by the SDK = %+v, want State Cancelled and the stream Url", cancelled.JobsDetail)
	}

	types := map[string]reflect.Type{
		"ci.CreateAuditing": reflect.TypeFor[cos.PutVideoAuditingJobResult](),
		"ci.CancelAuditing": reflect.TypeFor[cos.PutVideoAuditingJobResult](),
		"ci.GetAuditing":    reflect.TypeFor[cos.GetVideoAuditingJobResult](),
	}
	for action, typ := range types {
		t.Run(action, func(t *testing.T) {
			set, ok := sets.Answers[action]
			if !ok {
				t.Fatalf("testdata has no entry for %s", action)
			}
			want := append(sdkXMLPaths(typ, "", 2), set.Also...)
			have := xmlPaths(t, answers[action])
			for _, p := range want {
				if !have[p] && !notApplicable(set.NotApplicable, p) {
					t.Errorf("the answer lacks %s, which cos-go-sdk-v5 decodes\n%s", p, answers[action])
				}
			}
			for p := range set.NotApplicable {
				if !slices.Contains(want, p) {
					t.Errorf("testdata lists %s as not applicable, but cos-go-sdk-v5 does not decode it", p)
				}
			}
		})
	}
	if len(sets.Answers) != len(types) {
		t.Errorf("testdata has %d answers, the test checks %d", len(sets.Answers), len(types))
	}
}
