package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/config"
)

// Settings of one sweep. Environment variables JANITOR_SWEEP_* give the
// defaults (LoadSettings); a timer's Message or a direct invocation's JSON may
// override them for one run (Override), using the lowerCamelCase names,
// except that notifyUrl may only choose among the deployed URLs and
// notifyFormat is the function's alone.
type Settings struct {
	MaxAge          time.Duration // cancel tasks created more than this long ago
	Lookback        time.Duration // DescribeTasks StartTime = now - Lookback
	Services        []string      // "ams", "vm"
	Statuses        []string      // cancellable statuses: PENDING, RUNNING
	Types           []string      // empty = every type
	BizTypes        []string      // empty = every BizType
	ExcludeBizTypes []string      // wins over BizTypes
	DryRun          bool
	MaxCancels      int
	Rate            float64 // requests per second per action
	Concurrency     int     // cancels in flight
	PageSize        int     // DescribeTasks Limit
	SafetyMargin    time.Duration
	// WarnBefore (0 = off) lists, without cancelling them, the tasks that
	// will be stale within this long: ages in [MaxAge-WarnBefore, MaxAge].
	WarnBefore time.Duration

	// Notifications, accounts and fan-out (settings_org.go).
	NotifyURLs   []string // JANITOR_NOTIFY_URL
	NotifyFormat string   // "" = from each URL's host
	NotifyOn     []string // empty = cancelled, failed, stopped
	Roles        []string // role ARNs of other accounts to sweep
	SkipSelf     bool     // JANITOR_SWEEP_SELF=false: do not sweep the function's own account
	Fanout       string   // "" or FanoutNone, or FanoutAsync

	// Archive is where each run's report is kept in COS (archive.go).
	Archive ReportArchive
}

// Limits and accepted values of the settings.
const (
	MinMaxAge          = time.Minute
	MaxRate            = 20.0 // Tencent's per-action limit
	MaxConcurrency     = 64
	MaxMaxCancels      = 1_000_000
	MaxPageSize        = 1000
	DefaultMaxAge      = 2 * time.Hour
	DefaultLookback    = 72 * time.Hour
	DefaultMaxCancels  = 5000
	DefaultRate        = 15.0
	DefaultConcurrency = 8
	DefaultPageSize    = 100
	DefaultMargin      = 5 * time.Second
)

var (
	knownServices = []string{"ams", "vm"}
	sweepStatuses = []string{"PENDING", "RUNNING"}
	knownTypes    = []string{"AUDIO", "LIVE_AUDIO", "VIDEO", "LIVE_VIDEO"}
	// knownStatuses are the statuses DescribeTasks documents; any other
	// status cannot be judged and its task is skipped.
	knownStatuses = []string{"FINISH", "PENDING", "RUNNING", "ERROR", "CANCELLED"}
)

// DefaultSettings returns the documented defaults.
func DefaultSettings() Settings {
	return Settings{
		MaxAge:       DefaultMaxAge,
		Lookback:     DefaultLookback,
		Services:     []string{"ams"},
		Statuses:     []string{"PENDING", "RUNNING"},
		MaxCancels:   DefaultMaxCancels,
		Rate:         DefaultRate,
		Concurrency:  DefaultConcurrency,
		PageSize:     DefaultPageSize,
		SafetyMargin: DefaultMargin,
	}
}

// setting is one configurable value, declared once: its environment
// variable, its per-run override key, where it lives in Settings (field
// returns a pointer: *time.Duration, *int, *float64, *bool, *[]string or
// *string) and its bounds. LoadSettings (the function, and scf-deploy's
// plan-time CheckEnv through it), Override and Validate all read this table,
// so a name is spelled here only. fromEnv and fromJSON, when set, replace
// the reading the field's kind implies.
type setting struct {
	env, key string
	field    func(s *Settings) any
	minDur   time.Duration // *time.Duration: the least accepted
	min, max float64       // *int, *float64: the accepted range
	allowed  []string      // *[]string, *string: the accepted values (nil: any)
	norm     func(string) string
	fromEnv  func(st *setting, getenv config.Getenv, s *Settings) error
	fromJSON func(st *setting, raw json.RawMessage, s *Settings) error
}

// String names the setting in messages: maxAge (JANITOR_SWEEP_MAX_AGE).
func (st *setting) String() string { return st.key + " (" + st.env + ")" }

// The settings of one sweep (settings_org.go has the notification, account
// and fan-out ones).
var (
	setMaxAge = &setting{env: "JANITOR_SWEEP_MAX_AGE", key: "maxAge", minDur: MinMaxAge,
		field: func(s *Settings) any { return &s.MaxAge }}
	setLookback = &setting{env: "JANITOR_SWEEP_LOOKBACK", key: "lookback", minDur: MinMaxAge,
		field: func(s *Settings) any { return &s.Lookback }}
	setServices = &setting{env: "JANITOR_SWEEP_SERVICES", key: "services", allowed: knownServices, norm: strings.ToLower,
		field: func(s *Settings) any { return &s.Services }}
	setStatuses = &setting{env: "JANITOR_SWEEP_STATUSES", key: "statuses", allowed: sweepStatuses, norm: strings.ToUpper,
		field: func(s *Settings) any { return &s.Statuses }}
	setTypes = &setting{env: "JANITOR_SWEEP_TYPES", key: "types", allowed: knownTypes, norm: strings.ToUpper,
		field: func(s *Settings) any { return &s.Types }}
	setBizTypes = &setting{env: "JANITOR_SWEEP_BIZTYPES", key: "bizTypes",
		field: func(s *Settings) any { return &s.BizTypes }}
	setExcludeBizTypes = &setting{env: "JANITOR_SWEEP_EXCLUDE_BIZTYPES", key: "excludeBizTypes",
		field: func(s *Settings) any { return &s.ExcludeBizTypes }}
	setDryRun = &setting{env: "JANITOR_SWEEP_DRY_RUN", key: "dryRun",
		field: func(s *Settings) any { return &s.DryRun }}
	setMaxCancels = &setting{env: "JANITOR_SWEEP_MAX_CANCELS", key: "maxCancels", min: 1, max: MaxMaxCancels,
		field: func(s *Settings) any { return &s.MaxCancels }}
	setRate = &setting{env: "JANITOR_SWEEP_RATE", key: "rate", min: 0.1, max: MaxRate,
		field: func(s *Settings) any { return &s.Rate }}
	setConcurrency = &setting{env: "JANITOR_SWEEP_CONCURRENCY", key: "concurrency", min: 1, max: MaxConcurrency,
		field: func(s *Settings) any { return &s.Concurrency }}
	setPageSize = &setting{env: "JANITOR_SWEEP_PAGE_SIZE", key: "pageSize", min: 1, max: MaxPageSize,
		field: func(s *Settings) any { return &s.PageSize }}
	setSafetyMargin = &setting{env: "JANITOR_SWEEP_SAFETY_MARGIN", key: "safetyMargin",
		field: func(s *Settings) any { return &s.SafetyMargin }}
	setWarnBefore = &setting{env: "JANITOR_SWEEP_WARN_BEFORE", key: "warnBefore",
		field: func(s *Settings) any { return &s.WarnBefore }}
)

// settings is every setting, in the order they are read and listed.
var settings = append([]*setting{setMaxAge, setLookback, setServices, setStatuses, setTypes, setBizTypes, setExcludeBizTypes,
	setDryRun, setMaxCancels, setRate, setConcurrency, setPageSize, setSafetyMargin, setWarnBefore}, slices.Concat(orgSettings, archiveSettings)...)

// readEnv reads st's variable into s, as its field's kind says.
func (st *setting) readEnv(g config.Getenv, s *Settings) (err error) {
	if st.fromEnv != nil {
		return st.fromEnv(st, g, s)
	}
	switch p := st.field(s).(type) {
	case *time.Duration:
		*p, err = config.Duration(g, st.env, *p, st.minDur)
	case *int:
		*p, err = config.Int(g, st.env, *p, int(st.min), int(st.max))
	case *float64:
		*p, err = config.Float(g, st.env, *p, st.min, st.max)
	case *bool:
		*p, err = config.Bool(g, st.env, *p)
	case *[]string:
		if st.allowed == nil {
			*p = dedupe(config.List(g, st.env, *p))
			return nil
		}
		*p, err = envEnumList(g, st.env, *p, st.allowed, st.norm)
	case *string:
		*p, err = config.Enum(g, st.env, *p, st.allowed...)
	}
	return err
}

// readJSON applies st's per-run override raw to s, as its field's kind says.
func (st *setting) readJSON(raw json.RawMessage, s *Settings) (err error) {
	if st.fromJSON != nil {
		return st.fromJSON(st, raw, s)
	}
	switch p := st.field(s).(type) {
	case *time.Duration:
		*p, err = jsonDuration(raw, st.minDur)
	case *int:
		*p, err = jsonInt(raw, int(st.min), int(st.max))
	case *float64:
		*p, err = jsonFloat(raw, st.min, st.max)
	case *bool:
		if json.Unmarshal(raw, p) != nil {
			return fmt.Errorf("%s: want true or false", firstLine(raw))
		}
	case *[]string:
		if st.allowed == nil {
			*p, err = jsonList(raw)
			return err
		}
		*p, err = jsonEnumList(raw, st.allowed, st.norm)
	case *string:
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return fmt.Errorf("%s: want %s", firstLine(raw), strings.Join(st.allowed, " or "))
		}
		*p = strings.ToLower(strings.TrimSpace(v))
	}
	return err
}

// LoadSettings reads the JANITOR_SWEEP_* variables over DefaultSettings. An
// invalid value is an error naming the variable and the accepted form.
func LoadSettings(getenv config.Getenv) (Settings, error) {
	s := DefaultSettings()
	var errs []error
	for _, st := range settings {
		if err := st.readEnv(getenv, &s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, err
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Override applies a per-run JSON object such as {"maxAge":"30m","dryRun":true}
// over s. Empty input (or only whitespace, or null) changes nothing. Unknown
// keys, wrong types and out-of-range values are errors naming the key, and so
// are a notifyUrl that is not one of s.NotifyURLs and any notifyFormat.
func (s Settings) Override(raw []byte) (Settings, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return s, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return Settings{}, fmt.Errorf("sweep overrides must be a JSON object such as {\"maxAge\":\"30m\",\"dryRun\":true}: %s", firstLine(raw))
	}
	// Copy the slices so an override never writes into the caller's arrays.
	s.Services, s.Statuses, s.Types = slices.Clone(s.Services), slices.Clone(s.Statuses), slices.Clone(s.Types)
	s.BizTypes, s.ExcludeBizTypes = slices.Clone(s.BizTypes), slices.Clone(s.ExcludeBizTypes)
	s.NotifyURLs, s.NotifyOn, s.Roles = slices.Clone(s.NotifyURLs), slices.Clone(s.NotifyOn), slices.Clone(s.Roles)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		st, ok := lookupKey(k)
		if !ok {
			errs = append(errs, unknownKey(k))
			continue
		}
		if err := st.readJSON(m[k], &s); err != nil {
			errs = append(errs, fmt.Errorf("override %q: %w", k, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, err
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Validate checks the values and their combinations.
func (s Settings) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.MaxAge < MinMaxAge {
		add("%v %s: want at least %s", setMaxAge, s.MaxAge, MinMaxAge)
	}
	if s.Lookback <= s.MaxAge {
		add("%v %s must be longer than %v %s: tasks are listed from now-%s to now-%s", setLookback, s.Lookback, setMaxAge, s.MaxAge, setLookback.key, setMaxAge.key)
	}
	if len(s.Services) == 0 {
		add("%v: want at least one of %s", setServices, strings.Join(knownServices, ", "))
	}
	if len(s.Statuses) == 0 {
		add("%v: want at least one of %s", setStatuses, strings.Join(sweepStatuses, ", "))
	}
	for _, v := range s.Services {
		if !slices.Contains(knownServices, v) {
			add("%v %q: want %s", setServices, v, strings.Join(knownServices, " or "))
		}
	}
	for _, v := range s.Statuses {
		if !slices.Contains(sweepStatuses, v) {
			add("%v %q: only %s can be cancelled", setStatuses, v, strings.Join(sweepStatuses, " and "))
		}
	}
	for _, v := range s.Types {
		if !slices.Contains(knownTypes, v) {
			add("%v %q: want %s", setTypes, v, strings.Join(knownTypes, ", "))
		}
	}
	if len(s.BizTypes) > 0 && len(s.includedBizTypes()) == 0 {
		add("%v %s are all excluded by %v: nothing would be swept", setBizTypes, strings.Join(s.BizTypes, ","), setExcludeBizTypes)
	}
	if s.MaxCancels < 1 || s.MaxCancels > MaxMaxCancels {
		add("%v %d: want 1 to %d", setMaxCancels, s.MaxCancels, MaxMaxCancels)
	}
	if !(s.Rate > 0) {
		add("%v %g: want more than 0 requests per second", setRate, s.Rate)
	}
	if s.Concurrency < 1 {
		add("%v %d: want at least 1", setConcurrency, s.Concurrency)
	}
	if s.PageSize < 1 {
		add("%v %d: want at least 1", setPageSize, s.PageSize)
	}
	if s.SafetyMargin < 0 {
		add("%v %s: want 0 or more", setSafetyMargin, s.SafetyMargin)
	}
	errs = append(errs, s.validateWarn()...)
	errs = append(errs, s.validateOrg()...)
	errs = append(errs, s.validateArchive()...)
	return errors.Join(errs...)
}

// validateWarn checks the warning window: off, or shorter than the max age
// (a window as long as maxAge would list every task from its creation).
func (s Settings) validateWarn() []error {
	switch {
	case s.WarnBefore < 0:
		return []error{fmt.Errorf("%v %s: want 0 (off) or more", setWarnBefore, s.WarnBefore)}
	case s.WarnBefore > 0 && s.WarnBefore >= s.MaxAge:
		return []error{fmt.Errorf("%v %s must be shorter than %v %s: tasks are listed as upcoming from %s - %s old until they are stale",
			setWarnBefore, s.WarnBefore, setMaxAge, s.MaxAge, setMaxAge.key, setWarnBefore.key)}
	}
	return nil
}

// includedBizTypes is BizTypes minus ExcludeBizTypes.
func (s Settings) includedBizTypes() []string {
	var out []string
	for _, b := range s.BizTypes {
		if !slices.Contains(s.ExcludeBizTypes, b) {
			out = append(out, b)
		}
	}
	return out
}

func lookupKey(k string) (*setting, bool) {
	for _, st := range settings {
		if st.key == k {
			return st, true
		}
	}
	return nil, false
}

func unknownKey(k string) error {
	known := make([]string, len(settings))
	for i, st := range settings {
		known[i] = st.key
		if strings.EqualFold(st.key, k) || strings.EqualFold(st.env, k) {
			return fmt.Errorf("unknown setting %q: did you mean %q?", k, st.key)
		}
	}
	return fmt.Errorf("unknown setting %q: known settings are %s", k, strings.Join(known, ", "))
}

func jsonDuration(raw json.RawMessage, min time.Duration) (time.Duration, error) {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("%s: want a Go duration string of at least %s, such as \"2h\" or \"30m\"", firstLine(raw), min)
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < min {
		return 0, fmt.Errorf("%q: want a Go duration of at least %s, such as 2h or 30m", v, min)
	}
	return d, nil
}

func jsonInt(raw json.RawMessage, min, max int) (int, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != float64(int(f)) || f < float64(min) || f > float64(max) {
		return 0, fmt.Errorf("%s: want a whole number from %d to %d", firstLine(raw), min, max)
	}
	return int(f), nil
}

func jsonFloat(raw json.RawMessage, min, max float64) (float64, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f < min || f > max {
		return 0, fmt.Errorf("%s: want a number from %g to %g", firstLine(raw), min, max)
	}
	return f, nil
}

// jsonList accepts an array of strings or one comma-separated string.
func jsonList(raw json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var one string
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("%s: want an array of strings such as [\"a\",\"b\"] or a comma-separated string", firstLine(raw))
		}
		list = strings.Split(one, ",")
	}
	var out []string
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return dedupe(out), nil
}

func jsonEnumList(raw json.RawMessage, allowed []string, norm func(string) string) ([]string, error) {
	list, err := jsonList(raw)
	if err != nil {
		return nil, err
	}
	return enumList(list, allowed, norm)
}

func envEnumList(getenv config.Getenv, name string, def, allowed []string, norm func(string) string) ([]string, error) {
	list, err := enumList(config.List(getenv, name, def), allowed, norm)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", name, getenv(name), err)
	}
	return list, nil
}

func enumList(list, allowed []string, norm func(string) string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, v := range list {
		n := norm(v)
		if !slices.Contains(allowed, n) {
			return nil, fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		out = append(out, n)
	}
	return dedupe(out), nil
}

func dedupe(list []string) []string {
	var out []string
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}
