// Command scf-deploy deploys the functions of serverless.yml to Tencent Cloud
// SCF through the SCF (2018-04-16) and CAM (2019-01-16) APIs: each function's
// execution role and policy, the function (Go1, built like `make package`),
// its timer and its Function URL.
//
//	go run ./cmd/scf-deploy [plan|apply|delete] [--config serverless.yml] [--env-file .env]
//	    [--region REGION] [--only FUNCTION]... [--endpoint URL] [--sweeper-uin UIN] [--yes]
//
// plan (the default) prints what would change; apply makes it so; delete
// --yes removes what scf-deploy created. The sweeper's target accounts
// (JANITOR_SWEEP_ROLES) get their role created with their own keys,
// JANITOR_TARGET_<UIN>_SECRET_ID and _SECRET_KEY, when set; otherwise what
// to create there is printed. See docs/deploy.md.
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
