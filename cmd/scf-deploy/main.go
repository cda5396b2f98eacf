// Command scf-deploy deploys the functions of serverless.yml to Tencent Cloud
// SCF with their execution roles, timers and Function URLs:
//
//	go run ./cmd/scf-deploy [plan|apply|delete] [flags]
//
// plan (the default) prints what would change, apply makes it so, delete
// --yes removes what scf-deploy created. See docs/deploy.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv, runOptions{})
	stop()
	os.Exit(code)
}
