package tcapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// A stand-in for ams.tencentcloudapi.com: task "done" has already ended.
func fakeAMS() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body, _ := io.ReadAll(r.Body)
		if string(body) == `{"TaskId":"done"}` {
			fmt.Fprint(w, `{"Response":{"Error":{"Code":"FailedOperation.TaskEnded","Message":"task already ended"},"RequestId":"req-2"}}`)
			return
		}
		fmt.Fprint(w, `{"Response":{"RequestId":"req-1"}}`)
	}))
}

func ExampleModeration_CancelTask() {
	srv := fakeAMS()
	defer srv.Close()

	// Build the limiters once per process; build clients per invocation with
	// that invocation's credentials.
	limiters := tcapi.NewLimiters(tcapi.DefaultRate, 1)
	cred := tcapi.Credentials{SecretID: "AKIDEXAMPLE", SecretKey: "example-key", Token: "example-token"}
	ams, err := tcapi.NewModeration("ams", cred, tcapi.Options{Endpoint: srv.URL, Limiters: limiters})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	resp, err := ams.CancelTask(ctx, "task-1")
	fmt.Println(resp.RequestId, err)

	_, err = ams.CancelTask(ctx, "done")
	var apiErr *tcapi.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, apiErr.Retryable, tcapi.HasCode(err, "FailedOperation"))
	}
	fmt.Println(err)
	fmt.Println(cred)
	// Output:
	// req-1 <nil>
	// FailedOperation.TaskEnded false true
	// ams CancelTask: FailedOperation.TaskEnded: task already ended (RequestId req-2)
	// tcapi.Credentials{SecretID: AKIDEXAMPLE, SecretKey: [redacted], Token: [redacted]}
}
