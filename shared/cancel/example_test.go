package cancel_test

import (
	"fmt"

	"github.com/scf-janitor/scf-janitor/shared/cancel"
)

func ExampleParseTaskRequest() {
	req, err := cancel.ParseTaskRequest([]byte(`{"TaskId":"task-audio-XwxJ4fFCEWT8Bf4g"}`))
	fmt.Println(req.TaskId, req.Service, err)

	_, err = cancel.ParseTaskRequest([]byte(`{"TaskId":"task-audio-x","Service":"cos"}`))
	fmt.Println(err)
	// Output:
	// task-audio-XwxJ4fFCEWT8Bf4g ams <nil>
	// InvalidParameterValue: Service "cos" is not supported: use ams for audio moderation tasks or vm for video moderation tasks
}

func ExampleParseTranscriptionRequest() {
	getenv := func(key string) string {
		return map[string]string{"JANITOR_TRTC_SDKAPPID": "1400000000", "TENCENTCLOUD_REGION": "ap-chengdu"}[key]
	}
	_, err := cancel.ParseTranscriptionRequest([]byte(`{"TaskId":"abc"}`), getenv)
	fmt.Println(err)
	req, err := cancel.ParseTranscriptionRequest([]byte(`{"TaskId":"abc","Region":"ap-singapore"}`), getenv)
	fmt.Println(req.TaskId, req.SdkAppId, req.Region, err)
	// Output:
	// MissingParameter: Region is required: the function's region (TENCENTCLOUD_REGION) does not serve cloud transcription; send one of ap-beijing, ap-guangzhou, ap-hongkong, ap-shanghai, ap-singapore, or set JANITOR_TRTC_REGION
	// abc 1400000000 ap-singapore <nil>
}
