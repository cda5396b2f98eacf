package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

// TestMain makes the runner build each distinct function source once per
// test binary: the tests start scf-local some forty times on copies of the
// same few functions, and each go build (a link of the SDK) costs a second of
// CPU. The key is the content of the package's files, so a test that edits a
// function still gets a fresh build; watch rebuilds are never memoised.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scf-local-builds-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b := &memoBuilds{dir: dir, done: map[string]*memoBuild{}}
	buildLocal = b.build
	commandBin = filepath.Join(dir, "scf-local")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	commandBin   string
	commandBuild struct {
		once sync.Once
		err  error
	}
)

// scfLocalBinary builds this command once per test binary, for the tests
// that run it as a separate process, as a user does.
func scfLocalBinary(t *testing.T) string {
	t.Helper()
	commandBuild.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", commandBin, ".").CombinedOutput(); err != nil {
			commandBuild.err = fmt.Errorf("build scf-local: %v\n%s", err, out)
		}
	})
	if commandBuild.err != nil {
		t.Fatal(commandBuild.err)
	}
	return commandBin
}

type memoBuilds struct {
	dir  string
	mu   sync.Mutex
	done map[string]*memoBuild
}

type memoBuild struct {
	once sync.Once
	bin  string
	err  error
}

func (b *memoBuilds) build(ctx context.Context, pkg, out string, tags ...string) error {
	key, err := sourceKey(pkg, tags)
	if err != nil {
		return scflocal.BuildLocal(ctx, pkg, out, tags...)
	}
	b.mu.Lock()
	e, ok := b.done[key]
	if !ok {
		e = &memoBuild{bin: filepath.Join(b.dir, key)}
		b.done[key] = e
	}
	b.mu.Unlock()
	e.once.Do(func() { e.err = scflocal.BuildLocal(ctx, pkg, e.bin, tags...) })
	if e.err != nil {
		// A failed build is not kept: the next start builds again and
		// reports its own error (a cancelled context included).
		b.mu.Lock()
		delete(b.done, key)
		b.mu.Unlock()
		return e.err
	}
	return copyExecutable(e.bin, out)
}

// sourceKey hashes the names and contents of the files in pkg (not its
// subdirectories) and the build tags.
func sourceKey(pkg string, tags []string) (string, error) {
	entries, err := os.ReadDir(pkg)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, tags)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(pkg, e.Name()))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
