package emulator

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/cron"
)

// scfTrigger is a timer or http trigger (tccli scf/v20180416 examples.json
// ListTriggers, CreateTrigger).
type scfTrigger struct {
	TriggerName, Type, Qualifier, CustomArgument, Description string
	Enable                                                    bool
	cron                                                      string // timer, 7 fields
	http                                                      *httpTrigger
	resourceID                                                string
	AddTime, ModTime                                          time.Time
}

// httpTrigger is a Function URL: its TriggerDesc and its address.
type httpTrigger struct {
	httpTriggerDesc
	host, region string // "<appid>-<id>", the function's region
}

// httpTriggerDesc is an http trigger's TriggerDesc as a client sends it
// (tencent-component-toolkit src/modules/triggers/http.ts) and as answers
// show it, with the NetConfig addresses (a client's are ignored).
type httpTriggerDesc struct {
	AuthType   string
	NetConfig  *netAddrs
	CorsConfig json.RawMessage `json:",omitempty"`
}

// netAddrs is NetConfig, in the example's key order.
type netAddrs struct {
	EnableIntranet                                               *bool
	IntranetUrl, IntranetHTTPUrl, ExtranetUrl, ExtranetHTTPUrl   string
	WssIntranetUrl, WsIntranetUrl, WssExtranetUrl, WsExtranetUrl string
	EnableExtranet                                               *bool
}

func (h *httpTrigger) desc() string {
	d, in, ex := h.httpTriggerDesc, h.NetConfig.EnableIntranet, h.NetConfig.EnableExtranet
	d.NetConfig = &netAddrs{EnableIntranet: in, EnableExtranet: ex}
	if *in {
		d.NetConfig.IntranetUrl = "https://" + h.host + ".in." + h.region + ".tencentscf.com"
		d.NetConfig.IntranetHTTPUrl = "http://" + h.host + ".in." + h.region + ".tencentscf.com"
	}
	if *ex {
		d.NetConfig.ExtranetUrl = "https://" + h.host + "." + h.region + ".tencentscf.com"
		d.NetConfig.ExtranetHTTPUrl = "http://" + h.host + "." + h.region + ".tencentscf.com"
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// TriggerInfo is one trigger as the SCF answers and /_emulator/functions show it.
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

type listTriggersReq struct {
	FunctionName, Namespace *string
	Offset, Limit           *uint64
	OrderBy, Order          *string
	Filters                 []*struct {
		Name   *string
		Values []string
	}
}

func (s *Server) actListTriggers(_ *apiCall, req *listTriggersReq, f *scfFunction) (any, *apiError) {
	offset, limit := deref(req.Offset, 0), deref(req.Limit, 20)
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
			v, known := map[string]string{"TriggerName": t.TriggerName, "Qualifier": t.Qualifier, "Description": t.Description}[str(flt.Name)]
			if !known {
				return nil, errf("InvalidParameterValue", "Filter Name "+strconv.Quote(str(flt.Name))+" is not one of TriggerName, Qualifier, Description.")
			}
			ok = ok && slices.Contains(flt.Values, v)
		}
		if ok {
			all = append(all, t.info())
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].AddTime < all[j].AddTime })
	return struct {
		TotalCount uint64
		Triggers   []TriggerInfo
	}{uint64(len(all)), page(all, offset, limit)}, nil
}

// page is list[offset:offset+limit], clipped to list ([] when empty).
func page[T any](list []T, offset, limit uint64) []T {
	start := min(offset, uint64(len(list)))
	return append([]T{}, list[start:start+min(limit, uint64(len(list))-start)]...)
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
	if err := decodeStrict([]byte(desc), &d); err != nil {
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

type triggerReq struct {
	FunctionName, TriggerName, Type, TriggerDesc, Namespace, Qualifier, Enable, CustomArgument, Description *string
}

func (s *Server) actCreateTrigger(c *apiCall, req *triggerReq, f *scfFunction) (any, *apiError) {
	if aerr := f.requireActive(c.now, "FailedOperation.FunctionStatusError", "add triggers"); aerr != nil {
		return nil, aerr
	}
	// Qualifier: 函数的版本，默认为 $LATEST (CreateTriggerRequestParams).
	qualifier := cmp.Or(str(req.Qualifier), "$LATEST")
	if qualifier != "$LATEST" && qualifier != "$DEFAULT" {
		return nil, errf("ResourceNotFound.FunctionVersion", "Qualifier "+qualifier+" does not exist (use $LATEST or $DEFAULT).")
	}
	enable, aerr := parseEnable(req.Enable, "InvalidParameterValue")
	if aerr = firstErr(aerr, checkDescription(req.Description)); aerr != nil {
		return nil, aerr
	}
	t := &scfTrigger{Type: str(req.Type), TriggerName: str(req.TriggerName), Qualifier: qualifier, Enable: enable,
		Description: str(req.Description), AddTime: c.now, ModTime: c.now}
	switch t.Type {
	case "timer":
		aerr = s.newTimer(f, t, str(req.TriggerDesc), req.CustomArgument)
	case "http":
		aerr = s.newHTTP(c, f, t, str(req.TriggerDesc), req.CustomArgument)
	case "":
		aerr = errMissing("MissingParameter", "Type")
	default:
		aerr = errf("UnsupportedOperation.Trigger", "The emulator serves timer and http triggers only, not "+strconv.Quote(t.Type)+".")
	}
	if aerr != nil {
		return nil, aerr
	}
	// ResourceId as in the ListTriggers example.
	t.resourceID = "qcs::scf:" + f.Region + ":uin/" + s.accountUin(c.account) + ":function/" + f.FunctionName + "/" + t.TriggerName
	f.triggers = append(f.triggers, t)
	return struct{ TriggerInfo TriggerInfo }{t.info()}, nil
}

func (s *Server) newTimer(f *scfFunction, t *scfTrigger, desc string, arg *string) *apiError {
	if !reTimerName.MatchString(t.TriggerName) {
		return errf("InvalidParameterValue.TriggerName", "TriggerName "+strconv.Quote(t.TriggerName)+" is invalid for a timer: 1-100 letters, digits, - and _.")
	}
	expr, aerr := timerCron(desc)
	if aerr = firstErr(aerr, checkArgument(arg, t.Type)); aerr != nil {
		return aerr
	}
	for _, o := range f.triggers {
		if o.TriggerName == t.TriggerName {
			return errf("ResourceInUse.Trigger", "Trigger "+t.TriggerName+" already exists on "+f.FunctionName+".")
		}
	}
	t.cron, t.CustomArgument = expr, str(arg)
	return nil
}

// newHTTP sets up a Function URL, named by SCF with its host's id (tccli
// examples.json ListTriggers); one per function (assumption).
func (s *Server) newHTTP(c *apiCall, f *scfFunction, t *scfTrigger, desc string, arg *string) *apiError {
	d, aerr := parseHTTPDesc(desc)
	if aerr = firstErr(checkArgument(arg, t.Type), aerr); aerr != nil {
		return aerr
	}
	for _, o := range f.triggers {
		if o.Type == "http" {
			return errf("ResourceInUse.Trigger", "Function "+f.FunctionName+" already has a Function URL (http trigger "+o.TriggerName+").")
		}
	}
	t.TriggerName = s.newURLID()
	t.http = &httpTrigger{*d, EmulatorAppID + "-" + t.TriggerName, c.region}
	return nil
}

// newURLID returns 10 lowercase letters and digits.
func (s *Server) newURLID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256(fmt.Appendf(nil, "url/%d/%d", s.opts.Seed, s.seq.Add(1)))
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

// actUpdateTrigger changes the fields sent (SDK scf client.go "不传值表示原值不变";
// http as tencent-component-toolkit uses it).
func (s *Server) actUpdateTrigger(c *apiCall, req *triggerReq, f *scfFunction) (any, *apiError) {
	switch typ := str(req.Type); {
	case typ == "" || str(req.TriggerName) == "":
		return nil, errf("MissingParameter", "TriggerName and Type are required.")
	case typ != "timer" && typ != "http" && typ != "ckafka":
		return nil, errf("InvalidParameterValue.Type", "Type must be timer, ckafka or http, got "+strconv.Quote(typ)+".")
	}
	if aerr := f.requireActive(c.now, "FailedOperation.FunctionStatusError", "update triggers"); aerr != nil {
		return nil, aerr
	}
	i, aerr := f.trigger(req)
	if aerr != nil {
		return nil, aerr
	}
	t := f.triggers[i]
	if q := str(req.Qualifier); q != "" && q != t.Qualifier {
		return nil, errf("ResourceNotFound.Qualifier", "Trigger "+t.TriggerName+" is on "+t.Qualifier+", not "+q+".")
	}
	if aerr := t.update(req.Enable, req.TriggerDesc, req.Description, req.CustomArgument); aerr != nil {
		return nil, aerr
	}
	t.ModTime = c.now
	return struct{}{}, nil
}

// trigger finds the trigger req names by TriggerName and Type.
func (f *scfFunction) trigger(req *triggerReq) (int, *apiError) {
	for i, t := range f.triggers {
		if t.TriggerName == str(req.TriggerName) && t.Type == str(req.Type) {
			return i, nil
		}
	}
	return 0, errf("ResourceNotFound.Trigger", "Function "+f.FunctionName+" has no "+str(req.Type)+" trigger "+str(req.TriggerName)+".")
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
		if aerr := checkDescription(description); aerr != nil {
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
	if aerr := checkArgument(arg, t.Type); aerr != nil {
		return aerr
	}
	t.CustomArgument = deref(arg, t.CustomArgument)
	if description != nil {
		t.Description = *description
	}
	if hd != nil {
		t.http.httpTriggerDesc = *hd
	}
	t.Enable, t.cron = en, expr
	return nil
}

// checkArgument checks a CustomArgument for a trigger of type typ.
func checkArgument(arg *string, typ string) *apiError {
	switch {
	case arg != nil && typ != "timer":
		return errf("InvalidParameterValue", "CustomArgument applies to timer triggers only.")
	case len(str(arg)) > maxArgumentBytes:
		return errf("InvalidParameterValue", fmt.Sprintf("CustomArgument is %d bytes; the limit is %d.", len(*arg), maxArgumentBytes))
	}
	return nil
}

type deleteTriggerReq struct {
	FunctionName, TriggerName, Type, Namespace, TriggerDesc, Qualifier *string
}

func (s *Server) actDeleteTrigger(c *apiCall, req *deleteTriggerReq, f *scfFunction) (any, *apiError) {
	if str(req.TriggerName) == "" || str(req.Type) == "" {
		return nil, errf("MissingParameter", "TriggerName and Type are required.")
	}
	if aerr := f.requireActive(c.now, "FailedOperation.FunctionStatusError", "remove triggers"); aerr != nil {
		return nil, aerr
	}
	i, aerr := f.trigger(&triggerReq{TriggerName: req.TriggerName, Type: req.Type})
	if aerr != nil {
		return nil, aerr
	}
	f.triggers = append(f.triggers[:i], f.triggers[i+1:]...)
	return struct{}{}, nil
}
