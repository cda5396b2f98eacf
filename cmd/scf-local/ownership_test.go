package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// TestDeployDeleteLeavesScfLocalRoles: scf-local marks its roles as its
// own, so `scf-deploy delete --yes --endpoint <scf-local>` (the provision
// engine's PlanDelete and Apply, as scf-deploy runs them) leaves them alone;
// and a role deleted anyway (by hand) is created again by the next
// invocation instead of every webhook answering 502 until a restart.
func TestDeployDeleteLeavesScfLocalRoles(t *testing.T) {
	skipShort(t, "builds the test project's functions")
	t.Parallel()
	out, stop := startServe(t, nil)
	defer stop()
	gw := out.field(t, "gateway:")
	emuURL := strings.Fields(out.field(t, "emulator:"))[0]
	ctx := context.Background()
	cred := tcapi.Credentials{SecretID: emulator.DefaultSecretID, SecretKey: emulator.DefaultSecretKey}
	cam, err := tcapi.NewCAM(cred, tcapi.Options{Endpoint: emuURL})
	if err != nil {
		t.Fatal(err)
	}
	scf, err := tcapi.NewSCFControl(cred, tcapi.Options{Region: "ap-singapore", Endpoint: emuURL})
	if err != nil {
		t.Fatal(err)
	}
	whoami := func(t *testing.T) {
		t.Helper()
		status, _, body := post(t, gw+"/echo", http.Header{}, "whoami")
		var who map[string]string
		if status != http.StatusOK || json.Unmarshal([]byte(body), &who) != nil || who["arn"] != roleArn(localUin, "EchoRole") {
			t.Fatalf("echo answered %d %s: want the caller identity of EchoRole", status, body)
		}
	}
	whoami(t)

	role, err := cam.GetRole(ctx, "EchoRole")
	if err != nil || role.RoleInfo.Description != LocalDescription || LocalDescription == provision.ManagedDescription {
		t.Fatalf("EchoRole: %+v %v: want it marked %q, not as scf-deploy's", role.RoleInfo, err, LocalDescription)
	}
	eng := &provision.Engine{SCF: scf, CAM: cam, PollInterval: 10 * time.Millisecond}
	p, err := eng.PlanDelete(ctx, provision.Desired{Roles: []provision.Role{{Name: "EchoRole"}, {Name: "TickRole"}},
		Functions: []provision.Function{{Function: deploy.Function{Name: "echo"}}, {Function: deploy.Function{Name: "tick"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 {
		t.Fatalf("delete would change %v: scf-local's roles and policies must be left alone", p.Changes)
	}
	if _, err := eng.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	whoami(t)

	// Deleted by hand: the next invocation creates it again.
	id, err := findPolicy(ctx, cam, provision.Role{Name: "EchoRole"}.PolicyName())
	if err != nil || id == 0 {
		t.Fatalf("EchoRole's policy: %d %v", id, err)
	}
	if err := cam.DetachRolePolicy(ctx, id, "EchoRole"); err != nil {
		t.Fatal(err)
	}
	if err := cam.DeleteRole(ctx, "EchoRole"); err != nil {
		t.Fatal(err)
	}
	whoami(t)
	if _, err := cam.GetRole(ctx, "EchoRole"); err != nil {
		t.Fatalf("EchoRole was not created again: %v", err)
	}
}

// TestExecutionRolesCheckTheRoleName: a role name that is not a CAM name is
// refused before any file is read (../ never leaves deploy/cam).
func TestExecutionRolesCheckTheRoleName(t *testing.T) {
	for _, role := range []string{"../../../etc/passwd", "a/b", "trust-scf"} {
		if _, _, err := executionRoles("testdata/project", []deploy.Function{{Name: "f", Role: role}}); err == nil {
			t.Errorf("role %q: no error", role)
		}
	}
	if _, _, err := executionRoles("testdata/project", []deploy.Function{{Name: "echo", Role: "EchoRole"}}); err != nil {
		t.Errorf("EchoRole: %v", err)
	}
}
