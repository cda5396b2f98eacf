package provision

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// defaultQualifier: tencent-component-toolkit src/modules/triggers/timer.ts,
// http.ts; tccli scf/2018-04-16 examples.json ListTriggers.
const defaultQualifier = "$DEFAULT"

// defaultURLName is sent for a Function URL that names none
// (tencent-component-toolkit triggers/http.ts; terraform-provider-tencentcloud
// resource_tc_scf_trigger.go). Whether SCF keeps it is not documented (tccli's
// ListTriggers example names it after its URL id): a URL is found by
// Description or by the name sent, and addressed by the name SCF lists.
const defaultURLName = "url-trigger"

func urlName(u *URL) string {
	if u == nil || u.Name == "" {
		return defaultURLName
	}
	return u.Name
}

func (e *Engine) listTriggers(ctx context.Context, name string) ([]tcapi.TriggerInfo, error) {
	var all []tcapi.TriggerInfo
	for {
		out, err := e.SCF.ListTriggers(ctx, tcapi.ListTriggersRequest{FunctionName: name, Namespace: e.Namespace, Offset: uint64(len(all)), Limit: 100})
		if err != nil {
			return nil, err
		}
		all = append(all, out.Triggers...)
		if len(out.Triggers) == 0 || uint64(len(all)) >= out.TotalCount {
			return all, nil
		}
	}
}

// timerCron reads a TriggerDesc: {"cron":"..."} (tencent-component-toolkit
// timer.ts) or the bare expression.
func timerCron(desc string) string {
	var d struct{ Cron string }
	if json.Unmarshal([]byte(desc), &d) == nil && d.Cron != "" {
		return d.Cron
	}
	return strings.TrimSpace(desc)
}

// normCron is a cron in the 7-field form SCF answers (tccli examples.json
// CreateTrigger).
func normCron(c string) string {
	f := strings.Fields(c)
	if len(f) == 5 {
		f = append(append([]string{"0"}, f...), "*")
	}
	return strings.Join(f, " ")
}

// httpDesc is an http trigger's TriggerDesc (tccli examples.json ListTriggers).
type httpDesc struct {
	AuthType  string
	NetConfig struct {
		EnableIntranet, EnableExtranet bool
		ExtranetUrl, IntranetUrl       string `json:",omitempty"`
	}
}

func parseHTTPDesc(desc string) httpDesc {
	var d httpDesc
	_ = json.Unmarshal([]byte(desc), &d)
	return d
}

func urlDesc(u *URL) string {
	var d httpDesc
	d.AuthType, d.NetConfig.EnableIntranet, d.NetConfig.EnableExtranet = u.AuthType, u.Intranet, u.Extranet
	b, _ := json.Marshal(d)
	return string(b)
}

// FunctionURL is the address to print for an http trigger's TriggerDesc:
// its ExtranetUrl, else "intranet only: " and its IntranetUrl, else "".
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

// ours says whether a trigger is scf-deploy's: by Description (tccli
// examples.json ListTriggers shows SCF keeps it), else by a name it sends.
func ours(t tcapi.TriggerInfo, named bool) bool {
	return t.Description == ManagedDescription || (t.Description == "" && named)
}

func ourURL(t tcapi.TriggerInfo, name string) bool { return ours(t, t.TriggerName == name) }

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
		switch mine := ours(t, wanted); {
		case !mine && wanted:
			return fmt.Errorf("function %s has a timer trigger %s that scf-deploy did not create; rename the timer in serverless.yml or remove that trigger", f.Name, t.TriggerName)
		case !mine:
			p.note("function %s: timer trigger %s was not created by scf-deploy: left alone", f.Name, t.TriggerName)
		case !wanted:
			e.deleteTrigger(p, f.Name, t, "no longer in serverless.yml")
		default:
			delete(want, t.TriggerName)
			if d := timerDiff(t, w); len(d) > 0 {
				e.putTimer(p, f.Name, w, &t, d)
			}
		}
	}
	for _, w := range f.Timers {
		if _, missing := want[w.Name]; missing {
			e.putTimer(p, f.Name, w, nil, []string{fmt.Sprintf("cron %q, enabled %v, argument %q", w.Cron, w.Enabled, w.Argument)})
		}
	}
	return nil
}

// putTrigger plans creating req's trigger or, given the existing trigger t,
// changing it in place with UpdateTrigger (SDK UpdateTriggerRequestParams;
// terraform-provider-tencentcloud resource_tc_scf_trigger.go); done, if
// set, gets CreateTrigger's TriggerDesc.
func (e *Engine) putTrigger(p *Plan, kind, name string, t *tcapi.TriggerInfo, req tcapi.CreateTriggerRequest, details []string,
	done func(ctx context.Context, desc string) error) {
	c := &Change{Op: "create", Kind: kind, Name: name, Details: details}
	if t != nil {
		c.Op = "update"
	}
	req.Namespace, req.Qualifier, req.Description = e.Namespace, defaultQualifier, ManagedDescription
	c.apply = e.afterActive(req.FunctionName, func(ctx context.Context) error {
		var out tcapi.CreateTriggerResponse
		var err error
		if t != nil {
			upd := tcapi.UpdateTriggerRequest{FunctionName: req.FunctionName, Namespace: e.Namespace, Type: req.Type, TriggerName: t.TriggerName,
				Qualifier: cmp.Or(t.Qualifier, defaultQualifier), TriggerDesc: req.TriggerDesc, Enable: req.Enable, Description: ManagedDescription}
			if req.Type == "timer" {
				upd.CustomArgument = &req.CustomArgument
			}
			err = e.SCF.UpdateTrigger(ctx, upd)
		} else {
			out, err = e.SCF.CreateTrigger(ctx, req)
		}
		if err != nil || done == nil {
			return err
		}
		return done(ctx, out.TriggerInfo.TriggerDesc)
	})
	p.add(c)
}

func (e *Engine) putTimer(p *Plan, fn string, w Timer, t *tcapi.TriggerInfo, details []string) {
	e.putTrigger(p, "timer", fn+"/"+w.Name, t, tcapi.CreateTriggerRequest{FunctionName: fn, Type: "timer", TriggerName: w.Name,
		TriggerDesc: w.Cron, Enable: enable(w.Enabled), CustomArgument: w.Argument}, details, nil)
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

func enable(on bool) string {
	if on {
		return "OPEN"
	}
	return "CLOSE"
}

// planURL plans the Function URL (one http trigger per function); a foreign
// one is left alone.
func (e *Engine) planURL(p *Plan, f Function, have []tcapi.TriggerInfo) {
	var mine, foreign []tcapi.TriggerInfo
	for _, t := range have {
		switch {
		case t.Type != "http":
		case ourURL(t, urlName(f.URL)):
			mine = append(mine, t)
		default:
			foreign = append(foreign, t)
		}
	}
	for _, t := range foreign {
		u := FunctionURL(t.TriggerDesc)
		p.note("function %s: Function URL %s (trigger %s) was not created by scf-deploy: left alone", f.Name, orNone(u), t.TriggerName)
		if u != "" && f.URL != nil {
			p.URLs[f.Name] = u
		}
	}
	switch {
	case f.URL == nil:
		for _, t := range mine {
			e.deleteTrigger(p, f.Name, t, "no Function URL in serverless.yml")
		}
	case len(foreign) > 0:
	case len(mine) == 0:
		e.putURL(p, f, nil, []string{fmt.Sprintf("AuthType %s, extranet %v, intranet %v", f.URL.AuthType, f.URL.Extranet, f.URL.Intranet)})
	default:
		for _, t := range mine[1:] {
			e.deleteTrigger(p, f.Name, t, "a second Function URL")
		}
		p.URLs[f.Name] = FunctionURL(mine[0].TriggerDesc)
		if d := urlDiff(parseHTTPDesc(mine[0].TriggerDesc), f.URL); len(d) > 0 {
			e.putURL(p, f, &mine[0], append(d, "its address is kept"))
		}
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

// putURL creates the Function URL or updates the existing trigger t in
// place, keeping its name and address, as tencent-component-toolkit does
// (src/modules/triggers/http.ts, create).
func (e *Engine) putURL(p *Plan, f Function, t *tcapi.TriggerInfo, details []string) {
	u := *f.URL
	req := tcapi.CreateTriggerRequest{FunctionName: f.Name, Type: "http", TriggerName: urlName(&u), TriggerDesc: urlDesc(&u), Enable: "OPEN"}
	e.putTrigger(p, "url", f.Name, t, req, details, func(ctx context.Context, desc string) error {
		if url := FunctionURL(desc); url != "" {
			p.URLs[f.Name] = url
			return nil
		}
		// Read the address back from ListTriggers.
		list, err := e.listTriggers(ctx, f.Name)
		for _, t := range list {
			if t.Type == "http" && ourURL(t, urlName(&u)) {
				p.URLs[f.Name] = FunctionURL(t.TriggerDesc)
			}
		}
		return err
	})
}

func (e *Engine) deleteTrigger(p *Plan, fn string, t tcapi.TriggerInfo, why string) {
	kind := cmp.Or(map[string]string{"http": "url"}[t.Type], "timer")
	p.add(&Change{Op: "delete", Kind: kind, Name: fn + "/" + t.TriggerName, Details: []string{why},
		apply: e.afterActive(fn, func(ctx context.Context) error {
			// ResourceNotFound.Trigger: SDK scf client.go DeleteTrigger.
			return gone(e.SCF.DeleteTrigger(ctx, tcapi.DeleteTriggerRequest{FunctionName: fn, Namespace: e.Namespace,
				TriggerName: t.TriggerName, Type: t.Type, Qualifier: t.Qualifier}), "ResourceNotFound.Trigger")
		})})
}
