package pack

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWriteIsReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	// Same names and contents; different modes, times and directories.
	fa := writeFile(t, a, "handler", "\x7fELF pretend binary", 0o600, time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC))
	fb := writeFile(t, b, "handler", "\x7fELF pretend binary", 0o777, time.Now())
	var za, zb bytes.Buffer
	if err := Write(&za, fa); err != nil {
		t.Fatal(err)
	}
	if err := Write(&zb, fb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(za.Bytes(), zb.Bytes()) {
		t.Fatal("same content gave different zips")
	}
	// And a different content gives different bytes (the comparison can fail).
	fc := writeFile(t, b, "handler", "\x7fELF other binary", 0o755, time.Now())
	var zc bytes.Buffer
	if err := Write(&zc, fc); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(za.Bytes(), zc.Bytes()) {
		t.Fatal("different content gave the same zip")
	}
}

func TestWriteLayout(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "deep", "er")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	f1 := writeFile(t, sub, "cancel-task", "one", 0o644, time.Now())
	f2 := writeFile(t, dir, "sweep-tasks", "two", 0o644, time.Now())
	out := filepath.Join(dir, "out", "pkg.zip")
	if err := WriteFile(out, f1, f2); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	want := map[string]string{"cancel-task": "one", "sweep-tasks": "two"}
	if len(zr.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(want))
	}
	for i, zf := range zr.File {
		if zf.Name != []string{"cancel-task", "sweep-tasks"}[i] {
			t.Errorf("entry %d is %q: want the given order, at the root", i, zf.Name)
		}
		if got := zf.Mode(); got != 0o755 {
			t.Errorf("%s mode %v, want -rwxr-xr-x", zf.Name, got)
		}
		if !zf.Modified.Equal(Epoch) {
			t.Errorf("%s modified %v, want %v", zf.Name, zf.Modified, Epoch)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != want[zf.Name] {
			t.Errorf("%s content %q", zf.Name, b)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("output directory has %d entries, want only the zip (no temporary file left)", len(entries))
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "x", "1", 0o644, time.Now())
	other := t.TempDir()
	b := writeFile(t, other, "x", "2", 0o644, time.Now())
	tests := []struct {
		name    string
		files   []string
		wantErr string
	}{
		{"duplicate base names", []string{a, b}, "two files named x"},
		{"directory", []string{dir}, "is not a regular file"},
		{"missing", []string{filepath.Join(dir, "nope")}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "o.zip")
			err := WriteFile(out, tc.files...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("WriteFile error %v, want %q", err, tc.wantErr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("a failed WriteFile left %s behind", out)
			}
		})
	}
}
