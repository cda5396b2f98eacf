package scflocal

import (
	"strings"
	"testing"
	"time"
)

func TestOutPipeSyncAndMarkers(t *testing.T) {
	var buf tailBuffer
	buf.max = 1 << 20
	o, err := newOutPipe(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// A write the way the process makes it, then sync: the text is there, the marker is not.
	for i, chunk := range []string{"hello\n", "a\x00b\n", "\x00scflocal-sync:x\x00", "tail \x00scflocal-sy"} {
		if _, err := o.w.WriteString(chunk); err != nil {
			t.Fatal(err)
		}
		o.sync(10 * time.Second)
		got := buf.String()
		if i < 3 && !strings.HasSuffix(got, chunk) {
			t.Fatalf("after sync %d: %q, want it to end with %q", i, got, chunk)
		}
	}
	o.closeWriter()
	<-o.done
	if got, want := buf.String(), "hello\na\x00b\n\x00scflocal-sync:x\x00tail \x00scflocal-sy"; got != want {
		t.Fatalf("copied %q, want %q (markers removed, everything else kept)", got, want)
	}
}
