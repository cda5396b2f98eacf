package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/notify"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// When a notification is sent (Settings.NotifyOn).
const (
	NotifyOnCancelled = "cancelled" // something was cancelled
	NotifyOnFailed    = "failed"    // a cancel failed
	NotifyOnStopped   = "stopped"   // truncated, capped, a listing error or an account that could not be swept
	NotifyOnDryRun    = "dry-run"   // a dry run found tasks it would cancel
	NotifyOnUpcoming  = "upcoming"  // a task is in the warning window (WarnBefore): it will be cancelled once stale
	NotifyOnAlways    = "always"    // every run
)

// Fan-out modes (Settings.Fanout).
const (
	FanoutNone  = "none"  // sweep every account in this invocation
	FanoutAsync = "async" // invoke sweep-tasks asynchronously once per account
)

var (
	notifyEvents = []string{NotifyOnCancelled, NotifyOnFailed, NotifyOnStopped, NotifyOnDryRun, NotifyOnUpcoming, NotifyOnAlways}
	fanoutModes  = []string{FanoutNone, FanoutAsync}
)

// defaultNotifyOn is JANITOR_NOTIFY_ON's default.
var defaultNotifyOn = []string{NotifyOnCancelled, NotifyOnFailed, NotifyOnStopped}

// notifyEventsOn returns NotifyOn, or its default when empty.
func (s Settings) notifyEventsOn() []string {
	if len(s.NotifyOn) == 0 {
		return defaultNotifyOn
	}
	return s.NotifyOn
}

// RoleAccount returns the account (uin) of a role ARN such as
// qcs::cam::uin/100000000002:roleName/JanitorSweepTarget or
// qcs::cam::uin/100000000002:role/<id> (tcapi.ParseRoleARN).
func RoleAccount(arn string) (string, error) {
	r, err := tcapi.ParseRoleARN(arn)
	return r.Uin, err
}

// The settings the tools read too (SweepPolicyInputs, and the names in
// their messages).
const (
	EnvSweepRoles  = "JANITOR_SWEEP_ROLES"
	EnvSweepFanout = "JANITOR_SWEEP_FANOUT"
)

// The notification, multi-account and fan-out settings (settings.go has
// the table's reading). JANITOR_NOTIFY_SECRET is not one of them: it is read
// by the handler from the environment only, so a per-run override never
// carries a secret.
var (
	setNotifyURL = &setting{env: "JANITOR_NOTIFY_URL", key: "notifyUrl",
		field: func(s *Settings) any { return &s.NotifyURLs }, fromJSON: overrideNotifyURLs}
	setNotifyFormat = &setting{env: "JANITOR_NOTIFY_FORMAT", key: "notifyFormat", allowed: notify.Formats,
		field: func(s *Settings) any { return &s.NotifyFormat },
		fromJSON: func(st *setting, _ json.RawMessage, _ *Settings) error {
			// The format decides what a deployed URL receives (json is
			// signed with JANITOR_NOTIFY_SECRET): the function's setting.
			return fmt.Errorf("is set on the function (%s), not per run: a run may choose among the deployed %s and change %s",
				st.env, setNotifyURL.key, setNotifyOn.key)
		}}
	setNotifyOn = &setting{env: "JANITOR_NOTIFY_ON", key: "notifyOn", allowed: notifyEvents, norm: strings.ToLower,
		field: func(s *Settings) any { return &s.NotifyOn }}
	setRoles = &setting{env: EnvSweepRoles, key: "roles",
		field: func(s *Settings) any { return &s.Roles }}
	setSelf = &setting{env: "JANITOR_SWEEP_SELF", key: "self",
		field: func(s *Settings) any { return &s.SkipSelf },
		fromEnv: func(st *setting, g config.Getenv, s *Settings) error {
			self, err := config.Bool(g, st.env, !s.SkipSelf)
			s.SkipSelf = !self
			return err
		},
		fromJSON: func(_ *setting, raw json.RawMessage, s *Settings) error {
			var self bool
			if err := json.Unmarshal(raw, &self); err != nil {
				return fmt.Errorf("%s: want true or false", firstLine(raw))
			}
			s.SkipSelf = !self
			return nil
		}}
	setFanout = &setting{env: EnvSweepFanout, key: "fanout", allowed: fanoutModes,
		field: func(s *Settings) any { return &s.Fanout }}
)

var orgSettings = []*setting{setNotifyURL, setNotifyFormat, setNotifyOn, setRoles, setSelf, setFanout}

// SweepPolicyInputs reads, through the settings table, what the sweeper's
// role needs beyond its base permissions (scf-deploy and scf-local derive
// its policy from them): the role ARNs of EnvSweepRoles, not checked (the
// caller parses them), and whether EnvSweepFanout is async. A fanout value
// the function would refuse is an error.
func SweepPolicyInputs(getenv config.Getenv) (roles []string, async bool, err error) {
	var s Settings
	err = errors.Join(setRoles.readEnv(getenv, &s), setFanout.readEnv(getenv, &s))
	return s.Roles, s.Fanout == FanoutAsync, err
}

// overrideNotifyURLs applies a per-run notifyUrl, which may only choose
// among the deployed URLs (s.NotifyURLs, from JANITOR_NOTIFY_URL): none, one
// or several of them. Anyone allowed to invoke the function can set it, so
// another URL would have the function call any address (server-side request)
// and hand it a notification signed with JANITOR_NOTIFY_SECRET. A refused URL
// is shown redacted (it may hold the caller's own secret).
func overrideNotifyURLs(st *setting, raw json.RawMessage, s *Settings) error {
	list, err := jsonList(raw)
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range list {
		switch {
		case len(s.NotifyURLs) == 0:
			errs = append(errs, fmt.Errorf("%s: no notification URL is deployed (%s is empty), and a run cannot add one: set %s on the function", notify.Redact(u), st.env, st.env))
		case !slices.Contains(s.NotifyURLs, u):
			errs = append(errs, fmt.Errorf("%s is not one of the deployed notification URLs (%s): a run may only choose among them, given whole, or [] for none", notify.Redact(u), st.env))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.NotifyURLs = list
	return nil
}

// validateOrg checks the notification, account and fan-out settings.
func (s Settings) validateOrg() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, u := range s.NotifyURLs {
		if err := notify.ValidateURL(u); err != nil {
			add("%v %v", setNotifyURL, err)
		}
	}
	if s.NotifyFormat != "" && !slices.Contains(notify.Formats, s.NotifyFormat) {
		add("%v %q: want %s (empty: chosen from each URL's host)", setNotifyFormat, s.NotifyFormat, strings.Join(notify.Formats, ", "))
	}
	for _, v := range s.NotifyOn {
		if !slices.Contains(notifyEvents, v) {
			add("%v %q: want any of %s", setNotifyOn, v, strings.Join(notifyEvents, ", "))
		}
	}
	for _, r := range s.Roles {
		if _, err := RoleAccount(r); err != nil {
			add("%v %v", setRoles, err)
		}
	}
	if s.SkipSelf && len(s.Roles) == 0 {
		add("%v is false and %v is empty: no account to sweep", setSelf, setRoles)
	}
	if s.Fanout != "" && !slices.Contains(fanoutModes, s.Fanout) {
		add("%v %q: want %s", setFanout, s.Fanout, strings.Join(fanoutModes, " or "))
	}
	return errs
}
