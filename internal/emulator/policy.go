package emulator

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
)

// Permission policies (CAM doc 216/52046; docs/emulator.md#permission-policies-enforce-policies).

// ciPolicyActions maps the CI actions (stats keys) to their CAM names.
var ciPolicyActions = map[string]string{
	"ci.CancelAuditing": "ci:CancelAuditingJobs",
	"ci.GetAuditing":    "ci:DescribeAuditingJobs",
	"ci.CreateAuditing": "ci:CreateAuditingJobs",
}

type policyDecision int

const (
	policyImplicitDeny policyDecision = iota // no statement allows it
	policyAllow
	policyExplicitDeny
)

// policyStatement is a statement of a permission or a trust policy; Principal
// is read by trust policies only.
type policyStatement struct {
	Effect    string          `json:"effect"`
	Action    json.RawMessage `json:"action"`
	Resource  json.RawMessage `json:"resource"`
	Principal json.RawMessage `json:"principal"`
	Condition json.RawMessage `json:"condition"`
}

// decide runs the statements of docs that applies matches: a deny wins, else
// an allow. A document that does not parse, or a statement applies cannot
// read (bad), denies: skipping it would skip its denies.
func decide(docs []string, applies func(policyStatement) (match, bad bool)) policyDecision {
	out := policyImplicitDeny
	for _, doc := range docs {
		var d struct {
			Statement []policyStatement `json:"statement"`
		}
		if json.Unmarshal([]byte(doc), &d) != nil {
			return policyExplicitDeny
		}
		for _, st := range d.Statement {
			match, bad := applies(st)
			switch {
			case bad:
				return policyExplicitDeny
			case !match:
			case strings.EqualFold(st.Effect, "deny"):
				return policyExplicitDeny
			case strings.EqualFold(st.Effect, "allow"):
				out = policyAllow
			}
		}
	}
	return out
}

// evaluatePolicies decides action on resource (or an alias) under docs.
func evaluatePolicies(docs []string, action, resource string, aliases ...string) policyDecision {
	return decide(docs, func(st policyStatement) (bool, bool) {
		resources, ok := stringOrList(st.Resource)
		return ok && st.hasAction(action) && slices.ContainsFunc(resources, func(r string) bool {
			return resourceMatches(r, resource) || slices.ContainsFunc(aliases, func(a string) bool { return resourceMatches(r, a) })
		}), false
	})
}

func (st policyStatement) hasAction(action string) bool {
	actions, ok := stringOrList(st.Action)
	return ok && slices.ContainsFunc(actions, func(a string) bool { return actionMatches(a, action) })
}

// actionMatches: the service part is compared case-insensitively.
func actionMatches(pattern, action string) bool {
	pattern = strings.TrimPrefix(strings.TrimSpace(pattern), "name/")
	if pattern == "*" {
		return true
	}
	psvc, pname, ok := strings.Cut(pattern, ":")
	asvc, aname, _ := strings.Cut(action, ":")
	return ok && strings.EqualFold(psvc, asvc) && globMatch(pname, aname)
}

// resourceMatches: resource "" (not built) matches any pattern ending in "*".
func resourceMatches(pattern, resource string) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "*" {
		return true
	}
	if resource == "" {
		return strings.HasSuffix(pattern, "*")
	}
	return globMatch(pattern, resource)
}

// globMatch matches s against pattern, "*" standing for any run.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// isInvoke: Invoke and InvokeFunction are both scf:InvokeFunction in CAM.
func isInvoke(service, action string) bool {
	return service == "scf" && (action == "Invoke" || action == "InvokeFunction")
}

// policyAction is the CAM action name of an API 3.0 request.
func policyAction(service, action string) string {
	if isInvoke(service, action) {
		return "scf:InvokeFunction"
	}
	return service + ":" + action
}

// policyResource is an API 3.0 request's resource ("" when not built).
func (s *Server) policyResource(service, action, region, account string, body []byte) string {
	var req struct{ RoleArn, FunctionName, Namespace string }
	_ = json.Unmarshal(body, &req)
	switch {
	case service == "sts" && action == "AssumeRole":
		return req.RoleArn
	case isInvoke(service, action):
		return "qcs::scf:" + region + ":uin/" + s.accountUin(account) + ":namespace/" + cmp.Or(req.Namespace, "default") + "/function/" + req.FunctionName
	}
	return ""
}

// authorize checks a role session's request against its role's policies
// (EnforcePolicies); "" allows it, else the refusal.
func (s *Server) authorize(secretID, action string, resourceOf func() string) string {
	if !s.opts.EnforcePolicies {
		return ""
	}
	rs := s.acct.session(secretID)
	if rs.role == "" {
		return "" // an account's own keys
	}
	resource := resourceOf()
	aliases := s.resourceAliases(resource)
	account := s.acct.accountOf(secretID)
	var docs []string
	s.control.mu.Lock()
	r := s.control.roles[scope(account, rs.role)]
	if r != nil {
		for _, id := range r.attached {
			if p := s.control.policies[id]; p != nil {
				docs = append(docs, p.PolicyDocument)
			}
		}
	}
	s.control.mu.Unlock()
	role := "role " + rs.role + " (qcs::cam::uin/" + s.accountUin(account) + ":roleName/" + rs.role + ")"
	base := "You are not authorized to perform operation (" + action + ") resource (" + cmp.Or(resource, "*") + ") has no permission: "
	switch {
	case r == nil:
		return base + role + " is not a CAM role of the emulator, so it has no policies."
	case len(docs) == 0:
		return base + role + " has no policy attached."
	}
	switch evaluatePolicies(docs, action, resource, aliases...) {
	case policyAllow:
		return ""
	case policyExplicitDeny:
		return base + "a policy attached to " + role + " denies " + action + "."
	}
	return base + "no policy attached to " + role + " allows " + action + "."
}

// resourceAliases: a role's roleName/ and role/ ARNs (SDK sts models.go).
func (s *Server) resourceAliases(resource string) []string {
	_, name, id, _, ok := s.camRoleByArn(resource)
	if !ok {
		return nil
	}
	prefix := resource[:strings.Index(resource, ":role")+1]
	out := []string{prefix + "roleName/" + name}
	if id != "" {
		out = append(out, prefix+"role/"+id)
	}
	return out
}
