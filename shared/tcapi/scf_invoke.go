package tcapi

import (
	"context"
	"fmt"
	"strings"
)

// Invocation types of SCF Invoke.
const (
	InvokeSync  = "RequestResponse"
	InvokeAsync = "Event"
)

// MaxAsyncEvent is the largest event an asynchronous Invoke accepts (128 KB,
// SCF's quota page, cloud.tencent.com/document/product/583/11637, and
// tencentcloud-sdk-go scf/v20180416 models.go InvokeRequest.ClientContext).
const MaxAsyncEvent = 128 << 10

// SCFInvoker calls SCF's Invoke action: one function invoking another.
type SCFInvoker struct {
	c *Client
}

// NewSCFInvoker returns an SCF client; opts.Region is the functions' region.
func NewSCFInvoker(cred Credentials, opts Options) (*SCFInvoker, error) {
	c, err := NewClient("scf", SCFVersion, cred, opts)
	if err != nil {
		return nil, err
	}
	return &SCFInvoker{c: c}, nil
}

// Stats returns the client's counters.
func (s *SCFInvoker) Stats() Stats { return s.c.Stats() }

// InvokeRequest are Invoke's parameters (field names from
// tencentcloud-sdk-go tencentcloud/scf/v20180416/models.go): ClientContext is
// the event JSON, InvocationType RequestResponse or Event.
type InvokeRequest struct {
	FunctionName   string
	InvocationType string `json:",omitempty"`
	ClientContext  string `json:",omitempty"`
	Qualifier      string `json:",omitempty"`
	Namespace      string `json:",omitempty"`
}

// InvokeResult is Invoke's Result.
type InvokeResult struct {
	FunctionRequestId string
	Duration          float64
	BillDuration      int64
	MemUsage          int64
	RetMsg            string
	ErrMsg            string
	InvokeResult      int64
}

// InvokeResponse is Invoke's answer.
type InvokeResponse struct {
	Result    InvokeResult
	RequestId string
}

// Invoke invokes a function. An asynchronous invocation is not retried after
// a network error or an InternalError (it may have been queued: a retry could
// run the function twice), only when throttled.
func (s *SCFInvoker) Invoke(ctx context.Context, req InvokeRequest) (InvokeResponse, error) {
	var out InvokeResponse
	if strings.TrimSpace(req.FunctionName) == "" {
		return out, &Error{Service: "scf", Action: "Invoke", Code: "MissingParameter", Message: "empty FunctionName"}
	}
	if req.InvocationType == InvokeAsync && len(req.ClientContext) > MaxAsyncEvent {
		return out, &Error{Service: "scf", Action: "Invoke", Code: "InvalidParameterValue",
			Message: fmt.Sprintf("event of %d bytes: an asynchronous invocation takes at most %d", len(req.ClientContext), MaxAsyncEvent)}
	}
	err := s.c.call(ctx, "Invoke", req, &out, req.InvocationType != InvokeAsync)
	return out, err
}
