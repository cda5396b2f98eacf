//go:build ignore

// keysets_gen writes testdata/conformance/api3_keysets.json: for every API 3.0
// action the emulator serves (emulator.ServedActions), the set of dotted key
// paths of the success answer in tccli's published example
// (TencentCloud/tencentcloud-cli, tccli/services/<svc>/<ver>/examples.json).
// Only key paths are kept (facts about the shape), never the example values.
//
// Path syntax: "A.B" is key B of object A, "A[].B" is key B of the objects in
// array A, and "A{}.B" is key B of the JSON object encoded in string field A
// (only for the fields in jsonStringFields, whose content SCF builds; policy
// documents are the caller's own text and are not descended into).
//
//	git clone https://github.com/TencentCloud/tencentcloud-cli /tmp/tccli   # or a bare mirror
//	cd internal/emulator && go run keysets_gen.go -repo /tmp/tccli -commit 6e53beb521ad49d551683fc7b1439a8543f7ea68
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

var jsonStringFields = []string{"TriggerDesc"}

type actionKeys struct {
	Path     string   `json:"path"`
	Examples int      `json:"examples"`
	Keys     []string `json:"keys"`
}

type output struct {
	Source struct {
		Repo             string   `json:"repo"`
		Commit           string   `json:"commit"`
		Generator        string   `json:"generator"`
		JSONStringFields []string `json:"json_string_fields"`
		Note             string   `json:"note"`
	} `json:"source"`
	Actions map[string]actionKeys `json:"actions"`
}

func main() {
	repo := flag.String("repo", "", "tencentcloud-cli git directory (work tree or bare)")
	commit := flag.String("commit", "6e53beb521ad49d551683fc7b1439a8543f7ea68", "tencentcloud-cli commit")
	out := flag.String("out", "testdata/conformance/api3_keysets.json", "output file")
	flag.Parse()
	if err := run(*repo, *commit, *out); err != nil {
		fmt.Fprintln(os.Stderr, "keysets_gen:", err)
		os.Exit(1)
	}
}

func run(repo, commit, out string) error {
	var o output
	o.Source.Repo, o.Source.Commit, o.Source.Generator = "TencentCloud/tencentcloud-cli", commit, "internal/emulator/keysets_gen.go"
	o.Source.JSONStringFields = jsonStringFields
	o.Source.Note = "key paths (union over the action's examples) of Response minus RequestId; values are not kept"
	o.Actions = map[string]actionKeys{}
	files := map[string]map[string][]struct{ Output string }{}
	for _, a := range emulator.ServedActions() {
		path := "tccli/services/" + a.Service + "/v" + strings.ReplaceAll(a.Version, "-", "") + "/examples.json"
		if files[path] == nil {
			b, err := exec.Command("git", "-C", repo, "show", commit+":"+path).Output()
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			var f struct {
				Actions map[string][]struct{ Output string } `json:"actions"`
			}
			if err := json.Unmarshal(b, &f); err != nil {
				return fmt.Errorf("decode %s: %w", path, err)
			}
			files[path] = f.Actions
		}
		exs := files[path][a.Action]
		if len(exs) == 0 {
			return fmt.Errorf("%s has no example of %s", path, a.Action)
		}
		set := map[string]bool{}
		for _, ex := range exs {
			var v struct{ Response map[string]any }
			if err := json.Unmarshal([]byte(ex.Output), &v); err != nil {
				return fmt.Errorf("%s %s: example output: %w", path, a.Action, err)
			}
			delete(v.Response, "RequestId")
			walk("", v.Response, set)
		}
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o.Actions[a.Service+"."+a.Action] = actionKeys{Path: path, Examples: len(exs), Keys: keys}
	}
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

func walk(prefix string, v any, set map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			set[p] = true
			if s, ok := child.(string); ok && isJSONStringField(k) {
				var inner map[string]any
				if json.Unmarshal([]byte(s), &inner) == nil {
					walk(p+"{}", inner, set)
				}
				continue
			}
			walk(p, child, set)
		}
	case []any:
		for _, e := range t {
			walk(prefix+"[]", e, set)
		}
	}
}

func isJSONStringField(k string) bool {
	for _, f := range jsonStringFields {
		if f == k {
			return true
		}
	}
	return false
}
