package cancel

import (
	"context"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// The narrow views of tcapi this package uses; tests substitute fakes. Each
// has the cancel and the lookup of the job's state that follows a cancel
// Tencent refused for a reason the code cannot tell (see worthLookingUp).
type (
	taskCanceler interface {
		CancelTask(ctx context.Context, taskID string) (tcapi.CancelTaskResponse, error)
		DescribeTaskDetail(ctx context.Context, taskID string) (tcapi.TaskDetail, error)
	}
	liveAuditCanceler interface {
		CancelLiveAudit(ctx context.Context, jobID string) (tcapi.CancelLiveAuditResponse, error)
		GetLiveAudit(ctx context.Context, jobID string) (tcapi.LiveAuditJob, error)
	}
	transcriptionStopper interface {
		DeleteCloudTranscription(ctx context.Context, sdkAppID uint64, taskID string) (tcapi.DeleteCloudTranscriptionResponse, error)
		DescribeCloudTranscription(ctx context.Context, sdkAppID uint64, taskID string) (tcapi.DescribeCloudTranscriptionResponse, error)
	}
	statser interface{ Stats() tcapi.Stats }
)

// clients builds the per-invocation clients from that invocation's
// credentials.
type clients struct {
	moderation func(service string, cred tcapi.Credentials, o tcapi.Options) (taskCanceler, error)
	ci         func(cred tcapi.Credentials, o tcapi.CIOptions) (liveAuditCanceler, error)
	trtc       func(cred tcapi.Credentials, o tcapi.Options) (transcriptionStopper, error)
}

func tencentClients() clients {
	return clients{
		moderation: func(service string, cred tcapi.Credentials, o tcapi.Options) (taskCanceler, error) {
			m, err := tcapi.NewModeration(service, cred, o)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		ci: func(cred tcapi.Credentials, o tcapi.CIOptions) (liveAuditCanceler, error) {
			c, err := tcapi.NewCI(cred, o)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		trtc: func(cred tcapi.Credentials, o tcapi.Options) (transcriptionStopper, error) {
			t, err := tcapi.NewTRTC(cred, o)
			if err != nil {
				return nil, err
			}
			return t, nil
		},
	}
}

// attemptsOf returns how many requests a call made: from its error, or from
// the client's counters.
func attemptsOf(client any, err error) int64 {
	if te, ok := err.(*tcapi.Error); ok && te.Attempts > 0 {
		return int64(te.Attempts)
	}
	if s, ok := client.(statser); ok {
		return s.Stats().Attempts
	}
	return 0
}
