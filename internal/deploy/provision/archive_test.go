package provision

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSweeperArchive(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    ReportArchive
		wantRes string
		wantErr string
	}{
		{"no bucket: nothing", map[string]string{"JANITOR_REPORT_PREFIX": "x/"}, ReportArchive{}, "", ""},
		{"defaults", map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000"},
			ReportArchive{"reports-1250000000", "ap-guangzhou", "scf-janitor/sweeps/"},
			"qcs::cos:ap-guangzhou:uid/1250000000:reports-1250000000/scf-janitor/sweeps/*", ""},
		{"region and prefix", map[string]string{"JANITOR_REPORT_BUCKET": "my-reports-1300000000", "JANITOR_REPORT_REGION": "ap-shanghai", "JANITOR_REPORT_PREFIX": "runs/"},
			ReportArchive{"my-reports-1300000000", "ap-shanghai", "runs/"},
			"qcs::cos:ap-shanghai:uid/1300000000:my-reports-1300000000/runs/*", ""},
		{"bucket without appid", map[string]string{"JANITOR_REPORT_BUCKET": "reports"}, ReportArchive{}, "", "JANITOR_REPORT_BUCKET"},
		{"wildcard prefix would widen the grant", map[string]string{"JANITOR_REPORT_BUCKET": "reports-1250000000", "JANITOR_REPORT_PREFIX": "*"}, ReportArchive{}, "", "JANITOR_REPORT_PREFIX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := SweeperArchive(func(k string) string { return tt.env[k] }, "ap-guangzhou")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || a != tt.want {
				t.Fatalf("SweeperArchive = %+v, %v; want %+v", a, err, tt.want)
			}
			if tt.wantRes != "" && a.Resource() != tt.wantRes {
				t.Errorf("Resource = %s, want %s", a.Resource(), tt.wantRes)
			}
		})
	}
}

func TestArchivePolicy(t *testing.T) {
	const base = `{"version":"2.0","statement":[` +
		`{"effect":"allow","action":["ams:CancelTask"],"resource":["*"]},` +
		`{"effect":"allow","action":["cos:PutObject"],"resource":["*"]},` +
		`{"effect":"allow","action":"name/cos:PutObject","resource":["qcs::cos:ap-guangzhou:uid/1250000000:other-1250000000/*"]}]}`
	a := ReportArchive{"reports-1250000000", "ap-guangzhou", "scf-janitor/sweeps/"}
	for _, tt := range []struct {
		name string
		a    ReportArchive
		want []string // PutObject resources
	}{
		{"with a bucket: exactly its prefix", a, []string{a.Resource()}},
		{"without: none, and the base's grants are gone", ReportArchive{}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ArchivePolicy(base, tt.a)
			if err != nil {
				t.Fatal(err)
			}
			var d struct {
				Statement []struct {
					Action   any
					Resource []string
				}
			}
			if err := json.Unmarshal([]byte(doc), &d); err != nil {
				t.Fatal(err)
			}
			var got []string
			cancel := false
			for _, st := range d.Statement {
				b, _ := json.Marshal(st.Action)
				switch {
				case strings.Contains(string(b), "cos:PutObject"):
					got = append(got, st.Resource...)
				case strings.Contains(string(b), "ams:CancelTask"):
					cancel = true
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || !cancel {
				t.Errorf("PutObject on %v (ams kept %v), want %v:\n%s", got, cancel, tt.want, doc)
			}
		})
	}
	roles := []Role{{Name: "JanitorSweepTasksRole", Policy: base}, {Name: "Other", Policy: base}}
	if err := DeriveSweeperArchive(roles, "JanitorSweepTasksRole", a); err != nil {
		t.Fatal(err)
	}
	if roles[1].Policy != base || len(roles[0].PolicyNotes) != 1 || !strings.Contains(roles[0].PolicyNotes[0], a.Resource()) {
		t.Errorf("derived %+v", roles)
	}
}
