package main

import (
	"flag"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// faultKinds are the kinds -fault takes, each setting one field of
// emulator.Faults (the field of PUT /_emulator/faults in parentheses).
var faultKinds = map[string]struct {
	help  string
	field func(*emulator.Faults) any
}{
	"latency":               {"DURATION added to every request (Latency)", func(f *emulator.Faults) any { return &f.Latency }},
	"jitter":                {"up to DURATION more, at random (Jitter)", func(f *emulator.Faults) any { return &f.Jitter }},
	"internal-error":        {"RATE of requests answered InternalError (InternalErrorRate)", func(f *emulator.Faults) any { return &f.InternalErrorRate }},
	"internal-error-status": {"HTTP STATUS of that InternalError, default 500 (InternalErrorStatus)", func(f *emulator.Faults) any { return &f.InternalErrorStatus }},
	"bad-gateway":           {"RATE of requests answered 502 with an HTML body (BadGatewayRate)", func(f *emulator.Faults) any { return &f.BadGatewayRate }},
	"reset":                 {"RATE of requests whose connection is reset (ResetRate)", func(f *emulator.Faults) any { return &f.ResetRate }},
	"slow":                  {"RATE of requests answered only after slow-delay (SlowRate)", func(f *emulator.Faults) any { return &f.SlowRate }},
	"slow-delay":            {"DURATION of a slow answer, default 30s (SlowDelay)", func(f *emulator.Faults) any { return &f.SlowDelay }},
}

// setFault parses v into the field of kind, checked as Faults.Validate
// checks that field alone (the sum of the rates is checked once all are set).
func setFault(f *emulator.Faults, kind, v string) error {
	k, ok := faultKinds[kind]
	if !ok {
		return fmt.Errorf("unknown fault %q: want one of %s", kind, strings.Join(faultKindNames(), ", "))
	}
	var one emulator.Faults
	var err error
	want := "a probability between 0 and 1"
	switch p := k.field(&one).(type) {
	case *time.Duration:
		*p, err = time.ParseDuration(v)
		want = "a non-negative Go duration such as 250ms"
	case *float64:
		*p, err = strconv.ParseFloat(v, 64)
	case *int:
		*p, err = strconv.Atoi(v)
		want = "an HTTP status between 200 and 599"
	}
	if err != nil || one.Validate() != nil {
		return fmt.Errorf("%s=%q: want %s", kind, v, want)
	}
	reflect.ValueOf(k.field(f)).Elem().Set(reflect.ValueOf(k.field(&one)).Elem())
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
		if err := setFault(ff.f, kind, v); err != nil {
			return err
		}
	}
	return nil
}

func faultKindNames() []string { return slices.Sorted(maps.Keys(faultKinds)) }

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
	fs.Var(faultsFlag{f}, "fault", faultUsage())
	for alias, kind := range faultAliases {
		fs.Func(alias, "same as -fault "+kind+"=VALUE", func(v string) error { return setFault(f, kind, v) })
	}
}
