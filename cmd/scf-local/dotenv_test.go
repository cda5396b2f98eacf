package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestSetupReadsDotEnv: ${env:X} values and --cloud credentials come from
// .env next to serverless.yml, and the shell wins over it.
func TestSetupReadsDotEnv(t *testing.T) {
	dir := t.TempDir()
	yml, err := os.ReadFile(testProject)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "serverless.yml"), yml, 0o644); err != nil {
		t.Fatal(err)
	}
	dotenv := "TENCENT_SECRET_ID=AKIDfromdotenv\nTENCENT_SECRET_KEY=key-from-dotenv\nSCF_LOCAL_TEST_BUCKET=dotenv-bucket-1250000000\nSCF_LOCAL_TEST_NAME=dotenv\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	c := common{config: filepath.Join(dir, "serverless.yml"), cloud: true}
	env, err := setup(context.Background(), c, envFrom(map[string]string{"SCF_LOCAL_TEST_NAME": "shell"}), io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	defer env.close()
	if env.rc.creds.id != "AKIDfromdotenv" || env.rc.creds.key != "key-from-dotenv" {
		t.Errorf("credentials %q/%q, want the Serverless CLI's pair from .env", env.rc.creds.id, env.rc.creds.key)
	}
	fn, _ := env.rc.cfg.Function("echo")
	got := env.rc.functionEnv(fn)
	if got["JANITOR_CI_BUCKET"] != "dotenv-bucket-1250000000" || got["JANITOR_GREETING"] != "hello-shell" {
		t.Errorf("function env %v: want the bucket from .env and the name from the shell", got)
	}
}
