package provision

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// getRole reads role name; ours: scf-deploy created it. A missing role is
// InvalidParameter.RoleNotExist (SDK cam client.go GetRole) or ResourceNotFound.
func (e *Engine) getRole(ctx context.Context, name string) (exists, ours bool, trust string, err error) {
	role, err := e.CAM.GetRole(ctx, name)
	if tcapi.HasCode(err, roleNotFound...) {
		return false, false, "", nil
	}
	if err != nil {
		return false, false, "", fmt.Errorf("role %s: %w", name, err)
	}
	return true, role.RoleInfo.Description == ManagedDescription, role.RoleInfo.PolicyDocument, nil
}

func (e *Engine) planRole(ctx context.Context, p *Plan, r Role) error {
	exists, ours, trust, err := e.getRole(ctx, r.Name)
	switch {
	case err != nil:
		return err
	case exists && !ours:
		p.note("role %s exists and was not created by scf-deploy: used as it is (its trust policy and permissions are not changed)", r.Name)
		return nil
	case !exists:
		note := cmp.Or(r.TrustNote, "trusted by scf.qcloud.com (deploy/cam/trust-scf.json)")
		p.add(&Change{Op: "create", Kind: "role", Name: r.Name, Details: []string{note},
			apply: func(ctx context.Context) error {
				_, err := e.CAM.CreateRole(ctx, tcapi.CreateRoleRequest{RoleName: r.Name, PolicyDocument: r.TrustPolicy, Description: ManagedDescription})
				return err
			}})
	case !sameJSON(trust, r.TrustPolicy):
		p.add(&Change{Op: "update", Kind: "role", Name: r.Name, Details: []string{"trust policy (changed)"},
			apply: func(ctx context.Context) error { return e.CAM.UpdateAssumeRolePolicy(ctx, r.Name, r.TrustPolicy) }})
	}
	pol, err := e.findPolicy(ctx, r.PolicyName())
	if err != nil {
		return fmt.Errorf("policy %s: %w", r.PolicyName(), err)
	}
	var policyID uint64
	switch {
	case pol == nil:
		src := cmp.Or(r.PolicySource, "deploy/cam/"+r.Name+".json")
		p.add(&Change{Op: "create", Kind: "policy", Name: r.PolicyName(), Details: append([]string{"permissions of " + src}, r.PolicyNotes...),
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
			// In place, as terraform-provider-tencentcloud does
			// (resource_tc_cam_policy.go): versions fill up at 5.
			p.add(&Change{Op: "update", Kind: "policy", Name: r.PolicyName(), Details: append([]string{"permissions (changed)"}, r.PolicyNotes...),
				apply: func(ctx context.Context) error { return e.CAM.UpdatePolicy(ctx, policyID, r.Policy) }})
		}
	}
	attached := false
	if exists && pol != nil {
		if attached, err = e.isAttached(ctx, r.Name, r.PolicyName()); err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
	}
	if !attached {
		p.add(&Change{Op: "attach", Kind: "policy", Name: r.PolicyName() + " to " + r.Name,
			apply: func(ctx context.Context) error {
				if policyID == 0 {
					return errors.New("the policy's id is unknown (its creation did not report one)")
				}
				return e.attach(ctx, policyID, r.Name, r.PolicyName())
			}})
	}
	return nil
}

// findPage returns the first item of a 200-per-page listing match accepts.
func findPage[T any](list func(page uint64) ([]T, uint64, error), match func(T) bool) (*T, error) {
	for page := uint64(1); page <= 200; page++ {
		items, total, err := list(page)
		if err != nil {
			return nil, err
		}
		for i := range items {
			if match(items[i]) {
				return &items[i], nil
			}
		}
		if page*200 >= total || len(items) == 0 {
			break
		}
	}
	return nil, nil
}

// findPolicy returns the custom policy named name, or nil.
func (e *Engine) findPolicy(ctx context.Context, name string) (*tcapi.StrategyInfo, error) {
	return findPage(func(page uint64) ([]tcapi.StrategyInfo, uint64, error) {
		out, err := e.CAM.ListPolicies(ctx, tcapi.ListPoliciesRequest{Rp: 200, Page: page, Scope: "Local", Keyword: name})
		return out.List, out.TotalNum, err
	}, func(s tcapi.StrategyInfo) bool { return s.PolicyName == name })
}

func (e *Engine) isAttached(ctx context.Context, role, policy string) (bool, error) {
	a, err := findPage(func(page uint64) ([]tcapi.AttachedPolicyOfRole, uint64, error) {
		out, err := e.CAM.ListAttachedRolePolicies(ctx, role, page, 200)
		return out.List, out.TotalNum, err
	}, func(a tcapi.AttachedPolicyOfRole) bool { return a.PolicyName == policy })
	return a != nil, err
}

// attach attaches a policy; a refusal after which it is attached counts as
// done (SDK cam client.go AttachRolePolicy lists no code for that case).
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

// PlanDelete plans removing d's functions and roles scf-deploy made.
func (e *Engine) PlanDelete(ctx context.Context, d Desired) (*Plan, error) {
	p := &Plan{URLs: map[string]string{}}
	for _, f := range d.Functions {
		p.names = append(p.names, f.Name)
		fn, err := e.SCF.GetFunction(ctx, e.ref(f.Name))
		switch {
		case tcapi.HasCode(err, functionNotFound...):
		case err != nil:
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		case !slices.Contains(fn.Tags, managedTag):
			p.note("function %s was not created by scf-deploy: left alone", f.Name)
		default:
			p.add(&Change{Op: "delete", Kind: "function", Name: f.Name, Details: []string{"with its triggers"},
				apply: func(ctx context.Context) error {
					// Any settled state, a failed one included, can be deleted.
					if _, err := e.waitSettled(ctx, f.Name, "Active", "CreateFailed", "UpdateFailed", "PublishFailed", "DeleteFailed"); err != nil {
						return gone(err, functionNotFound...)
					}
					return e.deleteFunction(ctx, f.Name)
				}})
		}
	}
	for _, r := range d.Roles {
		if err := e.planRoleDelete(ctx, p, r); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (e *Engine) planRoleDelete(ctx context.Context, p *Plan, r Role) error {
	exists, ours, _, err := e.getRole(ctx, r.Name)
	if err != nil {
		return err
	}
	if exists && !ours {
		p.note("role %s was not created by scf-deploy: left alone", r.Name)
	}
	pol, err := e.findPolicy(ctx, r.PolicyName())
	if err != nil {
		return fmt.Errorf("policy %s: %w", r.PolicyName(), err)
	}
	if pol != nil && pol.Description != ManagedDescription {
		p.note("policy %s was not created by scf-deploy: left alone", r.PolicyName())
		pol = nil
	}
	if ours && pol != nil {
		attached, err := e.isAttached(ctx, r.Name, pol.PolicyName)
		if err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
		if attached {
			p.add(&Change{Op: "detach", Kind: "policy", Name: pol.PolicyName + " from " + r.Name,
				apply: func(ctx context.Context) error { return e.CAM.DetachRolePolicy(ctx, pol.PolicyId, r.Name) }})
		}
	}
	if ours {
		p.add(&Change{Op: "delete", Kind: "role", Name: r.Name,
			apply: func(ctx context.Context) error {
				return gone(e.CAM.DeleteRole(ctx, r.Name), "InvalidParameter.RoleNotExist")
			}})
	}
	if pol != nil {
		p.add(&Change{Op: "delete", Kind: "policy", Name: pol.PolicyName,
			apply: func(ctx context.Context) error {
				// DeletePolicy's codes (SDK cam client.go).
				return gone(e.CAM.DeletePolicy(ctx, pol.PolicyId), "ResourceNotFound.PolicyIdNotFound", "InvalidParameter.PolicyIdNotExist")
			}})
	}
	return nil
}
