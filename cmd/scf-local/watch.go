package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

// watchPoll is how often --watch looks at the functions' Go files.
const watchPoll = 300 * time.Millisecond

// fileStamp is what --watch compares: a change of size or time is a change.
type fileStamp struct {
	size int64
	mod  time.Time
}

// watched is one function's sources as --watch sees them.
type watched struct {
	f     *function
	pkg   string   // functions/<handler>
	dirs  []string // directories of the module's packages it builds from
	files map[string]fileStamp
	gen   int // rebuilds so far
}

// watchSources records the Go files each function builds from, for
// watch: call it before saying "ready", so that every later change counts.
func (r *runner) watchSources(ctx context.Context) []*watched {
	var ws []*watched
	for _, fn := range r.rc.cfg.Functions {
		f, _ := r.get(fn.Name)
		w := &watched{f: f, pkg: filepath.Join(r.rc.root, "functions", f.fn.Handler)}
		if err := w.refreshDirs(ctx); err != nil {
			r.note.printf("scf-local: --watch: %s: %v (not watched)\n", f.fn.Name, err)
			continue
		}
		w.files = w.stamps()
		ws = append(ws, w)
	}
	return ws
}

// watch rebuilds a function when a Go file of the module's packages it
// depends on (or go.mod/go.sum) changes, and reloads it (in-flight
// invocations finish on the old binary; a failing build leaves the old code
// serving). It polls, without a file-system notification dependency.
func (r *runner) watch(ctx context.Context, ws []*watched, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, w := range ws {
			now := w.stamps()
			changed := diffStamps(w.files, now)
			if len(changed) == 0 {
				continue
			}
			w.files = now
			r.rebuild(ctx, w, changed)
		}
	}
}

// refreshDirs asks the go command which of the module's package
// directories the function builds from, and the module's own (go.mod and
// go.sum change what every package builds from).
func (w *watched) refreshDirs(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}\n{{.Module.Dir}}{{end}}{{end}}", ".")
	cmd.Dir = w.pkg
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	dirs := slices.DeleteFunc(strings.Split(string(out), "\n"), func(d string) bool { return d == "" })
	slices.Sort(dirs)
	w.dirs = slices.Compact(dirs)
	return nil
}

// stamps returns the watched files: each directory's non-test .go files,
// and go.mod/go.sum where present.
func (w *watched) stamps() map[string]fileStamp {
	out := map[string]fileStamp{}
	for _, d := range w.dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !(strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") || n == "go.mod" || n == "go.sum") {
				continue
			}
			if info, err := e.Info(); err == nil {
				out[filepath.Join(d, n)] = fileStamp{size: info.Size(), mod: info.ModTime()}
			}
		}
	}
	return out
}

// diffStamps lists the files added, removed or changed.
func diffStamps(old, cur map[string]fileStamp) []string {
	var out []string
	for p, s := range cur {
		if o, ok := old[p]; !ok || o != s {
			out = append(out, p)
		}
	}
	for p := range old {
		if _, ok := cur[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// rebuild builds w's function into a new binary and reloads it.
func (r *runner) rebuild(ctx context.Context, w *watched, changed []string) {
	name := w.f.fn.Name
	what := make([]string, 0, len(changed))
	for _, c := range changed {
		if rel, err := filepath.Rel(r.rc.root, c); err == nil {
			c = rel
		}
		what = append(what, c)
	}
	if len(what) > 3 {
		what = append(what[:3], fmt.Sprintf("and %d more", len(what)-3))
	}
	r.note.printf("scf-local: %s: %s changed; rebuilding ...\n", name, strings.Join(what, ", "))
	begin := time.Now()
	w.gen++
	bin := filepath.Join(r.binDir, name, fmt.Sprintf("%s.v%d", w.f.fn.Handler, w.gen+1))
	if err := scflocal.BuildLocal(ctx, w.pkg, bin); err != nil {
		if ctx.Err() == nil {
			r.note.printf("scf-local: %s: the build failed; the previous code keeps serving:\n%s\n", name, indentLines(err.Error()))
		}
		return
	}
	if err := w.f.proc.Reload(ctx, bin); err != nil {
		if ctx.Err() == nil {
			r.note.printf("scf-local: %s: the new build did not start; the previous code keeps serving:\n%s\n", name, indentLines(err.Error()))
		}
		return
	}
	r.note.printf("scf-local: %s: new code serving (pid %d), %s after the change was seen\n", name, w.f.proc.Pid(), time.Since(begin).Round(10*time.Millisecond))
	// An import added or removed changes the directories to watch. Files
	// already watched keep the stamp seen before this build, so that a
	// change made during it is still seen.
	if err := w.refreshDirs(ctx); err == nil {
		fresh := w.stamps()
		for p := range fresh {
			if old, ok := w.files[p]; ok {
				fresh[p] = old
			}
		}
		w.files = fresh
	}
}
