package cancel

import (
	"context"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// TaskRequest is the request of cancel-task.
type TaskRequest struct {
	TaskId  string
	Service string // "ams" (default) or "vm"
}

// TaskResult is the answer of cancel-task: Tencent's RequestId means the
// task was cancelled.
type TaskResult struct {
	TaskId    string
	Service   string
	RequestId string
}

// NewCancelTask returns the cancel-task handler: it cancels an AMS (audio) or
// VM (video) moderation task with CancelTask.
func NewCancelTask(opts Options) *Handler {
	return newHandler(FunctionCancelTask, taskJob{}, opts)
}

type taskJob struct{}

const taskExample = `{"TaskId":"task-audio-XwxJ4fFCEWT8Bf4g","Service":"ams"}`

var taskFields = []string{"TaskId", "Service"}

func (taskJob) example() string { return taskExample }

// ParseTaskRequest parses and validates a cancel-task request body. A non-nil
// error is an *Error with status 400.
func ParseTaskRequest(body []byte) (TaskRequest, error) {
	return withError(parseTaskRequest(body))
}

func parseTaskRequest(body []byte) (TaskRequest, *Error) {
	var w struct {
		TaskId  *string
		Service *string
	}
	if e := decodeObject(body, &w, taskFields, taskExample); e != nil {
		return TaskRequest{}, e
	}
	id, e := moderationTaskID.check(w.TaskId, "send the id of the moderation task to cancel, such as "+taskExample)
	if e != nil {
		return TaskRequest{}, e
	}
	service := strings.ToLower(strings.TrimSpace(optString(w.Service)))
	switch service {
	case "":
		service = "ams"
	case "ams", "vm":
	default:
		return TaskRequest{}, badRequest(CodeInvalidParameterValue,
			"Service %q is not supported: use ams for audio moderation tasks or vm for video moderation tasks", oneLine(optString(w.Service), 32))
	}
	return TaskRequest{TaskId: id, Service: service}, nil
}

func (taskJob) prepare(body []byte, _ func(string) string) (*prepared, *Error) {
	req, e := parseTaskRequest(body)
	if e != nil {
		return nil, e
	}
	t := target{what: "task", id: req.TaskId, where: req.Service, fields: "TaskId and Service",
		permission: req.Service + ":CancelTask and " + req.Service + ":DescribeTaskDetail"}
	return &prepared{
		id:     req.TaskId,
		target: t,
		send: func(ctx context.Context, c clients, cred tcapi.Credentials, env sendEnv) (any, string, int64, error) {
			endpoint := env.base.AMSEndpoint
			if req.Service == "vm" {
				endpoint = env.base.VMEndpoint
			}
			m, err := c.moderation(req.Service, cred, env.options(env.base.Region, endpoint))
			if err != nil {
				return nil, "", 0, configError("%s client: %v", req.Service, err)
			}
			resp, err := m.CancelTask(ctx, req.TaskId)
			if err != nil {
				n := attemptsOf(m, err)
				if worthLookingUp(ctx, err) {
					d, lerr := m.DescribeTaskDetail(ctx, req.TaskId)
					if s, ok := lookupState(d.Status, d.Ended(), moderationRunning(d.Status), d.RequestId, lerr); ok {
						if e := fromState(err, s, t, CodeTaskEnded); e != nil {
							return nil, "", n, e
						}
					}
				}
				return nil, "", n, err
			}
			return TaskResult{TaskId: req.TaskId, Service: req.Service, RequestId: resp.RequestId}, resp.RequestId, attemptsOf(m, nil), nil
		},
	}, nil
}
