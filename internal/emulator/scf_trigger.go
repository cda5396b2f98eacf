package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/cron"
)

// SCF triggers: timer and http (Function URL). The answer shapes are those of
// tccli's published examples (TencentCloud/tencentcloud-cli
// tccli/services/scf/v20180416/examples.json: ListTriggers, CreateTrigger):
//
//   - every trigger carries Qualifier, Description, AvailableStatus,
//     BindStatus ("on"), TriggerAttribute ("single"), ResourceId, AddTime and
//     ModTime;
//   - an http trigger's TriggerDesc is
//     {"AuthType":..,"NetConfig":{"EnableIntranet","IntranetUrl","IntranetHTTPUrl",
//     "ExtranetUrl","ExtranetHTTPUrl","WssIntranetUrl","WsIntranetUrl",
//     "WssExtranetUrl","WsExtranetUrl","EnableExtranet"}}, the URLs
//     https://<appid>-<id>[.in].<region>.tencentscf.com (and http:// forms),
//     "" for a side that is not enabled, and its TriggerName is the URL id;
//   - a timer's TriggerDesc is {"cron":"<7 fields>"}.
//
// Assumption (not documented): a 5-field cron ("*/5 * * * *", minute hour day
// month week) is stored as 7 fields by adding second 0 in front and year *
// after ("0 */5 * * * * *"). UpdateTrigger's documentation
// (tencentcloud-sdk-go scf/v20180416 client.go) says timer TriggerDesc accepts
// both the 5- and 7-field forms; the examples only ever answer 7 fields.
type scfTrigger struct {
	TriggerName, Type, Qualifier, CustomArgument, Description string
	Enable                                                    bool
	cron                                                      string // timer, 7 fields
	http                                                      *httpTrigger
	resourceID                                                string
	AddTime, ModTime                                          time.Time
}

// httpTrigger is the state of a Function URL.
type httpTrigger struct {
	AuthType                       string
	EnableIntranet, EnableExtranet bool
	CorsConfig                     json.RawMessage
	host, region                   string // "<appid>-<id>", the function's region
}

// httpTriggerDesc is the TriggerDesc a client sends for an http trigger, as
// tencent-component-toolkit src/modules/triggers/http.ts builds it. The
// address fields of an answer's NetConfig are accepted (a client may send
// back what it read) and ignored.
type httpTriggerDesc struct {
	AuthType  string
	NetConfig *struct {
		EnableIntranet, EnableExtranet                               *bool
		IntranetUrl, IntranetHTTPUrl, ExtranetUrl, ExtranetHTTPUrl   string
		WssIntranetUrl, WsIntranetUrl, WssExtranetUrl, WsExtranetUrl string
	}
	CorsConfig json.RawMessage `json:",omitempty"`
}

// netConfigOut is NetConfig in the answer, in the example's key order.
type netConfigOut struct {
	EnableIntranet                                               bool
	IntranetUrl, IntranetHTTPUrl, ExtranetUrl, ExtranetHTTPUrl   string
	WssIntranetUrl, WsIntranetUrl, WssExtranetUrl, WsExtranetUrl string
	EnableExtranet                                               bool
}

func (h *httpTrigger) desc() string {
	nc := netConfigOut{EnableIntranet: h.EnableIntranet, EnableExtranet: h.EnableExtranet}
	if h.EnableIntranet {
		nc.IntranetUrl = "https://" + h.host + ".in." + h.region + ".tencentscf.com"
		nc.IntranetHTTPUrl = "http://" + h.host + ".in." + h.region + ".tencentscf.com"
	}
	if h.EnableExtranet {
		nc.ExtranetUrl = "https://" + h.host + "." + h.region + ".tencentscf.com"
		nc.ExtranetHTTPUrl = "http://" + h.host + "." + h.region + ".tencentscf.com"
	}
	b, _ := json.Marshal(struct {
		AuthType   string
		NetConfig  netConfigOut
		CorsConfig json.RawMessage `json:",omitempty"`
	}{h.AuthType, nc, h.CorsConfig})
	return string(b)
}

// TriggerInfo is one trigger as ListTriggers, GetFunction's Triggers and
// CreateTrigger's TriggerInfo answer it (and GET /_emulator/functions).
type TriggerInfo struct {
	Enable                                       uint64
	Qualifier, TriggerName, Type, TriggerDesc    string
	AvailableStatus, CustomArgument, Description string
	AddTime, ModTime                             string
	ResourceId, BindStatus, TriggerAttribute     string
}

func (t *scfTrigger) info() TriggerInfo {
	out := TriggerInfo{TriggerName: t.TriggerName, Type: t.Type, Qualifier: t.Qualifier, CustomArgument: t.CustomArgument,
		Description: t.Description, AvailableStatus: "Available", AddTime: scfTime(t.AddTime), ModTime: scfTime(t.ModTime),
		ResourceId: t.resourceID, BindStatus: "on", TriggerAttribute: "single"}
	if t.Enable {
		out.Enable = 1
	}
	switch t.Type {
	case "timer":
		b, _ := json.Marshal(map[string]string{"cron": t.cron})
		out.TriggerDesc = string(b)
	case "http":
		out.TriggerDesc = t.http.desc()
	}
	return out
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

// timerCron checks a timer's TriggerDesc and returns it as 7 fields.
func timerCron(desc string) (string, *apiError) {
	expr := strings.Join(strings.Fields(desc), " ")
	switch len(strings.Fields(expr)) {
	case 5:
		expr = "0 " + expr + " *"
	case 7:
	default:
		return "", errf("InvalidParameterValue.TriggerCronConfig", "TriggerDesc "+strconv.Quote(desc)+" is not a cron expression of 7 fields (second minute hour day month week year), such as \"0 */5 * * * * *\", or of 5 (minute hour day month week).")
	}
	if _, err := cron.Parse(expr); err != nil {
		return "", errf("InvalidParameterValue.TriggerCronConfig", "TriggerDesc "+strconv.Quote(desc)+": "+err.Error()+".")
	}
	return expr, nil
}

// parseHTTPDesc checks an http trigger's TriggerDesc.
func parseHTTPDesc(desc string) (*httpTriggerDesc, *apiError) {
	var d httpTriggerDesc
	dec := json.NewDecoder(strings.NewReader(desc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc of an http trigger must be JSON such as {\"AuthType\":\"NONE\",\"NetConfig\":{\"EnableIntranet\":false,\"EnableExtranet\":true}}: "+err.Error()+".")
	}
	if d.AuthType != "NONE" && d.AuthType != "CAM" {
		return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc.AuthType must be NONE or CAM, got "+strconv.Quote(d.AuthType)+".")
	}
	if d.NetConfig == nil || d.NetConfig.EnableIntranet == nil || d.NetConfig.EnableExtranet == nil {
		return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc.NetConfig {EnableIntranet, EnableExtranet} is required.")
	}
	if !*d.NetConfig.EnableExtranet && !*d.NetConfig.EnableIntranet {
		return nil, errf("InvalidParameterValue.TriggerDesc", "TriggerDesc.NetConfig enables neither EnableExtranet nor EnableIntranet.")
	}
	if len(bytes.TrimSpace(d.CorsConfig)) == 0 || string(bytes.TrimSpace(d.CorsConfig)) == "null" {
		d.CorsConfig = nil
	}
	return &d, nil
}

func (h *httpTrigger) apply(d *httpTriggerDesc) {
	h.AuthType, h.EnableIntranet, h.EnableExtranet, h.CorsConfig = d.AuthType, *d.NetConfig.EnableIntranet, *d.NetConfig.EnableExtranet, d.CorsConfig
}

func parseEnable(p *string, code string) (bool, *apiError) {
	switch str(p) {
	case "OPEN":
		return true, nil
	case "CLOSE":
		return false, nil
	case "":
		if p == nil {
			return true, nil
		}
	}
	return false, errf(code, "Enable must be OPEN or CLOSE, got "+strconv.Quote(str(p))+".")
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
	// Qualifier: 函数的版本，默认为 $LATEST (CreateTriggerRequestParams);
	// the example answers the $DEFAULT a client sent.
	qualifier := str(req.Qualifier)
	switch qualifier {
	case "":
		qualifier = "$LATEST"
	case "$LATEST", "$DEFAULT":
	default:
		return nil, errf("ResourceNotFound.FunctionVersion", "Qualifier "+qualifier+" does not exist (use $LATEST or $DEFAULT).")
	}
	enable, aerr := parseEnable(req.Enable, "InvalidParameterValue")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkDescription(str(req.Description)); aerr != nil {
		return nil, aerr
	}
	t := &scfTrigger{Type: str(req.Type), TriggerName: str(req.TriggerName), Qualifier: qualifier, Enable: enable,
		Description: str(req.Description), AddTime: c.now, ModTime: c.now}
	switch t.Type {
	case "timer":
		if aerr := s.newTimer(f, t, str(req.TriggerDesc), req.CustomArgument); aerr != nil {
			return nil, aerr
		}
	case "http":
		if aerr := s.newHTTP(c, f, t, str(req.TriggerDesc), req.CustomArgument); aerr != nil {
			return nil, aerr
		}
	case "":
		return nil, errf("MissingParameter", "The request is missing the required parameter Type.")
	default:
		return nil, errf("UnsupportedOperation.Trigger", "The emulator serves timer and http triggers only, not "+strconv.Quote(t.Type)+".")
	}
	// ResourceId as in the ListTriggers example:
	// qcs::scf:<region>:uin/<uin>:function/<function>/<trigger>.
	t.resourceID = "qcs::scf:" + f.Region + ":uin/" + s.accountUin(c.account) + ":function/" + f.FunctionName + "/" + t.TriggerName
	f.triggers = append(f.triggers, t)
	return struct{ TriggerInfo TriggerInfo }{t.info()}, nil
}

func (s *Server) newTimer(f *scfFunction, t *scfTrigger, desc string, arg *string) *apiError {
	if !reTimerName.MatchString(t.TriggerName) {
		return errf("InvalidParameterValue.TriggerName", "TriggerName "+strconv.Quote(t.TriggerName)+" is invalid for a timer: 1-100 letters, digits, - and _.")
	}
	expr, aerr := timerCron(desc)
	if aerr != nil {
		return aerr
	}
	if len(str(arg)) > maxArgumentBytes {
		return errf("InvalidParameterValue", fmt.Sprintf("CustomArgument is %d bytes; the limit is %d.", len(str(arg)), maxArgumentBytes))
	}
	for _, o := range f.triggers {
		if o.TriggerName == t.TriggerName {
			return errf("ResourceInUse.Trigger", "Trigger "+t.TriggerName+" already exists on "+f.FunctionName+".")
		}
	}
	t.cron, t.CustomArgument = expr, str(arg)
	return nil
}

// newHTTP sets up a Function URL. Its name is chosen by SCF: a 10-character
// id, also the host label of its addresses (the given TriggerName is
// ignored; ListTriggers example: TriggerName "hulrzrbh9f", IntranetUrl
// https://1258888888-hulrzrbh9f.in.ap-chongqing.tencentscf.com). A function
// has at most one (assumption).
func (s *Server) newHTTP(c *apiCall, f *scfFunction, t *scfTrigger, desc string, arg *string) *apiError {
	if arg != nil {
		return errf("InvalidParameterValue", "CustomArgument applies to timer triggers only.")
	}
	d, aerr := parseHTTPDesc(desc)
	if aerr != nil {
		return aerr
	}
	for _, o := range f.triggers {
		if o.Type == "http" {
			return errf("ResourceInUse.Trigger", "Function "+f.FunctionName+" already has a Function URL (http trigger "+o.TriggerName+").")
		}
	}
	t.TriggerName = s.newURLID()
	t.http = &httpTrigger{host: EmulatorAppID + "-" + t.TriggerName, region: c.region}
	t.http.apply(d)
	return nil
}

// newURLID returns a Function URL id: 10 lowercase letters and digits, as
// in https://1250000000-9i9j1kpa67.ap-guangzhou.tencentscf.com.
func (s *Server) newURLID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256Sum(fmt.Sprintf("url/%d/%d", s.opts.Seed, s.seq.Add(1)))
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

// actUpdateTrigger changes a timer or http trigger in place
// (UpdateTriggerRequestParams; client.go: Enable, TriggerDesc, Description
// and CustomArgument; "不传值表示原值不变" — a field not sent keeps its
// value; Description sent empty becomes empty). The trigger keeps its name,
// AddTime and (http) its URL id and addresses; ModTime becomes now.
// client.go says only timer and ckafka update, the model's Type says timer,
// ckafka and http; tencent-component-toolkit updates http triggers with it,
// so the emulator serves timer and http (it has no ckafka triggers). Another
// Type is InvalidParameterValue.Type (listed for UpdateTrigger in client.go).
func (s *Server) actUpdateTrigger(c *apiCall) (any, *apiError) {
	var req struct {
		FunctionName, TriggerName, Type, Enable, Qualifier, Namespace, TriggerDesc, Description, CustomArgument *string
	}
	f, unlock, aerr := s.lockFunction(c, &req)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	switch typ := str(req.Type); {
	case typ == "" || str(req.TriggerName) == "":
		return nil, errf("MissingParameter", "TriggerName and Type are required.")
	case typ != "timer" && typ != "http" && typ != "ckafka":
		return nil, errf("InvalidParameterValue.Type", "Type must be timer, ckafka or http, got "+strconv.Quote(typ)+".")
	}
	if aerr := f.requireActive(c.now, "FailedOperation.FunctionStatusError", "update triggers"); aerr != nil {
		return nil, aerr
	}
	var t *scfTrigger
	for _, o := range f.triggers {
		if o.TriggerName == str(req.TriggerName) && o.Type == str(req.Type) {
			t = o
		}
	}
	if t == nil {
		return nil, errf("ResourceNotFound.Trigger", "Function "+f.FunctionName+" has no "+str(req.Type)+" trigger "+str(req.TriggerName)+".")
	}
	if q := str(req.Qualifier); q != "" && q != t.Qualifier {
		return nil, errf("ResourceNotFound.Qualifier", "Trigger "+t.TriggerName+" is on "+t.Qualifier+", not "+q+".")
	}
	if aerr := t.update(req.Enable, req.TriggerDesc, req.Description, req.CustomArgument); aerr != nil {
		return nil, aerr
	}
	t.ModTime = c.now
	return struct{}{}, nil
}

// update validates every given field, then applies them all.
func (t *scfTrigger) update(enable, desc, description, arg *string) *apiError {
	en := t.Enable
	if enable != nil {
		var aerr *apiError
		if en, aerr = parseEnable(enable, "InvalidParameterValue.Enable"); aerr != nil {
			return aerr
		}
	}
	if description != nil {
		if aerr := checkDescription(*description); aerr != nil {
			return aerr
		}
	}
	expr := t.cron
	var hd *httpTriggerDesc
	if str(desc) != "" {
		var aerr *apiError
		if t.Type == "timer" {
			expr, aerr = timerCron(*desc)
		} else {
			hd, aerr = parseHTTPDesc(*desc)
		}
		if aerr != nil {
			return aerr
		}
	}
	if arg != nil {
		if t.Type != "timer" {
			return errf("InvalidParameterValue", "CustomArgument applies to timer triggers only.")
		}
		if len(*arg) > maxArgumentBytes {
			return errf("InvalidParameterValue", fmt.Sprintf("CustomArgument is %d bytes; the limit is %d.", len(*arg), maxArgumentBytes))
		}
		t.CustomArgument = *arg
	}
	if description != nil {
		t.Description = *description
	}
	if hd != nil {
		t.http.apply(hd)
	}
	t.Enable, t.cron = en, expr
	return nil
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
