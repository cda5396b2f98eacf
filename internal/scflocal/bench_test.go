//go:build unix

package scflocal_test

import (
	"context"
	"testing"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

// BenchmarkInvoke measures one Function.Invoke round trip to a real function
// process over net/rpc (gob), including the Environment JSON.
func BenchmarkInvoke(b *testing.B) {
	bin := testfn(b)
	p, err := scflocal.StartProcess(context.Background(), bin, scflocal.ProcessOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Stop()
	inv := scflocal.Invocation{Payload: []byte(`{"action":"none"}`), Env: map[string]string{"TENCENTCLOUD_SECRETID": "AKID", "TENCENTCLOUD_SECRETKEY": "k"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := p.Invoke(ctx, inv)
		if err != nil || res.Error != nil {
			b.Fatalf("%v %+v", err, res.Error)
		}
	}
}

// BenchmarkColdStart measures StartProcess (exec until the first Ping) plus Stop.
func BenchmarkColdStart(b *testing.B) {
	bin := testfn(b)
	for b.Loop() {
		p, err := scflocal.StartProcess(context.Background(), bin, scflocal.ProcessOptions{})
		if err != nil {
			b.Fatal(err)
		}
		p.Stop()
	}
}
