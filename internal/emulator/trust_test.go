package emulator

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// trustDoc is a trust policy with one allow statement naming principal.
func trustDoc(principal string) string {
	return `{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":` + principal + `}]}`
}

// TestAssumeCAMCreatedRole: a role created through CAM (in another account,
// with that account's keys) is assumable exactly as its trust policy says.
func TestAssumeCAMCreatedRole(t *testing.T) {
	e := newEnv(t, Options{})
	e.srv.AddCredential(targetUin, Credential{SecretID: "AKIDtargetadmin", SecretKey: "k"})
	admin := e.sdk(t, "", common.NewCredential("AKIDtargetadmin", "k"))
	self := e.sdk(t, "", nil) // the default account, uin DefaultAccountUin

	// The sweeper's own role, in the default account, trusted by SCF.
	mustCall(t, self, "cam", "CreateRole", map[string]any{"RoleName": "JanitorSweepTasksRole",
		"PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)}, nil)
	sweeperArn := "qcs::cam::uin/" + DefaultAccountUin + ":roleName/JanitorSweepTasksRole"
	if _, err := e.srv.ServiceRoleCredential("cam.qcloud.com", sweeperArn); err == nil {
		t.Fatal("a service the trust policy does not name got the role's keys")
	}
	sc, err := e.srv.ServiceRoleCredential("scf.qcloud.com", sweeperArn)
	if err != nil {
		t.Fatal(err)
	}
	sweeper := e.sdk(t, "", common.NewTokenCredential(sc.SecretID, sc.SecretKey, sc.Token))

	roles := map[string]string{
		"TrustsSweeperRole": `{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:roleName/JanitorSweepTasksRole"]}`,
		"TrustsAccount":     `{"qcs":"qcs::cam::uin/` + DefaultAccountUin + `:root"}`,
		"TrustsOtherRole":   `{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:roleName/SomeoneElse"]}`,
		"TrustsOtherAcct":   `{"qcs":["qcs::cam::uin/100000000009:root"]}`,
		"TrustsScfOnly":     `{"service":["scf.qcloud.com"]}`,
		"UnknownForm":       `{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:uin/` + DefaultAccountUin + `"]}`,
	}
	for name, principal := range roles {
		mustCall(t, admin, "cam", "CreateRole", map[string]any{"RoleName": name, "PolicyDocument": trustDoc(principal)}, nil)
	}
	// A deny naming the caller wins over an allow.
	mustCall(t, admin, "cam", "CreateRole", map[string]any{"RoleName": "Denied", "PolicyDocument": `{"version":"2.0","statement":[` +
		`{"effect":"allow","action":"name/sts:AssumeRole","principal":{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:root"]}},` +
		`{"effect":"deny","action":["name/sts:AssumeRole"],"principal":{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:roleName/JanitorSweepTasksRole"]}}]}`}, nil)

	arn := func(name string) string { return "qcs::cam::uin/" + targetUin + ":roleName/" + name }
	tests := []struct {
		name   string
		caller *common.Client
		role   string
		code   string // "" = allowed
	}{
		{"sweeper role session, role principal", sweeper, "TrustsSweeperRole", ""},
		{"sweeper role session, account principal", sweeper, "TrustsAccount", ""},
		{"account keys, account principal", self, "TrustsAccount", ""},
		{"account keys are not the role", self, "TrustsSweeperRole", "UnauthorizedOperation"},
		{"another role named", sweeper, "TrustsOtherRole", "UnauthorizedOperation"},
		{"another account named", sweeper, "TrustsOtherAcct", "UnauthorizedOperation"},
		{"service principal only", sweeper, "TrustsScfOnly", "UnauthorizedOperation"},
		{"undocumented principal form", self, "UnknownForm", "UnauthorizedOperation"},
		{"deny wins", sweeper, "Denied", "UnauthorizedOperation"},
		{"role of another account's name", sweeper, "JanitorSweepTasksRole", "ResourceNotFound.RoleNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := assumeRole(t, tc.caller, map[string]any{"RoleArn": arn(tc.role), "RoleSessionName": "scf-janitor"})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The keys act in the target account.
			tmp := e.sdk(t, "", common.NewTokenCredential(out.Credentials.TmpSecretId, out.Credentials.TmpSecretKey, out.Credentials.Token))
			var id struct{ AccountId, PrincipalId, UserId, Type string }
			mustCall(t, tmp, "sts", "GetCallerIdentity", map[string]any{}, &id)
			if id.AccountId != targetUin || id.Type != "AssumedRole" || id.PrincipalId != DefaultAccountUin || !strings.HasSuffix(id.UserId, ":scf-janitor") {
				t.Errorf("identity %+v, want account %s, AssumedRole, principal %s, user <roleId>:scf-janitor", id, targetUin, DefaultAccountUin)
			}
		})
	}

	// The role in the default account, by its ARN, is the default account's.
	mustCall(t, self, "cam", "CreateRole", map[string]any{"RoleName": "Local", "PolicyDocument": trustDoc(`{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:root"]}`)}, nil)
	out, err := assumeRole(t, self, map[string]any{"RoleArn": "qcs::cam::uin/" + DefaultAccountUin + ":roleName/Local", "RoleSessionName": "s1"})
	if err != nil {
		t.Fatal(err)
	}
	local := e.sdk(t, "", common.NewTokenCredential(out.Credentials.TmpSecretId, out.Credentials.TmpSecretKey, out.Credentials.Token))
	var id struct{ AccountId string }
	mustCall(t, local, "sts", "GetCallerIdentity", map[string]any{}, &id)
	if id.AccountId != DefaultAccountUin {
		t.Errorf("AccountId %q, want %s", id.AccountId, DefaultAccountUin)
	}
}

// TestCAMPerAccount: each account has its own roles and policies.
func TestCAMPerAccount(t *testing.T) {
	e := newEnv(t, Options{AccountUin: "100000000007"})
	e.srv.AddCredential(targetUin, Credential{SecretID: "AKIDtargetadmin", SecretKey: "k"})
	other := e.sdk(t, "", common.NewCredential("AKIDtargetadmin", "k"))
	self := e.sdk(t, "", nil)
	doc := trustDoc(`{"service":["scf.qcloud.com"]}`)
	mustCall(t, self, "cam", "CreateRole", map[string]any{"RoleName": "R", "PolicyDocument": doc}, nil)
	mustCall(t, other, "cam", "CreateRole", map[string]any{"RoleName": "R", "PolicyDocument": doc}, nil) // no RoleNameInUse
	wantCode(t, call(t, other, "cam", "CreateRole", map[string]any{"RoleName": "R", "PolicyDocument": doc}, nil), "InvalidParameter.RoleNameInUse")
	var pol struct{ PolicyId uint64 }
	mustCall(t, self, "cam", "CreatePolicy", map[string]any{"PolicyName": "P", "PolicyDocument": `{"version":"2.0","statement":[{"effect":"allow","action":["ams:*"],"resource":["*"]}]}`}, &pol)
	wantCode(t, call(t, other, "cam", "GetPolicy", map[string]any{"PolicyId": pol.PolicyId}, nil), "ResourceNotFound.PolicyIdNotFound")
	var list struct{ TotalNum uint64 }
	mustCall(t, other, "cam", "ListPolicies", map[string]any{}, &list)
	if list.TotalNum != 0 {
		t.Errorf("the other account lists %d policies", list.TotalNum)
	}
	var id struct{ AccountId string }
	mustCall(t, self, "sts", "GetCallerIdentity", map[string]any{}, &id)
	if id.AccountId != "100000000007" {
		t.Errorf("AccountId %q, want Options.AccountUin", id.AccountId)
	}
	accts := map[string]int{}
	for _, r := range e.srv.Roles() {
		accts[r.Account]++
	}
	if accts["100000000007"] != 1 || accts[targetUin] != 1 {
		t.Errorf("roles by account %v", accts)
	}
}

// TestRoleInspectEndpoints: POST /_emulator/accounts accepts another
// account's keys, and POST /_emulator/role-credentials gives a service's
// keys for a role exactly when its trust policy names the service; bad
// requests are 4xx saying what is wanted.
func TestRoleInspectEndpoints(t *testing.T) {
	e := newEnv(t, Options{})
	self := e.sdk(t, "", nil)
	mustCall(t, self, "cam", "CreateRole", map[string]any{"RoleName": "FnRole", "PolicyDocument": trustDoc(`{"service":["scf.qcloud.com"]}`)}, nil)
	mustCall(t, self, "cam", "CreateRole", map[string]any{"RoleName": "AcctOnly", "PolicyDocument": trustDoc(`{"qcs":["qcs::cam::uin/` + DefaultAccountUin + `:root"]}`)}, nil)
	arn := func(name string) string { return "qcs::cam::uin/" + DefaultAccountUin + ":roleName/" + name }

	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // in the body
	}{
		{"account", "POST", "/_emulator/accounts", `{"Uin":"` + targetUin + `","SecretId":"AKIDother","SecretKey":"other-key"}`, 201, `"SecretId": "AKIDother"`},
		{"account without key", "POST", "/_emulator/accounts", `{"Uin":"` + targetUin + `","SecretId":"AKIDx"}`, 400, "SecretKey"},
		{"account uin not digits", "POST", "/_emulator/accounts", `{"Uin":"abc","SecretId":"AKIDx","SecretKey":"k"}`, 400, "Uin (digits)"},
		{"account unknown field", "POST", "/_emulator/accounts", `{"Account":"1"}`, 400, "want"},
		{"credentials", "POST", "/_emulator/role-credentials", `{"Service":"scf.qcloud.com","RoleArn":"` + arn("FnRole") + `"}`, 200, `"TmpSecretId": "AKIDtmp`},
		{"service not trusted", "POST", "/_emulator/role-credentials", `{"Service":"scf.qcloud.com","RoleArn":"` + arn("AcctOnly") + `"}`, 403, "does not name the service"},
		{"unknown role", "POST", "/_emulator/role-credentials", `{"Service":"scf.qcloud.com","RoleArn":"` + arn("Nope") + `"}`, 404, "does not exist"},
		{"no role", "POST", "/_emulator/role-credentials", `{"Service":"scf.qcloud.com"}`, 400, "RoleArn"},
		{"GET", "GET", "/_emulator/role-credentials", "", 405, "takes POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.inspect(t, tc.method, tc.path, tc.body)
			if status != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%d %s, want %d with %q", status, body, tc.status, tc.want)
			}
			if strings.Contains(string(body), "other-key") {
				t.Errorf("the answer shows the account's SecretKey: %s", body)
			}
		})
	}

	// The account's keys act in that account.
	var id struct{ AccountId, Type, Arn string }
	mustCall(t, e.sdk(t, "", common.NewCredential("AKIDother", "other-key")), "sts", "GetCallerIdentity", map[string]any{}, &id)
	if id.AccountId != targetUin {
		t.Errorf("keys added for %s act in %q", targetUin, id.AccountId)
	}
	// The role's keys are a session of the role.
	_, body := e.inspect(t, "POST", "/_emulator/role-credentials", `{"Service":"scf.qcloud.com","RoleArn":"`+arn("FnRole")+`"}`)
	var c stsCredentials
	if err := json.Unmarshal(body, &c); err != nil || c.TmpSecretKey == "" || c.Token == "" {
		t.Fatalf("credentials %s: %v", body, err)
	}
	mustCall(t, e.sdk(t, "", common.NewTokenCredential(c.TmpSecretId, c.TmpSecretKey, c.Token)), "sts", "GetCallerIdentity", map[string]any{}, &id)
	if id.AccountId != DefaultAccountUin || id.Type != "AssumedRole" || id.Arn != arn("FnRole") {
		t.Errorf("identity %+v, want a session of FnRole", id)
	}
}
