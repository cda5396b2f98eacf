package emulator

import (
	"archive/zip"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SCF control plane (2018-04-16): fields and rules from SDK scf models.go,
// codes from errors.go (docs/emulator.md#scf-functions-and-triggers-2018-04-16).
var scfControlActions = map[string]actionFunc{
	"GetFunction":                 functionAction((*Server).actGetFunction),
	"GetFunctionAddress":          functionAction((*Server).actGetFunctionAddress),
	"CreateFunction":              controlAction((*Server).actCreateFunction),
	"UpdateFunctionCode":          functionAction((*Server).actUpdateFunctionCode),
	"UpdateFunctionConfiguration": functionAction((*Server).actUpdateFunctionConfiguration),
	"DeleteFunction":              functionAction((*Server).actDeleteFunction),
	"ListTriggers":                functionAction((*Server).actListTriggers),
	"CreateTrigger":               functionAction((*Server).actCreateTrigger),
	"DeleteTrigger":               functionAction((*Server).actDeleteTrigger),
	"UpdateTrigger":               functionAction((*Server).actUpdateTrigger),
}

// DefaultFunctionReadyAfter is Options.FunctionReadyAfter's default.
const DefaultFunctionReadyAfter = time.Second

// EmulatorAppID is the APPID of the emulated account (Function URL hosts).
const EmulatorAppID = "1250000000"

// SCF function statuses (SDK scf models.go; tencent-component-toolkit src/modules/scf/config.ts).
const (
	FunctionCreating     = "Creating"
	FunctionUpdating     = "Updating"
	FunctionActive       = "Active"
	FunctionCreateFailed = "CreateFailed"
	FunctionUpdateFailed = "UpdateFailed"
)

// Limits from SDK scf models.go (a 10 MB body cannot reach the zip limits).
const (
	maxCreateZipBytes = 50 << 20 // Code.ZipFile: zip包大小上限为 50MB
	maxUpdateZipBytes = 20 << 20 // UpdateFunctionCode.ZipFile: 最大支持20M
	maxEnvBytes       = 4 << 10  // 单个函数的环境变量大小 4KB (cloud.tencent.com/document/product/583/11637)
	maxArgumentBytes  = 4 << 10  // a timer's argument: 4 KB is our limit (the SDK models and 583/11637 give none)
)

// scfRuntimes are the runtimes CreateFunctionRequestParams.Runtime lists.
var scfRuntimes = []string{"Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10", "Nodejs6.10", "Nodejs8.9",
	"Nodejs10.15", "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Nodejs18.15", "Php5.6", "Php7", "Php7.4", "Php8.0",
	"Go1", "Java8", "CustomRuntime"}

// reservedEnvPrefixes are keys SCF sets itself (InvalidParameterValue.EnvironmentSystemProtect).
var reservedEnvPrefixes = []string{"SCF_", "QCLOUD_", "TENCENTCLOUD_"}

var (
	// 函数名称支持26个英文字母大小写、数字、连接符和下划线，第一个字符只能以字母开头，
	// 最后一个字符不能为连接符或者下划线，名称长度2-60
	reFunctionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
	reHandler      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,58}[A-Za-z0-9]$`)
	// 定时触发器名称支持英文字母、数字、连接符和下划线，最长100个字符
	reTimerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	reEnvKey    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// reRegion is the shape of a region id (ap-guangzhou, ap-beijing-1).
	reRegion = regexp.MustCompile(`^[a-z]{2,3}-[a-z]+(-[a-z0-9]+)?$`)
)

// controlPlane is the state of the SCF control plane and of CAM.
type controlPlane struct {
	mu        sync.Mutex
	functions map[string]*scfFunction // functionKey
	roles     map[string]*camRole     // scope(account, RoleName)
	policies  map[uint64]*camPolicy
	nextID    uint64
	failNext  []ControlFailure
}

// ControlFailure makes the next Times calls of Action ("scf.CreateTrigger")
// fail with Code, or with Settle succeed and leave the function in Settle
// (CreateFailed, UpdateFailed) instead of Active (docs/emulator.md#control-plane-inspection).
type ControlFailure struct {
	Action  string
	Code    string `json:",omitempty"`
	Message string `json:",omitempty"`
	Times   int    `json:",omitempty"` // default 1
	Settle  string `json:",omitempty"`
}

// check reports what is wrong with f ("" when it can be queued).
func (f ControlFailure) check() string {
	switch {
	case f.Action == "":
		return "Action is required"
	case f.Settle == "" && f.Code == "":
		return "Code is required (or Settle)"
	case f.Settle == "",
		f.Settle == FunctionCreateFailed && f.Action == "scf.CreateFunction",
		f.Settle == FunctionUpdateFailed && (f.Action == "scf.UpdateFunctionCode" || f.Action == "scf.UpdateFunctionConfiguration"):
		return ""
	}
	return "Settle CreateFailed goes with scf.CreateFunction, UpdateFailed with scf.UpdateFunctionCode or scf.UpdateFunctionConfiguration"
}

// FailNext queues f; it panics when f is not valid (see ControlFailure).
func (s *Server) FailNext(f ControlFailure) {
	if msg := f.check(); msg != "" {
		panic("emulator: FailNext: " + msg)
	}
	f.Times = max(f.Times, 1)
	if f.Settle != "" && f.Code == "" {
		f.Code = "FailedOperation." + strings.TrimPrefix(f.Action, "scf.")
	}
	if f.Message == "" {
		f.Message = "Injected failure (emulator FailNext)."
	}
	s.control.mu.Lock()
	s.control.failNext = append(s.control.failNext, f)
	s.control.mu.Unlock()
}

// take dequeues one use of action's first settle (or refusal) fault; mu held.
func (cp *controlPlane) take(action string, settle bool) *ControlFailure {
	for i, f := range cp.failNext {
		if f.Action != action || (f.Settle != "") != settle {
			continue
		}
		if cp.failNext[i].Times--; cp.failNext[i].Times <= 0 {
			cp.failNext = append(cp.failNext[:i], cp.failNext[i+1:]...)
		}
		return &f
	}
	return nil
}

// settle makes f status until FunctionReadyAfter, then Active or a Settle fault's state.
func (s *Server) settle(c *apiCall, f *scfFunction, status string) {
	f.ModTime, f.status, f.readyAt = c.now, status, c.now.Add(s.readyAfter())
	f.settleTo, f.statusDesc, f.reasons = FunctionActive, "", nil
	if fl := s.control.take(c.service+"."+c.action, true); fl != nil {
		f.settleTo, f.statusDesc = fl.Settle, fl.Message
		f.reasons = []statusReason{{ErrorCode: fl.Code, ErrorMessage: fl.Message}}
	}
}

// statusReason is one of GetFunction's StatusReasons.
type statusReason struct{ ErrorCode, ErrorMessage string }

// controlAction makes an SCF or CAM action of fn: decode strictly, lock,
// answer a queued ControlFailure, else run fn.
func controlAction[Req any](fn func(*Server, *apiCall, *Req) (any, *apiError)) actionFunc {
	return func(s *Server, c *apiCall) (any, *apiError) {
		req := new(Req)
		if err := decodeParams(c.body, req, true); err != nil {
			return nil, err
		}
		cp := &s.control
		cp.mu.Lock()
		defer cp.mu.Unlock()
		if cp.functions == nil {
			cp.functions, cp.roles, cp.policies = map[string]*scfFunction{}, map[string]*camRole{}, map[uint64]*camPolicy{}
		}
		if f := cp.take(c.service+"."+c.action, false); f != nil {
			return nil, errf(f.Code, f.Message)
		}
		return fn(s, c, req)
	}
}

// functionAction is controlAction on the function FunctionName and Namespace name.
func functionAction[Req any](fn func(*Server, *apiCall, *Req, *scfFunction) (any, *apiError)) actionFunc {
	return controlAction(func(s *Server, c *apiCall, req *Req) (any, *apiError) {
		var id struct{ FunctionName, Namespace string }
		_ = json.Unmarshal(c.body, &id)
		prefix, err := scfScope(c, id.Namespace)
		if err != nil {
			return nil, err
		}
		if id.FunctionName == "" {
			return nil, errMissing("MissingParameter", "FunctionName")
		}
		f := s.control.functions[prefix+id.FunctionName]
		if f == nil {
			return nil, errf("ResourceNotFound.Function", "Function "+id.FunctionName+" does not exist in namespace default of "+c.region+".")
		}
		return fn(s, c, req, f)
	})
}

func (cp *controlPlane) id() uint64 {
	cp.nextID++
	return cp.nextID
}

type kv struct{ Key, Value string }

type scfFunction struct {
	account                                     string // "" = the default account
	Region, Namespace, FunctionName, FunctionId string
	Handler, Runtime, Description, Role         string
	MemorySize, Timeout                         int64
	Variables, Tags                             []kv
	CodeSha256                                  string
	CodeSize                                    int64
	AddTime, ModTime                            time.Time
	status, settleTo, statusDesc                string
	reasons                                     []statusReason
	readyAt                                     time.Time
	triggers                                    []*scfTrigger
}

func (s *Server) readyAfter() time.Duration {
	switch d := s.opts.FunctionReadyAfter; {
	case d < 0:
		return 0
	case d == 0:
		return DefaultFunctionReadyAfter
	default:
		return d
	}
}

func (f *scfFunction) statusAt(now time.Time) string {
	if (f.status == FunctionCreating || f.status == FunctionUpdating) && !now.Before(f.readyAt) {
		f.status = f.settleTo
	}
	return f.status
}

// scfTime is SCF's time format, "2019-08-02 22:53:19" (China Standard Time).
func scfTime(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
}

// scfScope checks region and namespace; it returns the function key prefix.
func scfScope(c *apiCall, namespace string) (string, *apiError) {
	switch {
	case c.region == "":
		return "", errf("MissingParameter", "The request is missing the required header X-TC-Region (SCF is a regional service).")
	case !reRegion.MatchString(c.region):
		return "", errf("UnsupportedRegion", "SCF does not serve region "+strconv.Quote(c.region)+".")
	case namespace != "" && namespace != "default":
		return "", errf("ResourceNotFound.Namespace", "Namespace "+namespace+" does not exist (the emulator has only default).")
	}
	return functionKey(c.account, c.region, ""), nil
}

// functionKey is a function's key in controlPlane.functions.
func functionKey(account, region, name string) string {
	return scope(account, region) + "/default/" + name
}

// requireActive refuses with code unless f is Active (or in one of also).
func (f *scfFunction) requireActive(now time.Time, code, todo string, also ...string) *apiError {
	if st := f.statusAt(now); st != FunctionActive && !slices.Contains(also, st) {
		return errf(code, "Function "+f.FunctionName+" is "+st+"; "+todo+" when it is Active.")
	}
	return nil
}

type scfEnvironment struct {
	Variables []*struct{ Key, Value *string }
}

// checkEnvironment checks Environment.Variables; the empty element clients
// send to clear them adds none (terraform-provider-tencentcloud
// service_tencentcloud_scf.go, tencent-component-toolkit src/modules/scf/entities/scf.ts).
func checkEnvironment(env *scfEnvironment) ([]kv, *apiError) {
	if env == nil {
		return nil, nil
	}
	out, seen, size := []kv{}, map[string]bool{}, 0
	bad := func(code, msg string) ([]kv, *apiError) { return nil, errf("InvalidParameterValue."+code, msg) }
	for i, v := range env.Variables {
		if v != nil && str(v.Key) == "" && str(v.Value) == "" {
			continue
		}
		if v == nil || str(v.Key) == "" {
			return bad("Environment", fmt.Sprintf("Environment.Variables.%d.Key must not be empty.", i))
		}
		k := *v.Key
		switch {
		case str(v.Value) == "":
			return bad("Environment", "Environment variable "+k+" has an empty Value; values must not be empty.")
		case !reEnvKey.MatchString(k):
			return bad("Environment", "Environment variable key "+strconv.Quote(k)+" must be letters, digits and underscores, not starting with a digit.")
		case seen[k]:
			return bad("Environment", "Environment variable "+k+" is given twice.")
		}
		for _, p := range reservedEnvPrefixes {
			if strings.HasPrefix(k, p) {
				return bad("EnvironmentSystemProtect", "Environment variable "+k+" uses the reserved prefix "+p+".")
			}
		}
		seen[k], size = true, size+len(k)+len(*v.Value)
		out = append(out, kv{k, *v.Value})
	}
	if size > maxEnvBytes {
		return bad("EnvironmentExceededLimit", fmt.Sprintf("Environment variables total %d bytes; the limit is %d.", size, maxEnvBytes))
	}
	return out, nil
}

func checkMemory(mb *int64) *apiError {
	if mb == nil || *mb == 64 || (*mb >= 128 && *mb <= 3072 && *mb%128 == 0) {
		return nil
	}
	return errf("InvalidParameterValue.MemorySize", fmt.Sprintf("MemorySize %d is invalid: use 64, or 128 to 3072 in steps of 128.", *mb))
}

func checkTimeout(sec *int64) *apiError {
	if sec == nil || (*sec >= 1 && *sec <= 900) {
		return nil
	}
	return errf("LimitExceeded.Timeout", fmt.Sprintf("Timeout %d is out of range: 1 to 900 seconds.", *sec))
}

func checkDescription(d *string) *apiError {
	if len(str(d)) > 1000 {
		return errf("InvalidParameterValue.Description", "Description is longer than 1000 characters.")
	}
	return nil
}

// decodeZip decodes a base64 zip and checks it is a zip of at most limit bytes.
func decodeZip(b64 string, limit int, what string) ([]byte, *apiError) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errf("InvalidParameterValue.ZipFile", what+" is not valid base64.")
	}
	if len(raw) > limit {
		return nil, errf("InvalidParameterValue.ZipFile", fmt.Sprintf("%s is %d bytes; the limit is %d MB.", what, len(raw), limit>>20))
	}
	if _, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw))); err != nil {
		return nil, errf("InvalidParameterValue.ZipFile", what+" is not a standard zip file.")
	}
	return raw, nil
}

// setCode stores the zip b64 as f's code (CodeSha256: hex SHA-256 of the zip).
func (f *scfFunction) setCode(b64 string, limit int, what string) *apiError {
	raw, err := decodeZip(b64, limit, what)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	f.CodeSha256, f.CodeSize = hex.EncodeToString(sum[:]), int64(len(raw))
	return nil
}

// checkRole refuses an unknown role, and one changed less than
// RolePropagation ago: FailedOperation.CallRoleFailed (SDK scf errors.go),
// which terraform-provider-tencentcloud retries.
func (s *Server) checkRole(account string, role *string, now time.Time) *apiError {
	if str(role) == "" {
		return nil
	}
	r := s.control.roles[scope(account, *role)]
	if r == nil {
		return errf("ResourceNotFound.Role", "Role "+*role+" does not exist in CAM.")
	}
	if d := s.opts.RolePropagation; d > 0 {
		latest := r.AddTime
		for _, at := range r.attachedAt {
			if at.After(latest) {
				latest = at
			}
		}
		if now.Before(latest.Add(d)) {
			return errf("FailedOperation.CallRoleFailed", "Role "+*role+" is not usable by SCF yet (a CAM change propagates in "+d.String()+"); retry.")
		}
	}
	return nil
}

// checkTags checks Tags: a Key, and with valueRequired a Value, must not be empty.
func checkTags(tags []*struct{ Key, Value *string }, code string, valueRequired bool) ([]kv, *apiError) {
	out, need := []kv{}, map[bool]string{true: "Key and Value", false: "Key"}[valueRequired]
	for i, t := range tags {
		if t == nil || str(t.Key) == "" || (valueRequired && str(t.Value) == "") {
			return nil, errf(code, fmt.Sprintf("Tags.%d needs a non-empty %s.", i, need))
		}
		out = append(out, kv{*t.Key, str(t.Value)})
	}
	return out, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func firstErr(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// unsupported refuses a value other than "" and ok.
func unsupported(v *string, ok, code, msg string) *apiError {
	if p := str(v); p != "" && p != ok {
		return errf(code, msg)
	}
	return nil
}

type createFunctionReq struct {
	FunctionName, Handler, Description                            *string
	Code                                                          *struct{ ZipFile *string }
	MemorySize, Timeout                                           *int64
	Environment                                                   *scfEnvironment
	Runtime, Namespace, Role, Type, CodeSource, InstallDependency *string
	Tags                                                          []*struct{ Key, Value *string }
}

func (s *Server) actCreateFunction(c *apiCall, req *createFunctionReq) (any, *apiError) {
	prefix, aerr := scfScope(c, str(req.Namespace))
	if aerr != nil {
		return nil, aerr
	}
	name := str(req.FunctionName)
	runtime := cmp.Or(str(req.Runtime), "Python2.7") // the documented default
	switch {
	case name == "":
		return nil, errMissing("MissingParameter", "FunctionName")
	case !reFunctionName.MatchString(name):
		return nil, errf("InvalidParameterValue.FunctionName", "FunctionName "+strconv.Quote(name)+" is invalid: 2-60 letters, digits, - and _, starting with a letter, not ending with - or _.")
	}
	aerr = firstErr(unsupported(req.Type, "Event", "InvalidParameterValue.FunctionType", "The emulator serves event functions (Type Event) only."),
		unsupported(req.CodeSource, "ZipFile", "InvalidParameterValue.CodeSource", "The emulator accepts code as Code.ZipFile only (CodeSource ZipFile)."))
	switch {
	case aerr != nil:
		return nil, aerr
	case req.Code == nil || str(req.Code.ZipFile) == "":
		return nil, errf("MissingParameter.Code", "Code.ZipFile (the base64 of a zip) is required.")
	case !slices.Contains(scfRuntimes, runtime):
		return nil, errf("InvalidParameterValue.Runtime", "Runtime "+strconv.Quote(runtime)+" is not supported; use one of "+strings.Join(scfRuntimes, ", ")+".")
	case !reHandler.MatchString(str(req.Handler)):
		return nil, errf("InvalidParameterValue.Handler", "Handler "+strconv.Quote(str(req.Handler))+" is invalid: 2-60 letters, digits, _ - and ., starting and ending with a letter or digit (Go1: the executable's file name).")
	}
	vars, envErr := checkEnvironment(req.Environment)
	tags, tagErr := checkTags(req.Tags, "InvalidParameterValue", true)
	if aerr := firstErr(checkMemory(req.MemorySize), checkTimeout(req.Timeout), envErr, checkDescription(req.Description),
		tagErr, s.checkRole(c.account, req.Role, c.now)); aerr != nil {
		return nil, aerr
	}
	if s.control.functions[prefix+name] != nil {
		return nil, errf("ResourceInUse.Function", "Function "+name+" already exists.")
	}
	f := &scfFunction{
		account: c.account, Region: c.region, Namespace: "default", FunctionName: name,
		Handler: *req.Handler, Runtime: runtime, Description: str(req.Description), Role: str(req.Role),
		MemorySize: deref(req.MemorySize, 128), Timeout: deref(req.Timeout, 3), Variables: vars, Tags: tags, AddTime: c.now,
	}
	if aerr := f.setCode(*req.Code.ZipFile, maxCreateZipBytes, "Code.ZipFile"); aerr != nil {
		return nil, aerr
	}
	f.FunctionId = fmt.Sprintf("lam-%08x", s.control.id())
	s.settle(c, f, FunctionCreating)
	s.control.functions[prefix+name] = f
	return struct{}{}, nil
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func checkQualifier(q *string) *apiError {
	return unsupported(q, "$LATEST", "ResourceNotFound.FunctionVersion", "Version "+str(q)+" does not exist (the emulator keeps $LATEST only).")
}

// FunctionInfo is what GET /_emulator/functions and GetFunction report.
type FunctionInfo struct {
	Region, Namespace, FunctionName, FunctionId, Status string
	Handler, Runtime, Description, Role                 string
	MemorySize, Timeout                                 int64
	Environment, Tags                                   map[string]string
	CodeSha256                                          string
	CodeSize                                            int64
	AddTime, ModTime                                    string
	Triggers                                            []TriggerInfo
}

func (f *scfFunction) info(now time.Time) FunctionInfo {
	return FunctionInfo{Region: f.Region, Namespace: f.Namespace, FunctionName: f.FunctionName, FunctionId: f.FunctionId,
		Status: f.statusAt(now), Handler: f.Handler, Runtime: f.Runtime, Description: f.Description, Role: f.Role,
		MemorySize: f.MemorySize, Timeout: f.Timeout, Environment: kvMap(f.Variables), Tags: kvMap(f.Tags),
		CodeSha256: f.CodeSha256, CodeSize: f.CodeSize, AddTime: scfTime(f.AddTime), ModTime: scfTime(f.ModTime),
		Triggers: f.triggerInfos()}
}

func kvMap(in []kv) map[string]string {
	out := map[string]string{}
	for _, e := range in {
		out[e.Key] = e.Value
	}
	return out
}

func (f *scfFunction) triggerInfos() []TriggerInfo {
	out := []TriggerInfo{}
	for _, t := range f.triggers {
		out = append(out, t.info())
	}
	return out
}

// Functions returns every function as of now, sorted by region and name.
func (s *Server) Functions() []FunctionInfo {
	s.control.mu.Lock()
	defer s.control.mu.Unlock()
	out := []FunctionInfo{}
	for _, f := range s.control.functions {
		out = append(out, f.info(s.now()))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].FunctionName < out[j].FunctionName
	})
	return out
}

// actGetFunction answers every field of tccli scf/v20180416 examples.json
// GetFunction; features not emulated answer the example's "off" values.
func (s *Server) actGetFunction(c *apiCall, req *struct{ FunctionName, Namespace, Qualifier, ShowCode *string }, f *scfFunction) (any, *apiError) {
	if err := checkQualifier(req.Qualifier); err != nil {
		return nil, err
	}
	status, available, reasons, statusDesc := f.statusAt(c.now), "Available", []statusReason{}, ""
	if status != FunctionActive {
		available = "Unavailable"
	}
	if status == FunctionCreateFailed || status == FunctionUpdateFailed {
		reasons, statusDesc = f.reasons, f.statusDesc
	}
	off := func(v string) json.RawMessage { return json.RawMessage(v) }
	return struct {
		Qualifier, Description                                    string
		Timeout, InitTimeout, MemorySize                          int64
		Runtime                                                   string
		VpcConfig                                                 json.RawMessage
		Environment                                               struct{ Variables []kv }
		Handler, UseGpu, Role                                     string
		CodeSize                                                  int64
		FunctionVersion, FunctionName, FunctionId, Namespace      string
		InstallDependency, Status, AvailableStatus, StatusDesc    string
		L5Enable, DnsCache                                        string
		EipConfig                                                 json.RawMessage
		ModTime, AddTime                                          string
		Layers, DeadLetterConfig                                  json.RawMessage
		OnsEnable                                                 string
		PublicNetConfig, ImageConfig                              json.RawMessage
		ProtocolType                                              string
		Triggers                                                  []TriggerInfo
		ClsLogsetId, ClsTopicId, CodeInfo, CodeResult, CodeError  string
		ErrNo                                                     int64
		Tags                                                      []kv
		AccessInfo                                                json.RawMessage
		Type                                                      string
		CfsConfig                                                 json.RawMessage
		StatusReasons                                             []statusReason
		AsyncRunEnable, TraceEnable                               string
		ProtocolParams, InstanceConcurrencyConfig, IntranetConfig json.RawMessage
	}{
		Qualifier: "$LATEST", Description: f.Description, Timeout: f.Timeout, InitTimeout: 90, MemorySize: f.MemorySize,
		Runtime: f.Runtime, VpcConfig: off(`{"VpcId":"","SubnetId":""}`), Environment: struct{ Variables []kv }{append([]kv{}, f.Variables...)},
		Handler: f.Handler, UseGpu: "FALSE", Role: f.Role, CodeSize: f.CodeSize,
		FunctionVersion: "$LATEST", FunctionName: f.FunctionName, FunctionId: f.FunctionId, Namespace: f.Namespace,
		InstallDependency: "FALSE", Status: status, AvailableStatus: available, StatusDesc: statusDesc,
		L5Enable: "FALSE", DnsCache: "FALSE", EipConfig: off(`{"EipFixed":"FALSE","Eips":[]}`),
		ModTime: scfTime(f.ModTime), AddTime: scfTime(f.AddTime), Layers: off(`[]`),
		DeadLetterConfig: off(`{"Type":"","Name":"","FilterType":""}`), OnsEnable: "FALSE",
		PublicNetConfig: off(`{"PublicNetStatus":"ENABLE","EipConfig":{"EipStatus":"DISABLE","EipAddress":[]}}`),
		Triggers:        f.triggerInfos(), CodeResult: "success", Tags: f.Tags, AccessInfo: off(`{"Host":"","Vip":""}`), Type: "Event",
		CfsConfig: off(`{"CfsInsList":[]}`), StatusReasons: reasons, AsyncRunEnable: "FALSE", TraceEnable: "FALSE",
		IntranetConfig: off(`{"IpFixed":"DISABLE","IpAddress":[]}`),
	}, nil
}

type functionRef struct{ FunctionName, Namespace, Qualifier *string }

// actGetFunctionAddress's Url does not resolve: no package is kept.
func (s *Server) actGetFunctionAddress(_ *apiCall, req *functionRef, f *scfFunction) (any, *apiError) {
	if err := checkQualifier(req.Qualifier); err != nil {
		return nil, err
	}
	return struct{ Url, CodeSha256 string }{
		Url:        "https://scf-code.emulator.invalid/" + f.Region + "/" + f.Namespace + "/" + f.FunctionName + ".zip",
		CodeSha256: f.CodeSha256,
	}, nil
}

type updateCodeReq struct {
	FunctionName, Handler, ZipFile, Namespace, CodeSource, Publish, InstallDependency *string
}

// actUpdateFunctionCode: an UpdateFailed function can be updated, a
// CreateFailed one not (tencent-component-toolkit re-creates it).
func (s *Server) actUpdateFunctionCode(c *apiCall, req *updateCodeReq, f *scfFunction) (any, *apiError) {
	aerr := firstErr(f.requireActive(c.now, "FailedOperation.UpdateFunctionCode", "update its code", FunctionUpdateFailed),
		unsupported(req.CodeSource, "ZipFile", "InvalidParameterValue.CodeSource", "The emulator accepts code as ZipFile only."))
	switch {
	case aerr != nil:
		return nil, aerr
	case str(req.ZipFile) == "":
		return nil, errf("MissingParameter.Code", "ZipFile (the base64 of a zip) is required.")
	case str(req.Publish) != "" && str(req.Publish) != "FALSE":
		return nil, errf("UnsupportedOperation.UpdateFunctionCode", "The emulator does not publish versions (Publish TRUE).")
	case req.Handler != nil && !reHandler.MatchString(*req.Handler):
		return nil, errf("InvalidParameterValue.Handler", "Handler "+strconv.Quote(*req.Handler)+" is invalid.")
	}
	if aerr := f.setCode(*req.ZipFile, maxUpdateZipBytes, "ZipFile"); aerr != nil {
		return nil, aerr
	}
	f.Handler = deref(req.Handler, f.Handler)
	s.settle(c, f, FunctionUpdating)
	return struct{}{}, nil
}

type updateConfigReq struct {
	FunctionName, Description                            *string
	MemorySize, Timeout                                  *int64
	Environment                                          *scfEnvironment
	Runtime, Namespace, Role, Publish, InstallDependency *string
}

func (s *Server) actUpdateFunctionConfiguration(c *apiCall, req *updateConfigReq, f *scfFunction) (any, *apiError) {
	if aerr := f.requireActive(c.now, "FailedOperation.UpdateFunctionConfiguration", "update its configuration", FunctionUpdateFailed); aerr != nil {
		return nil, aerr
	}
	// Runtime: 创建时指定，目前不支持修改。
	if req.Runtime != nil && *req.Runtime != f.Runtime {
		return nil, errf("InvalidParameterValue.Runtime", "Runtime cannot be changed after creation (is "+f.Runtime+").")
	}
	vars, envErr := checkEnvironment(req.Environment)
	if aerr := firstErr(unsupported(req.Publish, "FALSE", "UnsupportedOperation", "The emulator does not publish versions (Publish TRUE)."),
		checkMemory(req.MemorySize), checkTimeout(req.Timeout), envErr, checkDescription(req.Description),
		s.checkRole(c.account, req.Role, c.now)); aerr != nil {
		return nil, aerr
	}
	f.MemorySize, f.Timeout = deref(req.MemorySize, f.MemorySize), deref(req.Timeout, f.Timeout)
	f.Description, f.Role = deref(req.Description, f.Description), deref(req.Role, f.Role)
	if req.Environment != nil && len(req.Environment.Variables) > 0 {
		f.Variables = vars
	}
	s.settle(c, f, FunctionUpdating)
	return struct{}{}, nil
}

func (s *Server) actDeleteFunction(c *apiCall, req *functionRef, f *scfFunction) (any, *apiError) {
	if aerr := firstErr(checkQualifier(req.Qualifier),
		f.requireActive(c.now, "FailedOperation.DeleteFunction", "delete it", FunctionCreateFailed, FunctionUpdateFailed)); aerr != nil {
		return nil, aerr
	}
	delete(s.control.functions, functionKey(f.account, f.Region, f.FunctionName))
	return struct{}{}, nil
}

// inspectFailNext is POST /_emulator/fail-next: queue a ControlFailure.
func (s *Server) inspectFailNext(w http.ResponseWriter, r *http.Request) {
	const want = `want {"Action":"scf.CreateTrigger","Code":"InternalError","Times":1} or {"Action":"scf.CreateFunction","Settle":"CreateFailed"}`
	var f ControlFailure
	if !decodeInspect(w, r, &f, func(error) { inspectError(w, http.StatusBadRequest, want) }) {
		return
	}
	if f.check() != "" {
		inspectError(w, http.StatusBadRequest, want)
		return
	}
	s.FailNext(f)
	w.WriteHeader(http.StatusNoContent)
}

// decodeInspect decodes a body strictly into v; false when answered (413, or bad).
func decodeInspect(w http.ResponseWriter, r *http.Request, v any, bad func(error)) bool {
	body, ok := inspectBody(w, r)
	if !ok {
		return false
	}
	if err := decodeStrict(body, v); err != nil {
		bad(err)
		return false
	}
	return true
}

func controlNotSupported(path, _ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		inspectError(w, http.StatusMethodNotAllowed, "%s %s is not supported", r.Method, path)
	}
}
