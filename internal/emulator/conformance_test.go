package emulator

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// keySets is testdata/conformance/api3_keysets.json, written by
// keysets_gen_test.go (TestKeysetsGen) from tccli's published examples.
type keySets struct {
	Source struct {
		Repo, Commit string
	} `json:"source"`
	Actions map[string]struct {
		Path string   `json:"path"`
		Keys []string `json:"keys"`
	} `json:"actions"`
}

func loadKeySets(t *testing.T) keySets {
	t.Helper()
	b, err := os.ReadFile("testdata/conformance/api3_keysets.json")
	if err != nil {
		t.Fatal(err)
	}
	var ks keySets
	if err := json.Unmarshal(b, &ks); err != nil {
		t.Fatal(err)
	}
	if ks.Source.Repo != "TencentCloud/tencentcloud-cli" || ks.Source.Commit == "" {
		t.Fatalf("key sets name no source: %+v", ks.Source)
	}
	return ks
}

// hasKeyPath reports whether v holds the dotted key path (keysets_gen_test.go's
// syntax): through an array, some element must hold the rest; through "{}",
// the string field must be a JSON object holding the rest.
func hasKeyPath(v any, path string) bool {
	return hasSegs(v, strings.Split(path, "."))
}

func hasSegs(v any, segs []string) bool {
	if len(segs) == 0 {
		return true
	}
	seg := segs[0]
	key := strings.TrimRight(seg, "[]{}")
	ops := seg[len(key):]
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	child, ok := m[key]
	if !ok {
		return false
	}
	return hasOps(child, ops, segs[1:])
}

func hasOps(v any, ops string, rest []string) bool {
	switch {
	case ops == "":
		return hasSegs(v, rest)
	case strings.HasPrefix(ops, "[]"):
		arr, _ := v.([]any)
		for _, e := range arr {
			if hasOps(e, ops[2:], rest) {
				return true
			}
		}
		return false
	case strings.HasPrefix(ops, "{}"):
		s, _ := v.(string)
		var inner any
		if json.Unmarshal([]byte(s), &inner) != nil {
			return false
		}
		return hasOps(inner, ops[2:], rest)
	}
	return false
}

// nullable are objects an answer may give as null where the example shows
// an object: fields the SDK marks "可能返回 null" that the emulator has no
// feature for (a zip function has no ImageConfig).
var nullable = map[string][]string{
	"scf.GetFunction": {"ImageConfig"},
	// A URL input has no bucket: VM's example gives BucketInfo null for it,
	// AMS's an object of "null" strings.
	"ams.DescribeTaskDetail": {"InputInfo.BucketInfo"},
}

func isNulled(answer map[string]any, action, key string) bool {
	for _, p := range nullable[action] {
		if strings.HasPrefix(key, p+".") && hasKeyPath(answer, p) && valueAt(answer, p) == nil {
			return true
		}
	}
	return false
}

// valueAt is the value at a path of plain keys.
func valueAt(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestKeyPath(t *testing.T) {
	doc := map[string]any{"A": []any{map[string]any{"B": `{"C":{"D":1}}`}, map[string]any{"E": 1}}, "N": nil}
	for path, want := range map[string]bool{
		"A": true, "A[].B": true, "A[].E": true, "A[].B{}.C.D": true, "A[].B{}.C.X": false, "A[].X": false, "N": true, "N.X": false, "X": false,
	} {
		if got := hasKeyPath(doc, path); got != want {
			t.Errorf("hasKeyPath(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestConformanceAPI3 drives every action the emulator serves through the
// official SDK's common client and checks that each success answer carries
// every key path of tccli's published example for it.
func TestConformanceAPI3(t *testing.T) {
	ks := loadKeySets(t)
	answers := conformanceAnswers(t)
	for _, a := range ServedActions() {
		name := a.Service + "." + a.Action
		t.Run(name, func(t *testing.T) {
			set, ok := ks.Actions[name]
			if !ok {
				t.Fatalf("no key set for served action %s: run go test -run TestKeysetsGen -update-keysets <tccli>", name)
			}
			answer, ok := answers[name]
			if !ok {
				t.Fatalf("the conformance scenario never called %s", name)
			}
			var missing []string
			for _, k := range set.Keys {
				if !hasKeyPath(answer, k) && !isNulled(answer, name, k) {
					missing = append(missing, k)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				b, _ := json.Marshal(answer)
				t.Errorf("%s answer lacks %d key(s) of %s %s:\n  %s\nanswer: %s", name, len(missing), ks.Source.Repo, set.Path, strings.Join(missing, "\n  "), b)
			}
		})
	}
}

// conformanceAnswers calls every served action once in a state where its
// answer is as full as it gets (triggers of both kinds, finished tasks,
// policy versions) and returns each action's Response object.
func conformanceAnswers(t *testing.T) map[string]map[string]any {
	t.Helper()
	fake := &fakeInvoker{}
	e := newEnv(t, Options{Invoker: fake, FunctionReadyAfter: -1})
	answers := map[string]map[string]any{}
	var c *common.Client
	rec := func(svc, action string, params map[string]any) map[string]any {
		t.Helper()
		var out map[string]any
		mustCall(t, c, svc, action, params, &out)
		delete(out, "RequestId")
		answers[svc+"."+action] = out
		return out
	}

	// AMS, VM: tasks that finish, with labels and segments.
	c = e.sdk(t, "ap-guangzhou", nil)
	for _, m := range []struct{ svc, create, typ string }{{"ams", "CreateAudioModerationTask", TypeAudio}, {"vm", "CreateVideoModerationTask", TypeVideo}} {
		task := func() string {
			out := rec(m.svc, m.create, map[string]any{"BizType": "biz", "Type": m.typ, "Tasks": []map[string]any{
				{"DataId": "d1", "Name": "n1", "Input": map[string]any{"Type": "URL", "Url": "https://example.com/a"}}}})
			return out["Results"].([]any)[0].(map[string]any)["TaskId"].(string)
		}
		done := task()
		e.clock.Advance(time.Hour)
		rec(m.svc, "DescribeTasks", map[string]any{})
		rec(m.svc, "DescribeTaskDetail", map[string]any{"TaskId": done})
		live := rec(m.svc, m.create, map[string]any{"Type": map[string]string{"ams": TypeLiveAudio, "vm": TypeLiveVideo}[m.svc],
			"Tasks": []map[string]any{{"DataId": "live", "Input": map[string]any{"Type": "URL", "Url": "rtmp://x/y"}}}})
		rec(m.svc, "CancelTask", map[string]any{"TaskId": live["Results"].([]any)[0].(map[string]any)["TaskId"]})
		rec(m.svc, m.create, map[string]any{"BizType": "biz", "Type": m.typ, "Tasks": []map[string]any{
			{"DataId": "d1", "Name": "n1", "Input": map[string]any{"Type": "URL", "Url": "https://example.com/a"}}}})
	}

	// TRTC.
	trtc := rec("trtc", "CreateCloudTranscription", map[string]any{"SdkAppId": 1400000000, "RoomId": "room1", "RoomIdType": 1,
		"TranscriptionParam": map[string]any{"UserId": "bot", "UserSig": "sig"}})
	rec("trtc", "DescribeCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": trtc["TaskId"]})
	rec("trtc", "DeleteCloudTranscription", map[string]any{"SdkAppId": 1400000000, "TaskId": trtc["TaskId"]})

	// CAM: a role with a policy that has two versions.
	c = e.sdk(t, "", nil)
	rec("cam", "CreateRole", map[string]any{"RoleName": "FnRole", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`),
		"Description": "d", "Tags": []map[string]string{{"Key": "k", "Value": "v"}}})
	rec("cam", "GetRole", map[string]any{"RoleName": "FnRole"})
	rec("cam", "UpdateAssumeRolePolicy", map[string]any{"RoleName": "FnRole", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)})
	doc := `{"version":"2.0","statement":[{"effect":"allow","action":["scf:*"],"resource":["*"]}]}`
	pol := rec("cam", "CreatePolicy", map[string]any{"PolicyName": "FnPolicy", "PolicyDocument": doc, "Description": "d",
		"Tags": []map[string]string{{"Key": "k", "Value": "v"}}})
	pid := pol["PolicyId"]
	rec("cam", "CreatePolicyVersion", map[string]any{"PolicyId": pid, "PolicyDocument": doc, "SetAsDefault": true})
	rec("cam", "AttachRolePolicy", map[string]any{"PolicyId": pid, "AttachRoleName": "FnRole"})
	rec("cam", "GetPolicy", map[string]any{"PolicyId": pid})
	rec("cam", "ListPolicies", map[string]any{})
	rec("cam", "ListAttachedRolePolicies", map[string]any{"RoleName": "FnRole"})
	rec("cam", "ListPolicyVersions", map[string]any{"PolicyId": pid})
	rec("cam", "GetPolicyVersion", map[string]any{"PolicyId": pid, "VersionId": 2})
	rec("cam", "SetDefaultPolicyVersion", map[string]any{"PolicyId": pid, "VersionId": 1})
	rec("cam", "DeletePolicyVersion", map[string]any{"PolicyId": pid, "VersionId": []int{2}})
	rec("cam", "UpdatePolicy", map[string]any{"PolicyId": pid, "PolicyDocument": doc, "Description": "d2"})

	// STS.
	mustCall(t, c, "cam", "CreateRole", map[string]any{"RoleName": "Assumable",
		"PolicyDocument": trustDoc(`{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:root"]}`)}, nil)
	rec("sts", "GetCallerIdentity", map[string]any{})
	rec("sts", "AssumeRole", map[string]any{"RoleArn": "qcs::cam::uin/" + DefaultAccountUin + ":roleName/Assumable", "RoleSessionName": "session"})

	// SCF: a function with a timer and a Function URL (intranet and extranet).
	c = e.sdk(t, "ap-guangzhou", nil)
	create := validCreate(t)
	create["Role"] = "FnRole"
	rec("scf", "CreateFunction", create)
	rec("scf", "UpdateFunctionCode", map[string]any{"FunctionName": "cancel-task", "ZipFile": testZip(t, "cancel-task", "v2")})
	rec("scf", "UpdateFunctionConfiguration", map[string]any{"FunctionName": "cancel-task", "Description": "d"})
	rec("scf", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "every-5m", "Type": "timer",
		"TriggerDesc": "*/5 * * * *", "Qualifier": "$DEFAULT", "Description": "d", "CustomArgument": "{}"})
	mustCall(t, c, "scf", "CreateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "url", "Type": "http",
		"TriggerDesc": `{"AuthType":"NONE","NetConfig":{"EnableIntranet":true,"EnableExtranet":true}}`, "Qualifier": "$DEFAULT"}, nil)
	rec("scf", "UpdateTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "every-5m", "Type": "timer", "Enable": "CLOSE"})
	rec("scf", "ListTriggers", map[string]any{"FunctionName": "cancel-task"})
	rec("scf", "GetFunction", map[string]any{"FunctionName": "cancel-task"})
	rec("scf", "GetFunctionAddress", map[string]any{"FunctionName": "cancel-task"})
	rec("scf", "DeleteTrigger", map[string]any{"FunctionName": "cancel-task", "TriggerName": "every-5m", "Type": "timer"})
	rec("scf", "DeleteFunction", map[string]any{"FunctionName": "cancel-task"})
	rec("scf", "Invoke", map[string]any{"FunctionName": "echo", "ClientContext": `{}`, "LogType": "Tail"})
	rec("scf", "InvokeFunction", map[string]any{"FunctionName": "echo", "Event": `{}`, "LogType": "Tail"})

	c = e.sdk(t, "", nil)
	rec("cam", "DetachRolePolicy", map[string]any{"PolicyId": pid, "DetachRoleName": "FnRole"})
	rec("cam", "DeletePolicy", map[string]any{"PolicyId": []any{pid}})
	rec("cam", "DeleteRole", map[string]any{"RoleName": "FnRole"})
	return answers
}
