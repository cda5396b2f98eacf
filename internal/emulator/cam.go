package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CAM (2019-01-16), global: fields from SDK cam models.go, codes from errors.go
// (docs/emulator.md#cam-roles-and-policies-2019-01-16).
var camActions = map[string]actionFunc{
	"GetRole":                  controlAction((*Server).actGetRole),
	"CreateRole":               controlAction((*Server).actCreateRole),
	"DeleteRole":               controlAction((*Server).actDeleteRole),
	"UpdateAssumeRolePolicy":   controlAction((*Server).actUpdateAssumeRolePolicy),
	"CreatePolicy":             controlAction((*Server).actCreatePolicy),
	"GetPolicy":                controlAction((*Server).actGetPolicy),
	"ListPolicies":             controlAction((*Server).actListPolicies),
	"CreatePolicyVersion":      controlAction((*Server).actCreatePolicyVersion),
	"DeletePolicy":             controlAction((*Server).actDeletePolicy),
	"AttachRolePolicy":         rolePolicyAction[attachReq](true),
	"DetachRolePolicy":         rolePolicyAction[detachReq](false),
	"ListAttachedRolePolicies": controlAction((*Server).actListAttachedRolePolicies),
	"ListPolicyVersions":       controlAction((*Server).actListPolicyVersions),
	"GetPolicyVersion":         controlAction((*Server).actGetPolicyVersion),
	"DeletePolicyVersion":      controlAction((*Server).actDeletePolicyVersion),
	"SetDefaultPolicyVersion":  controlAction((*Server).actSetDefaultPolicyVersion),
	"UpdatePolicy":             controlAction((*Server).actUpdatePolicy),
}

// 长度为1~128个字符，可包含英文字母、数字和+=,.@-_
var reCAMName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)

type camRole struct {
	account                                       string // "" = the default account (accounts.go)
	RoleId, RoleName, PolicyDocument, Description string
	SessionDuration                               uint64
	Tags                                          []kv
	AddTime, UpdateTime                           time.Time
	attached                                      []uint64 // policy ids, in attach order
	attachedAt                                    map[uint64]time.Time
}

// camPolicy is a custom policy; PolicyDocument is the default version's.
type camPolicy struct {
	account                                 string
	PolicyId                                uint64
	PolicyName, Description, PolicyDocument string
	Alias                                   string
	Tags                                    []kv
	AddTime, UpdateTime                     time.Time
	versions                                []*policyVersion // ascending VersionId
	defaultVersion, lastVersion             uint64
}

// RoleInfo is a CAM role as GET /_emulator/roles reports it.
type RoleInfo struct {
	Account                                                            string
	RoleId, RoleName, PolicyDocument, Description, AddTime, UpdateTime string
	AttachedPolicies                                                   []string
}

// PolicyInfo is a custom CAM policy as GET /_emulator/policies reports it.
type PolicyInfo struct {
	PolicyId                                uint64
	PolicyName, Description, PolicyDocument string
	AddTime, UpdateTime                     string
}

// checkPolicyDocument validates a policy document; trust requires principals.
func checkPolicyDocument(doc string, trust bool) *apiError {
	var d struct {
		Version   string            `json:"version"`
		Statement []policyStatement `json:"statement"`
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return errf("InvalidParameter.PolicyDocumentError", "PolicyDocument is not a CAM policy document ({\"version\":\"2.0\",\"statement\":[...]}): "+err.Error()+".")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errf("InvalidParameter.PolicyDocumentError", "PolicyDocument has data after its JSON object.")
	}
	if d.Version != "2.0" {
		return errf("InvalidParameter.PolicyDocumentError", "PolicyDocument version must be \"2.0\".")
	}
	if len(d.Statement) == 0 {
		return errf("InvalidParameter.PolicyDocumentError", "PolicyDocument has no statement.")
	}
	for i, st := range d.Statement {
		if st.Effect != "allow" && st.Effect != "deny" {
			return errf("InvalidParameter.PolicyDocumentError", fmt.Sprintf("statement %d: effect must be allow or deny.", i))
		}
		var one string
		var many []string
		if json.Unmarshal(st.Action, &one) != nil || one == "" {
			if json.Unmarshal(st.Action, &many) != nil || len(many) == 0 {
				return errf("InvalidParameter.PolicyDocumentError", fmt.Sprintf("statement %d: action must be a string or a non-empty list such as [\"scf:GetFunction\"].", i))
			}
		}
		if trust && len(bytes.TrimSpace(st.Principal)) == 0 {
			return errf("InvalidParameter.PrincipalError", fmt.Sprintf("statement %d of the trust policy has no principal, such as {\"service\":[\"scf.qcloud.com\"]}.", i))
		}
		if !trust && len(bytes.TrimSpace(st.Resource)) == 0 {
			return errf("InvalidParameter.PolicyDocumentError", fmt.Sprintf("statement %d has no resource (use [\"*\"] for all).", i))
		}
	}
	return nil
}

// camRef finds the account's role or policy (kind) by exactly one of its id and name.
func camRef[K comparable, T any](all map[K]*T, account, kind, code, id, name string, keys func(*T) (account, id, name string)) (*T, *apiError) {
	if (id == "") == (name == "") {
		return nil, errf("InvalidParameter", "Give exactly one of "+kind+"Id and "+kind+"Name.")
	}
	for _, v := range all {
		if a, i, n := keys(v); a == account && (i == id || n == name) {
			return v, nil
		}
	}
	return nil, errf(code, kind+" "+id+name+" does not exist.")
}

func (s *Server) roleRef(account string, id, name *string) (*camRole, *apiError) {
	return camRef(s.control.roles, account, "Role", "InvalidParameter.RoleNotExist", str(id), str(name),
		func(r *camRole) (string, string, string) { return r.account, r.RoleId, r.RoleName })
}

func (s *Server) policyRef(account string, id *uint64, name *string) (*camPolicy, *apiError) {
	var ids string
	if deref(id, 0) != 0 {
		ids = strconv.FormatUint(*id, 10)
	}
	return camRef(s.control.policies, account, "Policy", "ResourceNotFound.PolicyIdNotFound", ids, str(name),
		func(p *camPolicy) (string, string, string) {
			return p.account, strconv.FormatUint(p.PolicyId, 10), p.PolicyName
		})
}

// camPage is Rp (default 20, at most 200) entries from Page (default 1,
// at most maxPage when not 0) of all.
func camPage[T any](all []T, rp, pg *uint64, maxPage uint64) ([]T, *apiError) {
	n, p := deref(rp, 20), deref(pg, 1)
	if n == 0 || n > 200 || p == 0 || (maxPage > 0 && p > maxPage) {
		return nil, errf("InvalidParameterValue", "Rp must be 1-200 and Page at least 1 (ListPolicies: at most 200).")
	}
	return page(all, (p-1)*n, n), nil
}

// info is GetRole's RoleInfo (tccli cam/v20190116 examples.json GetRole).
func (r *camRole) info() any {
	return struct {
		RoleId, RoleName, PolicyDocument, Description, AddTime, UpdateTime string
		ConsoleLogin                                                       uint64
		RoleType                                                           string
		SessionDuration                                                    uint64
		DeletionTaskId                                                     string
		Tags                                                               []kv
	}{r.RoleId, r.RoleName, r.PolicyDocument, r.Description, scfTime(r.AddTime), scfTime(r.UpdateTime), 0, "user", r.SessionDuration, "", r.Tags}
}

type roleRefReq struct{ RoleId, RoleName *string }

func (s *Server) actGetRole(c *apiCall, req *roleRefReq) (any, *apiError) {
	r, err := s.roleRef(c.account, req.RoleId, req.RoleName)
	if err != nil {
		return nil, err
	}
	return struct{ RoleInfo any }{r.info()}, nil
}

// checkCAMNew checks a new role's (trust) or policy's name and document.
func checkCAMNew(kind, name string, doc *string, trust bool) *apiError {
	if !reCAMName.MatchString(name) {
		return errf("InvalidParameter."+kind+"NameError", kind+"Name "+strconv.Quote(name)+" is invalid: 1-128 letters, digits and +=,.@-_.")
	}
	return checkPolicyDocument(str(doc), trust)
}

type createRoleReq struct {
	RoleName, PolicyDocument, Description *string
	ConsoleLogin, SessionDuration         *uint64
	Tags                                  []*struct{ Key, Value *string }
}

func (s *Server) actCreateRole(c *apiCall, req *createRoleReq) (any, *apiError) {
	name := str(req.RoleName)
	if err := checkCAMNew("Role", name, req.PolicyDocument, true); err != nil {
		return nil, err
	}
	if s.control.roles[scope(c.account, name)] != nil {
		return nil, errf("InvalidParameter.RoleNameInUse", "A role named "+name+" already exists.")
	}
	tags, err := checkTags(req.Tags, "InvalidParameter.ParamError", false)
	if err != nil {
		return nil, err
	}
	// SessionDuration: 申请角色临时密钥的最长有效期限制(范围：0~43200).
	if deref(req.SessionDuration, 0) > 43200 {
		return nil, errf("InvalidParameter.ParamError", "SessionDuration must be 0 to 43200 seconds.")
	}
	r := &camRole{account: c.account, RoleId: strconv.FormatUint(4611686018427387904+s.control.id(), 10), RoleName: name,
		PolicyDocument: str(req.PolicyDocument), Description: str(req.Description), AddTime: c.now, UpdateTime: c.now,
		SessionDuration: deref(req.SessionDuration, 0), Tags: tags, attachedAt: map[uint64]time.Time{}}
	s.control.roles[scope(c.account, name)] = r
	return struct{ RoleId string }{r.RoleId}, nil
}

func (s *Server) actDeleteRole(c *apiCall, req *roleRefReq) (any, *apiError) {
	r, err := s.roleRef(c.account, req.RoleId, req.RoleName)
	if err != nil {
		return nil, err
	}
	delete(s.control.roles, scope(r.account, r.RoleName))
	return struct{}{}, nil
}

func (s *Server) actUpdateAssumeRolePolicy(c *apiCall, req *struct{ PolicyDocument, RoleId, RoleName *string }) (any, *apiError) {
	r, err := s.roleRef(c.account, req.RoleId, req.RoleName)
	if err = firstErr(err, checkPolicyDocument(str(req.PolicyDocument), true)); err != nil {
		return nil, err
	}
	r.PolicyDocument, r.UpdateTime = str(req.PolicyDocument), c.now
	return struct{}{}, nil
}

type createPolicyReq struct {
	PolicyName, PolicyDocument, Description *string
	Tags                                    []*struct{ Key, Value *string }
}

func (s *Server) actCreatePolicy(c *apiCall, req *createPolicyReq) (any, *apiError) {
	name := str(req.PolicyName)
	if err := checkCAMNew("Policy", name, req.PolicyDocument, false); err != nil {
		return nil, err
	}
	for _, p := range s.control.policies {
		if p.account == c.account && p.PolicyName == name {
			return nil, errf("FailedOperation.PolicyNameInUse", "A policy named "+name+" already exists.")
		}
	}
	tags, err := checkTags(req.Tags, "InvalidParameter.ParamError", false)
	if err != nil {
		return nil, err
	}
	p := &camPolicy{account: c.account, PolicyId: 100000000 + s.control.id(), PolicyName: name, Description: str(req.Description),
		Tags: tags, AddTime: c.now}
	p.addVersion(str(req.PolicyDocument), c.now, true)
	s.control.policies[p.PolicyId] = p
	return struct{ PolicyId uint64 }{p.PolicyId}, nil
}

// actGetPolicy: tccli cam examples.json GetPolicy (Type 1: custom).
func (s *Server) actGetPolicy(c *apiCall, req *struct{ PolicyId *uint64 }) (any, *apiError) {
	p, err := s.policyByID(c, req.PolicyId)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyName, Description   string
		Type                      uint64
		AddTime, UpdateTime       string
		PolicyDocument            string
		PresetAlias               string
		IsServiceLinkedRolePolicy uint64
		Tags                      []kv
	}{p.PolicyName, p.Description, 1, scfTime(p.AddTime), scfTime(p.UpdateTime), p.PolicyDocument, p.Alias, 0, p.Tags}, nil
}

// strategyInfo is a ListPolicies entry (StrategyInfo in models.go).
type strategyInfo struct {
	PolicyId                                     uint64
	PolicyName, AddTime                          string
	Type                                         uint64
	Description                                  string
	CreateMode, Attachments                      uint64
	ServiceType                                  string
	IsAttached, Deactived                        uint64
	DeactivedDetail                              []string
	IsServiceLinkedPolicy                        uint64
	UpdateTime                                   string
	AttachEntityCount, AttachEntityBoundaryCount uint64
}

type listPoliciesReq struct {
	Rp, Page       *uint64
	Scope, Keyword *string
}

// actListPolicies lists the custom policies (there are no QCS ones).
func (s *Server) actListPolicies(c *apiCall, req *listPoliciesReq) (any, *apiError) {
	if sc := str(req.Scope); sc != "" && sc != "All" && sc != "Local" && sc != "QCS" {
		return nil, errf("InvalidParameterValue", "Scope must be All, QCS or Local.")
	}
	all := []strategyInfo{}
	for _, p := range s.control.policies {
		if p.account != c.account || str(req.Scope) == "QCS" || !strings.Contains(p.PolicyName, str(req.Keyword)) {
			continue
		}
		var n uint64
		for _, r := range s.control.roles {
			if _, ok := r.attachedAt[p.PolicyId]; ok {
				n++
			}
		}
		all = append(all, strategyInfo{PolicyId: p.PolicyId, PolicyName: p.PolicyName, AddTime: scfTime(p.AddTime), Type: 1,
			Description: p.Description, CreateMode: 2, Attachments: n, IsAttached: min(n, 1), DeactivedDetail: []string{},
			UpdateTime: scfTime(p.UpdateTime), AttachEntityCount: n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].PolicyId > all[j].PolicyId })
	list, err := camPage(all, req.Rp, req.Page, 200)
	return struct {
		TotalNum        uint64
		List            []strategyInfo
		ServiceTypeList []string
	}{uint64(len(all)), list, []string{}}, err
}

func (s *Server) actDeletePolicy(c *apiCall, req *struct{ PolicyId []uint64 }) (any, *apiError) {
	if len(req.PolicyId) == 0 {
		return nil, errMissing("MissingParameter", "PolicyId")
	}
	for _, id := range req.PolicyId {
		if p := s.control.policies[id]; p == nil || p.account != c.account {
			return nil, errf("ResourceNotFound.PolicyIdNotFound", fmt.Sprintf("Policy %d does not exist.", id))
		}
	}
	for _, id := range req.PolicyId {
		delete(s.control.policies, id)
		for _, r := range s.control.roles {
			r.detach(id)
		}
	}
	return struct{}{}, nil
}

func (r *camRole) detach(id uint64) bool {
	for i, a := range r.attached {
		if a == id {
			r.attached = append(r.attached[:i], r.attached[i+1:]...)
			delete(r.attachedAt, id)
			return true
		}
	}
	return false
}

// attachReq and detachReq: the same fields under Attach and Detach names.
type attachReq struct {
	PolicyId   *uint64
	RoleId     *string `json:"AttachRoleId"`
	RoleName   *string `json:"AttachRoleName"`
	PolicyName *string
}

type detachReq struct {
	PolicyId   *uint64
	RoleId     *string `json:"DetachRoleId"`
	RoleName   *string `json:"DetachRoleName"`
	PolicyName *string
}

// rolePolicyAction is AttachRolePolicy (attach) or DetachRolePolicy.
func rolePolicyAction[Req attachReq | detachReq](attach bool) actionFunc {
	return controlAction(func(s *Server, c *apiCall, in *Req) (any, *apiError) {
		req := attachReq(*in)
		p, err := s.policyRef(c.account, req.PolicyId, req.PolicyName)
		if err != nil {
			return nil, err
		}
		r, err := s.roleRef(c.account, req.RoleId, req.RoleName)
		if err != nil {
			return nil, err
		}
		switch _, had := r.attachedAt[p.PolicyId]; {
		case attach && !had:
			r.attached = append(r.attached, p.PolicyId)
			r.attachedAt[p.PolicyId] = c.now
		case !attach && !r.detach(p.PolicyId):
			return nil, errf("InvalidParameter", fmt.Sprintf("Policy %s is not attached to role %s.", p.PolicyName, r.RoleName))
		}
		return struct{}{}, nil
	})
}

type listAttachedReq struct {
	Page, Rp                              *uint64
	RoleId, RoleName, PolicyType, Keyword *string
}

// attachedPolicy is a ListAttachedRolePolicies entry (AttachedPolicyOfRole).
type attachedPolicy struct {
	PolicyId                        uint64
	PolicyName, AddTime, PolicyType string
	CreateMode                      uint64
	Description                     string
	Deactived                       uint64
	DeactivedDetail                 []string
}

func (s *Server) actListAttachedRolePolicies(c *apiCall, req *listAttachedReq) (any, *apiError) {
	r, err := s.roleRef(c.account, req.RoleId, req.RoleName)
	if err != nil {
		return nil, err
	}
	all := []attachedPolicy{}
	for _, id := range r.attached {
		p := s.control.policies[id]
		if p == nil || str(req.PolicyType) == "QCS" || !strings.Contains(p.PolicyName, str(req.Keyword)) {
			continue
		}
		all = append(all, attachedPolicy{p.PolicyId, p.PolicyName, scfTime(r.attachedAt[id]), "User", 2, p.Description, 0, []string{}})
	}
	list, err := camPage(all, req.Rp, req.Page, 0)
	return struct {
		List     []attachedPolicy
		TotalNum uint64
	}{list, uint64(len(all))}, err
}

// Roles returns the CAM roles, by name.
func (s *Server) Roles() []RoleInfo {
	s.control.mu.Lock()
	defer s.control.mu.Unlock()
	out := []RoleInfo{}
	for _, r := range s.control.roles {
		ri := RoleInfo{Account: s.accountUin(r.account), RoleId: r.RoleId, RoleName: r.RoleName, PolicyDocument: r.PolicyDocument, Description: r.Description,
			AddTime: scfTime(r.AddTime), UpdateTime: scfTime(r.UpdateTime), AttachedPolicies: []string{}}
		for _, id := range r.attached {
			if p := s.control.policies[id]; p != nil {
				ri.AttachedPolicies = append(ri.AttachedPolicies, p.PolicyName)
			}
		}
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RoleName < out[j].RoleName })
	return out
}

// Policies returns the custom CAM policies, by id.
func (s *Server) Policies() []PolicyInfo {
	s.control.mu.Lock()
	defer s.control.mu.Unlock()
	out := []PolicyInfo{}
	for _, p := range s.control.policies {
		out = append(out, PolicyInfo{p.PolicyId, p.PolicyName, p.Description, p.PolicyDocument, scfTime(p.AddTime), scfTime(p.UpdateTime)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PolicyId < out[j].PolicyId })
	return out
}
