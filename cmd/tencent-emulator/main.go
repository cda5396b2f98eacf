// Command tencent-emulator serves the local Tencent Cloud API emulator
// (AMS, VM, TRTC, CI live moderation, SCF, CAM, STS) on one address.
//
//	go run ./cmd/tencent-emulator --demo
//	go run ./cmd/tencent-emulator --addr 127.0.0.1:9100 --rate 20 --paging offset --fault internal-error=0.05 --seed 7
//	go run ./cmd/tencent-emulator --fault latency=50ms,jitter=10ms --fault reset=0.02
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Stderr, logger, nil); err != nil {
		fmt.Fprintln(os.Stderr, "tencent-emulator:", err)
		os.Exit(2)
	}
}

// run serves until ctx is done; ready, when set, is told the address.
func run(ctx context.Context, args []string, stderr io.Writer, logger *slog.Logger, ready func(addr string)) error {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg.Options.Logger = logger
	srv := emulator.New(cfg.Options)
	if cfg.Demo {
		srv.LoadDemo()
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// Cancelled at shutdown: ends the waits of latency and slow faults.
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	logListening(logger, lis.Addr().String(), cfg, len(srv.Tasks("")))
	if ready != nil {
		ready(lis.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func logListening(logger *slog.Logger, addr string, cfg config, tasks int) {
	logger.Info("tencent emulator listening",
		slog.String("addr", addr),
		slog.String("endpoint", "http://"+addr),
		slog.String("secret_id", cfg.Options.Credentials[0].SecretID),
		slog.Bool("token_required", cfg.Options.Credentials[0].Token != ""),
		slog.String("paging", cfg.Options.Paging),
		slog.Float64("rate", cfg.Options.Rate),
		slog.Bool("demo", cfg.Demo),
		slog.Int("tasks", tasks))
}
