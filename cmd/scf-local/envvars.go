package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
)

// envVars is an --env-vars file, in sam local's shape: {"Parameters":
// {"KEY": "value"}, "<function>": {"KEY": "value"}}. A function's own object
// (by name or key) wins over Parameters, and both over serverless.yml. As
// with sam local, only variables serverless.yml declares are set.
type envVars struct {
	path   string
	all    map[string]string
	perFn  map[string]map[string]string // by the name used in the file
	config *deploy.Config
}

// loadEnvVars reads and checks path against cfg.
func loadEnvVars(path string, cfg *deploy.Config) (*envVars, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--env-vars: %w", err)
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("--env-vars %s: want a JSON object such as {\"Parameters\":{\"KEY\":\"value\"},\"cancel-task\":{\"KEY\":\"value\"}}: %w", path, err)
	}
	ev := &envVars{path: path, perFn: map[string]map[string]string{}, config: cfg}
	var errs []error
	for section, vars := range raw {
		if section != "Parameters" {
			if _, ok := cfg.Function(section); !ok {
				errs = append(errs, fmt.Errorf("%q is not a function in serverless.yml (have %s; \"Parameters\" applies to all)", section, strings.Join(cfg.Names(), ", ")))
				continue
			}
		}
		m := make(map[string]string, len(vars))
		for k, v := range vars {
			s, err := envValue(v)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s.%s: %w", section, k, err))
			case reservedEnvKey(k):
				errs = append(errs, fmt.Errorf("%s.%s: SCF reserves variables starting with SCF_, QCLOUD_ and TENCENTCLOUD_; scf-local sets them as SCF does", section, k))
			case k == envWebhookSecret:
				errs = append(errs, fmt.Errorf("%s.%s: the webhook secret comes from --webhook-secret, the environment or .env (scf-local signs its printed requests with it)", section, k))
			default:
				m[k] = s
			}
		}
		if section == "Parameters" {
			ev.all = m
		} else {
			ev.perFn[section] = m
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("--env-vars %s:\n  %w", path, err)
	}
	return ev, nil
}

// envValue accepts a JSON string, number or boolean, as text.
func envValue(v json.RawMessage) (string, error) {
	var x any
	_ = json.Unmarshal(v, &x)
	switch x := x.(type) {
	case string:
		return x, nil
	case float64, bool:
		return string(v), nil // as written
	}
	return "", fmt.Errorf("want a string, number or boolean, got %s", v)
}

func reservedEnvKey(k string) bool {
	return slices.ContainsFunc([]string{"SCF_", "QCLOUD_", "TENCENTCLOUD_"}, func(p string) bool { return strings.HasPrefix(strings.ToUpper(k), p) })
}

// apply overrides fn's configured environment env with the file's values
// for the variables fn declares.
func (ev *envVars) apply(fn deploy.Function, env map[string]string) {
	if ev == nil {
		return
	}
	set := func(vars map[string]string) {
		for k, v := range vars {
			if _, declared := env[k]; declared {
				env[k] = v
			}
		}
	}
	set(ev.all)
	for section, vars := range ev.perFn {
		if section == fn.Name || section == fn.Key {
			set(vars)
		}
	}
}

// unused lists the file's variables no function declares; declared returns
// a function's configured environment.
func (ev *envVars) unused(declared func(deploy.Function) map[string]string) []string {
	var out []string
	for k := range ev.all {
		if !slices.ContainsFunc(ev.config.Functions, func(fn deploy.Function) bool { _, ok := declared(fn)[k]; return ok }) {
			out = append(out, "Parameters."+k)
		}
	}
	for section, vars := range ev.perFn {
		fn, _ := ev.config.Function(section)
		env := declared(fn)
		for k := range vars {
			if _, ok := env[k]; !ok {
				out = append(out, section+"."+k)
			}
		}
	}
	sort.Strings(out)
	return out
}
