package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// runOptions are the seams tests use; zero values select the real ones.
// Engine's waits (PollInterval, Sleep) are kept; connect sets the rest.
type runOptions struct {
	Build  func(ctx context.Context, root, handler string) ([]byte, error)
	Engine provision.Engine
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	command, config, envFile, region, endpoint string
	sweeperUin                                 string
	only                                       stringList
	yes                                        bool
	timeout                                    time.Duration
	args                                       []string // as given, for the next command to print
}

const usage = `usage: scf-deploy [plan|apply|delete] [flags]

  plan     print what apply would change (the default)
  apply    create or update the roles, functions, timers and Function URLs of serverless.yml
  delete   remove what scf-deploy created (needs --yes)

Credentials: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_TOKEN), else
TENCENTCLOUD_SECRETID/_SECRETKEY/_SESSIONTOKEN, else TENCENT_SECRET_ID, TENCENT_SECRET_KEY (and TENCENT_TOKEN),
from the shell or the .env file (docs/deploy.md, "Credentials").
A target account of the sweeper's JANITOR_SWEEP_ROLES whose own keys are set, as
JANITOR_TARGET_<UIN>_SECRET_ID, JANITOR_TARGET_<UIN>_SECRET_KEY (and _SESSION_TOKEN),
gets its role created there too; for the others, what to create is printed.

flags:
`

func parseArgs(args []string, stderr io.Writer) (options, error) {
	o := options{command: "plan", args: slices.Clone(args)}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		o.command, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("scf-deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.config, "config", "serverless.yml", "the serverless.yml to deploy (its directory is the project root)")
	fs.StringVar(&o.envFile, "env-file", "", "the .env file (default: .env next to --config; the shell wins over it)")
	fs.StringVar(&o.region, "region", "", "region (default: the yml's inputs.region)")
	fs.Var(&o.only, "only", "deploy only this `FUNCTION` (repeatable)")
	fs.StringVar(&o.endpoint, "endpoint", "", "send every API call to this base `URL`, such as http://127.0.0.1:9100 (the emulator)")
	fs.StringVar(&o.sweeperUin, "sweeper-uin", "", "the `UIN` of the account deployed to (default: asked with STS GetCallerIdentity, when the sweeper's policy needs it)")
	fs.BoolVar(&o.yes, "yes", false, "delete: really delete")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags go after the command: scf-deploy apply --only cancel-task)", fs.Arg(0))
	}
	switch o.command {
	case "plan", "apply", "delete":
	default:
		return o, fmt.Errorf("unknown command %q: want plan, apply or delete", o.command)
	}
	if o.sweeperUin != "" && !reUin.MatchString(o.sweeperUin) {
		return o, fmt.Errorf("--sweeper-uin %q: want the sweeper account's uin, digits only (such as 100000000001)", o.sweeperUin)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) (string, bool), ro runOptions) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "scf-deploy:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := deployCommand(ctx, o, stdout, stderr, getenv, ro); err != nil {
		err = endpointHint(err, o.endpoint)
		fmt.Fprintln(stderr, "scf-deploy:", err)
		return 1
	}
	return 0
}

// principalHint: whether CAM takes a role as a principal is not documented
// (terraform-provider-tencentcloud resource_tc_cam_role.md trusts :root;
// SDK cam errors.go CreateRole InvalidParameter.PrincipalQcsError).
func principalHint(err error) string {
	if !tcapi.HasCode(err, "InvalidParameter.PrincipalQcsError", "InvalidParameter.PrincipalQcsNotExist", "InvalidParameter.PrincipalError") {
		return ""
	}
	return " (CAM refused the trust principal of deploy/cam/trust-sweeper.json: replace its roleName principal with " +
		"qcs::cam::uin/${SWEEPER_UIN}:root, which trusts any identity of the sweeper's account allowed name/sts:AssumeRole, and apply again)"
}

func regionHint(err error, region string) error {
	if tcapi.HasCode(err, "UnsupportedRegion", "InvalidParameterValue.Region", "AuthFailure.InvalidRegion") {
		return fmt.Errorf("%w (is %q a region where SCF is offered?)", err, region)
	}
	return err
}

// selectFunctions picks --only's functions, by name or key.
func (d *deployment) selectFunctions() ([]deploy.Function, error) {
	if len(d.o.only) == 0 {
		return d.fns, nil
	}
	var out []deploy.Function
	for _, want := range d.o.only {
		i := slices.IndexFunc(d.fns, func(f deploy.Function) bool { return f.Name == want || f.Key == want })
		if i < 0 {
			return nil, fmt.Errorf("--only %s: no such function (have %s)", want, strings.Join(d.cfg.Names(), ", "))
		}
		out = append(out, d.fns[i])
	}
	return out, nil
}

// loadRoles reads the selected functions' roles from deploy/cam (deleting:
// those no other function uses).
func loadRoles(root string, all, selected []deploy.Function, deleting bool) ([]provision.Role, error) {
	var roles []provision.Role
	seen := map[string]bool{}
	for _, f := range selected {
		if f.Role == "" || seen[f.Role] || deleting && usedElsewhere(f.Role, all, selected) {
			continue
		}
		seen[f.Role] = true
		policyPath, err := deploy.RolePolicyPath(root, f.Role)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		trust, err := os.ReadFile(filepath.Join(root, "deploy", "cam", "trust-scf.json"))
		if err != nil {
			return nil, fmt.Errorf("role %s: its trust policy: %w", f.Role, err)
		}
		policy, err := os.ReadFile(policyPath)
		if err != nil {
			return nil, fmt.Errorf("role %s of function %s: its policy: %w (write the permissions it needs there)", f.Role, f.Name, err)
		}
		roles = append(roles, provision.Role{Name: f.Role, TrustPolicy: string(trust), Policy: string(policy)})
	}
	return roles, nil
}

func usedElsewhere(role string, all, selected []deploy.Function) bool {
	return slices.ContainsFunc(all, func(f deploy.Function) bool {
		return f.Role == role && !slices.ContainsFunc(selected, func(s deploy.Function) bool { return s.Name == f.Name })
	})
}

// secretName matches setting names whose values are never printed.
var secretName = regexp.MustCompile(`(?i)SECRET|TOKEN|PASSWORD|KEY|URL`)

// publicSettings are the settings of function name the plan may print:
// literals of serverless.yml whose names do not suggest a secret.
func publicSettings(cfg *deploy.Config, name string) map[string]bool {
	fn, ok := cfg.Function(name)
	if !ok {
		return nil
	}
	public := map[string]bool{}
	for _, kv := range fn.Env {
		if !strings.Contains(kv.Value, "${") && !secretName.MatchString(kv.Key) {
			public[kv.Key] = true
		}
	}
	return public
}
