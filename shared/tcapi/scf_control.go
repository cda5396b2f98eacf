package tcapi

import (
	"context"
	"fmt"
)

// SCFVersion is the API version of SCF (Serverless Cloud Function).
const SCFVersion = "2018-04-16"

// SCFControl calls SCF's control plane: functions and triggers. Request and
// response field names are those of tencentcloud-sdk-go
// tencentcloud/scf/v20180416/models.go (the *RequestParams and
// *ResponseParams structs of each action); only the fields scf-deploy uses
// are declared. SCF is regional: Options.Region is required.
type SCFControl struct {
	c *Client
}

// NewSCFControl returns an SCF client for opts.Region.
func NewSCFControl(cred Credentials, opts Options) (*SCFControl, error) {
	if opts.Region == "" {
		return nil, fmt.Errorf("tcapi: scf: a region is required (such as ap-guangzhou)")
	}
	c, err := NewClient("scf", SCFVersion, cred, opts)
	if err != nil {
		return nil, err
	}
	return &SCFControl{c: c}, nil
}

// Stats returns the client's counters.
func (s *SCFControl) Stats() Stats { return s.c.Stats() }

// Variable is one environment variable; neither Key nor Value may be empty.
type Variable struct{ Key, Value string }

// Environment is a function's environment variables.
type Environment struct {
	Variables []Variable
}

// Tag is a resource tag.
type Tag struct{ Key, Value string }

// Code is a function's code package: the base64 of a zip (at most 50 MB).
type Code struct {
	ZipFile string `json:",omitempty"`
}

// CreateFunctionRequest creates a function (CreateFunctionRequestParams).
type CreateFunctionRequest struct {
	FunctionName string
	Code         *Code
	Handler      string       `json:",omitempty"`
	Description  string       `json:",omitempty"`
	MemorySize   int64        `json:",omitempty"`
	Timeout      int64        `json:",omitempty"`
	Environment  *Environment `json:",omitempty"`
	Runtime      string       `json:",omitempty"`
	Namespace    string       `json:",omitempty"`
	Role         string       `json:",omitempty"`
	CodeSource   string       `json:",omitempty"` // ZipFile, Cos, Demo
	Type         string       `json:",omitempty"` // Event (default) or HTTP
	Tags         []Tag        `json:",omitempty"`
}

// FunctionRef names a function (GetFunction, GetFunctionAddress, DeleteFunction).
type FunctionRef struct {
	FunctionName string
	Namespace    string `json:",omitempty"`
	Qualifier    string `json:",omitempty"`
}

// StatusReason explains a failed status.
type StatusReason struct{ ErrorCode, ErrorMessage string }

// GetFunctionResponse is a function's configuration and status
// (GetFunctionResponseParams). Status is Creating, Updating, Active,
// CreateFailed, UpdateFailed, ...
type GetFunctionResponse struct {
	FunctionName, FunctionId, Namespace, Runtime, Handler, Description, Role string
	MemorySize, Timeout, CodeSize                                            int64
	Environment                                                              Environment
	Tags                                                                     []Tag
	Status, StatusDesc                                                       string
	StatusReasons                                                            []StatusReason
	ModTime, AddTime                                                         string
	RequestId                                                                string
}

// GetFunctionAddressResponse is GetFunctionAddressResponseParams: the code
// package's download address and its SHA-256.
type GetFunctionAddressResponse struct {
	Url, CodeSha256, RequestId string
}

// UpdateFunctionCodeRequest replaces a function's code
// (UpdateFunctionCodeRequestParams; ZipFile at most 20 MB).
type UpdateFunctionCodeRequest struct {
	FunctionName string
	Handler      string `json:",omitempty"`
	ZipFile      string `json:",omitempty"`
	Namespace    string `json:",omitempty"`
	CodeSource   string `json:",omitempty"`
}

// UpdateFunctionConfigurationRequest changes a function's settings
// (UpdateFunctionConfigurationRequestParams). Nil/zero fields are left as
// they are; Environment, when set, replaces all variables.
type UpdateFunctionConfigurationRequest struct {
	FunctionName string
	Description  *string      `json:",omitempty"`
	MemorySize   int64        `json:",omitempty"`
	Timeout      int64        `json:",omitempty"`
	Environment  *Environment `json:",omitempty"`
	Namespace    string       `json:",omitempty"`
	Role         *string      `json:",omitempty"`
}

// ListTriggersRequest lists a function's triggers (ListTriggersRequestParams).
type ListTriggersRequest struct {
	FunctionName string
	Namespace    string `json:",omitempty"`
	Offset       uint64 `json:",omitempty"`
	Limit        uint64 `json:",omitempty"` // default 20
}

// TriggerInfo is one trigger (TriggerInfo). Enable is 1 or 0. TriggerDesc is
// the type's JSON configuration: a timer's is {"cron":"..."}, a Function
// URL's {"AuthType":..,"NetConfig":{"EnableIntranet":..,"IntranetUrl":..,
// "ExtranetUrl":..,...}} (tccli scf/v20180416/examples.json, ListTriggers).
type TriggerInfo struct {
	Enable                                                                     uint64
	Qualifier, TriggerName, Type, TriggerDesc, AvailableStatus, CustomArgument string
	AddTime, ModTime, Description                                              string
	ResourceId, BindStatus, TriggerAttribute                                   string
}

// ListTriggersResponse is ListTriggersResponseParams.
type ListTriggersResponse struct {
	TotalCount uint64
	Triggers   []TriggerInfo
	RequestId  string
}

// CreateTriggerRequest creates a trigger (CreateTriggerRequestParams). Type
// timer: TriggerDesc is the cron expression, CustomArgument the event's
// Message. Type http (Function URL): TriggerDesc is
// {"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}.
type CreateTriggerRequest struct {
	FunctionName   string
	TriggerName    string
	Type           string
	TriggerDesc    string `json:",omitempty"`
	Namespace      string `json:",omitempty"`
	Qualifier      string `json:",omitempty"`
	Enable         string `json:",omitempty"` // OPEN or CLOSE
	CustomArgument string `json:",omitempty"`
	Description    string `json:",omitempty"`
}

// Trigger is the TriggerInfo of CreateTrigger's answer (Trigger).
type Trigger struct {
	ModTime, Type, TriggerDesc, TriggerName, AddTime string
	Enable                                           int64
	CustomArgument, AvailableStatus, Qualifier       string
	Description, ResourceId, BindStatus              string
	TriggerAttribute                                 string
}

// UpdateTriggerRequest changes a timer, ckafka or http trigger in place
// (UpdateTriggerRequestParams): a Function URL keeps its name and address.
// A timer's TriggerDesc is the cron expression, as for CreateTrigger.
// CustomArgument is a pointer so that an empty argument is sent (clearing
// it) rather than left out.
type UpdateTriggerRequest struct {
	FunctionName   string
	TriggerName    string
	Type           string
	Enable         string  `json:",omitempty"` // OPEN or CLOSE
	Qualifier      string  `json:",omitempty"`
	Namespace      string  `json:",omitempty"`
	TriggerDesc    string  `json:",omitempty"`
	Description    string  `json:",omitempty"`
	CustomArgument *string `json:",omitempty"`
}

// CreateTriggerResponse is CreateTriggerResponseParams.
type CreateTriggerResponse struct {
	TriggerInfo Trigger
	RequestId   string
}

// DeleteTriggerRequest deletes a trigger (DeleteTriggerRequestParams).
type DeleteTriggerRequest struct {
	FunctionName string
	TriggerName  string
	Type         string
	Namespace    string `json:",omitempty"`
	TriggerDesc  string `json:",omitempty"`
	Qualifier    string `json:",omitempty"`
}

// GetFunction returns a function's configuration and status.
func (s *SCFControl) GetFunction(ctx context.Context, req FunctionRef) (GetFunctionResponse, error) {
	return callAnswer[GetFunctionResponse](ctx, s.c, "GetFunction", req)
}

// GetFunctionAddress returns the code package's address and SHA-256.
func (s *SCFControl) GetFunctionAddress(ctx context.Context, req FunctionRef) (GetFunctionAddressResponse, error) {
	return callAnswer[GetFunctionAddressResponse](ctx, s.c, "GetFunctionAddress", req)
}

// CreateFunction creates a function. Like every Create* call it is retried
// only when refused unprocessed (RequestLimitExceeded).
func (s *SCFControl) CreateFunction(ctx context.Context, req CreateFunctionRequest) error {
	return s.c.Call(ctx, "CreateFunction", req, nil)
}

// UpdateFunctionCode replaces a function's code.
func (s *SCFControl) UpdateFunctionCode(ctx context.Context, req UpdateFunctionCodeRequest) error {
	return s.c.Call(ctx, "UpdateFunctionCode", req, nil)
}

// UpdateFunctionConfiguration changes a function's settings.
func (s *SCFControl) UpdateFunctionConfiguration(ctx context.Context, req UpdateFunctionConfigurationRequest) error {
	return s.c.Call(ctx, "UpdateFunctionConfiguration", req, nil)
}

// DeleteFunction deletes a function and its triggers.
func (s *SCFControl) DeleteFunction(ctx context.Context, req FunctionRef) error {
	return s.c.Call(ctx, "DeleteFunction", req, nil)
}

// ListTriggers lists one page of a function's triggers.
func (s *SCFControl) ListTriggers(ctx context.Context, req ListTriggersRequest) (ListTriggersResponse, error) {
	return callAnswer[ListTriggersResponse](ctx, s.c, "ListTriggers", req)
}

// CreateTrigger creates a trigger.
func (s *SCFControl) CreateTrigger(ctx context.Context, req CreateTriggerRequest) (CreateTriggerResponse, error) {
	return callAnswer[CreateTriggerResponse](ctx, s.c, "CreateTrigger", req)
}

// UpdateTrigger changes a trigger in place.
func (s *SCFControl) UpdateTrigger(ctx context.Context, req UpdateTriggerRequest) error {
	return s.c.Call(ctx, "UpdateTrigger", req, nil)
}

// DeleteTrigger deletes a trigger.
func (s *SCFControl) DeleteTrigger(ctx context.Context, req DeleteTriggerRequest) error {
	return s.c.Call(ctx, "DeleteTrigger", req, nil)
}
