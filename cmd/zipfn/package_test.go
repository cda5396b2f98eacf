package main

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/deploy"
	"github.com/scf-janitor/scf-janitor/internal/deploy/pack"
)

const repoRoot = "../.."

// TestMakePackage runs `make package` twice into two directories, as a release
// would, and checks every dist/<function>.zip: one entry at the root named as
// the handler in serverless.yml, mode 0755, a static stripped linux/amd64 ELF
// executable, byte-identical across the two builds; and dist/bundle holds the
// same binaries for the multi-scf code package.
func TestMakePackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function twice")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed (.ci/run installs it)")
	}
	cfg, err := deploy.Load(filepath.Join(repoRoot, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cfg.Functions {
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", f.Handler)); err != nil {
			t.Skipf("functions/%s is not written yet", f.Handler)
		}
	}
	// Build from a snapshot of the sources, so both builds see the same bytes
	// even if files change in the working tree meanwhile.
	src := snapshot(t, repoRoot)
	// The two builds run at once, as two release jobs on one machine would
	// (the go command's build cache is shared and safe for that).
	dists := []string{t.TempDir(), t.TempDir()}
	outs := make([][]byte, len(dists))
	errs := make([]error, len(dists))
	var wg sync.WaitGroup
	for i, d := range dists {
		wg.Go(func() {
			cmd := exec.Command("make", "--no-print-directory", "package", "DIST="+d)
			cmd.Dir = src
			outs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("make package: %v\n%s", err, outs[i])
		}
	}
	for _, f := range cfg.Functions {
		t.Run(f.Key, func(t *testing.T) {
			zipPath := filepath.Join(dists[0], f.Key+".zip")
			first, err := os.ReadFile(zipPath)
			if err != nil {
				t.Fatalf("make package did not write %s: %v", zipPath, err)
			}
			second, err := os.ReadFile(filepath.Join(dists[1], f.Key+".zip"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Errorf("%s.zip differs between two builds of the same source", f.Key)
			}
			zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
			if err != nil {
				t.Fatal(err)
			}
			if len(zr.File) != 1 || zr.File[0].Name != f.Handler {
				var names []string
				for _, zf := range zr.File {
					names = append(names, zf.Name)
				}
				t.Fatalf("entries %q, want exactly [%q] at the root (the handler in serverless.yml)", names, f.Handler)
			}
			zf := zr.File[0]
			if zf.Mode() != 0o755 {
				t.Errorf("mode %v, want -rwxr-xr-x", zf.Mode())
			}
			if !zf.Modified.Equal(pack.Epoch) {
				t.Errorf("modified %v, want the fixed %v", zf.Modified, pack.Epoch)
			}
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			bin, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			checkELF(t, bin)
			bundled, err := os.ReadFile(filepath.Join(dists[0], "bundle", f.Handler))
			if err != nil {
				t.Fatalf("dist/bundle/%s (the multi-scf code package): %v", f.Handler, err)
			}
			if !bytes.Equal(bundled, bin) {
				t.Errorf("dist/bundle/%s differs from the binary in %s.zip", f.Handler, f.Key)
			}
			if st, err := os.Stat(filepath.Join(dists[0], "bundle", f.Handler)); err == nil && st.Mode().Perm() != 0o755 {
				t.Errorf("dist/bundle/%s mode %v, want 0755", f.Handler, st.Mode().Perm())
			}
			t.Logf("%s: binary %.1f MB, zip %.1f MB", f.Key, float64(len(bin))/1e6, float64(len(first))/1e6)
		})
	}
}

// snapshot copies the module's files (not .git, dist, bin, nor any
// testdata folder, which the go command never builds) into a temporary
// directory. Other packages' tests create and remove files in the tree
// while this runs (cmd/scf-local's projects under its testdata): a file that
// vanishes during the walk is skipped, not an error.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch {
			case rel == ".git", rel == "dist", rel == "bin", d.Name() == "testdata":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("snapshot the sources: %v", err)
	}
	return dst
}

func checkELF(t *testing.T, bin []byte) {
	t.Helper()
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("not an ELF executable: %v", err)
	}
	defer ef.Close()
	if ef.Machine != elf.EM_X86_64 || ef.Class != elf.ELFCLASS64 || ef.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("ELF %v %v %v, want x86-64 64-bit SysV (linux/amd64)", ef.Machine, ef.Class, ef.OSABI)
	}
	if ef.Type != elf.ET_EXEC {
		t.Errorf("ELF type %v, want a static executable", ef.Type)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("dynamically linked (has an interpreter): build with CGO_ENABLED=0")
		}
	}
	for _, s := range ef.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || s.Name == ".symtab" {
			t.Errorf("section %s present: build with -ldflags \"-s -w\"", s.Name)
		}
	}
	if p := absoluteSourcePath(bin); p != "" {
		t.Errorf("binary contains the absolute source path %q: build with -trimpath", p)
	}
}

// absoluteSourcePath returns the first "/home/…/x.go" (or /root, /tmp,
// /work) string in bin, "" when there is none. One pass over the binary: a
// regular expression over 8 MB of it took seconds under -race.
func absoluteSourcePath(bin []byte) string {
	for _, dir := range []string{"/home/", "/root/", "/tmp/", "/work/"} {
		for rest := bin; ; {
			i := bytes.Index(rest, []byte(dir))
			if i < 0 {
				break
			}
			s := rest[i:]
			if end := bytes.IndexByte(s, 0); end >= 0 {
				s = s[:end]
			}
			if j := bytes.Index(s, []byte(".go")); j >= 0 {
				return string(s[:j+3])
			}
			rest = rest[i+len(dir):]
		}
	}
	return ""
}

func TestAbsoluteSourcePath(t *testing.T) {
	for _, tc := range []struct{ bin, want string }{
		{"\x00runtime/proc.go\x00", ""},
		{"x\x00/home/u/src/scf-janitor/shared/scf/server.go\x00y", "/home/u/src/scf-janitor/shared/scf/server.go"},
		{"/work/main\x00 text.go", ""},
		{"/tmp/go-build123/b001/_testmain.go", "/tmp/go-build123/b001/_testmain.go"},
	} {
		if got := absoluteSourcePath([]byte(tc.bin)); got != tc.want {
			t.Errorf("absoluteSourcePath(%q) = %q, want %q", tc.bin, got, tc.want)
		}
	}
}
