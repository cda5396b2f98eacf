package main

import (
	"context"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/deploy/provision"
	"github.com/scf-janitor/scf-janitor/internal/emulator"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

const (
	targetKeyID  = "AKIDtargetadmin"
	targetKey    = "target-admin-secret-key"
	targetPrefix = "JANITOR_TARGET_" + targetUin + "_"
	otherUin     = "100000000003"
)

// targetRolesIn returns the roles of account uin by name.
func targetRolesIn(emu *emulator.Server, uin string) map[string]emulator.RoleInfo {
	out := map[string]emulator.RoleInfo{}
	for _, r := range emu.Roles() {
		if r.Account == uin {
			out[r.RoleName] = r
		}
	}
	return out
}

// TestDeployTargetRoles: with the keys of one target account (100000000002)
// and not of the other (100000000003), scf-deploy plans, creates and deletes
// the role in the first through the emulator's CAM with those keys, and
// prints the instructions for the second only.
func TestDeployTargetRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the four functions")
	}
	t.Parallel() // its own emulator; it shares only the package builds
	emu := emulator.New(emulator.Options{FunctionReadyAfter: -1})
	emu.AddCredential(targetUin, emulator.Credential{SecretID: targetKeyID, SecretKey: targetKey})
	url := serve(t, emu)
	config := sweeperProject(t, true)
	envPath, _ := envFor(t, map[string]string{"SWEEP_FANOUT": "none", "JANITOR_SWEEP_ROLES": targetArn + "," + otherArn,
		targetPrefix + "SECRET_ID": targetKeyID, targetPrefix + "SECRET_KEY": targetKey})
	trustNote := "    trusted by " + sweeperArn + " (deploy/cam/trust-sweeper.json)\n"

	check := func(what, out string, want, not []string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in:\n%s", what, w, out)
			}
		}
		for _, w := range not {
			if strings.Contains(out, w) {
				t.Errorf("%s: %q in:\n%s", what, w, out)
			}
		}
		if strings.Contains(out, targetKey) {
			t.Fatalf("%s printed the target account's secret key", what)
		}
	}
	keylessInstructions := "  account " + otherUin + ": role JanitorSweepTargetRole, trusted by " + sweeperArn
	keyedInstructions := "  account " + targetUin + ": role JanitorSweepTargetRole, trusted by"

	out, code := runDeploy(t, url, config, envPath, "plan")
	if code != 0 {
		t.Fatalf("plan (exit %d):\n%s", code, out)
	}
	check("plan", out, []string{
		"target account " + targetUin + " (its own keys, " + targetPrefix + "SECRET_ID): role JanitorSweepTargetRole\n",
		"account " + targetUin + ": + create role JanitorSweepTargetRole\n" + trustNote,
		"account " + targetUin + ": + create policy JanitorSweepTargetRolePolicy\n    permissions of deploy/cam/JanitorSweepTargetRole.json\n",
		"account " + targetUin + ": + attach policy JanitorSweepTargetRolePolicy to JanitorSweepTargetRole\n",
		"account " + targetUin + ": 3 change(s)\n",
		"target accounts: scf-deploy cannot create their roles", keylessInstructions,
		"run `scf-deploy apply ",
	}, []string{keyedInstructions, "account " + otherUin + ": +"})
	if m := mutating(emu.Stats()); len(m) != 0 {
		t.Fatalf("plan made mutating calls: %v", m)
	}
	if n := emu.AccountStats(targetUin).Actions["sts.GetCallerIdentity"].Requests; n != 1 {
		t.Errorf("the target account's keys were checked %d times, want 1", n)
	}

	out, code = runDeploy(t, url, config, envPath, "apply")
	if code != 0 {
		t.Fatalf("apply (exit %d):\n%s", code, out)
	}
	check("apply", out, []string{"account " + targetUin + ": + create role JanitorSweepTargetRole ...\n", "done: ", keylessInstructions}, []string{keyedInstructions})
	roles := targetRolesIn(emu, targetUin)
	r, ok := roles["JanitorSweepTargetRole"]
	if !ok || r.Description != provision.ManagedDescription || len(r.AttachedPolicies) != 1 || r.AttachedPolicies[0] != "JanitorSweepTargetRolePolicy" ||
		!strings.Contains(r.PolicyDocument, sweeperArn) || strings.Contains(r.PolicyDocument, "${") {
		t.Fatalf("the target account's roles: %+v", roles)
	}
	if roles := targetRolesIn(emu, otherUin); len(roles) != 0 {
		t.Fatalf("roles created in the account without keys: %+v", roles)
	}
	if _, ok := targetRolesIn(emu, emulator.DefaultAccountUin)["JanitorSweepTargetRole"]; ok {
		t.Fatal("the target role was created in the sweeper's account")
	}

	// Changed in the target account behind scf-deploy's back: put back.
	cam, err := tcapi.NewCAM(tcapi.Credentials{SecretID: targetKeyID, SecretKey: targetKey}, tcapi.Options{Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var policyID uint64
	for _, p := range emu.Policies() {
		if p.PolicyName == "JanitorSweepTargetRolePolicy" {
			policyID = p.PolicyId
		}
	}
	wide := `{"version":"2.0","statement":[{"effect":"allow","action":["*"],"resource":["*"]}]}`
	if err := cam.CreatePolicyVersion(ctx, policyID, wide); err != nil {
		t.Fatal(err)
	}
	anyone := `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"qcs":["qcs::cam::uin/100000000009:root"]}}]}`
	if err := cam.UpdateAssumeRolePolicy(ctx, "JanitorSweepTargetRole", anyone); err != nil {
		t.Fatal(err)
	}
	out, code = runDeploy(t, url, config, envPath, "apply")
	check("apply after a change", out, []string{
		"account " + targetUin + ": ~ update role JanitorSweepTargetRole\n    trust policy (changed)\n",
		"account " + targetUin + ": ~ update policy JanitorSweepTargetRolePolicy\n",
		"account " + targetUin + ": 2 change(s)\n", "done: 2 change(s) applied\n",
	}, []string{"account " + targetUin + ": + create"})
	if code != 0 {
		t.Fatalf("apply after a change (exit %d)", code)
	}
	r = targetRolesIn(emu, targetUin)["JanitorSweepTargetRole"]
	if !strings.Contains(r.PolicyDocument, sweeperArn) || strings.Contains(r.PolicyDocument, "100000000009") {
		t.Errorf("trust policy not restored: %s", r.PolicyDocument)
	}
	for _, p := range emu.Policies() {
		if p.PolicyId == policyID && (!strings.Contains(p.PolicyDocument, "ams:CancelTask") || strings.Contains(p.PolicyDocument, `"action":["*"]`)) {
			t.Errorf("permissions not restored: %s", p.PolicyDocument)
		}
	}

	// Again: nothing to do, no mutating call in any account.
	emu.ResetStats()
	out, code = runDeploy(t, url, config, envPath, "apply")
	check("second apply", out, []string{"no changes", "account " + targetUin + ": no changes\n", keylessInstructions}, nil)
	if code != 0 {
		t.Fatalf("second apply (exit %d)", code)
	}
	if m := mutating(emu.Stats()); len(m) != 0 {
		t.Fatalf("second apply made mutating calls: %v", m)
	}

	// delete of another function leaves the target accounts alone.
	out, code = runDeploy(t, url, config, envPath, "delete", "--only", "cancel-task")
	check("delete --only cancel-task", out, []string{"- delete function cancel-task"}, []string{"account " + targetUin, "target account"})
	if code != 0 {
		t.Fatalf("delete --only cancel-task (exit %d)", code)
	}

	// delete: lists the target role, deletes it only with --yes.
	out, code = runDeploy(t, url, config, envPath, "delete")
	check("delete", out, []string{
		"account " + targetUin + ": - detach policy JanitorSweepTargetRolePolicy from JanitorSweepTargetRole\n",
		"account " + targetUin + ": - delete role JanitorSweepTargetRole\n",
		"account " + targetUin + ": - delete policy JanitorSweepTargetRolePolicy\n",
		"target account " + otherUin + ": no keys (JANITOR_TARGET_" + otherUin + "_SECRET_ID",
		"nothing deleted",
	}, nil)
	if code != 0 || len(targetRolesIn(emu, targetUin)) != 1 {
		t.Fatalf("delete without --yes (exit %d)", code)
	}
	out, code = runDeploy(t, url, config, envPath, "delete", "--yes")
	if code != 0 {
		t.Fatalf("delete --yes (exit %d):\n%s", code, out)
	}
	if len(emu.Roles()) != 0 || len(emu.Policies()) != 0 || len(emu.Functions()) != 0 {
		t.Fatalf("after delete --yes: roles %+v, policies %+v\n%s", emu.Roles(), emu.Policies(), out)
	}
}

// TestDeployTargetRolesWrongKeys: keys that are not the target account's, or
// half a pair, stop scf-deploy before any change, in any account.
func TestDeployTargetRolesWrongKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the four functions")
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"keys of another account", map[string]string{targetPrefix + "SECRET_ID": "AKIDotheradmin", targetPrefix + "SECRET_KEY": "other-admin-secret-key"},
			"target account " + targetUin + ": " + targetPrefix + "SECRET_ID and " + targetPrefix + "SECRET_KEY are keys of account " + otherUin + ", not " + targetUin + ": nothing changed"},
		{"keys the emulator does not know", map[string]string{targetPrefix + "SECRET_ID": "AKIDnobody", targetPrefix + "SECRET_KEY": "nobody-secret-key"},
			"target account " + targetUin + ": checking whose keys " + targetPrefix + "SECRET_ID and " + targetPrefix + "SECRET_KEY are (STS GetCallerIdentity): "},
		{"no secret key", map[string]string{targetPrefix + "SECRET_ID": "AKIDotheradmin"},
			targetPrefix + "SECRET_KEY is not set: set both " + targetPrefix + "SECRET_ID and " + targetPrefix + "SECRET_KEY"},
		{"no secret id", map[string]string{targetPrefix + "SECRET_KEY": "other-admin-secret-key"},
			targetPrefix + "SECRET_ID is not set: set both"},
		{"a token alone", map[string]string{targetPrefix + "SESSION_TOKEN": "some-session-token"},
			targetPrefix + "SECRET_ID is not set: set both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := emulator.New(emulator.Options{FunctionReadyAfter: -1})
			emu.AddCredential(otherUin, emulator.Credential{SecretID: "AKIDotheradmin", SecretKey: "other-admin-secret-key"})
			url := serve(t, emu)
			config := sweeperProject(t, true)
			over := map[string]string{"SWEEP_FANOUT": "none", "JANITOR_SWEEP_ROLES": targetArn}
			for k, v := range tt.env {
				over[k] = v
			}
			envPath, _ := envFor(t, over)
			for _, cmd := range []string{"plan", "apply", "delete"} {
				out, code := runDeploy(t, url, config, envPath, cmd, "--yes")
				if code != 1 || !strings.Contains(out, tt.want) {
					t.Fatalf("%s (exit %d), want exit 1 and %q:\n%s", cmd, code, tt.want, out)
				}
				if strings.Contains(out, "other-admin-secret-key") || strings.Contains(out, "nobody-secret-key") || strings.Contains(out, "some-session-token") {
					t.Fatalf("%s printed a secret key:\n%s", cmd, out)
				}
			}
			if m := mutating(emu.Stats()); len(m) != 0 {
				t.Fatalf("mutating calls made: %v", m)
			}
		})
	}
}
