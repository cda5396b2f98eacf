// Package creds reads the Tencent Cloud keys of the tools (scf-deploy,
// scf-local --cloud) from the shell, then the project's .env; docs/deploy.md
// ("Credentials") lists the names. The first are tencentcloud-sdk-go's
// (common/env_provider.go) and tccli's (tccli/options_define.py,
// TENCENTCLOUD_TOKEN); SCF's and the Serverless CLI's follow. The first
// spelling with an id or a key is used whole, never mixed with another.
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
	for _, n := range Spellings {
		c, missing := n.Read(lookup)
		switch {
		case c.SecretID == "" && c.SecretKey == "":
			continue
		case missing == n.ID:
			return c, n, fmt.Errorf("credentials: %s is set but %s is not", n.Key, n.ID)
		case missing == n.Key:
			return c, n, fmt.Errorf("credentials: %s is set but %s is not", n.ID, n.Key)
		}
		return c, n, nil
	}
	return tcapi.Credentials{}, Names{}, ErrNone
}

// Read returns the keys under n's names (blank counts as unset) and, when
// one of the pair is set without the other or a token alone is set, the
// name missing.
func (n Names) Read(lookup func(string) (string, bool)) (c tcapi.Credentials, missing string) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	c = tcapi.Credentials{SecretID: get(n.ID), SecretKey: get(n.Key)}
	for _, t := range n.Token {
		if c.Token = get(t); c.Token != "" {
			break
		}
	}
	switch {
	case c.SecretID == "" && (c.SecretKey != "" || c.Token != ""):
		return c, n.ID
	case c.SecretID != "" && c.SecretKey == "":
		return c, n.Key
	}
	return c, ""
}
