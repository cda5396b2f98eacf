package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/scf-janitor/scf-janitor/internal/creds"
	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// deployment is one run of a command: what load read, what plan found.
type deployment struct {
	o             options
	cfg           *deploy.Config
	root, envFile string
	region        string
	lookup        func(string) (string, bool)
	cred          tcapi.Credentials
	fns, selected []deploy.Function
	desired       provision.Desired
	eng           *provision.Engine
	accts         []*targetAccount
	keyless       []provision.TargetRole // target roles without keys here
	// The target roles' sweeper account and role, and compact policies.
	sweeperUin, sweeperRole, trust, policy string
	plan                                   *provision.Plan
	empty                                  bool // nothing to change in any account
	changes                                int
	stdout, stderr                         io.Writer
}

// deployCommand runs plan, apply or delete.
func deployCommand(ctx context.Context, o options, stdout, stderr io.Writer, getenv func(string) (string, bool), ro runOptions) error {
	d := &deployment{o: o, sweeperUin: o.sweeperUin, stdout: stdout, stderr: stderr}
	for _, step := range []func() error{
		func() error { return d.load(ctx, getenv) },
		func() error { return d.desire(ctx, ro) },
		func() error { return d.connect(ctx, ro) },
		func() error { return d.makePlan(ctx) },
	} {
		if err := step(); err != nil {
			return err
		}
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
// functions and checks the region, credentials, settings and endpoint.
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
	if d.fns, err = cfg.Resolve(d.lookup); err != nil {
		return fmt.Errorf("%s: %w (scf-deploy read the shell, then %s)", o.config, err, d.envFile)
	}
	if d.selected, err = d.selectFunctions(); err != nil {
		return err
	}
	d.region = cmp.Or(o.region, cfg.File.Inputs.Region)
	if !deploy.RegionRE.MatchString(d.region) {
		return fmt.Errorf("unknown region %q: want a Tencent Cloud region such as ap-guangzhou (--region, or inputs.region in %s)", d.region, o.config)
	}
	if d.cred, _, err = creds.FromEnv(d.lookup); err != nil {
		return fmt.Errorf("%w, in the shell or in %s; against the emulator or scf-local use AKIDLOCALEMULATOR / local-emulator-secret-key", err, d.envFile)
	}
	if o.command != "delete" {
		if err := checkSettings(cfg, d.selected, d.region); err != nil {
			return fmt.Errorf("%s: %w", o.config, err)
		}
	}
	return checkEndpoint(ctx, o.endpoint)
}

// readDotEnv reads --env-file, else the .env the Serverless CLI would load.
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

// desire builds the roles and functions (packaged unless deleting) to hold.
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
	// The packages build at once (each mostly single-threaded).
	var wg sync.WaitGroup
	errs := make([]error, len(d.selected))
	d.desired.Functions = make([]provision.Function, len(d.selected))
	for i, f := range d.selected {
		// SCF refuses empty values; the code's default applies.
		f.Env = slices.DeleteFunc(slices.Clone(f.Env), func(kv deploy.KeyValue) bool { return kv.Value == "" })
		df := &d.desired.Functions[i]
		*df = provision.Function{Function: f, Public: publicSettings(d.cfg, f.Name)}
		if d.o.command != "delete" {
			wg.Go(func() { df.Code, errs[i] = build(ctx, d.root, f.Handler) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// connect makes the engine and finds the sweeper's target accounts.
func (d *deployment) connect(ctx context.Context, ro runOptions) error {
	scf, err := tcapi.NewSCFControl(d.cred, tcapi.Options{Region: d.region, Endpoint: d.o.endpoint})
	if err != nil {
		return err
	}
	cam, err := tcapi.NewCAM(d.cred, tcapi.Options{Endpoint: d.o.endpoint}) // CAM is global
	if err != nil {
		return err
	}
	e := ro.Engine
	e.SCF, e.CAM = scf, cam
	if e.Namespace = d.cfg.File.Inputs.Namespace; e.Namespace == "default" {
		e.Namespace = ""
	}
	e.Progress = func(c *provision.Change) { fmt.Fprintf(d.stdout, "%s ...\n", c) }
	e.Note = func(msg string) { fmt.Fprintf(d.stdout, "    %s\n", msg) }
	d.eng = &e
	return d.findTargets(ctx)
}

// makePlan plans this account's changes, then the target accounts'.
func (d *deployment) makePlan(ctx context.Context) error {
	fmt.Fprintf(d.stdout, "scf-deploy %s: %d function(s) in %s\n", d.o.command, len(d.selected), d.region)
	planOf := func(e *provision.Engine, want provision.Desired) (*provision.Plan, error) {
		if d.o.command == "delete" {
			return e.PlanDelete(ctx, want)
		}
		return e.Plan(ctx, want)
	}
	var err error
	if d.plan, err = planOf(d.eng, d.desired); err != nil {
		return regionHint(err, d.region)
	}
	for _, a := range d.accts {
		if a.plan, err = planOf(a.eng, provision.Desired{Roles: a.roles}); err != nil {
			return fmt.Errorf("target account %s: %w", a.uin, err)
		}
	}
	return nil
}

// print writes every account's plan and counts the changes.
func (d *deployment) print() {
	d.plan.Write(d.stdout)
	d.empty, d.changes = d.plan.Empty(), len(d.plan.Changes)
	for _, a := range d.accts {
		names := make([]string, len(a.roles))
		for i, r := range a.roles {
			names[i] = r.Name
		}
		fmt.Fprintf(d.stdout, "target account %s (its own keys, %sSECRET_ID): role %s\n", a.uin, targetEnvPrefix(a.uin), strings.Join(names, ", "))
		a.plan.WriteAccount(d.stdout, a.uin)
		d.empty = d.empty && a.plan.Empty()
		d.changes += len(a.plan.Changes)
	}
	if len(d.accts) > 0 && !d.empty {
		fmt.Fprintf(d.stdout, "in all: %d change(s) in %d account(s)\n", d.changes, 1+len(d.accts))
	}
	if d.o.command == "delete" {
		d.writeKeyless()
	}
}

// printOutcome writes the Function URLs and the keyless accounts' steps.
func (d *deployment) printOutcome(urls map[string]string) {
	for _, n := range slices.Sorted(maps.Keys(urls)) {
		if urls[n] != "" {
			fmt.Fprintf(d.stdout, "url %s %s\n", n, urls[n])
		}
	}
	if d.o.command != "delete" {
		d.writeKeyless()
	}
}

// apply makes this account's changes, then the target accounts'.
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
