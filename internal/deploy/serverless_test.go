package deploy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is the module root, two levels up from this package.
const repoRoot = "../.."

// The Tencent Cloud API actions each function's code calls: its execution role
// must allow exactly these (least privilege), and nothing broader.
// The Describe* / ci query actions look up a job's state after a cancel
// Tencent refused without saying why (issue 11).
var wantActions = map[string][]string{
	"cancel-task":        {"ams:CancelTask", "ams:DescribeTaskDetail", "vm:CancelTask", "vm:DescribeTaskDetail"},
	"cancel-live-audit":  {"ci:CancelAuditingJobs", "ci:DescribeAuditingJobs"},
	"stop-transcription": {"trtc:DeleteCloudTranscription", "trtc:DescribeCloudTranscription"},
	// name/sts:AssumeRole and scf:InvokeFunction are added by scf-deploy from the
	// sweeper's environment, on exactly its roles and itself (internal/deploy/provision SweeperPolicy).
	"sweep-tasks": {"ams:CancelTask", "ams:DescribeTaskDetail", "ams:DescribeTasks", "vm:CancelTask", "vm:DescribeTaskDetail", "vm:DescribeTasks"},
}

func loadProject(t *testing.T) *Config {
	t.Helper()
	c, err := Load(filepath.Join(repoRoot, "serverless.yml"))
	if err != nil {
		t.Fatalf("serverless.yml: %v", err)
	}
	return c
}

// TestServerlessYML checks the deployable file against the multi-scf inputs and SCF's limits.
func TestServerlessYML(t *testing.T) {
	c := loadProject(t)
	for _, err := range c.Validate() {
		t.Errorf("serverless.yml: %v", err)
	}
	if c.File.Inputs.Runtime != "Go1" {
		t.Errorf("inputs.runtime = %q, want Go1", c.File.Inputs.Runtime)
	}
	var got []string
	for _, f := range c.Functions {
		got = append(got, f.Key)
	}
	sort.Strings(got)
	want := make([]string, 0, len(wantActions))
	for k := range wantActions {
		want = append(want, k)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("functions in serverless.yml (-want +got):\n%s", diff)
	}
}

// TestHandlersArePackaged checks that every handler is an executable `make
// package` produces: the Makefile's FUNCTIONS list names it, the binary is
// built from functions/<handler>, and the code package directory is dist/bundle.
func TestHandlersArePackaged(t *testing.T) {
	c := loadProject(t)
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^FUNCTIONS\s*:=\s*(.+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no FUNCTIONS := line")
	}
	packaged := map[string]bool{}
	for _, f := range strings.Fields(string(m[1])) {
		packaged[f] = true
	}
	if got := c.File.Inputs.Src.Src; filepath.Clean(got) != "dist/bundle" {
		t.Errorf("inputs.src = %q, want ./dist/bundle (where make package puts the binaries)", got)
	}
	for _, f := range c.Functions {
		if !packaged[f.Handler] {
			t.Errorf("%s: handler %q is not in the Makefile's FUNCTIONS (%s), so make package does not produce it", f.Key, f.Handler, m[1])
		}
		if f.Handler != f.Key || f.Name != f.Key {
			t.Errorf("%s: name %q and handler %q must equal the key (routes, binaries and directories share it)", f.Key, f.Name, f.Handler)
		}
		dir := filepath.Join(repoRoot, "functions", f.Handler)
		if !hasMainPackage(t, dir) {
			t.Errorf("%s: %s has no package main to build the handler from", f.Key, dir)
		}
		delete(packaged, f.Handler)
	}
	for extra := range packaged {
		t.Errorf("Makefile FUNCTIONS lists %q, which serverless.yml does not deploy", extra)
	}
}

func hasMainPackage(t *testing.T, dir string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.PackageClauseOnly)
		if err == nil && f.Name.Name == "main" {
			return true
		}
	}
	return false
}

func TestTriggers(t *testing.T) {
	c := loadProject(t)
	for _, name := range []string{"cancel-task", "cancel-live-audit", "stop-transcription"} {
		f, _ := c.Function(name)
		if f.URL == nil {
			t.Errorf("%s: no http (Function URL) trigger", name)
			continue
		}
		if !f.URL.Extranet || f.URL.AuthType != "NONE" {
			t.Errorf("%s: Function URL %+v, want public (enableExtranet) with authType NONE (the function verifies signatures)", name, *f.URL)
		}
		if len(f.Timers) != 0 {
			t.Errorf("%s: unexpected timer", name)
		}
	}
	f, _ := c.Function("sweep-tasks")
	if len(f.Timers) != 1 || f.URL != nil {
		t.Fatalf("sweep-tasks: want exactly one timer and no URL, got %d timers, URL %v", len(f.Timers), f.URL)
	}
	tm := f.Timers[0]
	if !tm.Enabled {
		t.Error("sweep-tasks timer is disabled")
	}
	if strings.Count(strings.TrimSpace(tm.Cron), " ") != 6 {
		t.Errorf("sweep-tasks cron %q: want the 7-field SCF form", tm.Cron)
	}
	// Every 5 minutes, at second 0, around the clock.
	at := time.Date(2026, 11, 22, 23, 57, 13, 0, time.UTC)
	for i := 0; i < 3; i++ {
		next := tm.Schedule.Next(at)
		if i > 0 && next.Sub(at) != 5*time.Minute {
			t.Errorf("sweep-tasks fires at %v then %v, want every 5 minutes", at, next)
		}
		if next.Second() != 0 || next.Minute()%5 != 0 {
			t.Errorf("sweep-tasks fires at %v, want minute%%5 == 0, second 0", next)
		}
		at = next
	}
	if f.Timeout >= 5*time.Minute {
		t.Errorf("sweep-tasks timeout %v: keep it under the 5-minute period so runs never overlap", f.Timeout)
	}
}

// TestSecretsAreNotCommitted checks the webhook secret comes from the deploy environment.
func TestSecretsAreNotCommitted(t *testing.T) {
	c := loadProject(t)
	for _, f := range c.Functions {
		for _, kv := range f.Env {
			if strings.Contains(kv.Key, "SECRET") && kv.Value != "" && len(EnvRefs(kv.Value)) == 0 {
				t.Errorf("%s: %s has a literal value in serverless.yml; use ${env:NAME} and put the value in .env", f.Key, kv.Key)
			}
		}
	}
}

// TestRolesAllowOnlyWhatTheCodeCalls checks deploy/cam/<role>.json for each function.
func TestRolesAllowOnlyWhatTheCodeCalls(t *testing.T) {
	c := loadProject(t)
	for _, f := range c.Functions {
		t.Run(f.Key, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "cam", f.Role+".json"))
			if err != nil {
				t.Fatalf("role %s: no policy document: %v", f.Role, err)
			}
			var pol struct {
				Version   string `json:"version"`
				Statement []struct {
					Effect   string   `json:"effect"`
					Action   []string `json:"action"`
					Resource []string `json:"resource"`
				} `json:"statement"`
			}
			if err := json.Unmarshal(data, &pol); err != nil {
				t.Fatalf("%s.json: %v", f.Role, err)
			}
			if pol.Version != "2.0" {
				t.Errorf("policy version %q, want 2.0", pol.Version)
			}
			var got []string
			for _, st := range pol.Statement {
				if st.Effect != "allow" {
					continue
				}
				for _, a := range st.Action {
					if strings.Contains(a, "*") {
						t.Errorf("wildcard action %q", a)
					}
					got = append(got, a)
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(wantActions[f.Key], got); diff != "" {
				t.Errorf("%s allows (-want +got):\n%s", f.Role, diff)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "deploy", "cam", "trust-scf.json")); err != nil {
		t.Errorf("the roles' trust policy: %v", err)
	}
}

// optionalSettings are settings the code reads that serverless.yml leaves out
// on purpose (SCF refuses empty values): the code's default applies.
var optionalSettings = map[string]string{
	"JANITOR_AMS_ENDPOINT":           "https://ams.tencentcloudapi.com",
	"JANITOR_VM_ENDPOINT":            "https://vm.tencentcloudapi.com",
	"JANITOR_TRTC_ENDPOINT":          "https://trtc.tencentcloudapi.com",
	"JANITOR_CI_ENDPOINT":            "https://<bucket>.ci.<region>.myqcloud.com",
	"JANITOR_TRTC_REGION":            "the function's region",
	"JANITOR_SWEEP_TYPES":            "every type",
	"JANITOR_SWEEP_BIZTYPES":         "every BizType",
	"JANITOR_SWEEP_EXCLUDE_BIZTYPES": "none excluded",
	"JANITOR_SWEEP_WARN_BEFORE":      "no warning window",
	"JANITOR_NOTIFY_URL":             "no notifications",
	"JANITOR_NOTIFY_FORMAT":          "from each URL's host, else json",
	"JANITOR_NOTIFY_SECRET":          "json notifications unsigned",
	"JANITOR_SWEEP_ROLES":            "no other accounts",
	"JANITOR_STS_ENDPOINT":           "https://sts.tencentcloudapi.com",
	"JANITOR_SCF_ENDPOINT":           "https://scf.tencentcloudapi.com",
	"JANITOR_REPORT_BUCKET":          "no report archive",
	"JANITOR_REPORT_REGION":          "the function's region",
	"JANITOR_REPORT_PREFIX":          "scf-janitor/sweeps/",
	"JANITOR_COS_ENDPOINT":           "https://<bucket>.cos.<region>.myqcloud.com",
}

// TestJanitorVariablesAreDeclared scans the Go sources for "JANITOR_..." string
// literals (the settings the code reads) and checks serverless.yml declares
// each of them (or leaves it out on purpose: optionalSettings), and declares
// nothing the code does not read.
func TestJanitorVariablesAreDeclared(t *testing.T) {
	c := loadProject(t)
	read, prefixes, byDir := scanJanitorLiterals(t, repoRoot)
	if len(read) == 0 {
		t.Skip("no JANITOR_ settings in the code yet")
	}
	declared := map[string][]string{} // name -> functions
	for _, f := range c.Functions {
		for _, kv := range f.Env {
			declared[kv.Key] = append(declared[kv.Key], f.Key)
		}
	}
	for name, where := range read {
		if _, optional := optionalSettings[name]; optional {
			continue
		}
		if len(declared[name]) == 0 {
			t.Errorf("%s is read by %s but no function in serverless.yml declares it", name, where)
		}
	}
	for name := range declared {
		if !strings.HasPrefix(name, "JANITOR_") {
			continue
		}
		if _, ok := read[name]; ok {
			continue
		}
		covered := false
		for _, p := range prefixes {
			covered = covered || strings.HasPrefix(name, p)
		}
		if !covered {
			t.Errorf("serverless.yml declares %s (in %v) but no code reads it: a typo or a stale setting", name, declared[name])
		}
	}
	// A function's own main package must find its settings in its own environment.
	for _, f := range c.Functions {
		env := f.EnvMap()
		for _, name := range byDir[filepath.Join("functions", f.Handler)] {
			if _, ok := env[name]; !ok && optionalSettings[name] == "" {
				t.Errorf("functions/%s reads %s but serverless.yml does not declare it for %s", f.Handler, name, f.Key)
			}
		}
	}
}

var janitorNameRE = regexp.MustCompile(`JANITOR_[A-Z0-9_]*`)

// scanJanitorLiterals returns the JANITOR_ names found in string literals of
// non-test Go files (cmd/ excluded: the local runner sets variables, it does
// not read them), the prefixes (literals ending in "_"), and names per directory.
func scanJanitorLiterals(t *testing.T, root string) (read map[string]string, prefixes []string, byDir map[string][]string) {
	t.Helper()
	read = map[string]string{}
	byDir = map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "dist", "node_modules":
				return filepath.SkipDir
			}
			if rel == "cmd" || rel == filepath.Join("shared", "deploy") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, name := range janitorNameRE.FindAllString(s, -1) {
				if strings.HasSuffix(name, "_") {
					prefixes = append(prefixes, name)
					continue
				}
				if _, ok := read[name]; !ok {
					read[name] = rel
				}
				byDir[filepath.Dir(rel)] = append(byDir[filepath.Dir(rel)], name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return read, prefixes, byDir
}
