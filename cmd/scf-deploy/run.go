package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/creds"
	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// runOptions are the seams tests use; zero values select the real ones.
type runOptions struct {
	Build        func(ctx context.Context, root, handler string) ([]byte, error)
	PollInterval time.Duration
	// RoleRetryInterval is the engine's wait between tries while a new role
	// has not reached SCF (default: the engine's).
	RoleRetryInterval time.Duration
	// Sleep replaces the engine's waits (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
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
	return o, checkUin(o.sweeperUin)
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

// reRegion is the shape of a region id; which regions exist is Tencent's to say.
var reRegion = regexp.MustCompile(`^[a-z]{2,3}-[a-z]+(-[a-z0-9]+)?$`)

func deployCommand(ctx context.Context, o options, stdout, stderr io.Writer, getenv func(string) (string, bool), ro runOptions) error {
	cfg, err := deploy.Load(o.config)
	if err != nil {
		return err
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("%s is not valid:\n  %w", o.config, errors.Join(errs...))
	}
	root := filepath.Dir(o.config)

	envFile, explicit := o.envFile, o.envFile != ""
	if !explicit {
		// The file the Serverless CLI would load: .env.<stage> or .env, here
		// or up to two folders up.
		envFile, _ = deploy.FindDotEnv(root, cfg.File.Stage)
	}
	if explicit {
		if _, err := os.Stat(envFile); err != nil {
			return fmt.Errorf("--env-file: %w", err)
		}
	}
	// The same .env reading as scf-local and the Serverless CLI (dotenv 8).
	dotenv, warnings, err := deploy.ReadDotEnv(envFile)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "scf-deploy: warning:", w)
	}
	if unused := cfg.UnusedDotEnv(dotenv, toolVariable); len(unused) > 0 {
		fmt.Fprintf(stderr, "scf-deploy: warning: %s: unused: %s set but never referenced by %s as ${env:NAME} (a typo?)\n", envFile, strings.Join(unused, ", "), o.config)
	}
	lookup := deploy.LookupShellThenDotEnv(getenv, dotenv)

	// ${env:NAME} resolved as the Serverless CLI does (internal/deploy): an
	// error names every variable the file needs that nobody set.
	fns, err := cfg.Resolve(lookup)
	if err != nil {
		return fmt.Errorf("%s: %w (scf-deploy read the shell, then %s)", o.config, err, envFile)
	}
	selected, err := selectFunctions(fns, o.only)
	if err != nil {
		return err
	}

	region := o.region
	if region == "" {
		region = cfg.File.Inputs.Region
	}
	if !reRegion.MatchString(region) {
		return fmt.Errorf("unknown region %q: want a Tencent Cloud region such as ap-guangzhou (--region, or inputs.region in %s)", region, o.config)
	}
	cred, err := credentials(lookup, envFile)
	if err != nil {
		return err
	}
	if o.command != "delete" {
		if err := checkSettings(cfg, selected, region); err != nil {
			return fmt.Errorf("%s: %w", o.config, err)
		}
	}
	if err := checkEndpoint(ctx, o.endpoint); err != nil {
		return err
	}

	// Roles: the ones the selected functions use. delete removes a role only
	// when every function of the yml that uses it is being deleted.
	roles, err := loadRoles(root, fns, selected, o.command == "delete")
	if err != nil {
		return err
	}
	desired := provision.Desired{Roles: roles}
	build := ro.Build
	if build == nil {
		build = buildPackage
	}
	for _, f := range selected {
		df := provision.Function{Name: f.Name, Handler: f.Handler, Runtime: f.Runtime, Role: f.Role, MemoryMB: int64(f.MemoryMB), Timeout: f.Timeout,
			Public: publicSettings(cfg, f.Name)}
		for _, kv := range f.Env {
			if kv.Value == "" {
				continue // SCF refuses empty values; the code's default applies
			}
			df.Env = append(df.Env, tcapi.Variable{Key: kv.Key, Value: kv.Value})
		}
		for _, t := range f.Timers {
			df.Timers = append(df.Timers, provision.Timer{Name: t.Name, Cron: t.Cron, Argument: t.Argument, Enabled: t.Enabled})
		}
		if f.URL != nil {
			df.URL = &provision.URL{Name: f.URL.Name, AuthType: f.URL.AuthType, Extranet: f.URL.Extranet, Intranet: f.URL.Intranet}
		}
		if o.command != "delete" {
			if df.Code, err = build(ctx, root, f.Handler); err != nil {
				return err
			}
		}
		desired.Functions = append(desired.Functions, df)
	}

	topts := tcapi.Options{Region: region, Endpoint: o.endpoint}
	scf, err := tcapi.NewSCFControl(cred, topts)
	if err != nil {
		return err
	}
	topts.Region = "" // CAM is global
	cam, err := tcapi.NewCAM(cred, topts)
	if err != nil {
		return err
	}
	// The sweeper's policy follows its environment (roles, fan-out); the
	// target accounts' roles are created with their own keys when set, else
	// printed.
	var targets *targetSetup
	var accts []*targetAccount
	var keyless []provision.TargetRole
	sopts := tcapi.Options{Region: region, Endpoint: o.endpoint}
	progress := func(uin string, c *provision.Change) { fmt.Fprintf(stdout, "account %s: %s ...\n", uin, c) }
	if o.command == "delete" {
		if sweeper := sweeperFunction(selected); sweeper != nil {
			roles, err := sweepTargets(sweeper)
			if err != nil {
				return err
			}
			accts, keyless, err = targetAccounts(ctx, lookup, roles, sopts, progress, func(r provision.TargetRole) provision.Role { return provision.Role{Name: r.Name} })
			if err != nil {
				return err
			}
		}
	} else {
		namespace := cfg.File.Inputs.Namespace
		targets, err = sweeperPolicies(ctx, root, region, namespace, selected, desired.Roles, func(ctx context.Context) (string, error) {
			if o.sweeperUin != "" {
				return o.sweeperUin, nil
			}
			sts, err := tcapi.NewSTS(cred, tcapi.Options{Region: region, Endpoint: o.endpoint})
			if err != nil {
				return "", err
			}
			id, err := sts.GetCallerIdentity(ctx)
			if err != nil {
				return "", fmt.Errorf("the sweeper's policy needs this account's uin: %w (or give it with --sweeper-uin)", err)
			}
			return id.AccountId, nil
		})
		if err != nil {
			return err
		}
		if targets != nil {
			if accts, targets.roles, err = targetAccounts(ctx, lookup, targets.roles, sopts, progress, targets.role); err != nil {
				return err
			}
		}
	}
	eng := &provision.Engine{SCF: scf, CAM: cam, Namespace: cfg.File.Inputs.Namespace, PollInterval: ro.PollInterval,
		RoleRetryInterval: ro.RoleRetryInterval, Sleep: ro.Sleep,
		Progress: func(c *provision.Change) { fmt.Fprintf(stdout, "%s ...\n", c) },
		Note:     func(msg string) { fmt.Fprintf(stdout, "    %s\n", msg) }}
	if eng.Namespace == "default" {
		eng.Namespace = ""
	}

	fmt.Fprintf(stdout, "scf-deploy %s: %d function(s) in %s\n", o.command, len(selected), region)
	var p *provision.Plan
	if o.command == "delete" {
		p, err = eng.PlanDelete(ctx, desired)
	} else {
		p, err = eng.Plan(ctx, desired)
	}
	if err != nil {
		return regionHint(err, region)
	}
	if err := targetPlans(ctx, accts, o.command == "delete"); err != nil {
		return err
	}
	p.Write(stdout)
	empty, changes := p.Empty(), len(p.Changes)
	for _, a := range accts {
		a.write(stdout)
		empty = empty && a.plan.Empty()
		changes += len(a.plan.Changes)
	}
	if len(accts) > 0 && !empty {
		fmt.Fprintf(stdout, "in all: %d change(s) in %d account(s)\n", changes, 1+len(accts))
	}
	if o.command == "delete" {
		writeKeylessDelete(stdout, keyless)
	}
	switch {
	case o.command == "plan":
		printURLs(stdout, p.URLs)
		targets.write(stdout)
		if !empty {
			fmt.Fprintf(stdout, "run `%s` to make these changes\n", nextCommand(programName(arg0), "apply", o.args))
		}
		return nil
	case o.command == "delete" && !o.yes:
		if !empty {
			fmt.Fprintf(stdout, "nothing deleted: run `%s` to delete the above\n", nextCommand(programName(arg0), "delete", o.args, "--yes"))
		}
		return nil
	case empty:
		printURLs(stdout, p.URLs)
		targets.write(stdout)
		return nil
	}
	const again = "stopped part-way: run the same command again to continue (it only does what is still missing)"
	urls, err := eng.Apply(ctx, p)
	if err != nil {
		return fmt.Errorf("%w\n%s", regionHint(err, region), again)
	}
	// The target accounts after this one: their roles trust the sweeper's.
	for _, a := range accts {
		if _, err := a.eng.Apply(ctx, a.plan); err != nil {
			return fmt.Errorf("target account %s: %w%s\n%s", a.uin, err, principalHint(err), again)
		}
	}
	fmt.Fprintf(stdout, "done: %d change(s) applied\n", changes)
	if o.command != "delete" {
		printURLs(stdout, urls)
		targets.write(stdout)
	}
	return nil
}

// principalHint explains a refused trust principal. Whether CAM accepts a
// role (qcs::cam::uin/<uin>:roleName/<name>) as a trust principal is not
// documented: terraform-provider-tencentcloud's examples trust
// qcs::cam::uin/<uin>:root or :uin/<uin> (services/cam/resource_tc_cam_role.md),
// and tencentcloud-sdk-go lists InvalidParameter.PrincipalQcsError among
// CreateRole's codes.
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

func printURLs(w io.Writer, urls map[string]string) {
	for _, n := range slices.Sorted(maps.Keys(urls)) {
		if urls[n] != "" {
			fmt.Fprintf(w, "url %s %s\n", n, urls[n])
		}
	}
}

// credentials reads the keys as every tool does (internal/creds).
func credentials(lookup func(string) (string, bool), envFile string) (tcapi.Credentials, error) {
	c, _, err := creds.FromEnv(lookup)
	if err != nil {
		return c, fmt.Errorf("%w, in the shell or in %s; against the emulator or scf-local use %s / %s", err, envFile, "AKIDLOCALEMULATOR", "local-emulator-secret-key")
	}
	return c, nil
}

func selectFunctions(fns []deploy.Function, only []string) ([]deploy.Function, error) {
	if len(only) == 0 {
		return fns, nil
	}
	var out []deploy.Function
	var names []string
	for _, f := range fns {
		names = append(names, f.Name)
	}
	for _, want := range only {
		found := false
		for _, f := range fns {
			if f.Name == want || f.Key == want {
				out = append(out, f)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("--only %s: no such function (have %s)", want, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// loadRoles reads deploy/cam/trust-scf.json and deploy/cam/<Role>.json for
// the selected functions' roles.
func loadRoles(root string, all, selected []deploy.Function, deleting bool) ([]provision.Role, error) {
	trustPath := filepath.Join(root, "deploy", "cam", "trust-scf.json")
	var roles []provision.Role
	seen := map[string]bool{}
	for _, f := range selected {
		if f.Role == "" || seen[f.Role] {
			continue
		}
		seen[f.Role] = true
		if deleting && usedElsewhere(f.Role, all, selected) {
			continue
		}
		policyPath, err := deploy.RolePolicyPath(root, f.Role)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		trust, err := os.ReadFile(trustPath)
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
	for _, f := range all {
		if f.Role != role {
			continue
		}
		in := false
		for _, s := range selected {
			in = in || s.Name == f.Name
		}
		if !in {
			return true
		}
	}
	return false
}

// secretName matches setting names whose values are never printed, even
// when written literally in serverless.yml.
var secretName = regexp.MustCompile(`(?i)SECRET|TOKEN|PASSWORD|KEY|URL`)

// publicSettings are the settings of function name whose values the plan may
// print: literals written in serverless.yml (already public in the
// repository) whose names do not suggest a secret. Values from the shell or
// .env (${env:NAME}) are shown only by their length.
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
