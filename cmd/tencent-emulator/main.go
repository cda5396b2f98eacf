// Command tencent-emulator serves the local Tencent Cloud API emulator
// (AMS, VM, TRTC, CI live moderation) on one address.
//
//	go run ./cmd/tencent-emulator --demo
//	go run ./cmd/tencent-emulator --addr 127.0.0.1:9100 --rate 20 --paging offset --fault-rate 0.05 --seed 7
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := emulator.RunCommand(ctx, os.Args[1:], os.Stderr, logger); err != nil {
		fmt.Fprintln(os.Stderr, "tencent-emulator:", err)
		os.Exit(2)
	}
}
