package tcapi

import (
	"strings"
	"testing"
)

// TestParseRoleARN: both of AssumeRole's forms, the length limits at and
// past their edge, and what is not a role ARN.
func TestParseRoleARN(t *testing.T) {
	name128, id128, uin20 := strings.Repeat("n", 128), strings.Repeat("7", 128), strings.Repeat("9", 20)
	tests := []struct {
		name, in string
		want     RoleARN
		ok       bool
	}{
		{"role name", "qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole", RoleARN{Uin: "100000000002", Name: "JanitorSweepTargetRole"}, true},
		{"role id (the SDK's example)", "qcs::cam::uin/12345678:role/4611686018427397919", RoleARN{Uin: "12345678", ID: "4611686018427397919"}, true},
		{"CAM's name characters", "qcs::cam::uin/3:roleName/a.b@c-d_e+f=g,h", RoleARN{Uin: "3", Name: "a.b@c-d_e+f=g,h"}, true},
		{"name of 128", "qcs::cam::uin/2:roleName/" + name128, RoleARN{Uin: "2", Name: name128}, true},
		{"name of 129", "qcs::cam::uin/2:roleName/" + name128 + "n", RoleARN{}, false},
		{"id of 128 digits", "qcs::cam::uin/2:role/" + id128, RoleARN{Uin: "2", ID: id128}, true},
		{"id of 129 digits", "qcs::cam::uin/2:role/" + id128 + "7", RoleARN{}, false},
		{"uin of 20 digits", "qcs::cam::uin/" + uin20 + ":roleName/R", RoleARN{Uin: uin20, Name: "R"}, true},
		{"uin of 21 digits", "qcs::cam::uin/" + uin20 + "9:roleName/R", RoleARN{}, false},
		{"uin not digits", "qcs::cam::uin/abc:roleName/R", RoleARN{}, false},
		{"wildcard uin", "qcs::cam::uin/*:roleName/R", RoleARN{}, false},
		{"id not digits", "qcs::cam::uin/2:role/R", RoleARN{}, false},
		{"empty name", "qcs::cam::uin/2:roleName/", RoleARN{}, false},
		{"name only", "JanitorSweepTargetRole", RoleARN{}, false},
		{"a space inside", "qcs::cam::uin/2:roleName/a b", RoleARN{}, false},
		{"surrounding spaces", " qcs::cam::uin/2:roleName/R", RoleARN{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRoleARN(tt.in)
			if !tt.ok {
				if err == nil || !strings.Contains(err.Error(), "want a role ARN such as qcs::cam::uin/100000000002:roleName/") || !strings.Contains(err.Error(), tt.in) {
					t.Fatalf("ParseRoleARN(%q) = %+v, %v; want an error naming it and the form", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRoleARN(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}
