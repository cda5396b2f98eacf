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

// setting describes one configurable value: its environment variable, its
// override key and how to read it from each.
type setting struct {
	env, key string
	fromEnv  func(getenv config.Getenv, s *Settings) error
	fromJSON func(raw json.RawMessage, s *Settings) error
}

var settings = append([]setting{
	{"JANITOR_SWEEP_MAX_AGE", "maxAge",
		func(g config.Getenv, s *Settings) (err error) {
			s.MaxAge, err = config.Duration(g, "JANITOR_SWEEP_MAX_AGE", s.MaxAge, MinMaxAge)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.MaxAge, err = jsonDuration(raw, MinMaxAge)
			return err
		}},
	{"JANITOR_SWEEP_LOOKBACK", "lookback",
		func(g config.Getenv, s *Settings) (err error) {
			s.Lookback, err = config.Duration(g, "JANITOR_SWEEP_LOOKBACK", s.Lookback, MinMaxAge)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.Lookback, err = jsonDuration(raw, MinMaxAge)
			return err
		}},
	{"JANITOR_SWEEP_SERVICES", "services",
		func(g config.Getenv, s *Settings) (err error) {
			s.Services, err = envEnumList(g, "JANITOR_SWEEP_SERVICES", s.Services, knownServices, strings.ToLower)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.Services, err = jsonEnumList(raw, knownServices, strings.ToLower)
			return err
		}},
	{"JANITOR_SWEEP_STATUSES", "statuses",
		func(g config.Getenv, s *Settings) (err error) {
			s.Statuses, err = envEnumList(g, "JANITOR_SWEEP_STATUSES", s.Statuses, sweepStatuses, strings.ToUpper)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.Statuses, err = jsonEnumList(raw, sweepStatuses, strings.ToUpper)
			return err
		}},
	{"JANITOR_SWEEP_TYPES", "types",
		func(g config.Getenv, s *Settings) (err error) {
			s.Types, err = envEnumList(g, "JANITOR_SWEEP_TYPES", s.Types, knownTypes, strings.ToUpper)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.Types, err = jsonEnumList(raw, knownTypes, strings.ToUpper)
			return err
		}},
	{"JANITOR_SWEEP_BIZTYPES", "bizTypes",
		func(g config.Getenv, s *Settings) error {
			s.BizTypes = dedupe(config.List(g, "JANITOR_SWEEP_BIZTYPES", s.BizTypes))
			return nil
		},
		func(raw json.RawMessage, s *Settings) (err error) { s.BizTypes, err = jsonList(raw); return err }},
	{"JANITOR_SWEEP_EXCLUDE_BIZTYPES", "excludeBizTypes",
		func(g config.Getenv, s *Settings) error {
			s.ExcludeBizTypes = dedupe(config.List(g, "JANITOR_SWEEP_EXCLUDE_BIZTYPES", s.ExcludeBizTypes))
			return nil
		},
		func(raw json.RawMessage, s *Settings) (err error) { s.ExcludeBizTypes, err = jsonList(raw); return err }},
	{"JANITOR_SWEEP_DRY_RUN", "dryRun",
		func(g config.Getenv, s *Settings) (err error) {
			s.DryRun, err = config.Bool(g, "JANITOR_SWEEP_DRY_RUN", s.DryRun)
			return err
		},
		func(raw json.RawMessage, s *Settings) error {
			if err := json.Unmarshal(raw, &s.DryRun); err != nil {
				return fmt.Errorf("%s: want true or false", raw)
			}
			return nil
		}},
	{"JANITOR_SWEEP_MAX_CANCELS", "maxCancels",
		func(g config.Getenv, s *Settings) (err error) {
			s.MaxCancels, err = config.Int(g, "JANITOR_SWEEP_MAX_CANCELS", s.MaxCancels, 1, MaxMaxCancels)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.MaxCancels, err = jsonInt(raw, 1, MaxMaxCancels)
			return err
		}},
	{"JANITOR_SWEEP_RATE", "rate",
		func(g config.Getenv, s *Settings) (err error) {
			s.Rate, err = config.Float(g, "JANITOR_SWEEP_RATE", s.Rate, 0.1, MaxRate)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.Rate, err = jsonFloat(raw, 0.1, MaxRate)
			return err
		}},
	{"JANITOR_SWEEP_CONCURRENCY", "concurrency",
		func(g config.Getenv, s *Settings) (err error) {
			s.Concurrency, err = config.Int(g, "JANITOR_SWEEP_CONCURRENCY", s.Concurrency, 1, MaxConcurrency)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.Concurrency, err = jsonInt(raw, 1, MaxConcurrency)
			return err
		}},
	{"JANITOR_SWEEP_PAGE_SIZE", "pageSize",
		func(g config.Getenv, s *Settings) (err error) {
			s.PageSize, err = config.Int(g, "JANITOR_SWEEP_PAGE_SIZE", s.PageSize, 1, MaxPageSize)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.PageSize, err = jsonInt(raw, 1, MaxPageSize)
			return err
		}},
	{"JANITOR_SWEEP_SAFETY_MARGIN", "safetyMargin",
		func(g config.Getenv, s *Settings) (err error) {
			s.SafetyMargin, err = config.Duration(g, "JANITOR_SWEEP_SAFETY_MARGIN", s.SafetyMargin, 0)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.SafetyMargin, err = jsonDuration(raw, 0)
			return err
		}},
	{"JANITOR_SWEEP_WARN_BEFORE", "warnBefore",
		func(g config.Getenv, s *Settings) (err error) {
			s.WarnBefore, err = config.Duration(g, "JANITOR_SWEEP_WARN_BEFORE", s.WarnBefore, 0)
			return err
		},
		func(raw json.RawMessage, s *Settings) (err error) {
			s.WarnBefore, err = jsonDuration(raw, 0)
			return err
		}},
}, slices.Concat(orgSettings, archiveSettings)...)

// LoadSettings reads the JANITOR_SWEEP_* variables over DefaultSettings. An
// invalid value is an error naming the variable and the accepted form.
func LoadSettings(getenv config.Getenv) (Settings, error) {
	s := DefaultSettings()
	var errs []error
	for _, st := range settings {
		if err := st.fromEnv(getenv, &s); err != nil {
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
		if err := st.fromJSON(m[k], &s); err != nil {
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
		add("maxAge (JANITOR_SWEEP_MAX_AGE) %s: want at least %s", s.MaxAge, MinMaxAge)
	}
	if s.Lookback <= s.MaxAge {
		add("lookback (JANITOR_SWEEP_LOOKBACK) %s must be longer than maxAge (JANITOR_SWEEP_MAX_AGE) %s: tasks are listed from now-lookback to now-maxAge", s.Lookback, s.MaxAge)
	}
	if len(s.Services) == 0 {
		add("services (JANITOR_SWEEP_SERVICES): want at least one of %s", strings.Join(knownServices, ", "))
	}
	if len(s.Statuses) == 0 {
		add("statuses (JANITOR_SWEEP_STATUSES): want at least one of %s", strings.Join(sweepStatuses, ", "))
	}
	for _, v := range s.Services {
		if !slices.Contains(knownServices, v) {
			add("services (JANITOR_SWEEP_SERVICES) %q: want %s", v, strings.Join(knownServices, " or "))
		}
	}
	for _, v := range s.Statuses {
		if !slices.Contains(sweepStatuses, v) {
			add("statuses (JANITOR_SWEEP_STATUSES) %q: only %s can be cancelled", v, strings.Join(sweepStatuses, " and "))
		}
	}
	for _, v := range s.Types {
		if !slices.Contains(knownTypes, v) {
			add("types (JANITOR_SWEEP_TYPES) %q: want %s", v, strings.Join(knownTypes, ", "))
		}
	}
	if len(s.BizTypes) > 0 && len(s.includedBizTypes()) == 0 {
		add("bizTypes (JANITOR_SWEEP_BIZTYPES) %s are all excluded by excludeBizTypes (JANITOR_SWEEP_EXCLUDE_BIZTYPES): nothing would be swept",
			strings.Join(s.BizTypes, ","))
	}
	if s.MaxCancels < 1 || s.MaxCancels > MaxMaxCancels {
		add("maxCancels (JANITOR_SWEEP_MAX_CANCELS) %d: want 1 to %d", s.MaxCancels, MaxMaxCancels)
	}
	if !(s.Rate > 0) {
		add("rate (JANITOR_SWEEP_RATE) %g: want more than 0 requests per second", s.Rate)
	}
	if s.Concurrency < 1 {
		add("concurrency (JANITOR_SWEEP_CONCURRENCY) %d: want at least 1", s.Concurrency)
	}
	if s.PageSize < 1 {
		add("pageSize (JANITOR_SWEEP_PAGE_SIZE) %d: want at least 1", s.PageSize)
	}
	if s.SafetyMargin < 0 {
		add("safetyMargin (JANITOR_SWEEP_SAFETY_MARGIN) %s: want 0 or more", s.SafetyMargin)
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
		return []error{fmt.Errorf("warnBefore (JANITOR_SWEEP_WARN_BEFORE) %s: want 0 (off) or more", s.WarnBefore)}
	case s.WarnBefore > 0 && s.WarnBefore >= s.MaxAge:
		return []error{fmt.Errorf("warnBefore (JANITOR_SWEEP_WARN_BEFORE) %s must be shorter than maxAge (JANITOR_SWEEP_MAX_AGE) %s: tasks are listed as upcoming from maxAge - warnBefore old until they are stale",
			s.WarnBefore, s.MaxAge)}
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

func lookupKey(k string) (setting, bool) {
	for _, st := range settings {
		if st.key == k {
			return st, true
		}
	}
	return setting{}, false
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
