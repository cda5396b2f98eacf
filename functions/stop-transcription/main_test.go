package main

import (
	"flag"
	"os"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/scflocal/scflocaltest"
	"github.com/scf-janitor/scf-janitor/internal/testkit/canceltest"
)

var update = flag.Bool("update", false, "rewrite testdata")

func TestMain(m *testing.M) {
	code := m.Run()
	scflocaltest.Cleanup()
	os.Exit(code)
}

func TestTestdata(t *testing.T) {
	canceltest.Testdata(t, canceltest.Functions["stop-transcription"], "testdata", *update)
}

func TestRuntimeE2E(t *testing.T) {
	canceltest.E2E(t, canceltest.Functions["stop-transcription"], ".")
}
