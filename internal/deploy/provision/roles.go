package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func (e *Engine) planRole(ctx context.Context, p *Plan, r Role) error {
	role, err := e.CAM.GetRole(ctx, r.Name)
	exists := true
	switch {
	// GetRole's codes (tencentcloud-sdk-go cam/v20190116/client.go) name a
	// missing role InvalidParameter.RoleNotExist; any ResourceNotFound is
	// taken to mean the same.
	case isNotFound(err, "InvalidParameter.RoleNotExist", "ResourceNotFound"):
		exists = false
	case err != nil:
		return fmt.Errorf("role %s: %w", r.Name, err)
	}
	if exists && role.RoleInfo.Description != ManagedDescription {
		p.Notes = append(p.Notes, fmt.Sprintf("role %s exists and was not created by scf-deploy: used as it is (its trust policy and permissions are not changed)", r.Name))
		return nil
	}
	if !exists {
		trust := r.TrustNote
		if trust == "" {
			trust = "trusted by scf.qcloud.com (deploy/cam/trust-scf.json)"
		}
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "role", Name: r.Name, Details: []string{trust},
			apply: func(ctx context.Context) error {
				_, err := e.CAM.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: r.Name, PolicyDocument: r.TrustPolicy, Description: ManagedDescription})
				return err
			}})
	} else if !sameJSON(role.RoleInfo.PolicyDocument, r.TrustPolicy) {
		p.Changes = append(p.Changes, &Change{Op: "update", Kind: "role", Name: r.Name, Details: []string{"trust policy (changed)"},
			apply: func(ctx context.Context) error { return e.CAM.UpdateAssumeRolePolicy(ctx, r.Name, r.TrustPolicy) }})
	}

	// The role's policy.
	pol, err := e.findPolicy(ctx, r.PolicyName())
	if err != nil {
		return fmt.Errorf("policy %s: %w", r.PolicyName(), err)
	}
	var policyID uint64
	switch {
	case pol == nil:
		src := r.PolicySource
		if src == "" {
			src = "deploy/cam/" + r.Name + ".json"
		}
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "policy", Name: r.PolicyName(), Details: append([]string{"permissions of " + src}, r.PolicyNotes...),
			apply: func(ctx context.Context) error {
				out, err := e.CAM.CreatePolicy(ctx, tcapi.CreatePolicyRequest{PolicyName: r.PolicyName(), PolicyDocument: r.Policy, Description: ManagedDescription})
				policyID = out.PolicyId
				return err
			}})
	case pol.Description != ManagedDescription:
		return fmt.Errorf("a CAM policy named %s exists and was not created by scf-deploy; rename or delete it", r.PolicyName())
	default:
		policyID = pol.PolicyId
		got, err := e.CAM.GetPolicy(ctx, pol.PolicyId)
		if err != nil {
			return fmt.Errorf("policy %s: %w", r.PolicyName(), err)
		}
		if !sameJSON(got.PolicyDocument, r.Policy) {
			// UpdatePolicy, as terraform-provider-tencentcloud changes a
			// policy's document (services/cam/resource_tc_cam_policy.go,
			// resourceTencentCloudCamPolicyUpdate), rather than
			// CreatePolicyVersion: CAM keeps at most 5 versions of a policy
			// (CreatePolicyVersion then fails FailedOperation.PolicyVersionFull),
			// and UpdatePolicy rewrites the default version in place without
			// adding one (tencentcloud-sdk-go cam/v20190116/client.go,
			// UpdatePolicy). Deleting the oldest non-default version first
			// would also work but takes three calls, keeps old documents
			// around, and races with anyone else editing the policy.
			id := pol.PolicyId
			p.Changes = append(p.Changes, &Change{Op: "update", Kind: "policy", Name: r.PolicyName(), Details: append([]string{"permissions (changed)"}, r.PolicyNotes...),
				apply: func(ctx context.Context) error { return e.CAM.UpdatePolicy(ctx, id, r.Policy) }})
		}
	}
	attached := false
	if exists && pol != nil {
		attached, err = e.isAttached(ctx, r.Name, r.PolicyName())
		if err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
	}
	if !attached {
		p.Changes = append(p.Changes, &Change{Op: "attach", Kind: "policy", Name: r.PolicyName() + " to " + r.Name,
			apply: func(ctx context.Context) error {
				if policyID == 0 {
					return errors.New("the policy's id is unknown (its creation did not report one)")
				}
				return e.attach(ctx, policyID, r.Name, r.PolicyName())
			}})
	}
	return nil
}

// findPolicy returns the custom policy named name, or nil.
func (e *Engine) findPolicy(ctx context.Context, name string) (*tcapi.StrategyInfo, error) {
	for page := uint64(1); page <= 200; page++ {
		out, err := e.CAM.ListPolicies(ctx, tcapi.ListPoliciesRequest{Rp: 200, Page: page, Scope: "Local", Keyword: name})
		if err != nil {
			return nil, err
		}
		for i := range out.List {
			if out.List[i].PolicyName == name {
				return &out.List[i], nil
			}
		}
		if page*200 >= out.TotalNum || len(out.List) == 0 {
			return nil, nil
		}
	}
	return nil, nil
}

func (e *Engine) isAttached(ctx context.Context, role, policy string) (bool, error) {
	for page := uint64(1); page <= 200; page++ {
		out, err := e.CAM.ListAttachedRolePolicies(ctx, role, page, 200)
		if err != nil {
			return false, err
		}
		for _, a := range out.List {
			if a.PolicyName == policy {
				return true, nil
			}
		}
		if page*200 >= out.TotalNum || len(out.List) == 0 {
			return false, nil
		}
	}
	return false, nil
}

// attach attaches a policy to a role. tencentcloud-sdk-go lists no code for
// attaching a policy that is already attached (cam/v20190116/client.go,
// AttachRolePolicy), and the emulator accepts it; whatever CAM answers, a
// refusal after which the policy is attached (a retried call whose first
// attempt had succeeded, someone else's attach) counts as done.
func (e *Engine) attach(ctx context.Context, id uint64, role, policy string) error {
	err := e.CAM.AttachRolePolicy(ctx, id, role)
	if err == nil {
		return nil
	}
	if ok, lerr := e.isAttached(ctx, role, policy); lerr == nil && ok {
		return nil
	}
	return err
}
