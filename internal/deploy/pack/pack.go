// Package pack writes reproducible zip code packages for SCF.
package pack

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Epoch is the modification time every entry gets (the earliest time a zip's
// MS-DOS date can hold), so a package depends only on file names and contents.
var Epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Mode is the permission every entry gets: SCF executes the handler binary.
const Mode os.FileMode = 0o755

// Write writes a zip of files to w: each at the root under its base name, in
// the order given, mode 0755, deflated, timestamps fixed at Epoch.
func Write(w io.Writer, files ...string) error {
	seen := map[string]bool{}
	zw := zip.NewWriter(w)
	for _, path := range files {
		name := filepath.Base(path)
		if seen[name] {
			return fmt.Errorf("two files named %s: zip entries are at the root and must differ", name)
		}
		seen[name] = true
		if err := add(zw, path, name); err != nil {
			return err
		}
	}
	return zw.Close()
}

func add(zw *zip.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.Modified = Epoch
	h.SetMode(Mode)
	dst, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, f); err != nil {
		return fmt.Errorf("add %s: %w", path, err)
	}
	return nil
}

// WriteFile writes the zip to out atomically (a temporary file renamed into place).
func WriteFile(out string, files ...string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".zipfn-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, files...); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
