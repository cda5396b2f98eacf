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

	"github.com/scf-janitor/scf-janitor/shared/cron"
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
//   - The http trigger: its name is chosen by SCF (a 10-character id, also
//     the host label of the URL; the given TriggerName is ignored), a function
//     has at most one, and its URL https://<appid>-<id>.<region>.tencentscf.com
//     (doc 583/96099) is returned inside TriggerDesc under "Url" (the SDK
//     models have no URL field; a client should look for the URL anywhere in
//     TriggerDesc, as scf-deploy does).
//   - A timer trigger's TriggerDesc is returned as {"cron":"<expr>"} and Enable
//     as 1/0, as tencent-component-toolkit src/modules/triggers/timer.ts
//     describes ("post TriggerDesc is "0 */6 * * * * *" but get
//     {"cron":"0 */6 * * * * *"}", "post Enable OPEN/CLOSE but get 1 or 0").
//   - GetFunctionAddress.CodeSha256 is the lowercase hex SHA-256 of the
//     uploaded zip.
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
}

// DefaultFunctionReadyAfter is Options.FunctionReadyAfter's default.
const DefaultFunctionReadyAfter = time.Second

// EmulatorAppID is the APPID of the emulated account (Function URL hosts).
const EmulatorAppID = "1250000000"

// SCF function statuses (GetFunctionResponseParams.Status).
const (
	FunctionCreating = "Creating"
	FunctionUpdating = "Updating"
	FunctionActive   = "Active"
)

// Limits documented in the SDK models.
const (
	maxCreateZipBytes = 50 << 20 // Code.ZipFile: zip包大小上限为 50MB
	maxUpdateZipBytes = 20 << 20 // UpdateFunctionCode.ZipFile: 最大支持20M
	maxEnvBytes       = 4 << 10  // FACTS §4: env vars 4 KB per function
	maxArgumentBytes  = 4 << 10  // FACTS §5: a timer's argument up to 4 KB
)

// scfRuntimes are the runtimes CreateFunctionRequestParams.Runtime lists.
var scfRuntimes = []string{"Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10", "Nodejs6.10", "Nodejs8.9",
	"Nodejs10.15", "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Nodejs18.15", "Php5.6", "Php7", "Php7.4", "Php8.0",
	"Go1", "Java8", "CustomRuntime"}

// reservedEnvPrefixes: FACTS §4, keys SCF keeps for itself.
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
type ControlFailure struct {
	Action  string
	Code    string
	Message string `json:",omitempty"`
	Times   int    `json:",omitempty"` // default 1
}

// FailNext queues f.
func (s *Server) FailNext(f ControlFailure) {
	if f.Times <= 0 {
		f.Times = 1
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
	for i, f := range cp.failNext {
		if f.Action != action {
			continue
		}
		cp.failNext[i].Times--
		if cp.failNext[i].Times <= 0 {
			cp.failNext = append(cp.failNext[:i], cp.failNext[i+1:]...)
		}
		return errf(f.Code, f.Message)
	}
	return nil
}

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
	status                                      string
	readyAt                                     time.Time
	triggers                                    []*scfTrigger
}

type scfTrigger struct {
	TriggerName, Type, Qualifier, CustomArgument, Description string
	Enable                                                    bool
	cron                                                      string // timer
	http                                                      *httpTriggerDesc
	url                                                       string // http, extranet
	AddTime, ModTime                                          time.Time
}

// httpTriggerDesc is the TriggerDesc of an http (Function URL) trigger, as
// tencent-component-toolkit src/modules/triggers/http.ts sends it.
type httpTriggerDesc struct {
	AuthType  string
	NetConfig *struct {
		EnableIntranet bool
		EnableExtranet bool
	}
	CorsConfig json.RawMessage `json:",omitempty"`
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
		f.status = FunctionActive
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

// requireActive refuses with code while f is Creating or Updating; todo is
// what the caller wanted to do ("delete it").
func (f *scfFunction) requireActive(now time.Time, code, todo string) *apiError {
	if st := f.statusAt(now); st != FunctionActive {
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

func checkEnvironment(env *scfEnvironment) ([]scfKV, *apiError) {
	if env == nil {
		return nil, nil
	}
	out := []scfKV{}
	seen := map[string]bool{}
	size := 0
	for i, v := range env.Variables {
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

// checkRole refuses a role that is not a CAM role of the account ("": none).
// Call with the control-plane lock held.
func (s *Server) checkRole(account, role string) *apiError {
	if role != "" && s.control.roles[scope(account, role)] == nil {
		return errf("ResourceNotFound.Role", "Role "+role+" does not exist in CAM.")
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
	if aerr := s.checkRole(c.account, role); aerr != nil {
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
		AddTime: c.now, ModTime: c.now, status: FunctionCreating, readyAt: c.now.Add(s.readyAfter()),
	}
	s.control.functions[prefix+name] = f
	return struct{}{}, nil
}

type functionRef struct {
	FunctionName *string
	Namespace    *string
	Qualifier    *string
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

// TriggerInfo is one trigger as ListTriggers reports it.
type TriggerInfo struct {
	TriggerName, Type, TriggerDesc, Qualifier, CustomArgument, Description string
	Enable                                                                 uint64
	AvailableStatus                                                        string
	AddTime, ModTime                                                       string
}

func (t *scfTrigger) info() TriggerInfo {
	out := TriggerInfo{TriggerName: t.TriggerName, Type: t.Type, Qualifier: t.Qualifier, CustomArgument: t.CustomArgument,
		Description: t.Description, AvailableStatus: "Available", AddTime: scfTime(t.AddTime), ModTime: scfTime(t.ModTime)}
	if t.Enable {
		out.Enable = 1
	}
	switch t.Type {
	case "timer":
		b, _ := json.Marshal(map[string]string{"cron": t.cron})
		out.TriggerDesc = string(b)
	case "http":
		desc := map[string]any{"AuthType": t.http.AuthType, "NetConfig": t.http.NetConfig}
		if len(t.http.CorsConfig) > 0 {
			desc["CorsConfig"] = t.http.CorsConfig
		}
		if t.url != "" {
			desc["Url"] = t.url
		}
		b, _ := json.Marshal(desc)
		out.TriggerDesc = string(b)
	}
	return out
}

// sdkTrigger is a trigger as GetFunction's Triggers and CreateTrigger's
// TriggerInfo answer it (the SDK's Trigger: Enable is an int64 there, a
// uint64 in ListTriggers' TriggerInfo).
type sdkTrigger struct {
	ModTime, Type, TriggerDesc, TriggerName, AddTime string
	Enable                                           int64
	CustomArgument, AvailableStatus, Qualifier       string
	Description                                      string
}

func (t *scfTrigger) sdk() sdkTrigger {
	i := t.info()
	return sdkTrigger{ModTime: i.ModTime, Type: i.Type, TriggerDesc: i.TriggerDesc, TriggerName: i.TriggerName,
		AddTime: i.AddTime, Enable: int64(i.Enable), CustomArgument: i.CustomArgument, AvailableStatus: i.AvailableStatus,
		Qualifier: i.Qualifier, Description: i.Description}
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
	var triggers []sdkTrigger
	for _, t := range f.triggers {
		triggers = append(triggers, t.sdk())
	}
	status := f.statusAt(c.now)
	return struct {
		FunctionName, FunctionId, Namespace, Runtime, Handler, Description, Role string
		MemorySize, Timeout, CodeSize                                            int64
		Environment                                                              struct{ Variables []kvOut }
		Tags                                                                     []kvOut
		Status, StatusDesc, ModTime, AddTime, FunctionVersion, Qualifier, Type   string
		Triggers                                                                 []sdkTrigger
		StatusReasons                                                            []struct{}
	}{
		FunctionName: f.FunctionName, FunctionId: f.FunctionId, Namespace: f.Namespace, Runtime: f.Runtime, Handler: f.Handler,
		Description: f.Description, Role: f.Role, MemorySize: f.MemorySize, Timeout: f.Timeout, CodeSize: f.CodeSize,
		Environment: struct{ Variables []kvOut }{kvList(f.Variables)}, Tags: kvList(f.Tags),
		Status: status, ModTime: scfTime(f.ModTime), AddTime: scfTime(f.AddTime),
		FunctionVersion: "$LATEST", Qualifier: "$LATEST", Type: "Event", Triggers: triggers, StatusReasons: []struct{}{},
	}, nil
}

func (s *Server) actGetFunctionAddress(c *apiCall) (any, *apiError) {
	var req functionRef
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if err := checkQualifier(req.Qualifier); err != nil {
		return nil, err
	}
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
	if aerr := f.requireActive(c.now, "FailedOperation.UpdateFunctionCode", "update its code"); aerr != nil {
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
	f.ModTime, f.status, f.readyAt = c.now, FunctionUpdating, c.now.Add(s.readyAfter())
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
	if aerr := f.requireActive(c.now, "FailedOperation.UpdateFunctionConfiguration", "update its configuration"); aerr != nil {
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
	if aerr := s.checkRole(c.account, str(req.Role)); aerr != nil {
		return nil, aerr
	}
	if req.MemorySize != nil {
		f.MemorySize = *req.MemorySize
	}
	if req.Timeout != nil {
		f.Timeout = *req.Timeout
	}
	if req.Environment != nil {
		f.Variables = vars
	}
	if req.Description != nil {
		f.Description = *req.Description
	}
	if req.Role != nil {
		f.Role = *req.Role
	}
	f.ModTime, f.status, f.readyAt = c.now, FunctionUpdating, c.now.Add(s.readyAfter())
	return struct{}{}, nil
}

func (s *Server) actDeleteFunction(c *apiCall) (any, *apiError) {
	var req functionRef
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if err := checkQualifier(req.Qualifier); err != nil {
		return nil, err
	}
	if aerr := f.requireActive(c.now, "FailedOperation.DeleteFunction", "delete it"); aerr != nil {
		return nil, aerr
	}
	delete(s.control.functions, functionKey(f.account, f.Region, f.FunctionName))
	return struct{}{}, nil
}

func (s *Server) actListTriggers(c *apiCall) (any, *apiError) {
	var req struct {
		FunctionName, Namespace *string
		Offset, Limit           *uint64
		OrderBy, Order          *string
		Filters                 []*struct {
			Name   *string
			Values []string
		}
	}
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	offset, limit := uint64(0), uint64(20)
	if req.Offset != nil {
		offset = *req.Offset
	}
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit == 0 || limit > 100 {
		return nil, errf("InvalidParameterValue", "Limit must be between 1 and 100 (default 20).")
	}
	all := []TriggerInfo{}
	for _, t := range f.triggers {
		ok := true
		for _, flt := range req.Filters {
			if flt == nil {
				continue
			}
			var v string
			switch str(flt.Name) {
			case "TriggerName":
				v = t.TriggerName
			case "Qualifier":
				v = t.Qualifier
			case "Description":
				v = t.Description
			default:
				return nil, errf("InvalidParameterValue", "Filter Name "+strconv.Quote(str(flt.Name))+" is not one of TriggerName, Qualifier, Description.")
			}
			ok = ok && contains(flt.Values, v)
		}
		if ok {
			all = append(all, t.info())
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].AddTime < all[j].AddTime })
	page := []TriggerInfo{}
	for i := offset; i < uint64(len(all)) && i < offset+limit; i++ {
		page = append(page, all[i])
	}
	return struct {
		TotalCount uint64
		Triggers   []TriggerInfo
	}{uint64(len(all)), page}, nil
}

func (s *Server) actCreateTrigger(c *apiCall) (any, *apiError) {
	var req struct {
		FunctionName, TriggerName, Type, TriggerDesc, Namespace, Qualifier, Enable, CustomArgument, Description *string
	}
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if aerr := f.requireActive(c.now, "FailedOperation.FunctionStatusError", "add triggers"); aerr != nil {
		return nil, aerr
	}
	qualifier := str(req.Qualifier)
	switch qualifier {
	case "":
		qualifier = "$LATEST"
	case "$LATEST", "$DEFAULT":
	default:
		return nil, errf("ResourceNotFound.FunctionVersion", "Qualifier "+qualifier+" does not exist (use $LATEST or $DEFAULT).")
	}
	enable := true
	switch str(req.Enable) {
	case "", "OPEN":
	case "CLOSE":
		enable = false
	default:
		return nil, errf("InvalidParameterValue", "Enable must be OPEN or CLOSE, got "+strconv.Quote(str(req.Enable))+".")
	}
	if aerr := checkDescription(str(req.Description)); aerr != nil {
		return nil, aerr
	}
	t := &scfTrigger{Type: str(req.Type), TriggerName: str(req.TriggerName), Qualifier: qualifier, Enable: enable,
		Description: str(req.Description), AddTime: c.now, ModTime: c.now}
	switch t.Type {
	case "timer":
		if !reTimerName.MatchString(t.TriggerName) {
			return nil, errf("InvalidParameterValue.TriggerName", "TriggerName "+strconv.Quote(t.TriggerName)+" is invalid for a timer: 1-100 letters, digits, - and _.")
		}
		expr := strings.TrimSpace(str(req.TriggerDesc))
		if len(strings.Fields(expr)) != 7 && len(strings.Fields(expr)) != 5 {
			return nil, errf("InvalidParameterValue.TriggerCronConfig", "TriggerDesc "+strconv.Quote(expr)+" is not a cron expression of 7 fields (second minute hour day month week year), such as \"0 */5 * * * * *\".")
		}
		if _, err := cron.Parse(expr); err != nil {
			return nil, errf("InvalidParameterValue.TriggerCronConfig", "TriggerDesc "+strconv.Quote(expr)+": "+err.Error()+".")
		}
		if len(str(req.CustomArgument)) > maxArgumentBytes {
			return nil, errf("InvalidParameterValue", fmt.Sprintf("CustomArgument is %d bytes; the limit is %d.", len(str(req.CustomArgument)), maxArgumentBytes))
		}
		for _, o := range f.triggers {
			if o.TriggerName == t.TriggerName {
				return nil, errf("ResourceInUse.Trigger", "Trigger "+t.TriggerName+" already exists on "+f.FunctionName+".")
			}
		}
		t.cron, t.CustomArgument = expr, str(req.CustomArgument)
	case "http":
		if req.CustomArgument != nil {
			return nil, errf("InvalidParameterValue", "CustomArgument applies to timer triggers only.")
		}
		var d httpTriggerDesc
		dec := json.NewDecoder(strings.NewReader(str(req.TriggerDesc)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc of an http trigger must be JSON such as {\"AuthType\":\"NONE\",\"NetConfig\":{\"EnableIntranet\":false,\"EnableExtranet\":true}}: "+err.Error()+".")
		}
		if d.AuthType != "NONE" && d.AuthType != "CAM" {
			return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc.AuthType must be NONE or CAM, got "+strconv.Quote(d.AuthType)+".")
		}
		if d.NetConfig == nil {
			return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc.NetConfig {EnableIntranet, EnableExtranet} is required.")
		}
		if !d.NetConfig.EnableExtranet && !d.NetConfig.EnableIntranet {
			return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc.NetConfig enables neither EnableExtranet nor EnableIntranet.")
		}
		for _, o := range f.triggers {
			if o.Type == "http" {
				return nil, errf("ResourceInUse.Trigger", "Function "+f.FunctionName+" already has a Function URL (http trigger "+o.TriggerName+").")
			}
		}
		t.http = &d
		t.TriggerName = s.newURLID()
		if d.NetConfig.EnableExtranet {
			t.url = "https://" + EmulatorAppID + "-" + t.TriggerName + "." + c.region + ".tencentscf.com"
		}
	case "":
		return nil, errf("MissingParameter", "The request is missing the required parameter Type.")
	default:
		return nil, errf("UnsupportedOperation.Trigger", "The emulator serves timer and http triggers only, not "+strconv.Quote(t.Type)+".")
	}
	f.triggers = append(f.triggers, t)
	return struct{ TriggerInfo sdkTrigger }{t.sdk()}, nil
}

// newURLID returns a Function URL id: 10 lowercase letters and digits, as
// in https://1250000000-9i9j1kpa67.ap-guangzhou.tencentscf.com.
func (s *Server) newURLID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256([]byte(fmt.Sprintf("url/%d/%d", s.opts.Seed, s.seq.Add(1))))
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

func (s *Server) actDeleteTrigger(c *apiCall) (any, *apiError) {
	var req struct {
		FunctionName, TriggerName, Type, Namespace, TriggerDesc, Qualifier *string
	}
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if str(req.TriggerName) == "" || str(req.Type) == "" {
		return nil, errf("MissingParameter", "TriggerName and Type are required.")
	}
	if aerr := f.requireActive(c.now, "FailedOperation.FunctionStatusError", "remove triggers"); aerr != nil {
		return nil, aerr
	}
	for i, t := range f.triggers {
		if t.TriggerName == str(req.TriggerName) && t.Type == str(req.Type) {
			f.triggers = append(f.triggers[:i], f.triggers[i+1:]...)
			return struct{}{}, nil
		}
	}
	return nil, errf("ResourceNotFound.Trigger", "Function "+f.FunctionName+" has no "+str(req.Type)+" trigger "+str(req.TriggerName)+".")
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

func isControlInspectPath(path string) bool {
	switch path {
	case "/_emulator/functions", "/_emulator/roles", "/_emulator/policies", "/_emulator/fail-next":
		return true
	}
	return false
}

// serveControlInspect serves
//
//	GET  /_emulator/functions   every SCF function with its triggers (FunctionInfo)
//	GET  /_emulator/roles       CAM roles (RoleInfo), GET /_emulator/policies (PolicyInfo)
//	POST /_emulator/fail-next   queue a ControlFailure {"Action":"scf.CreateTrigger","Code":"InternalError"}
func (s *Server) serveControlInspect(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	switch {
	case path == "/_emulator/functions" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Functions())
	case path == "/_emulator/roles" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Roles())
	case path == "/_emulator/policies" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Policies())
	case path == "/_emulator/fail-next" && r.Method == http.MethodPost:
		var f ControlFailure
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil || f.Action == "" || f.Code == "" {
			inspectError(w, http.StatusBadRequest, "want {\"Action\":\"scf.CreateTrigger\",\"Code\":\"InternalError\",\"Times\":1}")
			return
		}
		s.FailNext(f)
		w.WriteHeader(http.StatusNoContent)
	default:
		inspectError(w, http.StatusMethodNotAllowed, "%s %s is not supported", r.Method, path)
	}
}
