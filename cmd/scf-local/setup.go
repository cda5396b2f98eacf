package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/creds"
	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

// environment is what setup made: the functions' runtime configuration and
// (unless --cloud) the emulator, which close shuts down.
type environment struct {
	rc     *runtimeConfig
	emu    *emulator.Server // nil when --cloud or reusing another emulator
	emuSrv *http.Server
	o      common
	src    envSource
	stderr io.Writer
}

// setup reads serverless.yml and its .env, then sets up the functions'
// credentials and settings: from the shell with --cloud, else against an
// emulator (the one already running when reuseEmulator and one answers,
// else an embedded one).
func setup(ctx context.Context, o common, getenv func(string) (string, bool), stderr io.Writer, reuseEmulator bool) (*environment, error) {
	env, err := loadEnvironment(o, getenv, stderr)
	if err != nil {
		return nil, err
	}
	if o.cloud {
		return env, env.setupCloud()
	}
	return env, env.useEmulator(ctx, reuseEmulator && emulatorRunning(ctx, o.emulatorAddr))
}

// loadEnvironment reads serverless.yml, the .env file the Serverless CLI
// would read (.env.<stage> or .env next to serverless.yml, else up to two
// folders up, as dotenv does; the shell wins) and --env-vars.
func loadEnvironment(o common, getenv func(string) (string, bool), stderr io.Writer) (*environment, error) {
	cfg, err := deploy.Load(o.config)
	if err != nil {
		return nil, err
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("%s is not deployable:\n  %w", o.config, errors.Join(errs...))
	}
	config, err := filepath.Abs(o.config)
	if err != nil {
		return nil, err
	}
	rc := &runtimeConfig{cfg: cfg, config: config, root: filepath.Dir(config)}
	envFile, _ := deploy.FindDotEnv(rc.root, cfg.File.Stage)
	dotenv, warnings, err := deploy.ReadDotEnv(envFile)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "scf-local:", w)
	}
	if o.envVars != "" {
		if rc.envVars, err = loadEnvVars(o.envVars, cfg); err != nil {
			return nil, err
		}
	}
	return &environment{rc: rc, o: o, src: envSource{shell: getenv, dotenv: dotenv}, stderr: stderr}, nil
}

// resolve gives each function its settings and webhook secret; then the
// --env-vars overrides serverless.yml does not declare are reported.
func (e *environment) resolve() error {
	rc := e.rc
	if err := rc.resolveFunctions(e.src, e.o.secret, e.stderr); err != nil || rc.envVars == nil {
		return err
	}
	if unused := rc.envVars.unused(rc.functionEnv); len(unused) > 0 {
		fmt.Fprintf(e.stderr, "scf-local: --env-vars %s: not declared in serverless.yml, so not set (as with sam local): %s\n", e.o.envVars, strings.Join(unused, ", "))
	}
	return nil
}

// setupCloud takes the credentials from the shell or .env (--cloud), as
// every tool reads them (internal/creds).
func (e *environment) setupCloud() error {
	rc, getenv := e.rc, e.src.lookup
	c, _, err := creds.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("--cloud calls the real Tencent Cloud APIs and needs credentials, from the shell or .env next to serverless.yml "+
			"(scf-local passes them to each invocation as SCF passes the execution role's): %w", err)
	}
	rc.creds = credentials{id: c.SecretID, key: c.SecretKey, token: c.Token}
	rc.appID, _ = getenv("TENCENTCLOUD_APPID")
	rc.uin, _ = getenv("TENCENTCLOUD_UIN")
	return e.resolve()
}

// useEmulator points the functions, in the local account, at the emulator
// on --emulator-addr: the one already running there (reuse: scf-local
// invoke beside scf-local serve), else a new embedded one. It creates the
// functions' execution roles (roles.go) and report buckets there; each
// invocation gets its role's keys from it.
func (e *environment) useEmulator(ctx context.Context, reuse bool) (err error) {
	rc := e.rc
	rc.appID, rc.uin = localAppID, localUin
	roles, notes, err := executionRoles(rc.root, rc.cfg.Functions)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(e.stderr, "scf-local:", n)
	}
	rc.emulator = "http://" + e.o.emulatorAddr
	var lis net.Listener
	if reuse {
		fmt.Fprintf(e.stderr, "scf-local: using the emulator already running at %s\n", rc.emulator)
	} else {
		if lis, err = net.Listen("tcp", e.o.emulatorAddr); err != nil {
			return portError("the emulator", "--emulator-addr", e.o.emulatorAddr, err)
		}
		defer func() {
			if err != nil {
				lis.Close()
				e.close()
			}
		}()
		rc.emulator = "http://" + lis.Addr().String()
	}
	if err := e.resolve(); err != nil {
		return err
	}
	if err := rc.deriveSweeperRole(roles); err != nil {
		return err
	}
	if !reuse {
		// Role keys are held to their roles' policies, as on Tencent; new
		// roles reach SCF after a few seconds (scf-deploy must wait for
		// them), while the functions run here get their keys at once.
		e.emu = emulator.New(emulator.Options{Seed: e.o.seed, Buckets: e.buckets(), EnforcePolicies: true, RolePropagation: 3 * time.Second})
		if e.o.demo {
			e.emu.LoadDemo()
		}
		e.emuSrv = &http.Server{Handler: e.emu, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = e.emuSrv.Serve(lis) }()
	}
	if err := ensureRoles(ctx, rc.emulator, roles); err != nil {
		return err
	}
	if err := ensureReportBuckets(ctx, rc.emulator, rc.reportBuckets()); err != nil {
		return err
	}
	rc.roles = &roleCredentials{uin: rc.uin, issue: emulatorRoleIssuer(rc.emulator), now: time.Now, keep: roleKeeper(rc.emulator, roles)}
	if !reuse {
		return nil
	}
	// An event signed for the running server (generate-event) works here.
	st, ok, err := readRunState(e.o.emulatorAddr, rc.config)
	if err != nil {
		fmt.Fprintf(e.stderr, "scf-local: the running server's webhook secrets are unreadable (%v); using this run's\n", err)
	} else if ok && e.o.secret == "" {
		rc.useRunningSecrets(st, rc.emulator)
	}
	return nil
}

// buckets are the CI buckets that exist: the demo data's and those the
// functions are configured with; a request for another gets NoSuchBucket.
func (e *environment) buckets() []emulator.Bucket {
	buckets := []emulator.Bucket{{Name: emulator.DefaultBucket, Region: emulator.DefaultBucketRegion}}
	for _, fn := range e.rc.cfg.Functions {
		fe := e.rc.effectiveEnv(fn)
		if b := (emulator.Bucket{Name: fe["JANITOR_CI_BUCKET"], Region: fe["JANITOR_CI_REGION"]}); b.Name != "" && b.Region != "" && !slices.Contains(buckets, b) {
			buckets = append(buckets, b)
		}
	}
	return buckets
}

func (e *environment) close() {
	if e.emuSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if e.emuSrv.Shutdown(ctx) != nil {
			_ = e.emuSrv.Close()
		}
	}
}

// emulatorRunning reports whether an emulator answers at addr.
func emulatorRunning(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	return emulatorCall(ctx, http.MethodGet, "http://"+addr+"/_emulator/stats", nil, nil) == nil
}

// emulatorCall sends a request to the emulator's /_emulator API, with body
// as JSON unless nil, and decodes its answer into out unless nil. An answer
// other than 200 or 201 is an error with the emulator's message.
func emulatorCall(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// portError says which port is taken and which flag changes it.
func portError(what, flag, addr string, err error) error {
	_, port, _ := net.SplitHostPort(addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("port %s (%s, %s, %s) is already in use: another scf-local running? stop it, or pass %s 127.0.0.1:0 for any free port", port, addr, what, flag, flag)
	}
	return fmt.Errorf("%s cannot listen on %s: %w (change it with %s)", what, addr, err, flag)
}

// The sweeper's report archive settings. Against the emulator an unset
// bucket is localReportBucket, so the archive works out of the box (the
// reports are under /_emulator/cos/<bucket>/).
const (
	envReportBucket   = "JANITOR_REPORT_BUCKET"
	envReportRegion   = "JANITOR_REPORT_REGION" // default: the functions' region
	localReportBucket = "scf-janitor-reports-" + localAppID
)

// reportBuckets are the COS buckets the sweepers write their reports to.
func (rc *runtimeConfig) reportBuckets() []emulator.Bucket {
	var out []emulator.Bucket
	for _, fn := range rc.cfg.Functions {
		if fn.Handler != provision.SweeperHandler {
			continue
		}
		env := rc.effectiveEnv(fn)
		b := emulator.Bucket{Name: env[envReportBucket], Region: cmp.Or(env[envReportRegion], rc.region())}
		if b.Name != "" && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// ensureReportBuckets creates each report bucket in the emulator at emuURL
// (PUT /_emulator/cos/<bucket>?region=<region>; an existing one is kept).
func ensureReportBuckets(ctx context.Context, emuURL string, buckets []emulator.Bucket) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, b := range buckets {
		u := emuURL + "/_emulator/cos/" + url.PathEscape(b.Name) + "?region=" + url.QueryEscape(b.Region)
		if err := emulatorCall(ctx, http.MethodPut, u, nil, nil); err != nil {
			return fmt.Errorf("create the report bucket %s in the emulator: %w", b.Name, err)
		}
	}
	return nil
}

// reportsLine is the banner's line about the reports ("" without a bucket).
func reportsLine(rc *runtimeConfig, emuURL string) string {
	bs := rc.reportBuckets()
	if len(bs) == 0 {
		return ""
	}
	return fmt.Sprintf("reports:   sweep-tasks keeps each run's report in COS bucket %s (%s): curl %s/_emulator/cos/%s/",
		bs[0].Name, bs[0].Region, emuURL, bs[0].Name)
}
