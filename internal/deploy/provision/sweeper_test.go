package provision

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseTargetRoles(t *testing.T) {
	tests := []struct {
		name, in string
		want     []TargetRole
		err      string
	}{
		{"empty", "", nil, ""},
		{"two, spaces, duplicate", " qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole , qcs::cam::uin/3:roleName/a.b@c-d_e,qcs::cam::uin/3:roleName/a.b@c-d_e",
			[]TargetRole{{"qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole", "100000000002", "JanitorSweepTargetRole"}, {"qcs::cam::uin/3:roleName/a.b@c-d_e", "3", "a.b@c-d_e"}}, ""},
		{"role id form: the sweeper takes it, scf-deploy needs the name", "qcs::cam::uin/2:role/4611686018427397919", nil, `"qcs::cam::uin/2:role/4611686018427397919": give the role by its name`},
		{"name of 128", "qcs::cam::uin/2:roleName/" + strings.Repeat("a", 128), []TargetRole{{"qcs::cam::uin/2:roleName/" + strings.Repeat("a", 128), "2", strings.Repeat("a", 128)}}, ""},
		{"uin of 21 digits", "qcs::cam::uin/" + strings.Repeat("1", 21) + ":roleName/R", nil, "want role ARNs"},
		{"uin not digits", "qcs::cam::uin/abc:roleName/R", nil, "want role ARNs such as qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole"},
		{"name only", "JanitorSweepTargetRole", nil, `"JanitorSweepTargetRole"`},
		{"wildcard", "qcs::cam::uin/*:roleName/R", nil, `"qcs::cam::uin/*:roleName/R"`},
		{"name too long", "qcs::cam::uin/2:roleName/" + strings.Repeat("a", 129), nil, "want role ARNs"},
		{"every bad one named", "qcs::cam::uin/2:roleName/ok,bad1,bad2", nil, `"bad1", "bad2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTargetRoles(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "JANITOR_SWEEP_ROLES: ") {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func TestSweeperPolicy(t *testing.T) {
	// The base as it was before derivation: wildcard statements to replace.
	base := `{"version":"2.0","statement":[
	  {"effect":"allow","action":["ams:DescribeTasks","ams:CancelTask"],"resource":["*"]},
	  {"effect":"allow","action":["name/sts:AssumeRole"],"resource":["qcs::cam::uin/*:roleName/JanitorSweepTargetRole"]},
	  {"effect":"allow","action":"scf:InvokeFunction","resource":["qcs::scf:ap-guangzhou:uin/*:namespace/default/function/sweep-tasks"]}]}`
	roles := []TargetRole{{Arn: "qcs::cam::uin/2:roleName/A"}, {Arn: "qcs::cam::uin/3:roleName/B"}}
	fn := FunctionResource("ap-shanghai", "100000000001", "", "sweep-tasks")
	if fn != "qcs::scf:ap-shanghai:uin/100000000001:namespace/default/function/sweep-tasks" {
		t.Fatalf("FunctionResource = %s", fn)
	}
	tests := []struct {
		name   string
		roles  []TargetRole
		invoke string
		want   map[string][]string // action -> resources
	}{
		{"nothing derived", nil, "", map[string][]string{"ams:DescribeTasks": {"*"}}},
		{"roles", roles, "", map[string][]string{"ams:DescribeTasks": {"*"}, ActionAssumeRole: {"qcs::cam::uin/2:roleName/A", "qcs::cam::uin/3:roleName/B"}}},
		{"fan-out", nil, fn, map[string][]string{"ams:DescribeTasks": {"*"}, ActionInvokeFunction: {fn}}},
		{"both", roles[:1], fn, map[string][]string{"ams:DescribeTasks": {"*"}, ActionAssumeRole: {"qcs::cam::uin/2:roleName/A"}, ActionInvokeFunction: {fn}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := SweeperPolicy(base, tt.roles, tt.invoke)
			if err != nil {
				t.Fatal(err)
			}
			got := statementsByAction(t, doc)
			if len(got) != len(tt.want) {
				t.Fatalf("statements %v, want %v\n%s", got, tt.want, doc)
			}
			for action, res := range tt.want {
				if strings.Join(got[action], " ") != strings.Join(res, " ") {
					t.Errorf("%s on %v, want %v", action, got[action], res)
				}
			}
		})
	}
	if _, err := SweeperPolicy("{", nil, ""); err == nil {
		t.Error("a broken base document: no error")
	}
}

// statementsByAction maps each statement's first action to its resources.
func statementsByAction(t *testing.T, doc string) map[string][]string {
	t.Helper()
	var d struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   json.RawMessage
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil || d.Version != "2.0" {
		t.Fatalf("document %s: %v", doc, err)
	}
	out := map[string][]string{}
	for _, st := range d.Statement {
		var actions []string
		if json.Unmarshal(st.Action, &actions) != nil {
			var one string
			_ = json.Unmarshal(st.Action, &one)
			actions = []string{one}
		}
		if st.Effect != "allow" || len(actions) == 0 {
			t.Fatalf("statement %+v", st)
		}
		out[actions[0]] = st.Resource
	}
	return out
}

func TestTargetTrustPolicy(t *testing.T) {
	got := TargetTrustPolicy(`{"qcs":["qcs::cam::uin/${SWEEPER_UIN}:roleName/${SWEEPER_ROLE}"]}`, "100000000001", "JanitorSweepTasksRole")
	if got != `{"qcs":["qcs::cam::uin/100000000001:roleName/JanitorSweepTasksRole"]}` {
		t.Fatal(got)
	}
}
