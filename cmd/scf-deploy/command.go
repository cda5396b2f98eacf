package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// deployment is one run of a command: what load read, what plan found.
type deployment struct {
	o              options
	cfg            *deploy.Config
	root, envFile  string
	region         string
	lookup         func(string) (string, bool)
	cred           tcapi.Credentials
	fns, selected  []deploy.Function
	desired        provision.Desired
	eng            *provision.Engine
	targets        *targetSetup // the sweeper's target roles (plan, apply)
	accts          []*targetAccount
	keyless        []provision.TargetRole // delete: target roles without keys here
	plan           *provision.Plan
	empty          bool // nothing to change in any account
	changes        int
	stdout, stderr io.Writer
}

// deployCommand runs plan, apply or delete: load the yml and its settings,
// plan the changes in every account, print them, then apply them (apply,
// delete --yes).
func deployCommand(ctx context.Context, o options, stdout, stderr io.Writer, getenv func(string) (string, bool), ro runOptions) error {
	d := &deployment{o: o, stdout: stdout, stderr: stderr}
	if err := d.load(ctx, getenv); err != nil {
		return err
	}
	if err := d.desire(ctx, ro); err != nil {
		return err
	}
	if err := d.connect(ctx, ro); err != nil {
		return err
	}
	if err := d.makePlan(ctx); err != nil {
		return err
	}
	d.print()
	switch {
	case o.command == "plan":
		d.printOutcome(d.plan.URLs)
		if !d.empty {
			fmt.Fprintf(stdout, "run `%s` to make these changes\n", nextCommand(programName(arg0), "apply", o.args))
		}
		return nil
	case o.command == "delete" && !o.yes:
		if !d.empty {
			fmt.Fprintf(stdout, "nothing deleted: run `%s` to delete the above\n", nextCommand(programName(arg0), "delete", o.args, "--yes"))
		}
		return nil
	case d.empty:
		d.printOutcome(d.plan.URLs)
		return nil
	}
	return d.apply(ctx)
}

// load reads the yml and the .env, resolves ${env:NAME}, selects the
// functions and checks the region, the credentials, the settings and the
// endpoint.
func (d *deployment) load(ctx context.Context, getenv func(string) (string, bool)) error {
	o := d.o
	cfg, err := deploy.Load(o.config)
	if err != nil {
		return err
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("%s is not valid:\n  %w", o.config, errors.Join(errs...))
	}
	d.cfg, d.root = cfg, filepath.Dir(o.config)
	if err := d.readDotEnv(getenv); err != nil {
		return err
	}
	// ${env:NAME} resolved as the Serverless CLI does (internal/deploy): an
	// error names every variable the file needs that nobody set.
	if d.fns, err = cfg.Resolve(d.lookup); err != nil {
		return fmt.Errorf("%s: %w (scf-deploy read the shell, then %s)", o.config, err, d.envFile)
	}
	if d.selected, err = selectFunctions(d.fns, o.only); err != nil {
		return err
	}
	d.region = o.region
	if d.region == "" {
		d.region = cfg.File.Inputs.Region
	}
	if !reRegion.MatchString(d.region) {
		return fmt.Errorf("unknown region %q: want a Tencent Cloud region such as ap-guangzhou (--region, or inputs.region in %s)", d.region, o.config)
	}
	if d.cred, err = credentials(d.lookup, d.envFile); err != nil {
		return err
	}
	if o.command != "delete" {
		if err := checkSettings(cfg, d.selected, d.region); err != nil {
			return fmt.Errorf("%s: %w", o.config, err)
		}
	}
	return checkEndpoint(ctx, o.endpoint)
}

// readDotEnv reads the .env file (--env-file, else the one the Serverless
// CLI would load: .env.<stage> or .env, here or up to two folders up) with
// the same reading as scf-local and the Serverless CLI (dotenv 8); the
// shell wins over it.
func (d *deployment) readDotEnv(getenv func(string) (string, bool)) error {
	d.envFile = d.o.envFile
	if d.envFile == "" {
		d.envFile, _ = deploy.FindDotEnv(d.root, d.cfg.File.Stage)
	} else if _, err := os.Stat(d.envFile); err != nil {
		return fmt.Errorf("--env-file: %w", err)
	}
	dotenv, warnings, err := deploy.ReadDotEnv(d.envFile)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(d.stderr, "scf-deploy: warning:", w)
	}
	if unused := d.cfg.UnusedDotEnv(dotenv, toolVariable); len(unused) > 0 {
		fmt.Fprintf(d.stderr, "scf-deploy: warning: %s: unused: %s set but never referenced by %s as ${env:NAME} (a typo?)\n", d.envFile, strings.Join(unused, ", "), d.o.config)
	}
	d.lookup = deploy.LookupShellThenDotEnv(getenv, dotenv)
	return nil
}

// desire builds what the account should hold: the roles the selected
// functions use (delete removes a role only when every function of the yml
// that uses it is being deleted) and the functions, packaged unless
// deleting.
func (d *deployment) desire(ctx context.Context, ro runOptions) error {
	roles, err := loadRoles(d.root, d.fns, d.selected, d.o.command == "delete")
	if err != nil {
		return err
	}
	d.desired = provision.Desired{Roles: roles}
	build := ro.Build
	if build == nil {
		build = buildPackage
	}
	// The packages build at once (each go build is mostly one linker and
	// one deflate, single-threaded); every failure is reported.
	var wg sync.WaitGroup
	errs := make([]error, len(d.selected))
	d.desired.Functions = make([]provision.Function, len(d.selected))
	for i, f := range d.selected {
		d.desired.Functions[i] = desiredFunction(d.cfg, f)
		if d.o.command != "delete" {
			wg.Go(func() { d.desired.Functions[i].Code, errs[i] = build(ctx, d.root, f.Handler) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// desiredFunction is f as provision deploys it, without its code.
func desiredFunction(cfg *deploy.Config, f deploy.Function) provision.Function {
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
	return df
}

// connect makes the SCF and CAM clients and the engine, and finds the
// sweeper's target accounts: their roles are created with their own keys
// when set, else printed.
func (d *deployment) connect(ctx context.Context, ro runOptions) error {
	topts := tcapi.Options{Region: d.region, Endpoint: d.o.endpoint}
	scf, err := tcapi.NewSCFControl(d.cred, topts)
	if err != nil {
		return err
	}
	topts.Region = "" // CAM is global
	cam, err := tcapi.NewCAM(d.cred, topts)
	if err != nil {
		return err
	}
	d.eng = &provision.Engine{SCF: scf, CAM: cam, Namespace: d.cfg.File.Inputs.Namespace, PollInterval: ro.PollInterval,
		RoleRetryInterval: ro.RoleRetryInterval, Sleep: ro.Sleep,
		Progress: func(c *provision.Change) { fmt.Fprintf(d.stdout, "%s ...\n", c) },
		Note:     func(msg string) { fmt.Fprintf(d.stdout, "    %s\n", msg) }}
	if d.eng.Namespace == "default" {
		d.eng.Namespace = ""
	}
	if d.o.command == "delete" {
		return d.deleteTargets(ctx)
	}
	return d.sweeperTargets(ctx)
}

func (d *deployment) targetProgress(uin string, c *provision.Change) {
	fmt.Fprintf(d.stdout, "account %s: %s ...\n", uin, c)
}

// deleteTargets finds the target accounts whose sweeper role goes with the
// sweeper being deleted.
func (d *deployment) deleteTargets(ctx context.Context) error {
	sweeper := sweeperFunction(d.selected)
	if sweeper == nil {
		return nil
	}
	roles, err := sweepTargets(sweeper)
	if err != nil {
		return err
	}
	sopts := tcapi.Options{Region: d.region, Endpoint: d.o.endpoint}
	d.accts, d.keyless, err = targetAccounts(ctx, d.lookup, roles, sopts, d.targetProgress,
		func(r provision.TargetRole) provision.Role { return provision.Role{Name: r.Name} })
	return err
}

// sweeperTargets sets the sweeper's policy from its environment (roles,
// fan-out) and finds the target accounts its roles go to.
func (d *deployment) sweeperTargets(ctx context.Context) error {
	var err error
	d.targets, err = sweeperPolicies(ctx, d.root, d.region, d.cfg.File.Inputs.Namespace, d.selected, d.desired.Roles, d.callerUin)
	if err != nil || d.targets == nil {
		return err
	}
	sopts := tcapi.Options{Region: d.region, Endpoint: d.o.endpoint}
	d.accts, d.targets.roles, err = targetAccounts(ctx, d.lookup, d.targets.roles, sopts, d.targetProgress, d.targets.role)
	return err
}

// callerUin is the uin of the account deployed to: --sweeper-uin, else STS
// GetCallerIdentity.
func (d *deployment) callerUin(ctx context.Context) (string, error) {
	if d.o.sweeperUin != "" {
		return d.o.sweeperUin, nil
	}
	sts, err := tcapi.NewSTS(d.cred, tcapi.Options{Region: d.region, Endpoint: d.o.endpoint})
	if err != nil {
		return "", err
	}
	id, err := sts.GetCallerIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("the sweeper's policy needs this account's uin: %w (or give it with --sweeper-uin)", err)
	}
	return id.AccountId, nil
}

// makePlan plans this account's changes, then the target accounts'.
func (d *deployment) makePlan(ctx context.Context) error {
	fmt.Fprintf(d.stdout, "scf-deploy %s: %d function(s) in %s\n", d.o.command, len(d.selected), d.region)
	var err error
	if d.o.command == "delete" {
		d.plan, err = d.eng.PlanDelete(ctx, d.desired)
	} else {
		d.plan, err = d.eng.Plan(ctx, d.desired)
	}
	if err != nil {
		return regionHint(err, d.region)
	}
	return targetPlans(ctx, d.accts, d.o.command == "delete")
}

// print writes every account's plan and counts the changes.
func (d *deployment) print() {
	d.plan.Write(d.stdout)
	d.empty, d.changes = d.plan.Empty(), len(d.plan.Changes)
	for _, a := range d.accts {
		a.write(d.stdout)
		d.empty = d.empty && a.plan.Empty()
		d.changes += len(a.plan.Changes)
	}
	if len(d.accts) > 0 && !d.empty {
		fmt.Fprintf(d.stdout, "in all: %d change(s) in %d account(s)\n", d.changes, 1+len(d.accts))
	}
	if d.o.command == "delete" {
		writeKeylessDelete(d.stdout, d.keyless)
	}
}

// printOutcome writes the Function URLs and what to do in the target
// accounts without keys here.
func (d *deployment) printOutcome(urls map[string]string) {
	printURLs(d.stdout, urls)
	d.targets.write(d.stdout)
}

// apply makes the planned changes: this account's first, then the target
// accounts' (their roles trust the sweeper's).
func (d *deployment) apply(ctx context.Context) error {
	const again = "stopped part-way: run the same command again to continue (it only does what is still missing)"
	urls, err := d.eng.Apply(ctx, d.plan)
	if err != nil {
		return fmt.Errorf("%w\n%s", regionHint(err, d.region), again)
	}
	for _, a := range d.accts {
		if _, err := a.eng.Apply(ctx, a.plan); err != nil {
			return fmt.Errorf("target account %s: %w%s\n%s", a.uin, err, principalHint(err), again)
		}
	}
	fmt.Fprintf(d.stdout, "done: %d change(s) applied\n", d.changes)
	if d.o.command != "delete" {
		d.printOutcome(urls)
	}
	return nil
}
