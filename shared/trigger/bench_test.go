package trigger_test

import (
	"testing"

	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"apigw.json", "url.json", "timer.json", "console.json"} {
		payload := readEvent(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := trigger.Decode(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
