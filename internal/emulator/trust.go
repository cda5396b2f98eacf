package emulator

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
)

// Trust policies (docs/emulator.md#trust-policies-and-sts-2018-08-13): an
// unknown principal form allows nobody.

// DefaultAccountUin is the default account's uin, as scf-local's TENCENTCLOUD_UIN.
const DefaultAccountUin = "100000000001"

// accountUin returns the uin of an account ("" = the default account).
func (s *Server) accountUin(account string) string {
	if account != "" {
		return account
	}
	if s.opts.AccountUin != "" {
		return s.opts.AccountUin
	}
	return DefaultAccountUin
}

// accountOfUin maps a uin to an account: the default account's uin is "".
func (s *Server) accountOfUin(uin string) string {
	if uin == s.accountUin("") {
		return ""
	}
	return uin
}

// trustPrincipal is who asks to assume a role.
type trustPrincipal struct {
	uin     string // the caller's account uin ("" for a service)
	role    string // the caller's role name when its keys are a role session
	roleID  string // and that role's id, when known
	service string // a Tencent service such as scf.qcloud.com
}

// stringOrList reads a JSON string or list of strings.
func stringOrList(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, true
	}
	return nil, false
}

// trusts reports whether the trust policy doc lets p assume the role. A
// principal that is not an object of strings or lists of strings refuses
// everyone (the CAM docs define no other form).
func trusts(doc string, p trustPrincipal) bool {
	return decide([]string{doc}, func(st policyStatement) (bool, bool) {
		names, ok := st.names(p)
		return names && st.hasAction("sts:AssumeRole"), !ok
	}) == policyAllow
}

// names reports whether the statement's principal names p; ok is false when
// the principal does not parse.
func (st policyStatement) names(p trustPrincipal) (names, ok bool) {
	var principal map[string]json.RawMessage
	if json.Unmarshal(st.Principal, &principal) != nil || principal == nil {
		return false, false
	}
	for kind, raw := range principal {
		values, ok := stringOrList(raw)
		if !ok {
			return false, false
		}
		for _, v := range values {
			names = names || (kind == "service" && p.service != "" && v == p.service) || (kind == "qcs" && p.uin != "" &&
				(v == "qcs::cam::uin/"+p.uin+":root" || (p.role != "" && v == "qcs::cam::uin/"+p.uin+":roleName/"+p.role) ||
					(p.roleID != "" && v == "qcs::cam::uin/"+p.uin+":role/"+p.roleID)))
		}
	}
	return names, true
}

// camRoleByArn finds a CAM role by a roleName/ or role/ ARN.
func (s *Server) camRoleByArn(arn string) (account, name, id, doc string, ok bool) {
	uin := roleAccount(arn)
	if uin == "" {
		return "", "", "", "", false
	}
	account = s.accountOfUin(uin)
	_, name, byName := strings.Cut(arn, ":roleName/")
	if !byName {
		_, id, _ = strings.Cut(arn, ":role/")
	}
	s.control.mu.Lock()
	defer s.control.mu.Unlock()
	r, err := s.roleRef(account, &id, &name)
	if err != nil {
		return "", "", "", "", false
	}
	return account, r.RoleName, r.RoleId, r.PolicyDocument, true
}

// callerPrincipal describes the caller of c for a trust policy.
func (s *Server) callerPrincipal(c *apiCall) trustPrincipal {
	p := trustPrincipal{uin: s.accountUin(c.account)}
	rs := s.acct.session(c.secretID)
	p.role, p.roleID = rs.role, rs.roleID
	return p
}

// ErrNotTrusted is ServiceRoleCredential's refusal.
var ErrNotTrusted = errors.New("the role's trust policy does not name the service")

// ServiceRoleCredential gives service's (scf.qcloud.com) keys of a role
// session, as SCF hands a function its execution role's.
func (s *Server) ServiceRoleCredential(service, roleArn string) (Credential, error) {
	account, name, id, doc, ok := s.camRoleByArn(roleArn)
	if !ok {
		return Credential{}, errors.New("role " + roleArn + " does not exist in CAM")
	}
	if !trusts(doc, trustPrincipal{service: service}) {
		return Credential{}, ErrNotTrusted
	}
	c := s.acct.newSessionCredential(account, roleSession{role: name, roleID: id, name: service, principal: s.accountUin(account)})
	return Credential{SecretID: c.TmpSecretId, SecretKey: c.TmpSecretKey, Token: c.Token}, nil
}

var reUin = regexp.MustCompile(`^[0-9]{1,20}$`)

func (s *Server) inspectAddAccount(w http.ResponseWriter, r *http.Request) {
	var in struct{ Uin, SecretId, SecretKey string }
	if !decodeInspect(w, r, &in, func(err error) {
		inspectError(w, http.StatusBadRequest, `decode account: %v (want {"Uin":"100000000002","SecretId":"AKID...","SecretKey":"..."})`, err)
	}) {
		return
	}
	if !reUin.MatchString(in.Uin) || in.SecretId == "" || in.SecretKey == "" {
		inspectError(w, http.StatusBadRequest, "an account needs Uin (digits), SecretId and SecretKey")
		return
	}
	s.AddCredential(s.accountOfUin(in.Uin), Credential{SecretID: in.SecretId, SecretKey: in.SecretKey})
	writeJSON(w, http.StatusCreated, map[string]string{"Uin": in.Uin, "SecretId": in.SecretId})
}

func (s *Server) inspectRoleCredentials(w http.ResponseWriter, r *http.Request) {
	var in struct{ Service, RoleArn string }
	if !decodeInspect(w, r, &in, func(err error) {
		inspectError(w, http.StatusBadRequest, `decode: %v (want {"Service":"scf.qcloud.com","RoleArn":"qcs::cam::uin/<uin>:roleName/<name>"})`, err)
	}) {
		return
	}
	if in.Service == "" || in.RoleArn == "" {
		inspectError(w, http.StatusBadRequest, "Service (such as scf.qcloud.com) and RoleArn are required")
		return
	}
	switch c, err := s.ServiceRoleCredential(in.Service, in.RoleArn); {
	case errors.Is(err, ErrNotTrusted):
		inspectError(w, http.StatusForbidden, "the trust policy of %s does not name the service %s", in.RoleArn, in.Service)
	case err != nil:
		inspectError(w, http.StatusNotFound, "%v", err)
	default:
		writeJSON(w, http.StatusOK, stsCredentials{Token: c.Token, TmpSecretId: c.SecretID, TmpSecretKey: c.SecretKey})
	}
}
