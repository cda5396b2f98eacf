package provision

import (
	"context"
	"fmt"
)

// PlanDelete plans removing d's functions and roles where scf-deploy made
// them; anything else is left alone (and noted).
func (e *Engine) PlanDelete(ctx context.Context, d Desired) (*Plan, error) {
	p := &Plan{URLs: map[string]string{}}
	for _, f := range d.Functions {
		p.names = append(p.names, f.Name)
		fn, err := e.SCF.GetFunction(ctx, e.ref(f.Name))
		switch {
		case isNotFound(err, "ResourceNotFound.Function", "ResourceNotFound.FunctionName"):
			continue
		case err != nil:
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		case !hasTag(fn.Tags, ManagedTagKey, ManagedTagValue):
			p.Notes = append(p.Notes, fmt.Sprintf("function %s was not created by scf-deploy: left alone", f.Name))
			continue
		}
		name := f.Name
		p.Changes = append(p.Changes, &Change{Op: "delete", Kind: "function", Name: name, Details: []string{"with its triggers"},
			apply: func(ctx context.Context) error {
				// Any settled state, a failed one included, can be deleted.
				if _, err := e.waitSettled(ctx, name, "Active", "CreateFailed", "UpdateFailed", "PublishFailed", "DeleteFailed"); err != nil {
					return gone(err, "ResourceNotFound.Function", "ResourceNotFound.FunctionName")
				}
				return e.deleteFunction(ctx, name)
			}})
	}
	for _, r := range d.Roles {
		role, err := e.CAM.GetRole(ctx, r.Name)
		roleOurs := false
		switch {
		case isNotFound(err, "InvalidParameter.RoleNotExist", "ResourceNotFound"):
		case err != nil:
			return nil, fmt.Errorf("role %s: %w", r.Name, err)
		case role.RoleInfo.Description != ManagedDescription:
			p.Notes = append(p.Notes, fmt.Sprintf("role %s was not created by scf-deploy: left alone", r.Name))
		default:
			roleOurs = true
		}
		pol, err := e.findPolicy(ctx, r.PolicyName())
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", r.PolicyName(), err)
		}
		if pol != nil && pol.Description != ManagedDescription {
			p.Notes = append(p.Notes, fmt.Sprintf("policy %s was not created by scf-deploy: left alone", r.PolicyName()))
			pol = nil
		}
		if roleOurs && pol != nil {
			attached, err := e.isAttached(ctx, r.Name, pol.PolicyName)
			if err != nil {
				return nil, fmt.Errorf("role %s: %w", r.Name, err)
			}
			if attached {
				id, role := pol.PolicyId, r.Name
				p.Changes = append(p.Changes, &Change{Op: "detach", Kind: "policy", Name: pol.PolicyName + " from " + role,
					apply: func(ctx context.Context) error { return e.CAM.DetachRolePolicy(ctx, id, role) }})
			}
		}
		if roleOurs {
			name := r.Name
			p.Changes = append(p.Changes, &Change{Op: "delete", Kind: "role", Name: name,
				apply: func(ctx context.Context) error {
					return gone(e.CAM.DeleteRole(ctx, name), "InvalidParameter.RoleNotExist")
				}})
		}
		if pol != nil {
			id, name := pol.PolicyId, pol.PolicyName
			p.Changes = append(p.Changes, &Change{Op: "delete", Kind: "policy", Name: name,
				apply: func(ctx context.Context) error {
					// Both are among DeletePolicy's codes (tencentcloud-sdk-go
					// cam/v20190116/client.go).
					return gone(e.CAM.DeletePolicy(ctx, id), "ResourceNotFound.PolicyIdNotFound", "InvalidParameter.PolicyIdNotExist")
				}})
		}
	}
	return p, nil
}
