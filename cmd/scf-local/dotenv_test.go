package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadDotEnv(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	content := "# deploy settings\n\nA=1\nexport B = two words \nC=\"quoted # not a comment\"\nD='single'\nE=x # trailing comment\nF=\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readDotEnv(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "two words", "C": "quoted # not a comment", "D": "single", "E": "x", "F": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	if m, err := readDotEnv(filepath.Join(dir, "missing")); err != nil || m != nil {
		t.Errorf("missing file: %v, %v", m, err)
	}
	if err := os.WriteFile(p, []byte("A=1\nnot a pair\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readDotEnv(p); err == nil || !strings.Contains(err.Error(), ".env:2: want KEY=VALUE") {
		t.Errorf("bad line: %v", err)
	}
}

// TestSetupReadsDotEnv: ${env.X} values and --cloud credentials come from
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
