package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func TestLoadRoles(t *testing.T) {
	all := []deploy.Function{{Name: "a", Role: "JanitorCancelTaskRole"}, {Name: "b", Role: "JanitorCancelTaskRole"}, {Name: "c", Role: "JanitorSweepTasksRole"}}
	tests := []struct {
		name     string
		selected []deploy.Function
		deleting bool
		want     []string
	}{
		{"apply all", all, false, []string{"JanitorCancelTaskRole", "JanitorSweepTasksRole"}},
		{"apply one", all[:1], false, []string{"JanitorCancelTaskRole"}},
		{"delete one of two users keeps the role", all[:1], true, nil},
		{"delete both users", all[:2], true, []string{"JanitorCancelTaskRole"}},
		{"delete the only user", all[2:], true, []string{"JanitorSweepTasksRole"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roles, err := loadRoles("../..", all, tt.selected, tt.deleting)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range roles {
				if r.TrustPolicy == "" || r.Policy == "" {
					t.Errorf("role %s without documents", r.Name)
				}
				got = append(got, r.Name)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("roles = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("roles = %v, want %v", got, tt.want)
				}
			}
		})
	}
	if _, err := loadRoles("../..", all, []deploy.Function{{Name: "x", Role: "NoSuchRole"}}, false); err == nil {
		t.Fatal("a role without deploy/cam/<Role>.json: no error")
	}
}

// TestPrincipalHint: a refused trust principal is explained with the
// documented :root form; other errors get no hint.
func TestPrincipalHint(t *testing.T) {
	tests := []struct {
		code string
		hint bool
	}{
		{"InvalidParameter.PrincipalQcsError", true},
		{"InvalidParameter.PrincipalError", true},
		{"InvalidParameter.RoleNotExist", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := fmt.Errorf("create role R: %w", &tcapi.Error{Service: "cam", Action: "CreateRole", Code: tt.code})
			got := principalHint(err)
			if (got != "") != tt.hint || (tt.hint && !strings.Contains(got, "qcs::cam::uin/${SWEEPER_UIN}:root")) {
				t.Fatalf("principalHint(%s) = %q", tt.code, got)
			}
		})
	}
}
