package tcapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestAnswerShapes covers how an answer is told apart and decoded: the
// transport decodes a success into the typed response itself and hands the
// SDK only the envelope; anything else is the SDK's to judge.
func TestAnswerShapes(t *testing.T) {
	type page struct {
		Total string
		Data  []struct{ TaskId string }
	}
	const okBody = `{"Response":{"Total":"2","Data":[{"TaskId":"a"},{"TaskId":"b"}],"RequestId":"rid-1"}}`
	tests := []struct {
		name     string
		body     string
		chunked  bool   // no Content-Length
		declared int    // Content-Length to claim instead of the real one (0: the real one)
		wantCode string // "" = success
		wantIn   string // in the error message
		wantRID  string
		wantReqs int
	}{
		{name: "success with Content-Length", body: okBody, wantReqs: 1},
		{name: "success chunked", body: okBody, chunked: true, wantReqs: 1},
		{name: "Tencent error", body: `{"Response":{"Error":{"Code":"ResourceNotFound","Message":"no such task"},"RequestId":"rid-2"}}`,
			wantCode: "ResourceNotFound", wantIn: "no such task", wantRID: "rid-2", wantReqs: 1},
		{name: "pre-3.0 error format", body: `{"code":4100,"message":"signature expired","codeDesc":"AuthFailure.SignatureExpire"}`,
			wantCode: "AuthFailure.SignatureExpire", wantIn: "signature expired", wantReqs: 1},
		{name: "no Response object", body: `{"Result":{"Total":"2"}}`,
			wantCode: CodeInvalidResponse, wantIn: "answer has no Response object", wantReqs: 1},
		{name: "Response of the wrong shape", body: `{"Response":{"Total":"2","Data":"not a list","RequestId":"rid-3"}}`,
			wantCode: CodeInvalidResponse, wantIn: "decode Response", wantRID: "rid-3", wantReqs: 1},
		{name: "body shorter than its Content-Length", body: okBody[:40], declared: len(okBody),
			wantCode: CodeNetworkError, wantIn: "unexpected EOF", wantReqs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case tt.declared > 0:
					// Claim more than is sent, then hang up.
					conn, buf, err := w.(http.Hijacker).Hijack()
					if err != nil {
						t.Errorf("hijack: %v", err)
						return
					}
					defer conn.Close()
					writeHead(buf, tt.declared)
					_, _ = io.WriteString(buf, tt.body)
					_ = buf.Flush()
				case tt.chunked:
					_, _ = io.WriteString(w, tt.body[:10])
					w.(http.Flusher).Flush()
					_, _ = io.WriteString(w, tt.body[10:])
				default:
					w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
					_, _ = io.WriteString(w, tt.body)
				}
			})
			c, err := NewClient("ams", "2020-12-29", testCred, fastOptions(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			var got page
			err = c.Call(context.Background(), "DescribeTasks", nil, &got)
			if srv.count() != tt.wantReqs {
				t.Errorf("server saw %d requests, want %d", srv.count(), tt.wantReqs)
			}
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
				if got.Total != "2" || len(got.Data) != 2 || got.Data[0].TaskId != "a" || got.Data[1].TaskId != "b" {
					t.Errorf("decoded %+v", got)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != tt.wantCode || e.RequestID != tt.wantRID || !strings.Contains(e.Message, tt.wantIn) {
				t.Errorf("Code, RequestID, Message = %q, %q, %q; want %q, %q, containing %q", e.Code, e.RequestID, e.Message, tt.wantCode, tt.wantRID, tt.wantIn)
			}
		})
	}
}

func writeHead(w *bufio.ReadWriter, contentLength int) {
	_, _ = io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(contentLength)+"\r\n\r\n")
}
