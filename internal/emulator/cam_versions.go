package emulator

import (
	"fmt"
	"time"
)

// CAM policy versions (tencentcloud-sdk-go cam/v20190116 models.go:
// CreatePolicyVersionRequestParams, ListPolicyVersionsRequestParams,
// PolicyVersionItem, GetPolicyVersionRequestParams, PolicyVersionDetail,
// DeletePolicyVersionRequestParams, SetDefaultPolicyVersionRequestParams,
// UpdatePolicyRequestParams; answers as tccli cam examples.json shows them).
// Codes from errors.go:
//
//	FailedOperation.PolicyVersionFull           策略版本数已经达到上限 (CreatePolicyVersion past MaxPolicyVersions)
//	FailedOperation.PolicyVersionAlreadyDefault 该策略版本已经是默认策略版本 (DeletePolicyVersion of the
//	                                            default version; SetDefaultPolicyVersion of it: assumption)
//	InvalidParameter.PolicyVersionNotExists     策略版本不存在
//
// UpdatePolicy changes the default version's document in place: client.go
// documents it "如果已存在策略版本，本接口会直接更新策略的默认版本，不会创建新版本"
// (it updates the default version directly and creates no new version).

// MaxPolicyVersions is how many versions a CAM policy keeps at most (the
// limit of Tencent's CAM policy version documentation, product 598 "Policy
// Version Control"; errors.go names the code, not the number).
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

func (p *camPolicy) tags() []kvOut {
	if p.Tags == nil {
		return []kvOut{}
	}
	return p.Tags
}

// versionDate is CreateDate as the examples give it: "2019-08-09T10:31:47Z".
func versionDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (p *camPolicy) isDefault(v *policyVersion) int64 {
	if v.id == p.defaultVersion {
		return 1
	}
	return 0
}

// policyByID finds the caller's policy by a required PolicyId.
func (s *Server) policyByID(c *apiCall, id *uint64) (*camPolicy, *apiError) {
	if id == nil {
		return nil, errf("MissingParameter", "The request is missing the required parameter PolicyId.")
	}
	return s.policyRef(c.account, id, nil)
}

func versionNotFound(p *camPolicy, id uint64) *apiError {
	return errf("InvalidParameter.PolicyVersionNotExists", fmt.Sprintf("Policy %d has no version %d.", p.PolicyId, id))
}

// policyVersion finds the policy and the version a request names; both ids
// are required.
func (s *Server) policyVersion(c *apiCall, policyID, versionID *uint64) (*camPolicy, *policyVersion, *apiError) {
	p, err := s.policyByID(c, policyID)
	if err != nil {
		return nil, nil, err
	}
	if versionID == nil {
		return nil, nil, errf("MissingParameter", "The request is missing the required parameter VersionId.")
	}
	v := p.version(*versionID)
	if v == nil {
		return nil, nil, versionNotFound(p, *versionID)
	}
	return p, v, nil
}

func (s *Server) actCreatePolicyVersion(c *apiCall) (any, *apiError) {
	var req struct {
		PolicyId       *uint64
		PolicyDocument *string
		SetAsDefault   *bool
	}
	return s.camLocked(c, &req, func() (any, *apiError) {
		p, err := s.policyByID(c, req.PolicyId)
		if err != nil {
			return nil, err
		}
		if err := checkPolicyDocument(str(req.PolicyDocument), false); err != nil {
			return nil, err
		}
		if len(p.versions) >= MaxPolicyVersions {
			return nil, errf("FailedOperation.PolicyVersionFull", fmt.Sprintf("Policy %d already has %d versions, the most it may have; delete one (DeletePolicyVersion) first.", p.PolicyId, MaxPolicyVersions))
		}
		id := p.addVersion(str(req.PolicyDocument), c.now, req.SetAsDefault != nil && *req.SetAsDefault)
		return struct{ VersionId uint64 }{id}, nil
	})
}

func (s *Server) actListPolicyVersions(c *apiCall) (any, *apiError) {
	var req struct{ PolicyId *uint64 }
	return s.camLocked(c, &req, func() (any, *apiError) {
		p, err := s.policyByID(c, req.PolicyId)
		if err != nil {
			return nil, err
		}
		type item struct {
			VersionId        uint64
			CreateDate       string
			IsDefaultVersion int64
		}
		out := []item{}
		for _, v := range p.versions {
			out = append(out, item{v.id, versionDate(v.created), p.isDefault(v)})
		}
		return struct{ Versions []item }{out}, nil
	})
}

func (s *Server) actGetPolicyVersion(c *apiCall) (any, *apiError) {
	var req struct{ PolicyId, VersionId *uint64 }
	return s.camLocked(c, &req, func() (any, *apiError) {
		p, v, err := s.policyVersion(c, req.PolicyId, req.VersionId)
		if err != nil {
			return nil, err
		}
		type detail struct {
			VersionId        uint64
			CreateDate       string
			IsDefaultVersion int64
			Document         string
		}
		return struct{ PolicyVersion detail }{detail{v.id, versionDate(v.created), p.isDefault(v), v.doc}}, nil
	})
}

func (s *Server) actDeletePolicyVersion(c *apiCall) (any, *apiError) {
	var req struct {
		PolicyId  *uint64
		VersionId []uint64
	}
	return s.camLocked(c, &req, func() (any, *apiError) {
		p, err := s.policyByID(c, req.PolicyId)
		if err != nil {
			return nil, err
		}
		if len(req.VersionId) == 0 {
			return nil, errf("MissingParameter", "The request is missing the required parameter VersionId.")
		}
		for _, id := range req.VersionId {
			switch {
			case p.version(id) == nil:
				return nil, versionNotFound(p, id)
			case id == p.defaultVersion:
				return nil, errf("FailedOperation.PolicyVersionAlreadyDefault", fmt.Sprintf("Version %d is policy %d's default version; make another the default first.", id, p.PolicyId))
			}
		}
		keep := p.versions[:0]
		for _, v := range p.versions {
			if !containsUint(req.VersionId, v.id) {
				keep = append(keep, v)
			}
		}
		p.versions = keep
		return struct{}{}, nil
	})
}

func containsUint(list []uint64, v uint64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) actSetDefaultPolicyVersion(c *apiCall) (any, *apiError) {
	var req struct{ PolicyId, VersionId *uint64 }
	return s.camLocked(c, &req, func() (any, *apiError) {
		p, v, err := s.policyVersion(c, req.PolicyId, req.VersionId)
		if err != nil {
			return nil, err
		}
		if v.id == p.defaultVersion {
			return nil, errf("FailedOperation.PolicyVersionAlreadyDefault", fmt.Sprintf("Version %d is already policy %d's default version.", v.id, p.PolicyId))
		}
		p.setDefault(v.id, c.now)
		return struct{}{}, nil
	})
}

func (s *Server) actUpdatePolicy(c *apiCall) (any, *apiError) {
	var req struct {
		PolicyId                                       *uint64
		PolicyName, Description, PolicyDocument, Alias *string
	}
	return s.camLocked(c, &req, func() (any, *apiError) {
		p, err := s.policyRef(c.account, req.PolicyId, req.PolicyName)
		if err != nil {
			return nil, err
		}
		if req.PolicyDocument != nil {
			if err := checkPolicyDocument(*req.PolicyDocument, false); err != nil {
				return nil, err
			}
		}
		if req.Description != nil {
			p.Description = *req.Description
		}
		if req.Alias != nil {
			p.Alias = *req.Alias
		}
		if req.PolicyDocument != nil {
			if v := p.version(p.defaultVersion); v != nil {
				v.doc = *req.PolicyDocument
				p.setDefault(v.id, c.now)
			} else {
				p.addVersion(*req.PolicyDocument, c.now, true)
			}
		}
		p.UpdateTime = c.now
		return struct{ PolicyId uint64 }{p.PolicyId}, nil
	})
}
