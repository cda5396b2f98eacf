package scflocal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
)

// A function's end-to-end test: build it, start it as SCF would, invoke it
// with the role's credentials in the invocation's environment, stop it.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "testfn")
	if err := scflocal.Build(ctx, "./internal/testfn", bin); err != nil {
		fmt.Println(err)
		return
	}
	p, err := scflocal.StartProcess(ctx, bin, scflocal.ProcessOptions{Env: []string{"TENCENTCLOUD_REGION=ap-guangzhou"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Stop()

	res, err := p.Invoke(ctx, scflocal.Invocation{
		Payload: []byte(`{"action":"echo"}`),
		Timeout: 3 * time.Second,
		Env:     map[string]string{"TENCENTCLOUD_SECRETID": "AKID...", "TENCENTCLOUD_SECRETKEY": "..."},
	})
	if err != nil { // transport failure: the process died, ctx ended, ...
		fmt.Println(err)
		return
	}
	if res.Error != nil { // the handler's error or panic
		fmt.Println(res.Error.Type, res.Error.Message)
		return
	}
	fmt.Println("replied", len(res.Payload) > 0)
	// Output: replied true
}
