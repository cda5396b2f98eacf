// Package creds reads the Tencent Cloud keys of the tools (scf-deploy,
// scf-local --cloud) from their environment: the shell, then the project's
// .env, as each tool's lookup gives them. The functions do not use it: SCF
// hands a function its execution role's keys as TENCENTCLOUD_SECRETID,
// TENCENTCLOUD_SECRETKEY and TENCENTCLOUD_SESSIONTOKEN (config.LoadBase).
//
// The documented names are those of tencentcloud-sdk-go's environment
// provider (common/env_provider.go: TENCENTCLOUD_SECRET_ID,
// TENCENTCLOUD_SECRET_KEY) and of tccli (tccli/options_define.py, which adds
// TENCENTCLOUD_TOKEN for temporary keys). Two other spellings are accepted,
// after them, so that existing shells and .env files keep working: SCF's own
// names, and the Serverless CLI's (TENCENT_SECRET_ID, TENCENT_SECRET_KEY,
// TENCENT_TOKEN). The first set with a SecretId or a SecretKey is used, whole:
// keys are never mixed across spellings.
package creds

import (
	"errors"
	"fmt"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

// Names is one spelling of a key pair and its session token (the first of
// Token that is set).
type Names struct {
	ID, Key string
	Token   []string
}

// Spellings are the names read, in order of precedence.
var Spellings = []Names{
	{ID: "TENCENTCLOUD_SECRET_ID", Key: "TENCENTCLOUD_SECRET_KEY", Token: []string{"TENCENTCLOUD_TOKEN", "TENCENTCLOUD_SESSION_TOKEN"}},
	{ID: "TENCENTCLOUD_SECRETID", Key: "TENCENTCLOUD_SECRETKEY", Token: []string{"TENCENTCLOUD_SESSIONTOKEN"}},
	{ID: "TENCENT_SECRET_ID", Key: "TENCENT_SECRET_KEY", Token: []string{"TENCENT_TOKEN"}},
}

// ErrNone is FromEnv's error when no spelling is set.
var ErrNone = errors.New("no credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_TOKEN for temporary keys), " +
	"or SCF's TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY, or the Serverless CLI's TENCENT_SECRET_ID and TENCENT_SECRET_KEY")

// FromEnv returns the keys of the first spelling of Spellings with a
// SecretId or a SecretKey set (blank counts as unset), and the names it read
// them from. Half a pair is an error naming the missing variable; none at
// all is ErrNone. Errors never hold a value.
func FromEnv(lookup func(string) (string, bool)) (tcapi.Credentials, Names, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	for _, n := range Spellings {
		c := tcapi.Credentials{SecretID: get(n.ID), SecretKey: get(n.Key)}
		if c.SecretID == "" && c.SecretKey == "" {
			continue
		}
		for _, t := range n.Token {
			if c.Token = get(t); c.Token != "" {
				break
			}
		}
		switch {
		case c.SecretID == "":
			return c, n, fmt.Errorf("credentials: %s is set but %s is not", n.Key, n.ID)
		case c.SecretKey == "":
			return c, n, fmt.Errorf("credentials: %s is set but %s is not", n.ID, n.Key)
		}
		return c, n, nil
	}
	return tcapi.Credentials{}, Names{}, ErrNone
}
