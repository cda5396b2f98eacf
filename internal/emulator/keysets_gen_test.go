package emulator

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// updateKeysets names a tencentcloud-cli git directory (work tree or bare)
// to rewrite testdata/conformance/api3_keysets.json from:
//
//	git clone https://github.com/TencentCloud/tencentcloud-cli /tmp/tccli
//	go test ./internal/emulator -run TestKeysetsGen -update-keysets /tmp/tccli
var updateKeysets = flag.String("update-keysets", "", "tencentcloud-cli git directory to rewrite testdata/conformance/api3_keysets.json from")

// keysetsCommit is the tencentcloud-cli commit the key sets come from.
const keysetsCommit = "6e53beb521ad49d551683fc7b1439a8543f7ea68"

// jsonStringFields are string fields whose JSON content SCF builds, so the
// key sets descend into them ("A{}.B"); policy documents are the caller's.
var jsonStringFields = []string{"TriggerDesc"}

// TestKeysetsGen writes, for every API 3.0 action the emulator serves, the
// dotted key paths of the success answer in tccli's published example
// (tccli/services/<svc>/<ver>/examples.json): "A.B" is key B of object A,
// "A[].B" key B of the objects in array A, "A{}.B" key B of the JSON object
// in string field A. Only key paths are kept, never the example values.
func TestKeysetsGen(t *testing.T) {
	if *updateKeysets == "" {
		t.Skip("run with -update-keysets <tencentcloud-cli git dir> to regenerate")
	}
	var o struct {
		Source struct {
			Repo             string   `json:"repo"`
			Commit           string   `json:"commit"`
			Generator        string   `json:"generator"`
			JSONStringFields []string `json:"json_string_fields"`
			Note             string   `json:"note"`
		} `json:"source"`
		Actions map[string]any `json:"actions"`
	}
	o.Source.Repo, o.Source.Commit, o.Source.Generator = "TencentCloud/tencentcloud-cli", keysetsCommit, "internal/emulator/keysets_gen_test.go"
	o.Source.JSONStringFields = jsonStringFields
	o.Source.Note = "key paths (union over the action's examples) of Response minus RequestId; values are not kept"
	o.Actions = map[string]any{}
	for _, a := range ServedActions() {
		path := "tccli/services/" + a.Service + "/v" + strings.ReplaceAll(a.Version, "-", "") + "/examples.json"
		keys, n, err := exampleKeys(*updateKeysets, path, a.Action)
		if err != nil {
			t.Fatal(err)
		}
		o.Actions[a.Service+"."+a.Action] = struct {
			Path     string   `json:"path"`
			Examples int      `json:"examples"`
			Keys     []string `json:"keys"`
		}{path, n, keys}
	}
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/conformance/api3_keysets.json", append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exampleKeys returns the sorted key paths of action's examples in path and
// how many examples there are.
func exampleKeys(repo, path, action string) ([]string, int, error) {
	b, err := exec.Command("git", "-C", repo, "show", keysetsCommit+":"+path).Output()
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	var f struct {
		Actions map[string][]struct{ Output string } `json:"actions"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, 0, fmt.Errorf("decode %s: %w", path, err)
	}
	exs := f.Actions[action]
	if len(exs) == 0 {
		return nil, 0, fmt.Errorf("%s has no example of %s", path, action)
	}
	set := map[string]bool{}
	for _, ex := range exs {
		var v struct{ Response map[string]any }
		if err := json.Unmarshal([]byte(ex.Output), &v); err != nil {
			return nil, 0, fmt.Errorf("%s %s: example output: %w", path, action, err)
		}
		delete(v.Response, "RequestId")
		walkKeys("", v.Response, set)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, len(exs), nil
}

func walkKeys(prefix string, v any, set map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			set[p] = true
			if s, ok := child.(string); ok && slices.Contains(jsonStringFields, k) {
				var inner map[string]any
				if json.Unmarshal([]byte(s), &inner) == nil {
					walkKeys(p+"{}", inner, set)
				}
				continue
			}
			walkKeys(p, child, set)
		}
	case []any:
		for _, e := range t {
			walkKeys(prefix+"[]", e, set)
		}
	}
}
