package emulator

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SCF control plane (version 2018-04-16): functions and their timer and http
// (Function URL) triggers, kept per region and namespace.
//
// Field names and documented rules are those of tencentcloud-sdk-go
// tencentcloud/scf/v20180416/models.go (CreateFunctionRequestParams,
// GetFunctionResponseParams, UpdateFunctionCodeRequestParams,
// UpdateFunctionConfigurationRequestParams, ListTriggersRequestParams,
// TriggerInfo, CreateTriggerRequestParams, DeleteTriggerRequestParams,
// GetFunctionAddressResponseParams). Error codes are taken from the same
// directory's errors.go, each with the meaning written there:
//
//	ResourceNotFound.Function                 函数不存在 (unknown function)
//	ResourceNotFound.FunctionVersion          a Qualifier other than $LATEST
//	ResourceNotFound.Namespace                a namespace other than default
//	ResourceNotFound.Trigger                  触发器不存在
//	ResourceNotFound.Role                     角色不存在 (Role not a CAM role of the account)
//	ResourceInUse.Function                    函数已存在
//	ResourceInUse.Trigger                     TriggerName已存在 (also: a second http trigger)
//	InvalidParameterValue.FunctionName / .Handler / .Runtime / .MemorySize / .Environment /
//	  .EnvironmentSystemProtect / .EnvironmentExceededLimit / .ZipFile / .TriggerName /
//	  .TriggerDesc / .TriggerCronConfig / .Description / .Namespace
//	LimitExceeded.Timeout                     Timeout超出最大限制 (also used below 1 s)
//	MissingParameter.Code                     no Code.ZipFile
//	FailedOperation.FunctionStatusError       函数在部署中,无法做此操作 (CreateTrigger/DeleteTrigger while not Active)
//	FailedOperation.UpdateFunctionCode        当前函数状态无法更新代码
//	FailedOperation.UpdateFunctionConfiguration (while not Active)
//	FailedOperation.DeleteFunction            当前函数状态无法进行此操作
//	UnsupportedOperation.Trigger              trigger types other than timer and http (not emulated)
//
// Assumptions (Tencent does not document them; say so when relying on them):
//   - Which of the codes above Tencent picks in each case, and whether a
//     function may be deleted while Creating/Updating.
//   - Triggers (scf_trigger.go): a function has at most one http trigger.
//     A timer trigger's TriggerDesc is returned as {"cron":"<expr>"} and
//     Enable as 1/0, as the ListTriggers/CreateTrigger examples show and
//     tencent-component-toolkit src/modules/triggers/timer.ts describes.
//   - GetFunctionAddress.CodeSha256 is the lowercase hex SHA-256 of the
//     uploaded zip (the example's value is 64 lowercase hex digits; what it
//     is computed over is not documented).
//   - Fields of GetFunction the emulator has no feature for (VPC, EIP, CLS,
//     layers, dead letter, ...) answer the example's "off" values.
//   - A request body is still limited to 10 MB (API 3.0 with TC3 signing), so
//     the documented 50 MB (CreateFunction) and 20 MB (UpdateFunctionCode) zip
//     limits are checked but cannot be reached over HTTP.
var scfControlActions = map[string]actionFunc{
	"GetFunction":                 (*Server).actGetFunction,
	"GetFunctionAddress":          (*Server).actGetFunctionAddress,
	"CreateFunction":              (*Server).actCreateFunction,
	"UpdateFunctionCode":          (*Server).actUpdateFunctionCode,
	"UpdateFunctionConfiguration": (*Server).actUpdateFunctionConfiguration,
	"DeleteFunction":              (*Server).actDeleteFunction,
	"ListTriggers":                (*Server).actListTriggers,
	"CreateTrigger":               (*Server).actCreateTrigger,
	"DeleteTrigger":               (*Server).actDeleteTrigger,
	"UpdateTrigger":               (*Server).actUpdateTrigger,
}

// DefaultFunctionReadyAfter is Options.FunctionReadyAfter's default.
const DefaultFunctionReadyAfter = time.Second

// EmulatorAppID is the APPID of the emulated account (Function URL hosts).
const EmulatorAppID = "1250000000"

// SCF function statuses (GetFunctionResponseParams.Status; the failure
// states as tencent-component-toolkit src/modules/scf/config.ts lists them).
const (
	FunctionCreating     = "Creating"
	FunctionUpdating     = "Updating"
	FunctionActive       = "Active"
	FunctionCreateFailed = "CreateFailed"
	FunctionUpdateFailed = "UpdateFailed"
)

// Limits documented in the SDK models.
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

// reservedEnvPrefixes are keys SCF keeps for itself (refused with
// InvalidParameterValue.EnvironmentSystemProtect, tencentcloud-sdk-go scf
// errors.go; SCF sets SCF_*, QCLOUD_* and TENCENTCLOUD_* variables itself).
var reservedEnvPrefixes = []string{"SCF_", "QCLOUD_", "TENCENTCLOUD_"}

var (
	// 函数名称支持26个英文字母大小写、数字、连接符和下划线，第一个字符只能以字母开头，
	// 最后一个字符不能为连接符或者下划线，名称长度2-60
	reFunctionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
	// Handler: starts and ends with a letter or digit, letters, digits, _ - . inside, 2-60 characters.
	reHandler = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,58}[A-Za-z0-9]$`)
	// 定时触发器名称支持英文字母、数字、连接符和下划线，最长100个字符
	reTimerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	reEnvKey    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// controlPlane is the state of the SCF control plane and of CAM. The zero
// value is ready to use.
type controlPlane struct {
	mu        sync.Mutex
	functions map[string]*scfFunction // region/namespace/name
	roles     map[string]*camRole     // by RoleName
	policies  map[uint64]*camPolicy
	nextID    uint64
	failNext  []ControlFailure
}

// ControlFailure makes the next call(s) of Action ("scf.CreateTrigger",
// "cam.CreateRole") fail with Code before doing anything, as a refused call
// would: a one-shot fault for tests of convergence after a failure part-way.
//
// With Settle set the call does not fail: it succeeds, and the function
// settles in Settle instead of Active after FunctionReadyAfter, with
// StatusDesc Message and StatusReasons [{ErrorCode: Code, ErrorMessage:
// Message}] (Code and Message have defaults then). Settle is "CreateFailed"
// for "scf.CreateFunction" and "UpdateFailed" for "scf.UpdateFunctionCode"
// and "scf.UpdateFunctionConfiguration".
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
	case f.Settle == "":
		return ""
	case f.Settle == FunctionCreateFailed && f.Action == "scf.CreateFunction":
		return ""
	case f.Settle == FunctionUpdateFailed && (f.Action == "scf.UpdateFunctionCode" || f.Action == "scf.UpdateFunctionConfiguration"):
		return ""
	}
	return "Settle CreateFailed goes with scf.CreateFunction, UpdateFailed with scf.UpdateFunctionCode or scf.UpdateFunctionConfiguration"
}

// FailNext queues f; it panics when f is not valid (see ControlFailure).
func (s *Server) FailNext(f ControlFailure) {
	if msg := f.check(); msg != "" {
		panic("emulator: FailNext: " + msg)
	}
	if f.Times <= 0 {
		f.Times = 1
	}
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

// takeFailure returns the queued failure for action, if any. Call with mu held.
func (cp *controlPlane) takeFailure(action string) *apiError {
	if f := cp.take(action, false); f != nil {
		return errf(f.Code, f.Message)
	}
	return nil
}

// take dequeues one use of the first failure of action that settles (or,
// with settle false, that refuses). Call with mu held.
func (cp *controlPlane) take(action string, settle bool) *ControlFailure {
	for i, f := range cp.failNext {
		if f.Action != action || (f.Settle != "") != settle {
			continue
		}
		cp.failNext[i].Times--
		if cp.failNext[i].Times <= 0 {
			cp.failNext = append(cp.failNext[:i], cp.failNext[i+1:]...)
		}
		return &f
	}
	return nil
}

// settle starts f's change: it is Creating/Updating (status) until
// FunctionReadyAfter from now, then Active, or the failure state a queued
// Settle fault of c's action names. Call with mu held.
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

// lock takes the control-plane lock and the injected failure of c's action.
func (s *Server) lockControl(c *apiCall) *apiError {
	s.control.mu.Lock()
	if s.control.functions == nil {
		s.control.functions = map[string]*scfFunction{}
		s.control.roles = map[string]*camRole{}
		s.control.policies = map[uint64]*camPolicy{}
	}
	return s.control.takeFailure(c.service + "." + c.action)
}

func (cp *controlPlane) id() uint64 {
	cp.nextID++
	return cp.nextID
}

type scfKV struct{ Key, Value string }

type scfFunction struct {
	account                                     string // "" = the default account
	Region, Namespace, FunctionName, FunctionId string
	Handler, Runtime, Description, Role         string
	MemorySize, Timeout                         int64
	Variables                                   []scfKV
	Tags                                        []scfKV
	CodeSha256                                  string
	CodeSize                                    int64
	AddTime, ModTime                            time.Time
	status, settleTo, statusDesc                string
	reasons                                     []statusReason
	readyAt                                     time.Time
	uin                                         string // the creating account's
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
		if f.status == "" {
			f.status = FunctionActive
		}
	}
	return f.status
}

func scfTime(t time.Time) string {
	// SCF answers times such as "2019-08-02 22:53:19" (China Standard Time).
	return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
}

// scfScope checks region and namespace and returns the function map key prefix.
func scfScope(c *apiCall, namespace string) (string, *apiError) {
	if c.region == "" {
		return "", errf("MissingParameter", "The request is missing the required header X-TC-Region (SCF is a regional service).")
	}
	if !reRegion.MatchString(c.region) {
		return "", errf("UnsupportedRegion", "SCF does not serve region "+strconv.Quote(c.region)+".")
	}
	if namespace != "" && namespace != "default" {
		return "", errf("ResourceNotFound.Namespace", "Namespace "+namespace+" does not exist (the emulator has only default).")
	}
	// A function exists in one account and one region: another account's
	// keys, or another region, never find it.
	return functionKey(c.account, c.region, ""), nil
}

// functionKey is a function's key in controlPlane.functions.
func functionKey(account, region, name string) string {
	return scope(account, region) + "/default/" + name
}

// reRegion is the shape of a Tencent Cloud region id (ap-guangzhou,
// na-siliconvalley, ap-beijing-1). Which regions exist is Tencent's to say.
var reRegion = regexp.MustCompile(`^[a-z]{2,3}-[a-z]+(-[a-z0-9]+)?$`)

func (s *Server) findFunction(c *apiCall, name, namespace string) (*scfFunction, *apiError) {
	prefix, err := scfScope(c, namespace)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errf("MissingParameter", "The request is missing the required parameter FunctionName.")
	}
	f := s.control.functions[prefix+name]
	if f == nil {
		return nil, errf("ResourceNotFound.Function", "Function "+name+" does not exist in namespace default of "+c.region+".")
	}
	return f, nil
}

// lockFunction is the start every SCF action on one function shares: it
// decodes c's parameters into req (a struct with FunctionName and Namespace
// *string fields), takes the control-plane lock, refuses with the injected
// failure of c's action if one is queued, and finds the function. Unless it
// fails, the lock stays held until the caller calls unlock.
func (s *Server) lockFunction(c *apiCall, req any) (f *scfFunction, unlock func(), aerr *apiError) {
	if err := decodeParams(c.body, req, true); err != nil {
		return nil, nil, err
	}
	// The body decoded strictly into req: it is one JSON object whose
	// FunctionName and Namespace, when present, are strings or null.
	var id struct{ FunctionName, Namespace string }
	_ = json.Unmarshal(c.body, &id)
	if err := s.lockControl(c); err != nil {
		s.control.mu.Unlock()
		return nil, nil, err
	}
	if f, aerr = s.findFunction(c, id.FunctionName, id.Namespace); aerr != nil {
		s.control.mu.Unlock()
		return nil, nil, aerr
	}
	return f, s.control.mu.Unlock, nil
}

// requireActive refuses with code unless f is Active (or in one of also);
// todo is what the caller wanted to do ("delete it").
func (f *scfFunction) requireActive(now time.Time, code, todo string, also ...string) *apiError {
	if st := f.statusAt(now); st != FunctionActive && !contains(also, st) {
		return errf(code, "Function "+f.FunctionName+" is "+st+"; "+todo+" when it is Active.")
	}
	return nil
}

type scfEnvironment struct {
	Variables []*struct {
		Key   *string
		Value *string
	}
}

// checkEnvironment checks Environment.Variables. An element whose Key and
// Value are both empty is the "clear" element: SCF ignores an empty
// Variables list, so clients that remove a function's last variable send
// [{"Key":"","Value":""}] (terraform-provider-tencentcloud
// tencentcloud/services/scf/service_tencentcloud_scf.go;
// tencent-component-toolkit src/modules/scf/entities/scf.ts: "Environment
// 参数也需要为特殊元素数组"); it adds no variable.
func checkEnvironment(env *scfEnvironment) ([]scfKV, *apiError) {
	if env == nil {
		return nil, nil
	}
	out := []scfKV{}
	seen := map[string]bool{}
	size := 0
	for i, v := range env.Variables {
		if v != nil && str(v.Key) == "" && str(v.Value) == "" {
			continue
		}
		if v == nil || v.Key == nil || *v.Key == "" {
			return nil, errf("InvalidParameterValue.Environment", fmt.Sprintf("Environment.Variables.%d.Key must not be empty.", i))
		}
		k := *v.Key
		if v.Value == nil || *v.Value == "" {
			return nil, errf("InvalidParameterValue.Environment", "Environment variable "+k+" has an empty Value; values must not be empty.")
		}
		if !reEnvKey.MatchString(k) {
			return nil, errf("InvalidParameterValue.Environment", "Environment variable key "+strconv.Quote(k)+" must be letters, digits and underscores, not starting with a digit.")
		}
		for _, p := range reservedEnvPrefixes {
			if strings.HasPrefix(k, p) {
				return nil, errf("InvalidParameterValue.EnvironmentSystemProtect", "Environment variable "+k+" uses the reserved prefix "+p+".")
			}
		}
		if seen[k] {
			return nil, errf("InvalidParameterValue.Environment", "Environment variable "+k+" is given twice.")
		}
		seen[k] = true
		size += len(k) + len(*v.Value)
		out = append(out, scfKV{k, *v.Value})
	}
	if size > maxEnvBytes {
		return nil, errf("InvalidParameterValue.EnvironmentExceededLimit", fmt.Sprintf("Environment variables total %d bytes; the limit is %d.", size, maxEnvBytes))
	}
	return out, nil
}

func checkMemory(mb int64) *apiError {
	if mb == 64 || (mb >= 128 && mb <= 3072 && mb%128 == 0) {
		return nil
	}
	return errf("InvalidParameterValue.MemorySize", fmt.Sprintf("MemorySize %d is invalid: use 64, or 128 to 3072 in steps of 128.", mb))
}

func checkTimeout(sec int64) *apiError {
	if sec >= 1 && sec <= 900 {
		return nil
	}
	return errf("LimitExceeded.Timeout", fmt.Sprintf("Timeout %d is out of range: 1 to 900 seconds.", sec))
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

func checkDescription(d string) *apiError {
	if len(d) > 1000 {
		return errf("InvalidParameterValue.Description", "Description is longer than 1000 characters.")
	}
	return nil
}

// checkRole refuses a role that is not a CAM role of the account ("": none),
// and, with Options.RolePropagation, one created or given a policy less than
// that long ago: CAM changes reach SCF after a while (terraform-provider-
// tencentcloud sleeps after CreateRole and AttachRolePolicy before using a
// role, and retries the codes below). The emulator answers
// FailedOperation.CallRoleFailed (scf errors.go: 请求role信息失败, "getting
// the role's information failed"), one of the codes terraform retries
// (with ResourceNotFound.Role, ResourceNotFound.RoleCheck,
// InternalError.GetRoleError); which one Tencent answers is not documented.
// Call with the control-plane lock held.
func (s *Server) checkRole(account, role string, now time.Time) *apiError {
	if role == "" {
		return nil
	}
	r := s.control.roles[scope(account, role)]
	if r == nil {
		return errf("ResourceNotFound.Role", "Role "+role+" does not exist in CAM.")
	}
	if d := s.opts.RolePropagation; d > 0 {
		latest := r.AddTime
		for _, at := range r.attachedAt {
			if at.After(latest) {
				latest = at
			}
		}
		if now.Before(latest.Add(d)) {
			return errf("FailedOperation.CallRoleFailed", "Role "+role+" is not usable by SCF yet (a CAM change propagates in "+d.String()+"); retry.")
		}
	}
	return nil
}

func checkTags(tags []*struct{ Key, Value *string }) ([]scfKV, *apiError) {
	var out []scfKV
	for i, t := range tags {
		if t == nil || t.Key == nil || *t.Key == "" || t.Value == nil || *t.Value == "" {
			return nil, errf("InvalidParameterValue", fmt.Sprintf("Tags.%d needs a non-empty Key and Value.", i))
		}
		out = append(out, scfKV{*t.Key, *t.Value})
	}
	return out, nil
}

type createFunctionReq struct {
	FunctionName *string
	Code         *struct {
		ZipFile *string
	}
	Handler           *string
	Description       *string
	MemorySize        *int64
	Timeout           *int64
	Environment       *scfEnvironment
	Runtime           *string
	Namespace         *string
	Role              *string
	Type              *string
	CodeSource        *string
	InstallDependency *string
	Tags              []*struct{ Key, Value *string }
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) actCreateFunction(c *apiCall) (any, *apiError) {
	var req createFunctionReq
	if err := decodeParams(c.body, &req, true); err != nil {
		return nil, err
	}
	if err := s.lockControl(c); err != nil {
		s.control.mu.Unlock()
		return nil, err
	}
	defer s.control.mu.Unlock()
	prefix, aerr := scfScope(c, str(req.Namespace))
	if aerr != nil {
		return nil, aerr
	}
	name := str(req.FunctionName)
	if name == "" {
		return nil, errf("MissingParameter", "The request is missing the required parameter FunctionName.")
	}
	if !reFunctionName.MatchString(name) {
		return nil, errf("InvalidParameterValue.FunctionName", "FunctionName "+strconv.Quote(name)+" is invalid: 2-60 letters, digits, - and _, starting with a letter, not ending with - or _.")
	}
	if t := str(req.Type); t != "" && t != "Event" {
		return nil, errf("InvalidParameterValue.FunctionType", "The emulator serves event functions (Type Event) only.")
	}
	if cs := str(req.CodeSource); cs != "" && cs != "ZipFile" {
		return nil, errf("InvalidParameterValue.CodeSource", "The emulator accepts code as Code.ZipFile only (CodeSource ZipFile).")
	}
	if req.Code == nil || req.Code.ZipFile == nil || *req.Code.ZipFile == "" {
		return nil, errf("MissingParameter.Code", "Code.ZipFile (the base64 of a zip) is required.")
	}
	runtime := str(req.Runtime)
	if runtime == "" {
		runtime = "Python2.7" // the documented default
	}
	if !contains(scfRuntimes, runtime) {
		return nil, errf("InvalidParameterValue.Runtime", "Runtime "+strconv.Quote(runtime)+" is not supported; use one of "+strings.Join(scfRuntimes, ", ")+".")
	}
	handler := str(req.Handler)
	if handler == "" || !reHandler.MatchString(handler) {
		return nil, errf("InvalidParameterValue.Handler", "Handler "+strconv.Quote(handler)+" is invalid: 2-60 letters, digits, _ - and ., starting and ending with a letter or digit (Go1: the executable's file name).")
	}
	mem, timeout := int64(128), int64(3)
	if req.MemorySize != nil {
		mem = *req.MemorySize
	}
	if req.Timeout != nil {
		timeout = *req.Timeout
	}
	if err := checkMemory(mem); err != nil {
		return nil, err
	}
	if err := checkTimeout(timeout); err != nil {
		return nil, err
	}
	vars, aerr := checkEnvironment(req.Environment)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkDescription(str(req.Description)); aerr != nil {
		return nil, aerr
	}
	tags, aerr := checkTags(req.Tags)
	if aerr != nil {
		return nil, aerr
	}
	role := str(req.Role)
	if aerr := s.checkRole(c.account, role, c.now); aerr != nil {
		return nil, aerr
	}
	if s.control.functions[prefix+name] != nil {
		return nil, errf("ResourceInUse.Function", "Function "+name+" already exists.")
	}
	zipBytes, aerr := decodeZip(*req.Code.ZipFile, maxCreateZipBytes, "Code.ZipFile")
	if aerr != nil {
		return nil, aerr
	}
	sum := sha256.Sum256(zipBytes)
	f := &scfFunction{
		account: c.account, Region: c.region, Namespace: "default", FunctionName: name, FunctionId: fmt.Sprintf("lam-%08x", s.control.id()),
		Handler: handler, Runtime: runtime, Description: str(req.Description), Role: role,
		MemorySize: mem, Timeout: timeout, Variables: vars, Tags: tags,
		CodeSha256: hex.EncodeToString(sum[:]), CodeSize: int64(len(zipBytes)),
		AddTime: c.now, uin: s.accountUin(c.account),
	}
	s.settle(c, f, FunctionCreating)
	s.control.functions[prefix+name] = f
	return struct{}{}, nil
}

type functionRef struct {
	FunctionName *string
	Namespace    *string
	Qualifier    *string
}

// lockFunctionRef is lockFunction for an action whose parameters are a
// functionRef: it refuses a Qualifier other than $LATEST too.
func (s *Server) lockFunctionRef(c *apiCall) (f *scfFunction, unlock func(), aerr *apiError) {
	var req functionRef
	if f, unlock, aerr = s.lockFunction(c, &req); aerr != nil {
		return nil, nil, aerr
	}
	if aerr = checkQualifier(req.Qualifier); aerr != nil {
		unlock()
		return nil, nil, aerr
	}
	return f, unlock, nil
}

func checkQualifier(q *string) *apiError {
	if q != nil && *q != "" && *q != "$LATEST" {
		return errf("ResourceNotFound.FunctionVersion", "Version "+*q+" does not exist (the emulator keeps $LATEST only).")
	}
	return nil
}

// FunctionInfo is what GET /_emulator/functions and GetFunction report.
type FunctionInfo struct {
	Region, Namespace, FunctionName, FunctionId, Status string
	Handler, Runtime, Description, Role                 string
	MemorySize, Timeout                                 int64
	Environment                                         map[string]string
	Tags                                                map[string]string
	CodeSha256                                          string
	CodeSize                                            int64
	AddTime, ModTime                                    string
	Triggers                                            []TriggerInfo
}

func (f *scfFunction) info(now time.Time) FunctionInfo {
	out := FunctionInfo{Region: f.Region, Namespace: f.Namespace, FunctionName: f.FunctionName, FunctionId: f.FunctionId,
		Status: f.statusAt(now), Handler: f.Handler, Runtime: f.Runtime, Description: f.Description, Role: f.Role,
		MemorySize: f.MemorySize, Timeout: f.Timeout, Environment: map[string]string{}, Tags: map[string]string{},
		CodeSha256: f.CodeSha256, CodeSize: f.CodeSize, AddTime: scfTime(f.AddTime), ModTime: scfTime(f.ModTime),
		Triggers: []TriggerInfo{}}
	for _, kv := range f.Variables {
		out.Environment[kv.Key] = kv.Value
	}
	for _, kv := range f.Tags {
		out.Tags[kv.Key] = kv.Value
	}
	for _, t := range f.triggers {
		out.Triggers = append(out.Triggers, t.info())
	}
	return out
}

type kvOut struct{ Key, Value string }

func kvList(in []scfKV) []kvOut {
	out := make([]kvOut, 0, len(in))
	for _, kv := range in {
		out = append(out, kvOut(kv))
	}
	return out
}

func (s *Server) actGetFunction(c *apiCall) (any, *apiError) {
	// Not functionRef embedded: the decoder would name a mistyped field
	// "functionRef.FunctionName" in the error.
	var req struct {
		FunctionName, Namespace, Qualifier, ShowCode *string
	}
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if err := checkQualifier(req.Qualifier); err != nil {
		return nil, err
	}
	return f.getFunction(c.now), nil
}

// getFunction is GetFunction's answer with every field of the published
// example (tccli scf/v20180416 examples.json GetFunction; types from
// GetFunctionResponseParams). Features the emulator does not have (VPC,
// EIP, CLS, layers, dead letter, CFS, images, ...) answer the example's
// "off" values; ImageConfig, ProtocolParams and InstanceConcurrencyConfig
// are null (a zip function has no image).
func (f *scfFunction) getFunction(now time.Time) any {
	triggers := []TriggerInfo{}
	for _, t := range f.triggers {
		triggers = append(triggers, t.info())
	}
	status := f.statusAt(now)
	available := "Available"
	if status != FunctionActive {
		available = "Unavailable"
	}
	reasons := f.reasons
	if status != FunctionCreateFailed && status != FunctionUpdateFailed {
		reasons = []statusReason{}
	}
	statusDesc := ""
	if len(reasons) > 0 {
		statusDesc = f.statusDesc
	}
	type eipOut struct {
		EipStatus  string
		EipAddress []string
	}
	return struct {
		Qualifier, Description           string
		Timeout, InitTimeout, MemorySize int64
		Runtime                          string
		VpcConfig                        struct{ VpcId, SubnetId string }
		Environment                      struct{ Variables []kvOut }
		Handler, UseGpu, Role            string
		CodeSize                         int64
		FunctionVersion, FunctionName    string
		FunctionId, Namespace            string
		InstallDependency, Status        string
		AvailableStatus, StatusDesc      string
		L5Enable, DnsCache               string
		EipConfig                        struct {
			EipFixed string
			Eips     []string
		}
		ModTime, AddTime string
		Layers           []struct{}
		DeadLetterConfig struct{ Type, Name, FilterType string }
		OnsEnable        string
		PublicNetConfig  struct {
			PublicNetStatus string
			EipConfig       eipOut
		}
		ImageConfig                     *struct{}
		ProtocolType                    string
		Triggers                        []TriggerInfo
		ClsLogsetId, ClsTopicId         string
		CodeInfo, CodeResult, CodeError string
		ErrNo                           int64
		Tags                            []kvOut
		AccessInfo                      struct{ Host, Vip string }
		Type                            string
		CfsConfig                       struct{ CfsInsList []struct{} }
		StatusReasons                   []statusReason
		AsyncRunEnable, TraceEnable     string
		ProtocolParams                  *struct{}
		InstanceConcurrencyConfig       *struct{}
		IntranetConfig                  struct {
			IpFixed   string
			IpAddress []string
		}
	}{
		Qualifier: "$LATEST", Description: f.Description, Timeout: f.Timeout, InitTimeout: 90, MemorySize: f.MemorySize,
		Runtime: f.Runtime, Environment: struct{ Variables []kvOut }{kvList(f.Variables)},
		Handler: f.Handler, UseGpu: "FALSE", Role: f.Role, CodeSize: f.CodeSize,
		FunctionVersion: "$LATEST", FunctionName: f.FunctionName, FunctionId: f.FunctionId, Namespace: f.Namespace,
		InstallDependency: "FALSE", Status: status, AvailableStatus: available, StatusDesc: statusDesc,
		L5Enable: "FALSE", DnsCache: "FALSE", EipConfig: struct {
			EipFixed string
			Eips     []string
		}{"FALSE", []string{}},
		ModTime: scfTime(f.ModTime), AddTime: scfTime(f.AddTime), Layers: []struct{}{},
		OnsEnable: "FALSE", PublicNetConfig: struct {
			PublicNetStatus string
			EipConfig       eipOut
		}{"ENABLE", eipOut{"DISABLE", []string{}}},
		Triggers: triggers, CodeResult: "success", Tags: kvList(f.Tags), Type: "Event",
		CfsConfig: struct{ CfsInsList []struct{} }{[]struct{}{}}, StatusReasons: reasons,
		AsyncRunEnable: "FALSE", TraceEnable: "FALSE",
		IntranetConfig: struct {
			IpFixed   string
			IpAddress []string
		}{"DISABLE", []string{}},
	}
}

func (s *Server) actGetFunctionAddress(c *apiCall) (any, *apiError) {
	f, unlock, aerr := s.lockFunctionRef(c)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	// Url is the code package's (COS) download address; the emulator keeps
	// no package to download, so it names one that does not resolve.
	return struct{ Url, CodeSha256 string }{
		Url:        "https://scf-code.emulator.invalid/" + f.Region + "/" + f.Namespace + "/" + f.FunctionName + ".zip",
		CodeSha256: f.CodeSha256,
	}, nil
}

func (s *Server) actUpdateFunctionCode(c *apiCall) (any, *apiError) {
	var req struct {
		FunctionName, Handler, ZipFile, Namespace, CodeSource, Publish, InstallDependency *string
	}
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	// A CreateFailed function cannot be updated (tencent-component-toolkit
	// deletes and re-creates it); an UpdateFailed one can be updated again.
	if aerr := f.requireActive(c.now, "FailedOperation.UpdateFunctionCode", "update its code", FunctionUpdateFailed); aerr != nil {
		return nil, aerr
	}
	if cs := str(req.CodeSource); cs != "" && cs != "ZipFile" {
		return nil, errf("InvalidParameterValue.CodeSource", "The emulator accepts code as ZipFile only.")
	}
	if str(req.ZipFile) == "" {
		return nil, errf("MissingParameter.Code", "ZipFile (the base64 of a zip) is required.")
	}
	if p := str(req.Publish); p != "" && p != "FALSE" {
		return nil, errf("UnsupportedOperation.UpdateFunctionCode", "The emulator does not publish versions (Publish TRUE).")
	}
	handler := f.Handler
	if req.Handler != nil {
		if !reHandler.MatchString(*req.Handler) {
			return nil, errf("InvalidParameterValue.Handler", "Handler "+strconv.Quote(*req.Handler)+" is invalid.")
		}
		handler = *req.Handler
	}
	zipBytes, aerr := decodeZip(*req.ZipFile, maxUpdateZipBytes, "ZipFile")
	if aerr != nil {
		return nil, aerr
	}
	sum := sha256.Sum256(zipBytes)
	f.Handler, f.CodeSha256, f.CodeSize = handler, hex.EncodeToString(sum[:]), int64(len(zipBytes))
	s.settle(c, f, FunctionUpdating)
	return struct{}{}, nil
}

func (s *Server) actUpdateFunctionConfiguration(c *apiCall) (any, *apiError) {
	var req struct {
		FunctionName, Description *string
		MemorySize, Timeout       *int64
		Runtime                   *string
		Environment               *scfEnvironment
		Namespace, Role, Publish  *string
		InstallDependency         *string
	}
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if aerr := f.requireActive(c.now, "FailedOperation.UpdateFunctionConfiguration", "update its configuration", FunctionUpdateFailed); aerr != nil {
		return nil, aerr
	}
	// Runtime: 创建时指定，目前不支持修改。
	if req.Runtime != nil && *req.Runtime != f.Runtime {
		return nil, errf("InvalidParameterValue.Runtime", "Runtime cannot be changed after creation (is "+f.Runtime+").")
	}
	if p := str(req.Publish); p != "" && p != "FALSE" {
		return nil, errf("UnsupportedOperation", "The emulator does not publish versions (Publish TRUE).")
	}
	if req.MemorySize != nil {
		if err := checkMemory(*req.MemorySize); err != nil {
			return nil, err
		}
	}
	if req.Timeout != nil {
		if err := checkTimeout(*req.Timeout); err != nil {
			return nil, err
		}
	}
	vars, aerr := checkEnvironment(req.Environment)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkDescription(str(req.Description)); aerr != nil {
		return nil, aerr
	}
	if aerr := s.checkRole(c.account, str(req.Role), c.now); aerr != nil {
		return nil, aerr
	}
	if req.MemorySize != nil {
		f.MemorySize = *req.MemorySize
	}
	if req.Timeout != nil {
		f.Timeout = *req.Timeout
	}
	// An empty Variables list is ignored (the variables stay); the clear
	// element alone removes them all (checkEnvironment).
	if req.Environment != nil && len(req.Environment.Variables) > 0 {
		f.Variables = vars
	}
	if req.Description != nil {
		f.Description = *req.Description
	}
	if req.Role != nil {
		f.Role = *req.Role
	}
	s.settle(c, f, FunctionUpdating)
	return struct{}{}, nil
}

func (s *Server) actDeleteFunction(c *apiCall) (any, *apiError) {
	f, unlock, aerr := s.lockFunctionRef(c)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if aerr := f.requireActive(c.now, "FailedOperation.DeleteFunction", "delete it", FunctionCreateFailed, FunctionUpdateFailed); aerr != nil {
		return nil, aerr
	}
	delete(s.control.functions, functionKey(f.account, f.Region, f.FunctionName))
	return struct{}{}, nil
}

// Functions returns every function as of now, sorted by region and name.
func (s *Server) Functions() []FunctionInfo {
	s.control.mu.Lock()
	defer s.control.mu.Unlock()
	now := s.now()
	out := []FunctionInfo{}
	for _, f := range s.control.functions {
		out = append(out, f.info(now))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].FunctionName < out[j].FunctionName
	})
	return out
}

// The control plane's inspection endpoints (routes.go registers them):
//
//	GET  /_emulator/functions   every SCF function with its triggers (FunctionInfo)
//	GET  /_emulator/roles       CAM roles (RoleInfo), GET /_emulator/policies (PolicyInfo)
//	POST /_emulator/fail-next   queue a ControlFailure {"Action":"scf.CreateTrigger","Code":"InternalError"},
//	                            or a settle fault {"Action":"scf.CreateFunction","Settle":"CreateFailed"}
func (s *Server) inspectFunctions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Functions())
}

func (s *Server) inspectRoles(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Roles())
}

func (s *Server) inspectPolicies(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Policies())
}

func (s *Server) inspectFailNext(w http.ResponseWriter, r *http.Request) {
	body, ok := inspectBody(w, r)
	if !ok {
		return
	}
	var f ControlFailure
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.check() != "" {
		inspectError(w, http.StatusBadRequest, "want {\"Action\":\"scf.CreateTrigger\",\"Code\":\"InternalError\",\"Times\":1} or {\"Action\":\"scf.CreateFunction\",\"Settle\":\"CreateFailed\"}")
		return
	}
	s.FailNext(f)
	w.WriteHeader(http.StatusNoContent)
}

// controlNotSupported answers a method a control-plane inspection endpoint
// does not take.
func controlNotSupported(path, _ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		inspectError(w, http.StatusMethodNotAllowed, "%s %s is not supported", r.Method, path)
	}
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
