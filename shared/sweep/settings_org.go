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

// orgSettings are the notification, multi-account and fan-out settings.
// JANITOR_NOTIFY_SECRET is not one of them: it is read by the handler from the
// environment only, so a per-run override never carries a secret.
var orgSettings = []setting{
	{"JANITOR_NOTIFY_URL", "notifyUrl",
		func(g config.Getenv, s *Settings) error {
			s.NotifyURLs = dedupe(config.List(g, "JANITOR_NOTIFY_URL", s.NotifyURLs))
			return nil
		},
		overrideNotifyURLs},
	{"JANITOR_NOTIFY_FORMAT", "notifyFormat",
		func(g config.Getenv, s *Settings) (err error) {
			s.NotifyFormat, err = config.Enum(g, "JANITOR_NOTIFY_FORMAT", s.NotifyFormat, notify.Formats...)
			return err
		},
		func(json.RawMessage, *Settings) error {
			// The format decides what a deployed URL receives (json is
			// signed with JANITOR_NOTIFY_SECRET): the function's setting.
			return errors.New("is set on the function (JANITOR_NOTIFY_FORMAT), not per run: a run may choose among the deployed notifyUrl and change notifyOn")
		}},
	{"JANITOR_NOTIFY_ON", "notifyOn",
		func(g config.Getenv, s *Settings) (err error) {
			s.NotifyOn, err = envEnumList(g, "JANITOR_NOTIFY_ON", s.NotifyOn, notifyEvents, strings.ToLower)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.NotifyOn, err = jsonEnumList(raw, notifyEvents, strings.ToLower)
			return err
		}},
	{"JANITOR_SWEEP_ROLES", "roles",
		func(g config.Getenv, s *Settings) error {
			s.Roles = dedupe(config.List(g, "JANITOR_SWEEP_ROLES", s.Roles))
			return nil
		},
		func(raw json.RawMessage, s *Settings) (err error) { s.Roles, err = jsonList(raw); return err }},
	{"JANITOR_SWEEP_SELF", "self",
		func(g config.Getenv, s *Settings) (err error) {
			self, err := config.Bool(g, "JANITOR_SWEEP_SELF", !s.SkipSelf)
			s.SkipSelf = !self
			return err
		},
		func(raw json.RawMessage, s *Settings) error {
			var self bool
			if err := json.Unmarshal(raw, &self); err != nil {
				return fmt.Errorf("%s: want true or false", firstLine(raw))
			}
			s.SkipSelf = !self
			return nil
		}},
	{"JANITOR_SWEEP_FANOUT", "fanout",
		func(g config.Getenv, s *Settings) (err error) {
			s.Fanout, err = config.Enum(g, "JANITOR_SWEEP_FANOUT", s.Fanout, fanoutModes...)
			return err
		},
		func(raw json.RawMessage, s *Settings) error {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("%s: want %s", firstLine(raw), strings.Join(fanoutModes, " or "))
			}
			s.Fanout = strings.ToLower(strings.TrimSpace(v))
			return nil
		}},
}

// overrideNotifyURLs applies a per-run notifyUrl, which may only choose
// among the deployed URLs (s.NotifyURLs, from JANITOR_NOTIFY_URL): none, one
// or several of them. Anyone allowed to invoke the function can set it, so
// another URL would have the function call any address (server-side request)
// and hand it a notification signed with JANITOR_NOTIFY_SECRET. A refused URL
// is shown redacted (it may hold the caller's own secret).
func overrideNotifyURLs(raw json.RawMessage, s *Settings) error {
	list, err := jsonList(raw)
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range list {
		switch {
		case len(s.NotifyURLs) == 0:
			errs = append(errs, fmt.Errorf("%s: no notification URL is deployed (JANITOR_NOTIFY_URL is empty), and a run cannot add one: set JANITOR_NOTIFY_URL on the function", notify.Redact(u)))
		case !slices.Contains(s.NotifyURLs, u):
			errs = append(errs, fmt.Errorf("%s is not one of the deployed notification URLs (JANITOR_NOTIFY_URL): a run may only choose among them, given whole, or [] for none", notify.Redact(u)))
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
			add("notifyUrl (JANITOR_NOTIFY_URL) %v", err)
		}
	}
	if s.NotifyFormat != "" && !slices.Contains(notify.Formats, s.NotifyFormat) {
		add("notifyFormat (JANITOR_NOTIFY_FORMAT) %q: want %s (empty: chosen from each URL's host)", s.NotifyFormat, strings.Join(notify.Formats, ", "))
	}
	for _, v := range s.NotifyOn {
		if !slices.Contains(notifyEvents, v) {
			add("notifyOn (JANITOR_NOTIFY_ON) %q: want any of %s", v, strings.Join(notifyEvents, ", "))
		}
	}
	for _, r := range s.Roles {
		if _, err := RoleAccount(r); err != nil {
			add("roles (JANITOR_SWEEP_ROLES) %v", err)
		}
	}
	if s.SkipSelf && len(s.Roles) == 0 {
		add("self (JANITOR_SWEEP_SELF) is false and roles (JANITOR_SWEEP_ROLES) is empty: no account to sweep")
	}
	if s.Fanout != "" && !slices.Contains(fanoutModes, s.Fanout) {
		add("fanout (JANITOR_SWEEP_FANOUT) %q: want %s", s.Fanout, strings.Join(fanoutModes, " or "))
	}
	return errs
}
