package emulator

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stsActions are the STS (2018-08-13) actions: AssumeRole, GetCallerIdentity.
var stsActions = map[string]actionFunc{
	"AssumeRole":        (*Server).actAssumeRole,
	"GetCallerIdentity": (*Server).actGetCallerIdentity,
}

// AssumeRole limits from SDK sts models.go AssumeRoleRequestParams.
const (
	DefaultRoleDuration = 7200 * time.Second
	MaxRoleDuration     = 43200 * time.Second
)

// reSessionName: 2 to 128 long, checked apart (see reRoleArn).
var reSessionName = regexp.MustCompile(`^[\w+=,.@-]+$`)

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

// actAssumeRole gives keys in the role's account when a Roles entry or a
// CAM role's trust policy allows the caller.
func (s *Server) actAssumeRole(c *apiCall) (any, *apiError) {
	var req assumeRoleReq
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	switch n := len(req.RoleSessionName); {
	case req.RoleArn == "":
		return nil, errMissing("MissingParameter", "RoleArn")
	case req.RoleSessionName == "":
		return nil, errMissing("MissingParameter", "RoleSessionName")
	case n < 2 || n > 128 || !reSessionName.MatchString(req.RoleSessionName):
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
	account = s.accountOfUin(account)
	rs := roleSession{name: req.RoleSessionName, principal: s.accountUin(c.account)}
	if i := strings.Index(req.RoleArn, ":roleName/"); i >= 0 {
		rs.role = req.RoleArn[i+len(":roleName/"):]
	}
	if role, ok := s.acct.role(req.RoleArn); ok {
		if len(role.Trusted) > 0 && !slices.Contains(role.Trusted, c.account) {
			return nil, errf("UnauthorizedOperation", "The role's trust policy does not allow the caller's account to assume "+req.RoleArn+".")
		}
	} else {
		var doc string
		if account, rs.role, rs.roleID, doc, ok = s.camRoleByArn(req.RoleArn); !ok {
			return nil, errf("ResourceNotFound.RoleNotFound", "Role "+req.RoleArn+" does not exist.")
		}
		if !trusts(doc, s.callerPrincipal(c)) {
			return nil, errf("UnauthorizedOperation", "The trust policy of "+req.RoleArn+" does not name the caller ("+s.callerArn(c)+").")
		}
	}
	cred := s.acct.newSessionCredential(account, rs)
	exp := c.now.Add(d)
	return assumeRoleResp{cred, exp.Unix(), exp.UTC().Format(time.RFC3339)}, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// actGetCallerIdentity: SDK sts models.go (Arn and Type assumed, docs/emulator.md).
func (s *Server) actGetCallerIdentity(c *apiCall) (any, *apiError) {
	if err := decodeParams(c.body, &struct{}{}, true); err != nil {
		return nil, err
	}
	uin := s.accountUin(c.account)
	out := struct{ Arn, AccountId, UserId, PrincipalId, Type string }{
		Arn: s.callerArn(c), AccountId: uin, UserId: uin, PrincipalId: uin, Type: "RootAccount"}
	if rs := s.acct.session(c.secretID); rs.role != "" {
		out.UserId, out.PrincipalId, out.Type = cmp.Or(rs.roleID, rs.role)+":"+rs.name, rs.principal, "AssumedRole"
	}
	return out, nil
}

// callerArn names the caller in messages and GetCallerIdentity.
func (s *Server) callerArn(c *apiCall) string {
	uin := s.accountUin(c.account)
	if rs := s.acct.session(c.secretID); rs.role != "" {
		return "qcs::cam::uin/" + uin + ":roleName/" + rs.role
	}
	return "qcs::cam::uin/" + uin + ":uin/" + uin
}
