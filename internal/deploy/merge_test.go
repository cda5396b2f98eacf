package deploy

import (
	"strings"
	"testing"
	"time"
)

// TestMergeKeys: a YAML merge key (<<) is read as the keys it merges, each
// checked like a key written in place.
func TestMergeKeys(t *testing.T) {
	const head = "component: multi-scf\nname: x\ninputs:\n  src: ./\n  functions:\n    a:\n      name: a\n      handler: a\n"
	c, err := Parse([]byte(head + "      <<: {memorySize: 256, timeout: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Functions[0]; f.MemoryMB != 256 || f.Timeout != 5*time.Second {
		t.Fatalf("merged keys not applied: %+v", f)
	}
	_, err = Parse([]byte(head + "      <<: {memorysize: 256}\n"))
	if err == nil || !strings.Contains(err.Error(), `line 9: unknown key "memorysize" here`) {
		t.Fatalf("a typo inside a merged mapping: %v", err)
	}
}
