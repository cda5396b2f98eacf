package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// stsActions are the STS (2018-08-13) actions: AssumeRole.
var stsActions = map[string]actionFunc{
	"AssumeRole": (*Server).actAssumeRole,
}

// AssumeRole limits and codes, from tencentcloud-sdk-go
// tencentcloud/sts/v20180813/models.go (AssumeRoleRequestParams: RoleSessionName
// 2-128 characters of [\w+=,.@_-]; DurationSeconds default 7200, at most
// 43200) and errors.go (ResourceNotFound.RoleNotFound "账号对应的角色不存在",
// InvalidParameter.ParamError, InvalidParameter.OverTimeError "过期时间超过阈值",
// UnauthorizedOperation).
const (
	DefaultRoleDuration = 7200 * time.Second
	MaxRoleDuration     = 43200 * time.Second
)

var reSessionName = regexp.MustCompile(`^[\w+=,.@-]+$`) // and 2 to 128 long (checked apart: see reRoleArn)

func validSessionName(s string) bool {
	return len(s) >= 2 && len(s) <= 128 && reSessionName.MatchString(s)
}

type assumeRoleReq struct {
	RoleArn, RoleSessionName string
	DurationSeconds          *uint64
	Policy, ExternalId       string
	Tags                     []struct{ Key, Value string }
	SourceIdentity           string
}

type stsCredentials struct{ Token, TmpSecretId, TmpSecretKey string }

type assumeRoleResp struct {
	Credentials stsCredentials
	ExpiredTime int64
	Expiration  string
}

// actAssumeRole gives the caller temporary credentials in the role's account
// when the role exists and trusts the caller's account. The emulator does not
// expire them (Tencent's error for an expired token is not documented).
func (s *Server) actAssumeRole(c *apiCall) (any, *apiError) {
	var req assumeRoleReq
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	switch {
	case req.RoleArn == "":
		return nil, errf("MissingParameter", "The request is missing the required parameter RoleArn.")
	case req.RoleSessionName == "":
		return nil, errf("MissingParameter", "The request is missing the required parameter RoleSessionName.")
	case !validSessionName(req.RoleSessionName):
		return nil, errf("InvalidParameter.ParamError", "RoleSessionName must be 2 to 128 characters of letters, digits and =,.@_-.")
	}
	d := DefaultRoleDuration
	if req.DurationSeconds != nil {
		d = time.Duration(*req.DurationSeconds) * time.Second
		if d <= 0 || d > MaxRoleDuration {
			return nil, errf("InvalidParameter.OverTimeError", "DurationSeconds "+strconv.FormatUint(*req.DurationSeconds, 10)+" is out of range; at most 43200.")
		}
	}
	account := roleAccount(req.RoleArn)
	if account == "" {
		return nil, errf("InvalidParameter.ParamError", "RoleArn "+strconv.Quote(req.RoleArn)+" is not a role ARN such as qcs::cam::uin/100000000001:roleName/MyRole.")
	}
	role, ok := s.acct.role(req.RoleArn)
	if !ok {
		return nil, errf("ResourceNotFound.RoleNotFound", "Role "+req.RoleArn+" does not exist.")
	}
	if len(role.Trusted) > 0 && !slices.Contains(role.Trusted, c.account) {
		return nil, errf("UnauthorizedOperation", "The role's trust policy does not allow the caller's account to assume "+req.RoleArn+".")
	}
	cred := Credential{SecretID: "AKIDtmp" + randHex(16), SecretKey: randHex(20), Token: randHex(32)}
	s.acct.addCredential(account, cred)
	exp := c.now.Add(d)
	return assumeRoleResp{
		Credentials: stsCredentials{Token: cred.Token, TmpSecretId: cred.SecretID, TmpSecretKey: cred.SecretKey},
		ExpiredTime: exp.Unix(),
		Expiration:  exp.UTC().Format(time.RFC3339),
	}, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
