package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// An in-process emulator called through the official SDK: a stale RUNNING
// task is listed and cancelled.
func Example() {
	now := time.Now()
	srv := emulator.New(emulator.Options{Now: func() time.Time { return now }})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	srv.AddTask(emulator.Task{TaskId: "at-1", Type: "AUDIO", Status: "RUNNING", Stuck: true, CreatedAt: now.Add(-3 * time.Hour)})

	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(ts.URL, "http://")
	prof.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(common.NewCredential(emulator.DefaultSecretID, emulator.DefaultSecretKey), "", prof)

	req := tchttp.NewCommonRequest("ams", "2020-12-29", "DescribeTasks")
	_ = req.SetActionParameters(`{"Filter":{"TaskStatus":"RUNNING"}}`)
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		fmt.Println(err)
		return
	}
	var out struct {
		Response struct {
			Total string
			Data  []struct{ TaskId, Status string }
		}
	}
	_ = json.Unmarshal(resp.GetBody(), &out)
	fmt.Println(out.Response.Total, out.Response.Data[0].TaskId, out.Response.Data[0].Status)

	cancel := tchttp.NewCommonRequest("ams", "2020-12-29", "CancelTask")
	_ = cancel.SetActionParameters(`{"TaskId":"at-1"}`)
	if err := client.Send(cancel, tchttp.NewCommonResponse()); err != nil {
		fmt.Println(err)
		return
	}
	t, _ := srv.Task("ams", "at-1")
	fmt.Println(t.Status)
	// Output:
	// 1 at-1 RUNNING
	// CANCELLED
}
