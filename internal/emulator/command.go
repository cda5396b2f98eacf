package emulator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultAddr is where cmd/tencent-emulator listens by default.
const DefaultAddr = "127.0.0.1:9100"

// Validate reports the first invalid field of f.
func (f Faults) Validate() error {
	_, err := f.wire().faults()
	return err
}

// CommandConfig is the parsed command line of cmd/tencent-emulator.
type CommandConfig struct {
	Addr    string
	Demo    bool
	Options Options
}

// ParseFlags parses the tencent-emulator command line. Usage goes to out.
func ParseFlags(args []string, out io.Writer) (CommandConfig, error) {
	fs := flag.NewFlagSet("tencent-emulator", flag.ContinueOnError)
	fs.SetOutput(out)
	var (
		cfg      CommandConfig
		cred     Credential
		f        Faults
		apps     string
		seed     int64
		rate     float64
		paging   string
		maxLimit int
		pending  time.Duration
		running  time.Duration
		specific bool
	)
	fs.StringVar(&cfg.Addr, "addr", DefaultAddr, "listen address")
	fs.BoolVar(&cfg.Demo, "demo", false, "load the demo data set (a few hundred tasks, live jobs, transcriptions)")
	fs.StringVar(&cred.SecretID, "secret-id", DefaultSecretID, "accepted SecretId")
	fs.StringVar(&cred.SecretKey, "secret-key", DefaultSecretKey, "accepted SecretKey")
	fs.StringVar(&cred.Token, "token", "", "required session token (X-TC-Token / x-cos-security-token); empty accepts any")
	fs.Float64Var(&rate, "rate", DefaultRate, "requests per second per action per SecretId (burst = rate); negative disables")
	fs.StringVar(&paging, "paging", PagingCursor, "DescribeTasks paging mode: cursor or offset")
	fs.IntVar(&maxLimit, "max-limit", DefaultMaxLimit, "largest DescribeTasks Limit accepted")
	fs.DurationVar(&pending, "pending-for", DefaultPendingFor, "how long new tasks stay PENDING (negative: forever)")
	fs.DurationVar(&running, "running-for", DefaultRunningFor, "how long non-live tasks stay RUNNING (negative: forever)")
	fs.StringVar(&apps, "sdk-app-ids", strconv.FormatUint(DefaultSdkAppID, 10), "comma-separated known TRTC SdkAppIds")
	fs.DurationVar(&f.Latency, "latency", 0, "added latency per request")
	fs.DurationVar(&f.Jitter, "jitter", 0, "up to this much extra random latency")
	fs.Float64Var(&f.InternalErrorRate, "fault-rate", 0, "fraction of requests answered InternalError (HTTP 500)")
	fs.Float64Var(&f.BadGatewayRate, "bad-gateway-rate", 0, "fraction of requests answered 502 with an HTML body")
	fs.Float64Var(&f.ResetRate, "reset-rate", 0, "fraction of requests whose connection is reset")
	fs.Float64Var(&f.SlowRate, "slow-rate", 0, "fraction of requests answered only after --slow-delay")
	fs.DurationVar(&f.SlowDelay, "slow-delay", DefaultSlowDelay, "delay of a slow response")
	fs.Int64Var(&seed, "seed", 1, "seed of fault decisions, generated ids and the demo data")
	fs.BoolVar(&specific, "specific-ended-codes", false, "answer a cancel of an ended job with FailedOperation.TaskEnded / 409 FailedOperation.JobEnded "+
		"(scf-janitor's old codes) instead of plain FailedOperation (Tencent's real code is undocumented)")
	var enforce bool
	fs.BoolVar(&enforce, "enforce-policies", false, "refuse a role session's request unless a permission policy attached to its role allows the action "+
		"(CAM semantics: default deny, explicit deny wins; conditions are not evaluated); root keys are never checked")
	var roleList string
	var rolePropagation time.Duration
	fs.DurationVar(&rolePropagation, "role-propagation", 0, "how long after CreateRole / AttachRolePolicy a role is usable by SCF "+
		"(CreateFunction / UpdateFunctionConfiguration answer FailedOperation.CallRoleFailed before then); 0 = at once")
	fs.StringVar(&roleList, "roles", "", "comma-separated role `ARNs` (qcs::cam::uin/<uin>:roleName/<name>) any account may assume with STS AssumeRole")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if paging != PagingCursor && paging != PagingOffset {
		return cfg, fmt.Errorf("--paging %q: want cursor or offset", paging)
	}
	if maxLimit < 1 {
		return cfg, fmt.Errorf("--max-limit %d: want at least 1", maxLimit)
	}
	if rolePropagation < 0 {
		return cfg, fmt.Errorf("--role-propagation %s: want 0 or more", rolePropagation)
	}
	if rate == 0 {
		return cfg, errors.New("--rate 0: want a positive rate, or a negative one to disable limiting")
	}
	if cred.SecretID == "" || cred.SecretKey == "" {
		return cfg, errors.New("--secret-id and --secret-key must not be empty")
	}
	if err := f.Validate(); err != nil {
		return cfg, fmt.Errorf("faults: %w", err)
	}
	var ids []uint64
	for _, p := range strings.Split(apps, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		id, err := strconv.ParseUint(p, 10, 64)
		if err != nil || id == 0 {
			return cfg, fmt.Errorf("--sdk-app-ids: %q is not a positive integer", p)
		}
		ids = append(ids, id)
	}
	var roles []Role
	for _, arn := range strings.Split(roleList, ",") {
		if arn = strings.TrimSpace(arn); arn == "" {
			continue
		}
		if roleAccount(arn) == "" {
			return cfg, fmt.Errorf("--roles: %q is not a role ARN such as qcs::cam::uin/100000000002:roleName/JanitorSweepTargetRole", arn)
		}
		roles = append(roles, Role{Arn: arn})
	}
	cfg.Options = Options{
		Credentials: []Credential{cred}, Rate: rate, Paging: paging, MaxLimit: maxLimit,
		PendingFor: pending, RunningFor: running, SdkAppIDs: ids, Faults: f, Seed: seed, Roles: roles,
		SpecificEndedCodes: specific, EnforcePolicies: enforce, RolePropagation: rolePropagation,
	}
	return cfg, nil
}

// RunCommand runs cmd/tencent-emulator: parse args (usage and flag errors
// go to stderr), serve until ctx is done, then shut down gracefully. logger
// receives one record per request.
func RunCommand(ctx context.Context, args []string, stderr io.Writer, logger *slog.Logger) error {
	return runCommand(ctx, args, stderr, logger, nil)
}

func runCommand(ctx context.Context, args []string, stderr io.Writer, logger *slog.Logger, ready func(addr string)) error {
	cfg, err := ParseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg.Options.Logger = logger
	srv := New(cfg.Options)
	if cfg.Demo {
		srv.LoadDemo()
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// Requests held back by injected latency or a slow-response fault wait
	// on their context; cancelling the base context at shutdown ends those
	// waits (the client's connection is closed without an answer), so a
	// --slow-delay of minutes does not hold the process up.
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	logger.Info("tencent emulator listening",
		slog.String("addr", lis.Addr().String()),
		slog.String("endpoint", "http://"+lis.Addr().String()),
		slog.String("secret_id", cfg.Options.Credentials[0].SecretID),
		slog.Bool("token_required", cfg.Options.Credentials[0].Token != ""),
		slog.String("paging", cfg.Options.Paging),
		slog.Float64("rate", cfg.Options.Rate),
		slog.Bool("demo", cfg.Demo),
		slog.Int("tasks", len(srv.Tasks(""))))
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
