package emulator

import (
	"encoding/json"
	"strings"
)

// Permission policies (Options.EnforcePolicies). A request signed with a
// role session's temporary keys (STS AssumeRole, ServiceRoleCredential) is
// served only when a policy attached to that role (CAM AttachRolePolicy)
// allows its action on its resource. Root keys (Options.Credentials,
// AddCredential) are never checked, as an account's own keys may do
// anything. Evaluation follows CAM's documented policy syntax ("授权策略语法",
// cloud.tencent.com/document/product/216/52046; element reference
// cloud.tencent.com/document/product/378/8962 and
// tencentcloud.com/document/product/598/10603):
//
//   - default deny: nothing is allowed unless a statement allows it;
//     a matching "deny" statement wins over every "allow" ("显式拒绝").
//   - action: a string or a list. "*" is every action; "<service>:*" every
//     action of a service; "*" elsewhere in a name is a wildcard, as in the
//     documented "dc:Describe*" and "name/vpc:*Edge*". The "name/" prefix
//     ("name/sts:AssumeRole") is optional. The service prefix is compared
//     case-insensitively (the docs show "ES:CreateServerlessSpace" next to
//     lower-case prefixes); the API name is compared exactly.
//   - resource: a string or a list; "*" is everything, and "*" inside a
//     six-segment string is a wildcard. The resources the emulator knows:
//     sts:AssumeRole on the RoleArn asked for (qcs::cam::uin/<uin>:roleName/<name>),
//     scf:InvokeFunction on qcs::scf:<region>:uin/<uin>:namespace/<ns>/function/<name>
//     (the caller's account, the X-TC-Region, Namespace default "default"),
//     COS requests on qcs::cos:<region>:uid/<appid>:<bucket>/<key> (the
//     bucket itself: <bucket>/; cos.go), as COS's policy examples write them.
//     For every other action the emulator does not build the resource: any
//     resource string ending in "*" (such as "qcs::ams:*:uin/<uin>:*" or
//     ".../*") matches, any other does not.
//   - condition is not evaluated (a statement with a condition applies as if
//     it had none); permid/actionName feature sets, principal-scoped and
//     preset (QCS) policies are not modelled.
//
// Action names: API 3.0 requests are "<service>:<Action>" (ams:CancelTask,
// trtc:DescribeCloudTranscription, sts:AssumeRole), except SCF's Invoke and
// InvokeFunction, which are both scf:InvokeFunction (the action SCF's CAM
// documentation lists for invoking). CI live moderation: cancel
// ci:CancelAuditingJobs, query ci:DescribeAuditingJobs, create
// ci:CreateAuditingJobs. COS: cos:PutObject, cos:GetObject, cos:GetBucket
// (list), cos:PutBucket.
//
// The refusal: API 3.0 UnauthorizedOperation (in the error lists of the
// products we call: tencentcloud-sdk-go ams/v20201229 and sts/v20180813
// errors.go; CAM's own answer to a sub-user or role without
// permission reads "You are not authorized to perform operation
// (<action>) resource (<resource>) has no permission", as reported at
// cloud.tencent.com/developer/ask/2213302), with the action, the resource
// and the role in the message; CI: HTTP 403 AccessDenied.

// ciPolicyActions maps the CI actions (stats keys) to their CAM names.
var ciPolicyActions = map[string]string{
	"ci.CancelAuditing": "ci:CancelAuditingJobs",
	"ci.GetAuditing":    "ci:DescribeAuditingJobs",
	"ci.CreateAuditing": "ci:CreateAuditingJobs",
}

// policyDecision is the outcome of evaluating a role's policies.
type policyDecision int

const (
	policyImplicitDeny policyDecision = iota // no statement allows it
	policyAllow
	policyExplicitDeny
)

type policyStatement struct {
	Effect   string          `json:"effect"`
	Action   json.RawMessage `json:"action"`
	Resource json.RawMessage `json:"resource"`
}

// evaluatePolicies decides action on resource under the policy documents
// docs (resource "" = one the emulator does not build: only "*"-ended
// resource patterns match). aliases are other names of the same resource
// (a role is both roleName/<name> and role/<id>): a statement naming any of
// them applies. A document that does not parse denies everything: CAM
// parses documents before it stores them (checkPolicyDocument), so one that
// does not is no document to trust, and skipping it would skip its denies.
func evaluatePolicies(docs []string, action, resource string, aliases ...string) policyDecision {
	out := policyImplicitDeny
	for _, doc := range docs {
		var d struct {
			Statement []policyStatement `json:"statement"`
		}
		if json.Unmarshal([]byte(doc), &d) != nil {
			return policyExplicitDeny
		}
		for _, st := range d.Statement {
			if !st.matches(action, resource) && !st.matchesAny(action, aliases) {
				continue
			}
			switch strings.ToLower(st.Effect) {
			case "deny":
				return policyExplicitDeny
			case "allow":
				out = policyAllow
			}
		}
	}
	return out
}

func (st policyStatement) matches(action, resource string) bool {
	actions, ok := stringOrList(st.Action)
	if !ok {
		return false
	}
	resources, ok := stringOrList(st.Resource)
	if !ok {
		return false
	}
	hit := false
	for _, a := range actions {
		if actionMatches(a, action) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	for _, r := range resources {
		if resourceMatches(r, resource) {
			return true
		}
	}
	return false
}

func (st policyStatement) matchesAny(action string, resources []string) bool {
	for _, r := range resources {
		if st.matches(action, r) {
			return true
		}
	}
	return false
}

// actionMatches reports whether the policy action pattern names action
// ("<service>:<Name>").
func actionMatches(pattern, action string) bool {
	pattern = strings.TrimPrefix(strings.TrimSpace(pattern), "name/")
	if pattern == "*" {
		return true
	}
	psvc, pname, ok := strings.Cut(pattern, ":")
	asvc, aname, _ := strings.Cut(action, ":")
	if !ok || !strings.EqualFold(psvc, asvc) {
		return false
	}
	return globMatch(pname, aname)
}

// resourceMatches reports whether a policy resource pattern covers
// resource ("" = not built by the emulator: any pattern ending in "*").
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

// globMatch matches s against pattern, where "*" stands for any run of
// characters (also none) and everything else is literal.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// policyAction is the CAM action name of an API 3.0 request.
func policyAction(service, action string) string {
	if service == "scf" && (action == "Invoke" || action == "InvokeFunction") {
		return "scf:InvokeFunction"
	}
	return service + ":" + action
}

// policyResource is the resource of an API 3.0 request the emulator
// evaluates resource patterns against ("" for the others).
func (s *Server) policyResource(service, action, region, account string, body []byte) string {
	switch {
	case service == "sts" && action == "AssumeRole":
		var req struct{ RoleArn string }
		_ = json.Unmarshal(body, &req)
		return req.RoleArn
	case service == "scf" && (action == "Invoke" || action == "InvokeFunction"):
		var req struct{ FunctionName, Namespace string }
		_ = json.Unmarshal(body, &req)
		ns := req.Namespace
		if ns == "" {
			ns = "default"
		}
		return "qcs::scf:" + region + ":uin/" + s.accountUin(account) + ":namespace/" + ns + "/function/" + req.FunctionName
	}
	return ""
}

// authorize checks a request made with secretID's keys against the
// policies of its role when Options.EnforcePolicies is set; resourceOf
// gives the request's resource (asked only then). It returns "" when the
// request may go on, else the refusal's message.
func (s *Server) authorize(secretID, action string, resourceOf func() string) string {
	if !s.opts.EnforcePolicies {
		return ""
	}
	rs := s.acct.session(secretID)
	if rs.role == "" {
		return "" // an account's own keys: not policy-checked
	}
	resource := resourceOf()
	aliases := s.resourceAliases(resource)
	account := s.acct.accountOf(secretID)
	arn := "qcs::cam::uin/" + s.accountUin(account) + ":roleName/" + rs.role
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
	shown := resource
	if shown == "" {
		shown = "*"
	}
	base := "You are not authorized to perform operation (" + action + ") resource (" + shown + ") has no permission: "
	switch {
	case r == nil:
		return base + "role " + rs.role + " (" + arn + ") is not a CAM role of the emulator, so it has no policies."
	case len(docs) == 0:
		return base + "role " + rs.role + " (" + arn + ") has no policy attached."
	}
	switch evaluatePolicies(docs, action, resource, aliases...) {
	case policyAllow:
		return ""
	case policyExplicitDeny:
		return base + "a policy attached to role " + rs.role + " (" + arn + ") denies " + action + "."
	}
	return base + "no policy attached to role " + rs.role + " (" + arn + ") allows " + action + "."
}

// resourceAliases returns the other names of resource: a CAM role is
// qcs::cam::uin/<uin>:roleName/<name> and qcs::cam::uin/<uin>:role/<id>
// (AssumeRole's RoleArn takes either; tencentcloud-sdk-go sts/v20180813
// models.go), so a statement naming one form applies to a request naming
// the other. Call without the control-plane lock.
func (s *Server) resourceAliases(resource string) []string {
	if roleAccount(resource) == "" {
		return nil
	}
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
