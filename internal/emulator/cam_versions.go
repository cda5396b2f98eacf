package emulator

import (
	"fmt"
	"slices"
	"time"
)

// MaxPolicyVersions: CAM doc product 598 "Policy Version Control".
const MaxPolicyVersions = 5

type policyVersion struct {
	id      uint64
	doc     string
	created time.Time
}

// addVersion adds a version with doc; asDefault makes it the default.
func (p *camPolicy) addVersion(doc string, now time.Time, asDefault bool) uint64 {
	p.lastVersion++
	p.versions = append(p.versions, &policyVersion{id: p.lastVersion, doc: doc, created: now})
	if asDefault {
		p.setDefault(p.lastVersion, now)
	}
	return p.lastVersion
}

func (p *camPolicy) version(id uint64) *policyVersion {
	for _, v := range p.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (p *camPolicy) setDefault(id uint64, now time.Time) {
	p.defaultVersion, p.PolicyDocument, p.UpdateTime = id, p.version(id).doc, now
}

// versionInfo is a PolicyVersionItem, or with doc a PolicyVersionDetail.
func (p *camPolicy) versionInfo(v *policyVersion, doc bool) any {
	type item struct {
		VersionId        uint64
		CreateDate       string
		IsDefaultVersion int64
	}
	it := item{v.id, v.created.UTC().Format("2006-01-02T15:04:05Z"), 0}
	if v.id == p.defaultVersion {
		it.IsDefaultVersion = 1
	}
	if !doc {
		return it
	}
	return struct {
		item
		Document string
	}{it, v.doc}
}

// policyByID finds the caller's policy by a required PolicyId.
func (s *Server) policyByID(c *apiCall, id *uint64) (*camPolicy, *apiError) {
	if id == nil {
		return nil, errMissing("MissingParameter", "PolicyId")
	}
	return s.policyRef(c.account, id, nil)
}

func versionNotFound(p *camPolicy, id uint64) *apiError {
	return errf("InvalidParameter.PolicyVersionNotExists", fmt.Sprintf("Policy %d has no version %d.", p.PolicyId, id))
}

type policyVersionReq struct{ PolicyId, VersionId *uint64 }

// policyVersion finds the policy and the version a request names.
func (s *Server) policyVersion(c *apiCall, req *policyVersionReq) (*camPolicy, *policyVersion, *apiError) {
	p, err := s.policyByID(c, req.PolicyId)
	if err != nil {
		return nil, nil, err
	}
	if req.VersionId == nil {
		return nil, nil, errMissing("MissingParameter", "VersionId")
	}
	v := p.version(*req.VersionId)
	if v == nil {
		return nil, nil, versionNotFound(p, *req.VersionId)
	}
	return p, v, nil
}

func (s *Server) actCreatePolicyVersion(c *apiCall, req *struct {
	PolicyId       *uint64
	PolicyDocument *string
	SetAsDefault   *bool
}) (any, *apiError) {
	p, err := s.policyByID(c, req.PolicyId)
	if err = firstErr(err, checkPolicyDocument(str(req.PolicyDocument), false)); err != nil {
		return nil, err
	}
	if len(p.versions) >= MaxPolicyVersions {
		return nil, errf("FailedOperation.PolicyVersionFull", fmt.Sprintf("Policy %d already has %d versions, the most it may have; delete one (DeletePolicyVersion) first.", p.PolicyId, MaxPolicyVersions))
	}
	id := p.addVersion(str(req.PolicyDocument), c.now, deref(req.SetAsDefault, false))
	return struct{ VersionId uint64 }{id}, nil
}

func (s *Server) actListPolicyVersions(c *apiCall, req *struct{ PolicyId *uint64 }) (any, *apiError) {
	p, err := s.policyByID(c, req.PolicyId)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range p.versions {
		out = append(out, p.versionInfo(v, false))
	}
	return struct{ Versions []any }{out}, nil
}

func (s *Server) actGetPolicyVersion(c *apiCall, req *policyVersionReq) (any, *apiError) {
	p, v, err := s.policyVersion(c, req)
	if err != nil {
		return nil, err
	}
	return struct{ PolicyVersion any }{p.versionInfo(v, true)}, nil
}

func (s *Server) actDeletePolicyVersion(c *apiCall, req *struct {
	PolicyId  *uint64
	VersionId []uint64
}) (any, *apiError) {
	p, err := s.policyByID(c, req.PolicyId)
	if err != nil {
		return nil, err
	}
	if len(req.VersionId) == 0 {
		return nil, errMissing("MissingParameter", "VersionId")
	}
	for _, id := range req.VersionId {
		switch {
		case p.version(id) == nil:
			return nil, versionNotFound(p, id)
		case id == p.defaultVersion:
			return nil, errf("FailedOperation.PolicyVersionAlreadyDefault", fmt.Sprintf("Version %d is policy %d's default version; make another the default first.", id, p.PolicyId))
		}
	}
	p.versions = slices.DeleteFunc(p.versions, func(v *policyVersion) bool { return slices.Contains(req.VersionId, v.id) })
	return struct{}{}, nil
}

// actSetDefaultPolicyVersion: PolicyVersionAlreadyDefault is assumed.
func (s *Server) actSetDefaultPolicyVersion(c *apiCall, req *policyVersionReq) (any, *apiError) {
	p, v, err := s.policyVersion(c, req)
	if err != nil {
		return nil, err
	}
	if v.id == p.defaultVersion {
		return nil, errf("FailedOperation.PolicyVersionAlreadyDefault", fmt.Sprintf("Version %d is already policy %d's default version.", v.id, p.PolicyId))
	}
	p.setDefault(v.id, c.now)
	return struct{}{}, nil
}

// actUpdatePolicy changes the default version's document in place: SDK cam
// client.go "如果已存在策略版本，本接口会直接更新策略的默认版本，不会创建新版本".
func (s *Server) actUpdatePolicy(c *apiCall, req *struct {
	PolicyId                                       *uint64
	PolicyName, Description, PolicyDocument, Alias *string
}) (any, *apiError) {
	p, err := s.policyRef(c.account, req.PolicyId, req.PolicyName)
	if err != nil {
		return nil, err
	}
	if req.PolicyDocument != nil {
		if err := checkPolicyDocument(*req.PolicyDocument, false); err != nil {
			return nil, err
		}
		if v := p.version(p.defaultVersion); v != nil {
			v.doc = *req.PolicyDocument
			p.setDefault(v.id, c.now)
		} else {
			p.addVersion(*req.PolicyDocument, c.now, true)
		}
	}
	p.Description, p.Alias, p.UpdateTime = deref(req.Description, p.Description), deref(req.Alias, p.Alias), c.now
	return struct{ PolicyId uint64 }{p.PolicyId}, nil
}
