package tcapi

import "context"

// CAMVersion is the API version of CAM (Cloud Access Management).
const CAMVersion = "2019-01-16"

// CAM calls CAM's role and policy actions. Field names are those of
// tencentcloud-sdk-go tencentcloud/cam/v20190116/models.go; only the fields
// scf-deploy uses are declared. CAM is global: Options.Region may be empty.
type CAM struct {
	c *Client
}

// NewCAM returns a CAM client.
func NewCAM(cred Credentials, opts Options) (*CAM, error) {
	c, err := NewClient("cam", CAMVersion, cred, opts)
	if err != nil {
		return nil, err
	}
	return &CAM{c: c}, nil
}

// Stats returns the client's counters.
func (c *CAM) Stats() Stats { return c.c.Stats() }

// RoleInfo is a role (RoleInfo). PolicyDocument is its trust policy.
type RoleInfo struct {
	RoleId, RoleName, PolicyDocument, Description, AddTime, UpdateTime, RoleType string
}

// GetRoleResponse is GetRoleResponseParams.
type GetRoleResponse struct {
	RoleInfo  RoleInfo
	RequestId string
}

// CreateRoleRequest is CreateRoleRequestParams.
type CreateRoleRequest struct {
	RoleName       string
	PolicyDocument string
	Description    string `json:",omitempty"`
}

// CreateRoleResponse is CreateRoleResponseParams.
type CreateRoleResponse struct{ RoleId, RequestId string }

// CreatePolicyRequest is CreatePolicyRequestParams.
type CreatePolicyRequest struct {
	PolicyName     string
	PolicyDocument string
	Description    string `json:",omitempty"`
}

// CreatePolicyResponse is CreatePolicyResponseParams.
type CreatePolicyResponse struct {
	PolicyId  uint64
	RequestId string
}

// GetPolicyResponse is GetPolicyResponseParams. Type 1 = custom, 2 = preset.
type GetPolicyResponse struct {
	PolicyName, Description string
	Type                    uint64
	AddTime, UpdateTime     string
	PolicyDocument          string
	RequestId               string
}

// ListPoliciesRequest is ListPoliciesRequestParams (Scope All, QCS or Local).
type ListPoliciesRequest struct {
	Rp      uint64 `json:",omitempty"`
	Page    uint64 `json:",omitempty"`
	Scope   string `json:",omitempty"`
	Keyword string `json:",omitempty"`
}

// StrategyInfo is one policy in ListPolicies.
type StrategyInfo struct {
	PolicyId            uint64
	PolicyName, AddTime string
	Type                uint64
	Description         string
}

// ListPoliciesResponse is ListPoliciesResponseParams.
type ListPoliciesResponse struct {
	TotalNum  uint64
	List      []StrategyInfo
	RequestId string
}

// AttachedPolicyOfRole is one policy attached to a role.
type AttachedPolicyOfRole struct {
	PolicyId                        uint64
	PolicyName, AddTime, PolicyType string
	Description                     string
}

// ListAttachedRolePoliciesResponse is ListAttachedRolePoliciesResponseParams.
type ListAttachedRolePoliciesResponse struct {
	List      []AttachedPolicyOfRole
	TotalNum  uint64
	RequestId string
}

// GetRole returns the role named name.
func (c *CAM) GetRole(ctx context.Context, name string) (GetRoleResponse, error) {
	return callAnswer[GetRoleResponse](ctx, c.c, "GetRole", struct{ RoleName string }{name})
}

// CreateRole creates a role with its trust policy.
func (c *CAM) CreateRole(ctx context.Context, req CreateRoleRequest) (CreateRoleResponse, error) {
	return callAnswer[CreateRoleResponse](ctx, c.c, "CreateRole", req)
}

// DeleteRole deletes the role named name.
func (c *CAM) DeleteRole(ctx context.Context, name string) error {
	return c.c.Call(ctx, "DeleteRole", struct{ RoleName string }{name}, nil)
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (c *CAM) UpdateAssumeRolePolicy(ctx context.Context, roleName, document string) error {
	return c.c.Call(ctx, "UpdateAssumeRolePolicy", struct{ PolicyDocument, RoleName string }{document, roleName}, nil)
}

// CreatePolicy creates a custom policy.
func (c *CAM) CreatePolicy(ctx context.Context, req CreatePolicyRequest) (CreatePolicyResponse, error) {
	return callAnswer[CreatePolicyResponse](ctx, c.c, "CreatePolicy", req)
}

// GetPolicy returns a policy and its current document.
func (c *CAM) GetPolicy(ctx context.Context, id uint64) (GetPolicyResponse, error) {
	return callAnswer[GetPolicyResponse](ctx, c.c, "GetPolicy", struct{ PolicyId uint64 }{id})
}

// ListPolicies lists one page of policies.
func (c *CAM) ListPolicies(ctx context.Context, req ListPoliciesRequest) (ListPoliciesResponse, error) {
	return callAnswer[ListPoliciesResponse](ctx, c.c, "ListPolicies", req)
}

// CreatePolicyVersion adds a version of a policy and makes it the default.
// Like every Create* call it is retried only when refused unprocessed.
func (c *CAM) CreatePolicyVersion(ctx context.Context, id uint64, document string) error {
	return c.c.Call(ctx, "CreatePolicyVersion", struct {
		PolicyId       uint64
		PolicyDocument string
		SetAsDefault   bool
	}{id, document, true}, nil)
}

// UpdatePolicy replaces the document of a policy's default version in
// place, creating no new version (tencentcloud-sdk-go
// cam/v20190116/client.go, UpdatePolicy: "如果已存在策略版本，本接口会直接更新策略的默认版本，
// 不会创建新版本"), so it never meets CAM's cap of 5 versions per policy.
// Description is left as it is.
func (c *CAM) UpdatePolicy(ctx context.Context, id uint64, document string) error {
	return c.c.Call(ctx, "UpdatePolicy", struct {
		PolicyId       uint64
		PolicyDocument string
	}{id, document}, nil)
}

// DeletePolicy deletes custom policies.
func (c *CAM) DeletePolicy(ctx context.Context, ids ...uint64) error {
	return c.c.Call(ctx, "DeletePolicy", struct{ PolicyId []uint64 }{ids}, nil)
}

// AttachRolePolicy attaches a policy to the role named roleName.
func (c *CAM) AttachRolePolicy(ctx context.Context, id uint64, roleName string) error {
	return c.c.Call(ctx, "AttachRolePolicy", struct {
		PolicyId       uint64
		AttachRoleName string
	}{id, roleName}, nil)
}

// DetachRolePolicy detaches a policy from the role named roleName.
func (c *CAM) DetachRolePolicy(ctx context.Context, id uint64, roleName string) error {
	return c.c.Call(ctx, "DetachRolePolicy", struct {
		PolicyId       uint64
		DetachRoleName string
	}{id, roleName}, nil)
}

// ListAttachedRolePolicies lists one page (page from 1, at most 200 a page)
// of the policies attached to the role named roleName.
func (c *CAM) ListAttachedRolePolicies(ctx context.Context, roleName string, page, rp uint64) (ListAttachedRolePoliciesResponse, error) {
	return callAnswer[ListAttachedRolePoliciesResponse](ctx, c.c, "ListAttachedRolePolicies", struct {
		Page, Rp uint64
		RoleName string
	}{page, rp, roleName})
}
