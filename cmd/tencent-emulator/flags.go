package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// defaultAddr is where the emulator listens by default.
const defaultAddr = "127.0.0.1:9100"

// config is the parsed command line.
type config struct {
	Addr    string
	Demo    bool
	Options emulator.Options
}

// parseFlags parses the command line. Usage goes to out.
func parseFlags(args []string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("tencent-emulator", flag.ContinueOnError)
	fs.SetOutput(out)
	cfg := config{Options: emulator.Options{Credentials: []emulator.Credential{{}}, SdkAppIDs: []uint64{emulator.DefaultSdkAppID},
		Faults: emulator.Faults{SlowDelay: emulator.DefaultSlowDelay}}}
	registerFlags(fs, &cfg)
	registerFaults(fs, &cfg.Options.Faults)
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, check(cfg.Options)
}

func registerFlags(fs *flag.FlagSet, cfg *config) {
	o, cred := &cfg.Options, &cfg.Options.Credentials[0]
	fs.StringVar(&cfg.Addr, "addr", defaultAddr, "listen address")
	fs.BoolVar(&cfg.Demo, "demo", false, "load the demo data set (a few hundred tasks, live jobs, transcriptions)")
	fs.StringVar(&cred.SecretID, "secret-id", emulator.DefaultSecretID, "accepted SecretId")
	fs.StringVar(&cred.SecretKey, "secret-key", emulator.DefaultSecretKey, "accepted SecretKey")
	fs.StringVar(&cred.Token, "token", "", "required session token (X-TC-Token / x-cos-security-token); empty accepts any")
	fs.Float64Var(&o.Rate, "rate", emulator.DefaultRate, "requests per second per action per SecretId (burst = rate); negative disables")
	fs.StringVar(&o.Paging, "paging", emulator.PagingCursor, "DescribeTasks paging mode: cursor or offset")
	fs.IntVar(&o.MaxLimit, "max-limit", emulator.DefaultMaxLimit, "largest DescribeTasks Limit accepted")
	fs.DurationVar(&o.PendingFor, "pending-for", emulator.DefaultPendingFor, "how long new tasks stay PENDING (negative: forever)")
	fs.DurationVar(&o.RunningFor, "running-for", emulator.DefaultRunningFor, "how long non-live tasks stay RUNNING (negative: forever)")
	fs.Func("sdk-app-ids", "comma-separated known TRTC SdkAppIds (default 1400000000)", listFlag(&o.SdkAppIDs, func(p string) (uint64, error) {
		id, err := strconv.ParseUint(p, 10, 64)
		if err != nil || id == 0 {
			return 0, fmt.Errorf("--sdk-app-ids: %q is not a positive integer", p)
		}
		return id, nil
	}))
	fs.Int64Var(&o.Seed, "seed", 1, "seed of fault decisions, generated ids and the demo data")
	fs.BoolVar(&o.SpecificEndedCodes, "specific-ended-codes", false, "answer a cancel of an ended job with FailedOperation.TaskEnded / 409 FailedOperation.JobEnded "+
		"(scf-janitor's old codes) instead of plain FailedOperation (Tencent's real code is undocumented)")
	fs.BoolVar(&o.EnforcePolicies, "enforce-policies", false, "refuse a role session's request unless a permission policy attached to its role allows the action "+
		"(CAM semantics: default deny, explicit deny wins; conditions are not evaluated); root keys are never checked")
	fs.DurationVar(&o.RolePropagation, "role-propagation", 0, "how long after CreateRole / AttachRolePolicy a role is usable by SCF "+
		"(CreateFunction / UpdateFunctionConfiguration answer FailedOperation.CallRoleFailed before then); 0 = at once")
	fs.Func("roles", "comma-separated role `ARNs` (qcs::cam::uin/<uin>:roleName/<name>) any account may assume with STS AssumeRole",
		listFlag(&o.Roles, func(arn string) (emulator.Role, error) {
			r := emulator.Role{Arn: arn}
			if err := r.Validate(); err != nil {
				return r, fmt.Errorf("--roles: %w", err)
			}
			return r, nil
		}))
}

// usage prints the flags but the old fault aliases.
func usage(fs *flag.FlagSet) {
	out := fs.Output()
	fmt.Fprintln(out, "Usage of tencent-emulator:")
	shown := flag.NewFlagSet("", flag.ContinueOnError)
	shown.SetOutput(out)
	fs.VisitAll(func(f *flag.Flag) {
		if _, alias := faultAliases[f.Name]; !alias {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	shown.PrintDefaults()
	fmt.Fprintln(out, "  -latency, -jitter, -fault-rate, -bad-gateway-rate, -reset-rate, -slow-rate, -slow-delay VALUE\n    \tthe old fault flags: -fault latency=, jitter=, internal-error=, bad-gateway=, reset=, slow=, slow-delay=")
}

func check(o emulator.Options) error {
	if o.Paging != emulator.PagingCursor && o.Paging != emulator.PagingOffset {
		return fmt.Errorf("--paging %q: want cursor or offset", o.Paging)
	}
	if o.MaxLimit < 1 {
		return fmt.Errorf("--max-limit %d: want at least 1", o.MaxLimit)
	}
	if o.RolePropagation < 0 {
		return fmt.Errorf("--role-propagation %s: want 0 or more", o.RolePropagation)
	}
	if o.Rate == 0 {
		return errors.New("--rate 0: want a positive rate, or a negative one to disable limiting")
	}
	if c := o.Credentials[0]; c.SecretID == "" || c.SecretKey == "" {
		return errors.New("--secret-id and --secret-key must not be empty")
	}
	if err := o.Faults.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	return nil
}

// listFlag sets *dst to the comma-separated items of a flag, each parsed by parse.
func listFlag[T any](dst *[]T, parse func(string) (T, error)) func(string) error {
	return func(list string) error {
		*dst = nil
		for _, p := range strings.Split(list, ",") {
			if p = strings.TrimSpace(p); p != "" {
				v, err := parse(p)
				if err != nil {
					return err
				}
				*dst = append(*dst, v)
			}
		}
		return nil
	}
}
