package main

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// faultKinds are the kinds -fault takes, each setting one field of
// emulator.Faults (the field of PUT /_emulator/faults in parentheses).
var faultKinds = map[string]struct {
	help string
	set  func(f *emulator.Faults, v string) error
}{
	"latency":               {"DURATION added to every request (Latency)", durationField(func(f *emulator.Faults) *time.Duration { return &f.Latency })},
	"jitter":                {"up to DURATION more, at random (Jitter)", durationField(func(f *emulator.Faults) *time.Duration { return &f.Jitter })},
	"internal-error":        {"RATE of requests answered InternalError (InternalErrorRate)", rateField(func(f *emulator.Faults) *float64 { return &f.InternalErrorRate })},
	"internal-error-status": {"HTTP STATUS of that InternalError, default 500 (InternalErrorStatus)", statusField},
	"bad-gateway":           {"RATE of requests answered 502 with an HTML body (BadGatewayRate)", rateField(func(f *emulator.Faults) *float64 { return &f.BadGatewayRate })},
	"reset":                 {"RATE of requests whose connection is reset (ResetRate)", rateField(func(f *emulator.Faults) *float64 { return &f.ResetRate })},
	"slow":                  {"RATE of requests answered only after slow-delay (SlowRate)", rateField(func(f *emulator.Faults) *float64 { return &f.SlowRate })},
	"slow-delay":            {"DURATION of a slow answer, default 30s (SlowDelay)", durationField(func(f *emulator.Faults) *time.Duration { return &f.SlowDelay })},
}

func durationField(field func(*emulator.Faults) *time.Duration) func(*emulator.Faults, string) error {
	return func(f *emulator.Faults, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q: want a non-negative Go duration such as 250ms", v)
		}
		*field(f) = d
		return nil
	}
}

func rateField(field func(*emulator.Faults) *float64) func(*emulator.Faults, string) error {
	return func(f *emulator.Faults, v string) error {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return fmt.Errorf("%q: want a probability between 0 and 1", v)
		}
		*field(f) = r
		return nil
	}
}

func statusField(f *emulator.Faults, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 200 || n > 599 {
		return fmt.Errorf("%q: want an HTTP status between 200 and 599", v)
	}
	f.InternalErrorStatus = n
	return nil
}

// faultsFlag is the repeatable -fault KIND=VALUE[,KIND=VALUE...] flag; a
// later setting of a kind replaces an earlier one.
type faultsFlag struct{ f *emulator.Faults }

func (ff faultsFlag) String() string { return "" }

func (ff faultsFlag) Set(spec string) error {
	for _, kv := range strings.Split(spec, ",") {
		kind, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("%q: want KIND=VALUE, KIND one of %s", kv, strings.Join(faultKindNames(), ", "))
		}
		if err := ff.set(kind, v); err != nil {
			return err
		}
	}
	return nil
}

func (ff faultsFlag) set(kind, v string) error {
	k, ok := faultKinds[kind]
	if !ok {
		return fmt.Errorf("unknown fault %q: want one of %s", kind, strings.Join(faultKindNames(), ", "))
	}
	if err := k.set(ff.f, v); err != nil {
		return fmt.Errorf("%s=%w", kind, err)
	}
	return nil
}

func faultKindNames() []string {
	names := make([]string, 0, len(faultKinds))
	for k := range faultKinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func faultUsage() string {
	var b strings.Builder
	b.WriteString("inject a fault, `KIND=VALUE` (repeatable, or comma-separated):")
	for _, k := range faultKindNames() {
		fmt.Fprintf(&b, "\n  %-22s %s", k, faultKinds[k].help)
	}
	return b.String()
}

// faultAliases are the fault flags of earlier versions; each still works as
// -fault KIND=VALUE and is left out of the usage.
var faultAliases = map[string]string{
	"latency": "latency", "jitter": "jitter", "fault-rate": "internal-error", "bad-gateway-rate": "bad-gateway",
	"reset-rate": "reset", "slow-rate": "slow", "slow-delay": "slow-delay",
}

// registerFaults adds -fault and its aliases to fs; they fill f.
func registerFaults(fs *flag.FlagSet, f *emulator.Faults) {
	ff := faultsFlag{f}
	fs.Var(ff, "fault", faultUsage())
	for alias, kind := range faultAliases {
		fs.Func(alias, "same as -fault "+kind+"=VALUE", func(v string) error { return ff.set(kind, v) })
	}
}
