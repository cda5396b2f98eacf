package emulator

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
)

// Role is a CAM role that AssumeRole can assume.
type Role struct {
	// Arn is qcs::cam::uin/<uin>:roleName/<name>; the keys act in <uin>.
	Arn string
	// Trusted are the accounts that may assume it ("" = default); empty: any.
	Trusted []string
}

// reRoleArn has no {1,128} (tens of KB of heap); roleAccount checks lengths.
var reRoleArn = regexp.MustCompile(`^qcs::cam::uin/([0-9]+):(roleName/[\w+=,.@-]+|role/[0-9]+)$`)

// roleAccount returns the uin of a role ARN, or "" when it is not one.
func roleAccount(arn string) string {
	if m := reRoleArn.FindStringSubmatch(arn); m != nil && len(m[1]) <= 20 && len(m[2]) <= len("roleName/")+128 {
		return m[1]
	}
	return ""
}

// Validate reports whether r.Arn is a role ARN the emulator can serve.
func (r Role) Validate() error {
	if roleAccount(r.Arn) == "" {
		return fmt.Errorf("%q is not a role ARN such as qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole", r.Arn)
	}
	return nil
}

type accounts struct {
	// Both copy-on-write: read on every request.
	creds atomic.Pointer[map[string]Credential]
	owner atomic.Pointer[map[string]string] // SecretId -> account, for keys not of the default account

	mu       sync.Mutex
	roles    map[string]Role
	st       map[string]*statsRecorder
	sessions map[string]roleSession // SecretId -> the role session its temporary keys belong to
}

// roleSession is who temporary keys are: a session of a role.
type roleSession struct {
	role, roleID, name string // the role's name and id (when known), the RoleSessionName
	principal          string // uin of the account that asked for the keys
}

func (a *accounts) init(creds map[string]Credential, roles []Role) {
	c, o := maps.Clone(creds), map[string]string{}
	a.creds.Store(&c)
	a.owner.Store(&o)
	a.roles = map[string]Role{}
	a.st = map[string]*statsRecorder{}
	a.sessions = map[string]roleSession{}
	for _, r := range roles {
		a.roles[r.Arn] = r
	}
}

// credentials returns every accepted credential by SecretId (do not modify).
func (a *accounts) credentials() map[string]Credential { return *a.creds.Load() }

// accountOf returns the account of a SecretId ("" = the default account).
func (a *accounts) accountOf(secretID string) string { return (*a.owner.Load())[secretID] }

func (a *accounts) addCredential(account string, c Credential) {
	a.mu.Lock()
	defer a.mu.Unlock()
	next, owner := maps.Clone(*a.creds.Load()), maps.Clone(*a.owner.Load())
	next[c.SecretID] = c
	if account == "" {
		delete(owner, c.SecretID)
	} else {
		owner[c.SecretID] = account
	}
	a.creds.Store(&next)
	a.owner.Store(&owner)
}

// newSessionCredential adds fresh temporary keys of a role session in account.
func (a *accounts) newSessionCredential(account string, rs roleSession) stsCredentials {
	c := Credential{SecretID: "AKIDtmp" + randHex(16), SecretKey: randHex(20), Token: randHex(32)}
	a.addCredential(account, c)
	a.mu.Lock()
	a.sessions[c.SecretID] = rs
	a.mu.Unlock()
	return stsCredentials{Token: c.Token, TmpSecretId: c.SecretID, TmpSecretKey: c.SecretKey}
}

// session returns the role session a SecretId belongs to (zero: none).
func (a *accounts) session(secretID string) roleSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[secretID]
}

func (a *accounts) role(arn string) (Role, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.roles[arn]
	return r, ok
}

func (a *accounts) stats(account string) *statsRecorder {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.st[account]
	if !ok {
		r = newStatsRecorder()
		a.st[account] = r
	}
	return r
}

func (a *accounts) resetStats() {
	a.mu.Lock()
	a.st = map[string]*statsRecorder{}
	a.mu.Unlock()
}

// AddRole makes a role assumable; false (ignored) for an Arn that is not one.
func (s *Server) AddRole(r Role) bool {
	if roleAccount(r.Arn) == "" {
		return false
	}
	s.acct.mu.Lock()
	s.acct.roles[r.Arn] = r
	s.acct.mu.Unlock()
	return true
}

// AddCredential accepts another key pair of account ("" = the default).
func (s *Server) AddCredential(account string, c Credential) { s.acct.addCredential(account, c) }

// AccountStats returns the counters of one account ("" = the default).
func (s *Server) AccountStats(account string) Stats {
	return s.acct.stats(account).snapshot()
}

// AccountTasks returns an account's tasks of service ("" = all), newest first.
func (s *Server) AccountTasks(account, service string) []Task {
	now := s.now()
	s.mu.Lock()
	out := []Task{}
	for _, svc := range []string{"ams", "vm"} {
		if service == "" || svc == service {
			for _, rec := range s.order[scope(account, svc)] {
				out = append(out, s.current(rec, now))
			}
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return taskBefore(out[i], out[j]) })
	return out
}

// scope keys an account's records of a service; the default account's is the service.
func scope(account, service string) string {
	if account == "" {
		return service
	}
	return account + "|" + service
}

func (c *apiCall) scope() string { return scope(c.account, c.service) }
