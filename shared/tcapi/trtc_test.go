package tcapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func newTestTRTC(t *testing.T, endpoint string) *TRTC {
	t.Helper()
	tr, err := NewTRTC(testCred, fastOptions(endpoint))
	if err != nil {
		t.Fatalf("NewTRTC: %v", err)
	}
	return tr
}

func TestTRTCRegionRequired(t *testing.T) {
	tests := []struct{ region, wantErr string }{
		{"", "trtc needs a region"},
		{"ap-chengdu", `trtc region "ap-chengdu"`},
		{"AP-GUANGZHOU", `trtc region "AP-GUANGZHOU"`},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			_, err := NewTRTC(testCred, Options{Region: tt.region, Endpoint: "http://127.0.0.1:1"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "ap-beijing, ap-guangzhou, ap-hongkong, ap-shanghai, ap-singapore") {
				t.Errorf("err = %v, want one containing %q and the supported regions", err, tt.wantErr)
			}
		})
	}
	// The union of the Chinese and the international docs.
	for _, r := range []string{"ap-beijing", "ap-guangzhou", "ap-hongkong", "ap-shanghai", "ap-singapore"} {
		tr, err := NewTRTC(testCred, Options{Region: r})
		if err != nil || tr.Region() != r {
			t.Errorf("region %s: %v", r, err)
		}
	}
}

func TestDeleteCloudTranscription(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
		writeOK(w, "req-del", map[string]any{"TaskId": "tr-1"})
	})
	tr := newTestTRTC(t, srv.URL)
	got, err := tr.DeleteCloudTranscription(context.Background(), 1400000000, "tr-1")
	if err != nil {
		t.Fatal(err)
	}
	if got != (DeleteCloudTranscriptionResponse{TaskId: "tr-1", RequestId: "req-del"}) {
		t.Errorf("answer = %+v", got)
	}
	r := srv.requests()[0]
	checkSigned(t, r, "trtc", "2019-07-22", "DeleteCloudTranscription", "ap-guangzhou")
	if string(r.Body) != `{"SdkAppId":1400000000,"TaskId":"tr-1"}` {
		t.Errorf("body = %s", r.Body)
	}
}

// A uint64 SdkAppId must reach the server digit for digit, although the SDK's
// CommonRequest keeps parameters in a map[string]interface{}.
func TestSdkAppIdPrecision(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
		writeRaw(w, `{"StartTime":1732245600123,"Status":"InProgress","TaskId":"tr-9","RequestId":"r"}`)
	})
	tr := newTestTRTC(t, srv.URL)
	const big = uint64(18446744073709551557) // > 2^53: float64 would round it
	got, err := tr.DescribeCloudTranscription(context.Background(), big, "tr-9")
	if err != nil {
		t.Fatal(err)
	}
	if body := string(srv.requests()[0].Body); body != `{"SdkAppId":18446744073709551557,"TaskId":"tr-9"}` {
		t.Errorf("body = %s, want the exact SdkAppId", body)
	}
	want := DescribeCloudTranscriptionResponse{StartTime: 1732245600123, Status: "InProgress", TaskId: "tr-9", RequestId: "r"}
	if got != want {
		t.Errorf("answer = %+v, want %+v", got, want)
	}
	if s := got.Started(); !s.Equal(time.UnixMilli(1732245600123)) {
		t.Errorf("Started() = %v", s)
	}
	checkSigned(t, srv.requests()[0], "trtc", "2019-07-22", "DescribeCloudTranscription", "ap-guangzhou")
}

func TestCreateCloudTranscription(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
		writeOK(w, "req-create", map[string]any{"TaskId": "tr-new"})
	})
	tr := newTestTRTC(t, srv.URL)
	got, err := tr.CreateCloudTranscription(context.Background(), CreateCloudTranscriptionRequest{
		SdkAppId: 1400000001, RoomId: "room_1", RoomIdType: 1,
		TranscriptionParam: TranscriptionParam{UserId: "bot", UserSig: "sig", MaxIdleTime: 60},
		AsrParam:           map[string]any{"Language": "en"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.TaskId != "tr-new" || got.RequestId != "req-create" {
		t.Errorf("answer = %+v", got)
	}
	r := srv.requests()[0]
	checkSigned(t, r, "trtc", "2019-07-22", "CreateCloudTranscription", "ap-guangzhou")
	want := `{"AsrParam":{"Language":"en"},"RoomId":"room_1","RoomIdType":1,"SdkAppId":1400000001,"TranscriptionParam":{"MaxIdleTime":60,"UserId":"bot","UserSig":"sig"}}`
	if string(r.Body) != want {
		t.Errorf("body = %s\nwant   %s", r.Body, want)
	}
}

func TestTRTCErrorsAndValidation(t *testing.T) {
	srv := newAPIServer(t, func(n int, w http.ResponseWriter, r recorded) {
		writeErr(w, 200, "ResourceNotFound", "task not exist", "rid-404")
	})
	tr := newTestTRTC(t, srv.URL)
	_, err := tr.DeleteCloudTranscription(context.Background(), 1400000000, "gone")
	if !HasCode(err, "ResourceNotFound") || err.Error() != "trtc DeleteCloudTranscription: ResourceNotFound: task not exist (RequestId rid-404)" {
		t.Errorf("err = %v", err)
	}
	if srv.count() != 1 {
		t.Errorf("server saw %d requests, want 1 (ResourceNotFound is final)", srv.count())
	}
	bad := []func() error{
		func() error { _, err := tr.DeleteCloudTranscription(context.Background(), 0, "x"); return err },
		func() error { _, err := tr.DescribeCloudTranscription(context.Background(), 1, ""); return err },
		func() error {
			_, err := tr.CreateCloudTranscription(context.Background(), CreateCloudTranscriptionRequest{SdkAppId: 1, RoomId: "r", RoomIdType: 2})
			return err
		},
		func() error {
			_, err := tr.CreateCloudTranscription(context.Background(), CreateCloudTranscriptionRequest{SdkAppId: 1, RoomId: "r"})
			return err
		},
	}
	for i, f := range bad {
		if err := f(); !HasCode(err, "MissingParameter", "InvalidParameter") {
			t.Errorf("case %d: err = %v, want MissingParameter/InvalidParameter", i, err)
		}
	}
	if srv.count() != 1 {
		t.Errorf("invalid input reached the server (%d requests)", srv.count())
	}
}
