package tcapi

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// STSVersion is the API version of STS (sts.tencentcloudapi.com).
const STSVersion = "2018-08-13"

// STS calls Security Token Service actions.
type STS struct {
	c *Client
}

// NewSTS returns an STS client signed with cred (the caller's own, usually
// its execution role's, credentials).
func NewSTS(cred Credentials, opts Options) (*STS, error) {
	c, err := NewClient("sts", STSVersion, cred, opts)
	if err != nil {
		return nil, err
	}
	return &STS{c: c}, nil
}

// Stats returns the client's counters.
func (s *STS) Stats() Stats { return s.c.Stats() }

// AssumeRoleRequest are AssumeRole's parameters we use. Field names and
// limits from tencentcloud-sdk-go tencentcloud/sts/v20180813/models.go
// (AssumeRoleRequestParams): RoleArn such as
// qcs::cam::uin/12345678:roleName/testRoleName; RoleSessionName 2-128
// characters of [\w+=,.@_-]; DurationSeconds default 7200, at most 43200.
type AssumeRoleRequest struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds uint64 `json:",omitempty"` // 0 = Tencent's default (7200)
}

// AssumeRoleResponse carries temporary credentials of the role's account.
// Credentials redact themselves when printed or logged.
type AssumeRoleResponse struct {
	Credentials Credentials
	Expires     time.Time // ExpiredTime (Unix seconds)
	RequestId   string
}

// assumeRoleWire is AssumeRoleResponseParams (same models.go): Credentials
// {Token, TmpSecretId, TmpSecretKey}, ExpiredTime (Unix seconds), Expiration
// (ISO 8601 UTC).
type assumeRoleWire struct {
	Credentials *struct{ Token, TmpSecretId, TmpSecretKey string }
	ExpiredTime int64
	Expiration  string
	RequestId   string
}

// MaxRoleDuration is AssumeRole's longest DurationSeconds.
const MaxRoleDuration = 43200 * time.Second

// reSessionName has no counted repetition ({2,128} would compile into 128
// copies of the class, tens of KB of heap in every process); the length is
// checked apart.
var reSessionName = regexp.MustCompile(`^[\w+=,.@-]+$`)

// AssumeRole returns temporary credentials for the role. Its failures are
// *Error (ResourceNotFound.RoleNotFound, UnauthorizedOperation when the role's
// trust policy does not name the caller, ...); the temporary keys never appear
// in an error.
func (s *STS) AssumeRole(ctx context.Context, req AssumeRoleRequest) (AssumeRoleResponse, error) {
	var out AssumeRoleResponse
	bad := func(msg string) error {
		return &Error{Service: "sts", Action: "AssumeRole", Code: "InvalidParameter", Message: msg}
	}
	switch {
	case strings.TrimSpace(req.RoleArn) == "":
		return out, bad("empty RoleArn")
	case len(req.RoleSessionName) < 2 || len(req.RoleSessionName) > 128 || !reSessionName.MatchString(req.RoleSessionName):
		return out, bad(fmt.Sprintf("RoleSessionName %q: want 2 to 128 characters of letters, digits and =,.@_-", req.RoleSessionName))
	case time.Duration(req.DurationSeconds)*time.Second > MaxRoleDuration:
		return out, bad(fmt.Sprintf("DurationSeconds %d: at most 43200", req.DurationSeconds))
	}
	var w assumeRoleWire
	if err := s.c.Call(ctx, "AssumeRole", req, &w); err != nil {
		return out, err
	}
	if w.Credentials == nil || w.Credentials.TmpSecretId == "" || w.Credentials.TmpSecretKey == "" {
		return out, &Error{Service: "sts", Action: "AssumeRole", Code: CodeInvalidResponse, RequestID: w.RequestId,
			Message: "answer has no Credentials.TmpSecretId/TmpSecretKey"}
	}
	out.Credentials = Credentials{SecretID: w.Credentials.TmpSecretId, SecretKey: w.Credentials.TmpSecretKey, Token: w.Credentials.Token}
	if w.ExpiredTime > 0 {
		out.Expires = time.Unix(w.ExpiredTime, 0)
	}
	out.RequestId = w.RequestId
	return out, nil
}

// CallerIdentity is GetCallerIdentity's answer (tencentcloud-sdk-go
// tencentcloud/sts/v20180813/models.go, GetCallerIdentityResponseParams):
// AccountId is the root account's uin of the caller, whatever kind of
// identity it is (root, sub-user, role); Arn, UserId, PrincipalId and Type
// describe the identity itself.
type CallerIdentity struct {
	Arn, AccountId, UserId, PrincipalId, Type string
	RequestId                                 string
}

// GetCallerIdentity returns who the credentials are. The SDK's client.go
// documents it for root and sub-account keys and for AssumeRole /
// GetFederationToken temporary credentials; it has no parameters.
func (s *STS) GetCallerIdentity(ctx context.Context) (CallerIdentity, error) {
	var out CallerIdentity
	if err := s.c.Call(ctx, "GetCallerIdentity", struct{}{}, &out); err != nil {
		return out, err
	}
	if out.AccountId == "" {
		return out, &Error{Service: "sts", Action: "GetCallerIdentity", Code: CodeInvalidResponse, RequestID: out.RequestId,
			Message: "answer has no AccountId"}
	}
	return out, nil
}
