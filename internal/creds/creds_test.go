package creds

import (
	"errors"
	"strings"
	"testing"

	"github.com/scf-janitor/scf-janitor/shared/tcapi"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want tcapi.Credentials
		from string // the SecretId's variable
		err  string
	}{
		{"SDK names", map[string]string{"TENCENTCLOUD_SECRET_ID": "AKID1", "TENCENTCLOUD_SECRET_KEY": "k1"}, tcapi.Credentials{SecretID: "AKID1", SecretKey: "k1"}, "TENCENTCLOUD_SECRET_ID", ""},
		{"tccli's token", map[string]string{"TENCENTCLOUD_SECRET_ID": "AKID1", "TENCENTCLOUD_SECRET_KEY": "k1", "TENCENTCLOUD_TOKEN": "t1", "TENCENTCLOUD_SESSION_TOKEN": "t2"},
			tcapi.Credentials{SecretID: "AKID1", SecretKey: "k1", Token: "t1"}, "TENCENTCLOUD_SECRET_ID", ""},
		{"SESSION_TOKEN still read", map[string]string{"TENCENTCLOUD_SECRET_ID": "AKID1", "TENCENTCLOUD_SECRET_KEY": "k1", "TENCENTCLOUD_SESSION_TOKEN": "t2"},
			tcapi.Credentials{SecretID: "AKID1", SecretKey: "k1", Token: "t2"}, "TENCENTCLOUD_SECRET_ID", ""},
		{"SCF's names", map[string]string{"TENCENTCLOUD_SECRETID": "AKID2", "TENCENTCLOUD_SECRETKEY": "k2", "TENCENTCLOUD_SESSIONTOKEN": "t"},
			tcapi.Credentials{SecretID: "AKID2", SecretKey: "k2", Token: "t"}, "TENCENTCLOUD_SECRETID", ""},
		{"Serverless CLI's names", map[string]string{"TENCENT_SECRET_ID": "AKID3", "TENCENT_SECRET_KEY": "k3", "TENCENT_TOKEN": "t3"},
			tcapi.Credentials{SecretID: "AKID3", SecretKey: "k3", Token: "t3"}, "TENCENT_SECRET_ID", ""},
		{"SDK names win", map[string]string{"TENCENTCLOUD_SECRET_ID": "AKID1", "TENCENTCLOUD_SECRET_KEY": "k1", "TENCENTCLOUD_SECRETID": "AKID2", "TENCENTCLOUD_SECRETKEY": "k2", "TENCENT_SECRET_ID": "AKID3", "TENCENT_SECRET_KEY": "k3"},
			tcapi.Credentials{SecretID: "AKID1", SecretKey: "k1"}, "TENCENTCLOUD_SECRET_ID", ""},
		{"blank is unset", map[string]string{"TENCENTCLOUD_SECRET_ID": " ", "TENCENTCLOUD_SECRET_KEY": "", "TENCENT_SECRET_ID": "AKID3", "TENCENT_SECRET_KEY": "k3"},
			tcapi.Credentials{SecretID: "AKID3", SecretKey: "k3"}, "TENCENT_SECRET_ID", ""},
		{"no token of another spelling", map[string]string{"TENCENTCLOUD_SECRET_ID": "AKID1", "TENCENTCLOUD_SECRET_KEY": "k1", "TENCENTCLOUD_SESSIONTOKEN": "scf"},
			tcapi.Credentials{SecretID: "AKID1", SecretKey: "k1"}, "TENCENTCLOUD_SECRET_ID", ""},
		{"half a pair is not completed from another spelling", map[string]string{"TENCENTCLOUD_SECRET_ID": "AKID1", "TENCENT_SECRET_ID": "AKID3", "TENCENT_SECRET_KEY": "k3"},
			tcapi.Credentials{}, "", "TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not"},
		{"key without id", map[string]string{"TENCENTCLOUD_SECRETKEY": "secret-value"}, tcapi.Credentials{}, "", "TENCENTCLOUD_SECRETKEY is set but TENCENTCLOUD_SECRETID is not"},
		{"none", map[string]string{"TENCENTCLOUD_TOKEN": "token-value-9"}, tcapi.Credentials{}, "", "no credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, names, err := FromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				for _, v := range tt.env {
					if strings.TrimSpace(v) != "" && strings.Contains(err.Error(), v) {
						t.Fatalf("the error shows a value: %v", err)
					}
				}
				return
			}
			if err != nil || got != tt.want || names.ID != tt.from {
				t.Fatalf("FromEnv = %+v from %s, %v; want %+v from %s", got, names.ID, err, tt.want, tt.from)
			}
		})
	}
	if _, _, err := FromEnv(func(string) (string, bool) { return "", false }); !errors.Is(err, ErrNone) {
		t.Fatalf("nothing set: %v, want ErrNone", err)
	}
}
