package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Triggers are created for the qualifier "$DEFAULT", as
// tencent-component-toolkit does for timers and Function URLs
// (src/modules/triggers/timer.ts and http.ts: parameters.qualifier ||
// '$DEFAULT'), and as ListTriggers shows them (tccli examples.json).
const defaultQualifier = "$DEFAULT"

// defaultURLName is the name sent when creating a Function URL whose
// serverless.yml entry names none, as tencent-component-toolkit
// (triggers/http.ts: parameters.name || 'url-trigger') and
// terraform-provider-tencentcloud (services/scf/resource_tc_scf_trigger.go)
// send. Whether SCF keeps it is not settled: tccli's ListTriggers example
// names the http trigger after its URL id ("hulrzrbh9f" in
// https://1258888888-hulrzrbh9f...), terraform keeps whatever name
// CreateTrigger answers, and the toolkit looks an http trigger up by the
// name it sent. So scf-deploy finds its URL by Description, or by the name
// it sent, and addresses it by the name SCF lists.
const defaultURLName = "url-trigger"

func urlName(u *URL) string {
	if u == nil || u.Name == "" {
		return defaultURLName
	}
	return u.Name
}

func (e *Engine) listTriggers(ctx context.Context, name string) ([]tcapi.TriggerInfo, error) {
	var all []tcapi.TriggerInfo
	for offset := uint64(0); ; {
		out, err := e.SCF.ListTriggers(ctx, tcapi.ListTriggersRequest{FunctionName: name, Namespace: e.Namespace, Offset: offset, Limit: 100})
		if err != nil {
			return nil, err
		}
		all = append(all, out.Triggers...)
		offset += uint64(len(out.Triggers))
		if len(out.Triggers) == 0 || offset >= out.TotalCount {
			return all, nil
		}
	}
}

// timerCron reads a timer's cron from its TriggerDesc: {"cron":"..."} as
// ListTriggers answers (tencent-component-toolkit timer.ts), or the bare
// expression as CreateTrigger takes it.
func timerCron(desc string) string {
	var d struct {
		Cron string `json:"cron"`
	}
	if json.Unmarshal([]byte(desc), &d) == nil && d.Cron != "" {
		return d.Cron
	}
	return strings.TrimSpace(desc)
}

// normCron is a cron in SCF's 7-field form (second minute hour day month
// week year): SCF answers a 5-field cron sent to CreateTrigger as 7 fields
// (tccli examples.json, CreateTrigger: "*/2 * * * *" comes back as
// "0 */2 * * * * *"), so both sides are compared in that form.
func normCron(c string) string {
	f := strings.Fields(c)
	if len(f) == 5 {
		f = append(append([]string{"0"}, f...), "*")
	}
	return strings.Join(f, " ")
}

// netConfig is the part of a Function URL's NetConfig scf-deploy reads, as
// ListTriggers answers it (tccli scf/v20180416/examples.json, ListTriggers):
// ExtranetUrl and IntranetUrl are https; the ExtranetHTTPUrl and
// IntranetHTTPUrl beside them are the plain-http forms, not printed.
type netConfig struct {
	EnableIntranet, EnableExtranet bool
	ExtranetUrl, IntranetUrl       string
}

type httpDesc struct {
	AuthType  string
	NetConfig netConfig
}

func parseHTTPDesc(desc string) httpDesc {
	var d httpDesc
	_ = json.Unmarshal([]byte(desc), &d)
	return d
}

func urlDesc(u *URL) string {
	b, _ := json.Marshal(struct {
		AuthType  string
		NetConfig struct{ EnableIntranet, EnableExtranet bool }
	}{u.AuthType, struct{ EnableIntranet, EnableExtranet bool }{u.Intranet, u.Extranet}})
	return string(b)
}

// FunctionURL returns the address to print for an http trigger's
// TriggerDesc: NetConfig.ExtranetUrl (https, public); when there is none
// but an IntranetUrl, that one as "intranet only: https://..."; else "".
func FunctionURL(desc string) string {
	d := parseHTTPDesc(desc).NetConfig
	switch {
	case d.ExtranetUrl != "":
		return d.ExtranetUrl
	case d.IntranetUrl != "":
		return "intranet only: " + d.IntranetUrl
	}
	return ""
}

func (e *Engine) planTriggers(p *Plan, f Function, have []tcapi.TriggerInfo) error {
	if err := e.planTimers(p, f, have); err != nil {
		return err
	}
	e.planURL(p, f, have)
	return nil
}

// ourTimer says whether a timer is scf-deploy's: its Description is
// ManagedDescription. SCF keeps a trigger's Description (tccli
// examples.json, ListTriggers: "Description": "Some Description"); should it
// come back empty, a timer with the name of one in serverless.yml counts as
// ours, since timers are matched by name.
func ourTimer(t tcapi.TriggerInfo, wanted bool) bool {
	return t.Description == ManagedDescription || (t.Description == "" && wanted)
}

func (e *Engine) planTimers(p *Plan, f Function, have []tcapi.TriggerInfo) error {
	want := map[string]Timer{}
	for _, t := range f.Timers {
		want[t.Name] = t
	}
	for _, t := range have {
		if t.Type != "timer" {
			continue
		}
		w, wanted := want[t.TriggerName]
		ours := ourTimer(t, wanted)
		switch {
		case !ours && wanted:
			return fmt.Errorf("function %s has a timer trigger %s that scf-deploy did not create; rename the timer in serverless.yml or remove that trigger", f.Name, t.TriggerName)
		case !ours:
			p.Notes = append(p.Notes, fmt.Sprintf("function %s: timer trigger %s was not created by scf-deploy: left alone", f.Name, t.TriggerName))
		case !wanted:
			e.deleteTrigger(p, f.Name, t, "no longer in serverless.yml")
		default:
			delete(want, t.TriggerName)
			if d := timerDiff(t, w); len(d) > 0 {
				e.updateTimer(p, f.Name, t, w, d)
			}
		}
	}
	for _, w := range f.Timers {
		if _, missing := want[w.Name]; !missing {
			continue
		}
		w := w
		p.Changes = append(p.Changes, &Change{Op: "create", Kind: "timer", Name: f.Name + "/" + w.Name,
			Details: []string{fmt.Sprintf("cron %q, enabled %v, argument %q", w.Cron, w.Enabled, w.Argument)},
			apply:   func(ctx context.Context) error { return e.createTimer(ctx, f.Name, w) }})
	}
	return nil
}

func timerDiff(t tcapi.TriggerInfo, w Timer) []string {
	var d []string
	if c := timerCron(t.TriggerDesc); normCron(c) != normCron(w.Cron) {
		d = append(d, fmt.Sprintf("cron %q -> %q", c, w.Cron))
	}
	if (t.Enable == 1) != w.Enabled {
		d = append(d, fmt.Sprintf("enabled %v -> %v", t.Enable == 1, w.Enabled))
	}
	if t.CustomArgument != w.Argument {
		d = append(d, fmt.Sprintf("argument %q -> %q", t.CustomArgument, w.Argument))
	}
	return d
}

// updateTimer changes a timer in place with UpdateTrigger (the SDK's
// UpdateTriggerRequestParams: timer, ckafka and http;
// terraform-provider-tencentcloud updates enable, trigger_desc,
// custom_argument and description this way, services/scf/
// resource_tc_scf_trigger.go).
func (e *Engine) updateTimer(p *Plan, fn string, t tcapi.TriggerInfo, w Timer, details []string) {
	p.Changes = append(p.Changes, &Change{Op: "update", Kind: "timer", Name: fn + "/" + w.Name, Details: details,
		apply: func(ctx context.Context) error {
			if err := e.waitActive(ctx, fn); err != nil {
				return err
			}
			arg := w.Argument
			return e.SCF.UpdateTrigger(ctx, tcapi.UpdateTriggerRequest{FunctionName: fn, Namespace: e.Namespace, Type: "timer",
				TriggerName: t.TriggerName, Qualifier: qualifier(t.Qualifier), TriggerDesc: w.Cron, Enable: enable(w.Enabled),
				CustomArgument: &arg, Description: ManagedDescription})
		}})
}

func qualifier(q string) string {
	if q == "" {
		return defaultQualifier
	}
	return q
}

func enable(on bool) string {
	if on {
		return "OPEN"
	}
	return "CLOSE"
}

// ourURL says whether an http trigger is scf-deploy's: its Description is
// ManagedDescription (SCF keeps it: tccli examples.json, ListTriggers), or,
// should SCF drop Descriptions, it still has the name scf-deploy sends.
func ourURL(t tcapi.TriggerInfo, name string) bool {
	return t.Description == ManagedDescription || (t.Description == "" && t.TriggerName == name)
}

// planURL plans the Function URL. SCF allows one http trigger per function;
// a foreign one is left alone (and its address printed).
func (e *Engine) planURL(p *Plan, f Function, have []tcapi.TriggerInfo) {
	var ours, foreign []tcapi.TriggerInfo
	for _, t := range have {
		switch {
		case t.Type != "http":
		case ourURL(t, urlName(f.URL)):
			ours = append(ours, t)
		default:
			foreign = append(foreign, t)
		}
	}
	for _, t := range foreign {
		u := FunctionURL(t.TriggerDesc)
		p.Notes = append(p.Notes, fmt.Sprintf("function %s: Function URL %s (trigger %s) was not created by scf-deploy: left alone", f.Name, orNone(u), t.TriggerName))
		if u != "" && f.URL != nil {
			p.URLs[f.Name] = u
		}
	}
	if f.URL == nil {
		for _, t := range ours {
			e.deleteTrigger(p, f.Name, t, "no Function URL in serverless.yml")
		}
		return
	}
	if len(foreign) > 0 {
		return
	}
	if len(ours) == 0 {
		e.createURL(p, f)
		return
	}
	for _, t := range ours[1:] {
		e.deleteTrigger(p, f.Name, t, "a second Function URL")
	}
	t := ours[0]
	p.URLs[f.Name] = FunctionURL(t.TriggerDesc)
	if d := urlDiff(parseHTTPDesc(t.TriggerDesc), f.URL); len(d) > 0 {
		e.updateURL(p, f, t, d)
	}
}

func urlDiff(have httpDesc, want *URL) []string {
	var d []string
	if have.AuthType != want.AuthType {
		d = append(d, fmt.Sprintf("AuthType %s -> %s", orNone(have.AuthType), want.AuthType))
	}
	if have.NetConfig.EnableExtranet != want.Extranet {
		d = append(d, fmt.Sprintf("extranet %v -> %v", have.NetConfig.EnableExtranet, want.Extranet))
	}
	if have.NetConfig.EnableIntranet != want.Intranet {
		d = append(d, fmt.Sprintf("intranet %v -> %v", have.NetConfig.EnableIntranet, want.Intranet))
	}
	return d
}

func (e *Engine) createURL(p *Plan, f Function) {
	u := *f.URL
	p.Changes = append(p.Changes, &Change{Op: "create", Kind: "url", Name: f.Name,
		Details: []string{fmt.Sprintf("AuthType %s, extranet %v, intranet %v", u.AuthType, u.Extranet, u.Intranet)},
		apply: func(ctx context.Context) error {
			if err := e.waitActive(ctx, f.Name); err != nil {
				return err
			}
			out, err := e.SCF.CreateTrigger(ctx, tcapi.CreateTriggerRequest{FunctionName: f.Name, Namespace: e.Namespace, Type: "http",
				TriggerName: urlName(&u), TriggerDesc: urlDesc(&u), Enable: "OPEN", Qualifier: defaultQualifier, Description: ManagedDescription})
			if err != nil {
				return err
			}
			if url := FunctionURL(out.TriggerInfo.TriggerDesc); url != "" {
				p.URLs[f.Name] = url
				return nil
			}
			return e.refreshURL(ctx, p, f.Name, urlName(&u))
		}})
}

// updateURL changes a Function URL in place with UpdateTrigger, keeping its
// name and its address, as tencent-component-toolkit updates an existing
// http trigger (src/modules/triggers/http.ts, create) instead of deleting
// it (which would give it a new address).
func (e *Engine) updateURL(p *Plan, f Function, t tcapi.TriggerInfo, details []string) {
	u := *f.URL
	p.Changes = append(p.Changes, &Change{Op: "update", Kind: "url", Name: f.Name, Details: append(details, "its address is kept"),
		apply: func(ctx context.Context) error {
			if err := e.waitActive(ctx, f.Name); err != nil {
				return err
			}
			err := e.SCF.UpdateTrigger(ctx, tcapi.UpdateTriggerRequest{FunctionName: f.Name, Namespace: e.Namespace, Type: "http",
				TriggerName: t.TriggerName, Qualifier: qualifier(t.Qualifier), TriggerDesc: urlDesc(&u), Enable: "OPEN", Description: ManagedDescription})
			if err != nil {
				return err
			}
			return e.refreshURL(ctx, p, f.Name, urlName(&u))
		}})
}

// refreshURL reads the function's Function URL back from ListTriggers.
func (e *Engine) refreshURL(ctx context.Context, p *Plan, fn, name string) error {
	list, err := e.listTriggers(ctx, fn)
	if err != nil {
		return err
	}
	for _, t := range list {
		if t.Type == "http" && ourURL(t, name) {
			p.URLs[fn] = FunctionURL(t.TriggerDesc)
		}
	}
	return nil
}

func (e *Engine) deleteTrigger(p *Plan, fn string, t tcapi.TriggerInfo, why string) {
	kind := "timer"
	if t.Type == "http" {
		kind = "url"
	}
	p.Changes = append(p.Changes, &Change{Op: "delete", Kind: kind, Name: fn + "/" + t.TriggerName, Details: []string{why},
		apply: func(ctx context.Context) error { return e.removeTrigger(ctx, fn, t) }})
}

func (e *Engine) removeTrigger(ctx context.Context, fn string, t tcapi.TriggerInfo) error {
	if err := e.waitActive(ctx, fn); err != nil {
		return err
	}
	err := e.SCF.DeleteTrigger(ctx, tcapi.DeleteTriggerRequest{FunctionName: fn, Namespace: e.Namespace, TriggerName: t.TriggerName, Type: t.Type, Qualifier: t.Qualifier})
	// ResourceNotFound.Trigger is among DeleteTrigger's codes
	// (tencentcloud-sdk-go scf/v20180416/client.go).
	return gone(err, "ResourceNotFound.Trigger")
}

func (e *Engine) createTimer(ctx context.Context, fn string, w Timer) error {
	if err := e.waitActive(ctx, fn); err != nil {
		return err
	}
	_, err := e.SCF.CreateTrigger(ctx, tcapi.CreateTriggerRequest{FunctionName: fn, Namespace: e.Namespace, Type: "timer", TriggerName: w.Name,
		TriggerDesc: w.Cron, Enable: enable(w.Enabled), CustomArgument: w.Argument, Qualifier: defaultQualifier, Description: ManagedDescription})
	return err
}
