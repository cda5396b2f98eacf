package provision

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// fake is an in-memory SCF and CAM that behaves like internal/emulator for the
// calls the engine makes: the same error codes, a function Creating/Updating
// for readyPolls GetFunction calls and refusing changes meanwhile, one http
// trigger per function named after its URL id with the published NetConfig
// in TriggerDesc, timers listed as {"cron":...} (5 fields made 7) with
// Enable 1/0, UpdateTrigger in place, an empty Variables list ignored and
// [{"Key":"","Value":""}] clearing, at most 5 versions per policy.
// failNext makes the next call of an action fail before doing anything;
// settleNext makes the next CreateFunction or UpdateFunctionConfiguration
// (or UpdateFunctionCode) settle in CreateFailed / UpdateFailed instead of
// Active; rolePropagation makes a role unusable by SCF for that many
// CreateFunction/UpdateFunctionConfiguration calls after CreateRole or
// AttachRolePolicy.
type fake struct {
	mu              sync.Mutex
	readyPolls      int
	funcs           map[string]*fakeFn
	roles           map[string]*tcapi.RoleInfo
	policies        map[uint64]*tcapi.GetPolicyResponse
	versions        map[uint64]int
	attached        map[string][]uint64
	nextID          uint64
	calls           []string // every call, "Action name"
	failNext        map[string]string
	settleNext      map[string]string // action -> failed status
	rolePropagation int
	roleNotReady    map[string]int // role -> refusals left
	requests        []any          // every SCF mutating request, as sent
}

type fakeFn struct {
	cfg      tcapi.GetFunctionResponse
	hash     string
	polls    int
	settle   string // the status after the transient one: Active, or a failed one
	triggers []tcapi.TriggerInfo
}

func newFake() *fake {
	return &fake{funcs: map[string]*fakeFn{}, roles: map[string]*tcapi.RoleInfo{}, policies: map[uint64]*tcapi.GetPolicyResponse{},
		versions: map[uint64]int{}, attached: map[string][]uint64{}, failNext: map[string]string{}, settleNext: map[string]string{},
		roleNotReady: map[string]int{}}
}

// settling puts fn in a transient status that ends in Active, or in the
// failed status settleNext holds for action.
func (f *fake) settling(fn *fakeFn, action, transient string) {
	fn.cfg.Status, fn.polls, fn.settle = transient, 0, "Active"
	fn.cfg.StatusDesc, fn.cfg.StatusReasons = "", nil
	if st, ok := f.settleNext[action]; ok {
		delete(f.settleNext, action)
		fn.settle = st
	}
	if f.readyPolls == 0 {
		f.settled(fn)
	}
}

func (f *fake) settled(fn *fakeFn) {
	fn.cfg.Status = fn.settle
	if fn.settle != "Active" {
		fn.cfg.StatusDesc = "fake: " + fn.settle
		fn.cfg.StatusReasons = []tcapi.StatusReason{{ErrorCode: "InternalError", ErrorMessage: "fake: " + fn.settle}}
	}
}

// roleUsable answers as SCF does while a role has not reached it yet.
func (f *fake) roleUsable(action, role string) error {
	if role == "" {
		return nil
	}
	if f.roles[role] == nil {
		return apiErr(action, "ResourceNotFound.Role")
	}
	if f.roleNotReady[role] > 0 {
		f.roleNotReady[role]--
		return apiErr(action, "ResourceNotFound.RoleCheck")
	}
	return nil
}

func apiErr(action, code string) error {
	return &tcapi.Error{Service: "fake", Action: action, Code: code, Message: "fake " + code}
}

// enter records a call and returns the injected failure for it.
func (f *fake) enter(action, name string) error {
	f.calls = append(f.calls, action+" "+name)
	if code, ok := f.failNext[action]; ok {
		delete(f.failNext, action)
		return apiErr(action, code)
	}
	return nil
}

// mutating returns the calls that change something.
func (f *fake) mutating() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fake) resetCalls() {
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
}

func (f *fake) fn(action, name string) (*fakeFn, error) {
	fn := f.funcs[name]
	if fn == nil {
		return nil, apiErr(action, "ResourceNotFound.Function")
	}
	return fn, nil
}

func (fn *fakeFn) active() bool { return fn.cfg.Status == "Active" }

func (f *fake) GetFunction(_ context.Context, req tcapi.FunctionRef) (tcapi.GetFunctionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetFunction", req.FunctionName); err != nil {
		return tcapi.GetFunctionResponse{}, err
	}
	fn, err := f.fn("GetFunction", req.FunctionName)
	if err != nil {
		return tcapi.GetFunctionResponse{}, err
	}
	if fn.cfg.Status == "Creating" || fn.cfg.Status == "Updating" {
		fn.polls++
		if fn.polls > f.readyPolls {
			f.settled(fn)
		}
	}
	out := fn.cfg
	out.Environment.Variables = append([]tcapi.Variable(nil), fn.cfg.Environment.Variables...)
	return out, nil
}

func (f *fake) GetFunctionAddress(_ context.Context, req tcapi.FunctionRef) (tcapi.GetFunctionAddressResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetFunctionAddress", req.FunctionName); err != nil {
		return tcapi.GetFunctionAddressResponse{}, err
	}
	fn, err := f.fn("GetFunctionAddress", req.FunctionName)
	if err != nil {
		return tcapi.GetFunctionAddressResponse{}, err
	}
	return tcapi.GetFunctionAddressResponse{CodeSha256: fn.hash}, nil
}

// updatable: SCF takes a change of an Active or UpdateFailed function.
func (fn *fakeFn) updatable() bool { return fn.active() || fn.cfg.Status == "UpdateFailed" }

func (f *fake) CreateFunction(_ context.Context, req tcapi.CreateFunctionRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateFunction", req.FunctionName); err != nil {
		return err
	}
	if f.funcs[req.FunctionName] != nil {
		return apiErr("CreateFunction", "ResourceInUse.Function")
	}
	if err := f.roleUsable("CreateFunction", req.Role); err != nil {
		return err
	}
	f.requests = append(f.requests, req)
	zip, err := base64.StdEncoding.DecodeString(req.Code.ZipFile)
	if err != nil {
		return apiErr("CreateFunction", "InvalidParameterValue.ZipFile")
	}
	fn := &fakeFn{hash: CodeSHA256(zip), cfg: tcapi.GetFunctionResponse{FunctionName: req.FunctionName, Runtime: req.Runtime, Handler: req.Handler,
		Role: req.Role, MemorySize: req.MemorySize, Timeout: req.Timeout, Tags: req.Tags}}
	if req.Environment != nil {
		fn.cfg.Environment = *req.Environment
	}
	f.settling(fn, "CreateFunction", "Creating")
	f.funcs[req.FunctionName] = fn
	return nil
}

func (f *fake) UpdateFunctionCode(_ context.Context, req tcapi.UpdateFunctionCodeRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdateFunctionCode", req.FunctionName); err != nil {
		return err
	}
	fn, err := f.fn("UpdateFunctionCode", req.FunctionName)
	if err != nil {
		return err
	}
	if !fn.updatable() {
		return apiErr("UpdateFunctionCode", "FailedOperation.UpdateFunctionCode")
	}
	zip, _ := base64.StdEncoding.DecodeString(req.ZipFile)
	fn.hash = CodeSHA256(zip)
	if req.Handler != "" {
		fn.cfg.Handler = req.Handler
	}
	f.settling(fn, "UpdateFunctionCode", "Updating")
	return nil
}

func (f *fake) UpdateFunctionConfiguration(_ context.Context, req tcapi.UpdateFunctionConfigurationRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdateFunctionConfiguration", req.FunctionName); err != nil {
		return err
	}
	fn, err := f.fn("UpdateFunctionConfiguration", req.FunctionName)
	if err != nil {
		return err
	}
	if !fn.updatable() {
		return apiErr("UpdateFunctionConfiguration", "FailedOperation.UpdateFunctionConfiguration")
	}
	role := fn.cfg.Role
	if req.Role != nil {
		role = *req.Role
	}
	if err := f.roleUsable("UpdateFunctionConfiguration", role); err != nil {
		return err
	}
	f.requests = append(f.requests, req)
	if req.MemorySize != 0 {
		fn.cfg.MemorySize = req.MemorySize
	}
	if req.Timeout != 0 {
		fn.cfg.Timeout = req.Timeout
	}
	if req.Role != nil {
		fn.cfg.Role = *req.Role
	}
	switch vars := req.Environment; {
	case vars == nil || len(vars.Variables) == 0: // SCF ignores an empty list
	case len(vars.Variables) == 1 && vars.Variables[0] == (tcapi.Variable{}):
		fn.cfg.Environment.Variables = []tcapi.Variable{}
	default:
		fn.cfg.Environment = *vars
	}
	f.settling(fn, "UpdateFunctionConfiguration", "Updating")
	return nil
}

func (f *fake) DeleteFunction(_ context.Context, req tcapi.FunctionRef) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteFunction", req.FunctionName); err != nil {
		return err
	}
	fn, err := f.fn("DeleteFunction", req.FunctionName)
	if err != nil {
		return err
	}
	if fn.cfg.Status == "Creating" || fn.cfg.Status == "Updating" {
		return apiErr("DeleteFunction", "FailedOperation.DeleteFunction")
	}
	delete(f.funcs, req.FunctionName)
	return nil
}

func (f *fake) ListTriggers(_ context.Context, req tcapi.ListTriggersRequest) (tcapi.ListTriggersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListTriggers", req.FunctionName); err != nil {
		return tcapi.ListTriggersResponse{}, err
	}
	fn, err := f.fn("ListTriggers", req.FunctionName)
	if err != nil {
		return tcapi.ListTriggersResponse{}, err
	}
	out := tcapi.ListTriggersResponse{TotalCount: uint64(len(fn.triggers))}
	for i := int(req.Offset); i < len(fn.triggers) && i < int(req.Offset+req.Limit); i++ {
		out.Triggers = append(out.Triggers, fn.triggers[i])
	}
	return out, nil
}

func (f *fake) CreateTrigger(_ context.Context, req tcapi.CreateTriggerRequest) (tcapi.CreateTriggerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateTrigger", req.FunctionName+"/"+req.Type); err != nil {
		return tcapi.CreateTriggerResponse{}, err
	}
	f.requests = append(f.requests, req)
	fn, err := f.fn("CreateTrigger", req.FunctionName)
	if err != nil {
		return tcapi.CreateTriggerResponse{}, err
	}
	if !fn.active() {
		return tcapi.CreateTriggerResponse{}, apiErr("CreateTrigger", "FailedOperation.FunctionStatusError")
	}
	t := tcapi.TriggerInfo{Type: req.Type, TriggerName: req.TriggerName, CustomArgument: req.CustomArgument, Description: req.Description, Qualifier: req.Qualifier}
	if req.Enable != "CLOSE" {
		t.Enable = 1
	}
	for _, o := range fn.triggers {
		if o.TriggerName == req.TriggerName || (req.Type == "http" && o.Type == "http") {
			return tcapi.CreateTriggerResponse{}, apiErr("CreateTrigger", "ResourceInUse.Trigger")
		}
	}
	switch req.Type {
	case "timer":
		t.TriggerDesc = fakeCron(req.TriggerDesc)
	case "http":
		f.nextID++
		t.TriggerName = fmt.Sprintf("u%09d", f.nextID)
		t.TriggerDesc = fakeURLDesc(t.TriggerName, req.TriggerDesc)
	}
	fn.triggers = append(fn.triggers, t)
	return tcapi.CreateTriggerResponse{TriggerInfo: tcapi.Trigger{Type: t.Type, TriggerName: t.TriggerName, TriggerDesc: t.TriggerDesc, Qualifier: t.Qualifier}}, nil
}

func fakeCron(c string) string {
	return fmt.Sprintf(`{"cron":%q}`, normCron(c))
}

// fakeURLDesc is an http trigger's TriggerDesc as ListTriggers answers it:
// the published NetConfig, with the addresses of what is enabled (derived
// from the id, so an update keeps them).
func fakeURLDesc(id, sent string) string {
	var in struct {
		AuthType  string
		NetConfig struct{ EnableIntranet, EnableExtranet bool }
	}
	_ = json.Unmarshal([]byte(sent), &in)
	nc := map[string]any{"EnableIntranet": in.NetConfig.EnableIntranet, "EnableExtranet": in.NetConfig.EnableExtranet}
	for _, k := range []string{"IntranetUrl", "IntranetHTTPUrl", "ExtranetUrl", "ExtranetHTTPUrl", "WssIntranetUrl", "WsIntranetUrl", "WssExtranetUrl", "WsExtranetUrl"} {
		nc[k] = ""
	}
	if in.NetConfig.EnableExtranet {
		nc["ExtranetUrl"] = "https://1250000000-" + id + ".ap-guangzhou.tencentscf.com"
		nc["ExtranetHTTPUrl"] = "http://1250000000-" + id + ".ap-guangzhou.tencentscf.com"
	}
	if in.NetConfig.EnableIntranet {
		nc["IntranetUrl"] = "https://1250000000-" + id + ".in.ap-guangzhou.tencentscf.com"
		nc["IntranetHTTPUrl"] = "http://1250000000-" + id + ".in.ap-guangzhou.tencentscf.com"
	}
	b, _ := json.Marshal(map[string]any{"AuthType": in.AuthType, "NetConfig": nc})
	return string(b)
}

func (f *fake) UpdateTrigger(_ context.Context, req tcapi.UpdateTriggerRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdateTrigger", req.FunctionName+"/"+req.TriggerName); err != nil {
		return err
	}
	f.requests = append(f.requests, req)
	fn, err := f.fn("UpdateTrigger", req.FunctionName)
	if err != nil {
		return err
	}
	for i := range fn.triggers {
		t := &fn.triggers[i]
		if t.TriggerName != req.TriggerName || t.Type != req.Type {
			continue
		}
		switch req.Type {
		case "timer":
			t.TriggerDesc = fakeCron(req.TriggerDesc)
		case "http":
			t.TriggerDesc = fakeURLDesc(t.TriggerName, req.TriggerDesc)
		default:
			return apiErr("UpdateTrigger", "InvalidParameterValue.Type")
		}
		t.Enable = map[string]uint64{"OPEN": 1, "CLOSE": 0}[req.Enable]
		if req.CustomArgument != nil {
			t.CustomArgument = *req.CustomArgument
		}
		if req.Description != "" {
			t.Description = req.Description
		}
		return nil
	}
	return apiErr("UpdateTrigger", "ResourceNotFound.Trigger")
}

func (f *fake) DeleteTrigger(_ context.Context, req tcapi.DeleteTriggerRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteTrigger", req.FunctionName+"/"+req.TriggerName); err != nil {
		return err
	}
	fn, err := f.fn("DeleteTrigger", req.FunctionName)
	if err != nil {
		return err
	}
	for i, t := range fn.triggers {
		if t.TriggerName == req.TriggerName && t.Type == req.Type {
			fn.triggers = append(fn.triggers[:i], fn.triggers[i+1:]...)
			return nil
		}
	}
	return apiErr("DeleteTrigger", "ResourceNotFound.Trigger")
}

func (f *fake) GetRole(_ context.Context, name string) (tcapi.GetRoleResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetRole", name); err != nil {
		return tcapi.GetRoleResponse{}, err
	}
	r := f.roles[name]
	if r == nil {
		return tcapi.GetRoleResponse{}, apiErr("GetRole", "InvalidParameter.RoleNotExist")
	}
	return tcapi.GetRoleResponse{RoleInfo: *r}, nil
}

func (f *fake) CreateRole(_ context.Context, req tcapi.CreateRoleRequest) (tcapi.CreateRoleResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateRole", req.RoleName); err != nil {
		return tcapi.CreateRoleResponse{}, err
	}
	if f.roles[req.RoleName] != nil {
		return tcapi.CreateRoleResponse{}, apiErr("CreateRole", "InvalidParameter.RoleNameInUse")
	}
	f.roleNotReady[req.RoleName] = f.rolePropagation
	f.roles[req.RoleName] = &tcapi.RoleInfo{RoleName: req.RoleName, PolicyDocument: req.PolicyDocument, Description: req.Description}
	return tcapi.CreateRoleResponse{RoleId: "1"}, nil
}

func (f *fake) DeleteRole(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteRole", name); err != nil {
		return err
	}
	if f.roles[name] == nil {
		return apiErr("DeleteRole", "InvalidParameter.RoleNotExist")
	}
	delete(f.roles, name)
	delete(f.attached, name)
	return nil
}

func (f *fake) UpdateAssumeRolePolicy(_ context.Context, role, doc string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdateAssumeRolePolicy", role); err != nil {
		return err
	}
	r := f.roles[role]
	if r == nil {
		return apiErr("UpdateAssumeRolePolicy", "InvalidParameter.RoleNotExist")
	}
	r.PolicyDocument = doc
	return nil
}

func (f *fake) CreatePolicy(_ context.Context, req tcapi.CreatePolicyRequest) (tcapi.CreatePolicyResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreatePolicy", req.PolicyName); err != nil {
		return tcapi.CreatePolicyResponse{}, err
	}
	for _, p := range f.policies {
		if p.PolicyName == req.PolicyName {
			return tcapi.CreatePolicyResponse{}, apiErr("CreatePolicy", "FailedOperation.PolicyNameInUse")
		}
	}
	f.nextID++
	f.policies[f.nextID] = &tcapi.GetPolicyResponse{PolicyName: req.PolicyName, PolicyDocument: req.PolicyDocument, Description: req.Description, Type: 1}
	f.versions[f.nextID] = 1
	return tcapi.CreatePolicyResponse{PolicyId: f.nextID}, nil
}

func (f *fake) GetPolicy(_ context.Context, id uint64) (tcapi.GetPolicyResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetPolicy", fmt.Sprint(id)); err != nil {
		return tcapi.GetPolicyResponse{}, err
	}
	p := f.policies[id]
	if p == nil {
		return tcapi.GetPolicyResponse{}, apiErr("GetPolicy", "ResourceNotFound.PolicyIdNotFound")
	}
	return *p, nil
}

func (f *fake) ListPolicies(_ context.Context, req tcapi.ListPoliciesRequest) (tcapi.ListPoliciesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListPolicies", req.Keyword); err != nil {
		return tcapi.ListPoliciesResponse{}, err
	}
	var out tcapi.ListPoliciesResponse
	for id, p := range f.policies {
		if strings.Contains(p.PolicyName, req.Keyword) {
			out.List = append(out.List, tcapi.StrategyInfo{PolicyId: id, PolicyName: p.PolicyName, Description: p.Description, Type: 1})
		}
	}
	out.TotalNum = uint64(len(out.List))
	return out, nil
}

// CreatePolicyVersion is not in the engine's CAM interface (it uses
// UpdatePolicy); it stands for someone else's edit, and keeps CAM's cap.
func (f *fake) CreatePolicyVersion(id uint64, doc string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreatePolicyVersion", fmt.Sprint(id)); err != nil {
		return err
	}
	p := f.policies[id]
	if p == nil {
		return apiErr("CreatePolicyVersion", "ResourceNotFound.PolicyIdNotFound")
	}
	if f.versions[id] >= 5 {
		return apiErr("CreatePolicyVersion", "FailedOperation.PolicyVersionFull")
	}
	f.versions[id]++
	p.PolicyDocument = doc
	return nil
}

// UpdatePolicy rewrites the default version in place: no new version.
func (f *fake) UpdatePolicy(_ context.Context, id uint64, doc string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdatePolicy", fmt.Sprint(id)); err != nil {
		return err
	}
	p := f.policies[id]
	if p == nil {
		return apiErr("UpdatePolicy", "ResourceNotFound.PolicyIdNotFound")
	}
	p.PolicyDocument = doc
	return nil
}

func (f *fake) DeletePolicy(_ context.Context, ids ...uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeletePolicy", fmt.Sprint(ids)); err != nil {
		return err
	}
	for _, id := range ids {
		if f.policies[id] == nil {
			return apiErr("DeletePolicy", "ResourceNotFound.PolicyIdNotFound")
		}
		delete(f.policies, id)
	}
	return nil
}

func (f *fake) AttachRolePolicy(_ context.Context, id uint64, role string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("AttachRolePolicy", role); err != nil {
		return err
	}
	if f.roles[role] == nil {
		return apiErr("AttachRolePolicy", "InvalidParameter.RoleNotExist")
	}
	if f.policies[id] == nil {
		return apiErr("AttachRolePolicy", "ResourceNotFound.PolicyIdNotFound")
	}
	for _, a := range f.attached[role] {
		if a == id {
			return nil
		}
	}
	f.attached[role] = append(f.attached[role], id)
	f.roleNotReady[role] = f.rolePropagation
	return nil
}

func (f *fake) DetachRolePolicy(_ context.Context, id uint64, role string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DetachRolePolicy", role); err != nil {
		return err
	}
	for i, a := range f.attached[role] {
		if a == id {
			f.attached[role] = append(f.attached[role][:i], f.attached[role][i+1:]...)
			return nil
		}
	}
	return apiErr("DetachRolePolicy", "InvalidParameter")
}

func (f *fake) ListAttachedRolePolicies(_ context.Context, role string, page, rp uint64) (tcapi.ListAttachedRolePoliciesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListAttachedRolePolicies", role); err != nil {
		return tcapi.ListAttachedRolePoliciesResponse{}, err
	}
	if f.roles[role] == nil {
		return tcapi.ListAttachedRolePoliciesResponse{}, apiErr("ListAttachedRolePolicies", "InvalidParameter.RoleNotExist")
	}
	var out tcapi.ListAttachedRolePoliciesResponse
	for _, id := range f.attached[role] {
		if p := f.policies[id]; p != nil {
			out.List = append(out.List, tcapi.AttachedPolicyOfRole{PolicyId: id, PolicyName: p.PolicyName})
		}
	}
	out.TotalNum = uint64(len(out.List))
	return out, nil
}
