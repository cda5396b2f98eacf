package tcapi

import (
	"context"
	"net/http"
	"testing"
)

var createReq = CreateCloudTranscriptionRequest{
	SdkAppId: 1400000001, RoomId: "room_1", RoomIdType: 1,
	TranscriptionParam: TranscriptionParam{UserId: "bot", UserSig: "sig", MaxIdleTime: 60},
}

// TestCreateIsNotRetriedAfterAmbiguousFailures: after a network error, an
// InternalError or a 502 the first create may have succeeded, so a retry
// could start a second transcription (or live audit); only a request the
// server refused unprocessed (RequestLimitExceeded / 429) is sent again.
func TestCreateIsNotRetriedAfterAmbiguousFailures(t *testing.T) {
	tests := []struct {
		name         string
		fail         func(t *testing.T, w http.ResponseWriter)
		wantCode     string
		wantAttempts int
	}{
		{"InternalError", func(t *testing.T, w http.ResponseWriter) { writeErr(w, 200, "InternalError", "x", "r") }, "InternalError", 1},
		{"502 HTML", func(t *testing.T, w http.ResponseWriter) { writeBadGateway(w) }, CodeBadGateway, 1},
		{"connection reset", func(t *testing.T, w http.ResponseWriter) { resetConn(t, w) }, CodeNetworkError, 1},
		{"RequestLimitExceeded", func(t *testing.T, w http.ResponseWriter) { writeErr(w, 200, "RequestLimitExceeded", "slow", "r") }, "", 2},
	}
	for _, tt := range tests {
		t.Run("trtc "+tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
				if n == 1 {
					tt.fail(t, w)
					return
				}
				writeOK(w, "req-create", map[string]any{"TaskId": "tr-new"})
			})
			tr := newTestTRTC(t, srv.URL)
			_, err := tr.CreateCloudTranscription(context.Background(), createReq)
			checkCreate(t, err, tt.wantCode, tt.wantAttempts, len(srv.requests()))
		})
		t.Run("ci "+tt.name, func(t *testing.T) {
			srv := newStubServer(t, func(n int, w http.ResponseWriter, r recorded) {
				if n == 1 {
					if tt.name == "RequestLimitExceeded" {
						writeCIError(w, 429, "RequestLimitExceeded", "slow down", "r1")
					} else if tt.name == "InternalError" {
						writeCIError(w, 500, "InternalError", "down", "r1")
					} else {
						tt.fail(t, w)
					}
					return
				}
				writeXMLBody(w, 200, `<Response><JobsDetail><DataId>d</DataId><JobId>av1</JobId><State>Submitted</State></JobsDetail><RequestId>ok</RequestId></Response>`)
			})
			c := newTestCI(t, srv.URL)
			_, err := c.CreateLiveAudit(context.Background(), CreateLiveAuditRequest{Url: "rtmp://example.com/live/s"})
			checkCreate(t, err, tt.wantCode, tt.wantAttempts, len(srv.requests()))
		})
	}
	t.Run("idempotent calls still retry", func(t *testing.T) {
		srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
			if n == 1 {
				writeErr(w, 200, "InternalError", "x", "r")
				return
			}
			writeOK(w, "req-del", map[string]any{"TaskId": "tr-1"})
		})
		tr := newTestTRTC(t, srv.URL)
		if _, err := tr.DeleteCloudTranscription(context.Background(), 1400000001, "tr-1"); err != nil {
			t.Fatalf("DeleteCloudTranscription: %v", err)
		}
		if got := len(srv.requests()); got != 2 {
			t.Errorf("server saw %d requests, want 2", got)
		}
	})
}

func checkCreate(t *testing.T, err error, wantCode string, wantAttempts, sent int) {
	t.Helper()
	if wantCode == "" {
		if err != nil {
			t.Fatalf("create: %v", err)
		}
	} else if !HasCode(err, wantCode) {
		t.Fatalf("create error = %v, want code %s", err, wantCode)
	}
	if sent != wantAttempts {
		t.Errorf("server saw %d create requests, want %d", sent, wantAttempts)
	}
}
