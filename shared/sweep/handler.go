package sweep

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/logging"
	"github.com/scf-janitor/scf-janitor/shared/notify"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

// HandlerOptions configure NewHandler. The zero value is the production setup.
type HandlerOptions struct {
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default time.Now
	// Level, when set, is the logger's level: each invocation sets it from
	// JANITOR_LOG_LEVEL (info, with a warning, when the value is invalid).
	Level *slog.LevelVar
	// Transport for the Tencent clients (nil: tcapi's shared pool).
	Transport http.RoundTripper
	// COSSigner signs the report archive's COS requests (cossign.Transport
	// in functions/sweep-tasks). nil: with JANITOR_REPORT_BUCKET set, every
	// run's ReportError says the report could not be written.
	COSSigner tcapi.COSSigner
}

// Handler is the sweep-tasks function: func(ctx, payload) (any, error).
// Build it once in main; it keeps the rate limiters across invocations, so
// back-to-back runs share one request budget.
type Handler struct {
	opts HandlerOptions

	mu       sync.Mutex
	limiters map[limiterKey]*tcapi.Limiters // by account and rate
}

// NewHandler returns the sweep-tasks handler.
func NewHandler(opts HandlerOptions) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{opts: opts, limiters: map[limiterKey]*tcapi.Limiters{}}
}

// Handle runs one sweep. The event is a timer event (its Message, when not
// empty, is a JSON object of per-run overrides) or a direct invocation whose
// JSON object is the overrides ({} = none). HTTP events are refused with 403:
// a public URL must not be able to start a sweep. Invalid settings are an
// error naming the setting; everything that happens during the sweep is in
// the returned *Report.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	getenv := config.Getenv(scf.SettingsGetenv(ctx))
	if h.opts.Level != nil {
		// A bad log level must not stop the sweeping: info, and a warning.
		logging.SetLevel(ctx, h.opts.Logger, h.opts.Level, getenv)
	}
	ev, err := trigger.Decode(payload)
	if err != nil {
		return nil, coded(codeInvalidParameter, fmt.Errorf("sweep-tasks: %w", err))
	}
	var overrides []byte
	switch ev.Kind {
	case trigger.KindTimer:
		overrides = []byte(ev.Timer.Message)
	case trigger.KindDirect:
		overrides = ev.Direct
	default:
		h.opts.Logger.WarnContext(ctx, "refused an HTTP event: sweep-tasks runs from its timer or a direct invocation")
		// The Tencent-shaped error body the cancel functions answer with.
		return trigger.Error(http.StatusForbidden, codeUnsupportedTrigger,
			"sweep-tasks does not accept HTTP requests: it runs from its timer or a direct (authenticated) invocation", requestIDOf(ctx)), nil
	}
	run, err := h.load(ctx, getenv, overrides)
	if err != nil {
		return nil, err
	}
	send := notifier(run.set, run.org.notifySecret, h.opts.Transport, h.opts.Logger)
	var reserved time.Duration
	if send != nil {
		// The notification has its own budget, kept out of the sweep's time.
		send.Budget = notifyBudget(ctx)
		reserved = send.Budget
	}
	archive := h.planArchive(ctx, run.set, run.base, run.cred) // nil: no JANITOR_REPORT_BUCKET
	sweepCtx, archiveCtx, cancel := reserveTails(ctx, reserved, archive)
	defer cancel()
	rep, err := h.sweep(sweepCtx, run, overrides)
	if err != nil {
		return nil, err
	}
	if archive != nil {
		archive.write(archiveCtx, rep, h.opts.Logger)
	}
	h.notify(ctx, send, run, rep)
	return rep, nil
}

// runEnv is what one invocation runs with: its settings (overrides applied),
// the function's base settings and credentials, and the multi-account ones.
type runEnv struct {
	set  Settings
	base config.Base
	cred tcapi.Credentials
	org  orgEnv
}

// load reads and checks the invocation's settings; an error is the
// invocation's (coded for SCF's error type).
func (h *Handler) load(ctx context.Context, getenv config.Getenv, overrides []byte) (runEnv, error) {
	var run runEnv
	set, err := LoadSettings(getenv)
	if err != nil {
		return run, coded(codeConfiguration, fmt.Errorf("sweep-tasks settings: %w", err))
	}
	if run.set, err = set.Override(overrides); err != nil {
		return run, coded(codeInvalidParameterValue, fmt.Errorf("sweep-tasks per-run overrides: %w", err))
	}
	run.base, err = config.LoadBase(func(key string) string {
		if key == config.EnvLogLevel {
			return "" // handled by Handle: a typo in it must not stop the sweep
		}
		return getenv(key)
	})
	if err != nil {
		return run, coded(codeConfiguration, fmt.Errorf("sweep-tasks: %w", err))
	}
	if err := run.base.RequireCredentials(); err != nil {
		return run, coded(codeMissingCredentials, fmt.Errorf("sweep-tasks: %w", err))
	}
	run.cred = tcapi.Credentials{SecretID: run.base.SecretID, SecretKey: run.base.SecretKey, Token: run.base.SessionToken}
	if run.org, err = loadOrgEnv(ctx, getenv); err != nil {
		return run, coded(codeConfiguration, fmt.Errorf("sweep-tasks: %w", err))
	}
	return run, nil
}

// sweep runs the sweep the settings ask for: fanned out, the function's own
// account alone, or several accounts in this invocation.
func (h *Handler) sweep(ctx context.Context, run runEnv, overrides []byte) (*Report, error) {
	set, base, cred, org, log := run.set, run.base, run.cred, run.org, h.opts.Logger
	accts := accountsOf(set, org.selfID)
	switch {
	case set.Fanout == FanoutAsync:
		inv, err := tcapi.NewSCFInvoker(cred, tcapi.Options{Region: base.Region, Endpoint: org.scfEndpoint,
			Limiters: h.limitersFor(org.selfID, set.Rate), Transport: h.opts.Transport})
		if err != nil {
			return nil, coded(codeConfiguration, fmt.Errorf("sweep-tasks: %w", err))
		}
		f := &Fanout{Invoker: inv, Function: org.function, Namespace: org.namespace, Logger: log}
		return f.Run(ctx, set, accts, overrides), nil
	case len(accts) == 1 && accts[0].Role == "":
		// Only the function's own account: the single-account sweep as it
		// always was, plus its Accounts entry.
		clients, err := h.clients(cred, base, set, org.selfID)
		if err != nil {
			return nil, coded(codeConfiguration, fmt.Errorf("sweep-tasks: %w", err))
		}
		sw := &Sweeper{Clients: clients, Now: h.opts.Now, Logger: log}
		rep := sw.Run(ctx, set)
		rep.Accounts = []AccountReport{accountReport(accts[0], rep)}
		return rep, nil
	}
	m := &MultiSweep{Accounts: accts, Now: h.opts.Now, Logger: log,
		Clients: func(ctx context.Context, a Account, _ []string) (map[string]Client, error) {
			if a.Role == "" {
				return h.clients(cred, base, set, org.selfID)
			}
			acred, err := h.assumeRole(ctx, cred, base.Region, org, set, a)
			if err != nil {
				return nil, err
			}
			return h.clients(acred, base, set, a.ID)
		}}
	return m.Run(ctx, set), nil
}

// notify sends the run's notification when one of its events happened; a
// failure is the report's NotifyError, never the invocation's.
func (h *Handler) notify(ctx context.Context, send *notify.Sender, run runEnv, rep *Report) {
	if send == nil {
		return
	}
	events := matchedEvents(run.set, rep)
	if len(events) == 0 {
		return
	}
	if err := send.Send(ctx, message(run.org.function, requestIDOf(ctx), events, rep)); err != nil {
		rep.NotifyError = err.Error()
		h.opts.Logger.WarnContext(ctx, "notification not delivered", slog.String("error", rep.NotifyError))
	}
}

// requestIDOf is the invocation's request id ("" outside SCF).
func requestIDOf(ctx context.Context) string {
	if fc, ok := scf.FromContext(ctx); ok {
		return fc.RequestID
	}
	return ""
}

// clients returns the moderation clients of one account's services, with
// that account's process-wide limiters (Tencent's quota is per account).
func (h *Handler) clients(cred tcapi.Credentials, base config.Base, set Settings, account string) (map[string]Client, error) {
	clients := make(map[string]Client, len(set.Services))
	for _, svc := range set.Services {
		endpoint := base.AMSEndpoint
		if svc == "vm" {
			endpoint = base.VMEndpoint
		}
		m, err := tcapi.NewModeration(svc, cred, tcapi.Options{
			Region: base.Region, Endpoint: endpoint, Limiters: h.limitersFor(account, set.Rate), Transport: h.opts.Transport,
		})
		if err != nil {
			return nil, err
		}
		clients[svc] = m
	}
	return clients, nil
}

// roleSessionName names the sweeper's sessions in the target accounts' CAM
// logs.
const roleSessionName = "scf-janitor-sweep-tasks"

// roleDuration is the DurationSeconds asked of AssumeRole: the longest SCF
// invocation (900 s), so the keys outlive the run and no longer. Tencent's
// minimum is not documented (models.go gives the default, 7200, and the
// maximum, 43200): if it refuses 900, the error names the account.
const roleDuration = 900

// assumeRole returns temporary credentials in a's account, assumed with the
// function's own credentials.
func (h *Handler) assumeRole(ctx context.Context, cred tcapi.Credentials, region string, org orgEnv, set Settings, a Account) (tcapi.Credentials, error) {
	sts, err := tcapi.NewSTS(cred, tcapi.Options{Region: region, Endpoint: org.stsEndpoint,
		Limiters: h.limitersFor(org.selfID, set.Rate), Transport: h.opts.Transport})
	if err != nil {
		return tcapi.Credentials{}, err
	}
	out, err := sts.AssumeRole(ctx, tcapi.AssumeRoleRequest{RoleArn: a.Role, RoleSessionName: roleSessionName, DurationSeconds: roleDuration})
	if err != nil {
		return tcapi.Credentials{}, err
	}
	return out.Credentials, nil
}

// orgEnv is what the notification, account and fan-out code reads from the
// environment besides Settings.
type orgEnv struct {
	notifySecret             string // JANITOR_NOTIFY_SECRET: never overridable, never logged
	stsEndpoint, scfEndpoint string // JANITOR_STS_ENDPOINT, JANITOR_SCF_ENDPOINT
	selfID                   string // TENCENTCLOUD_UIN, else "self"
	function, namespace      string // SCF_FUNCTIONNAME (default sweep-tasks), SCF_NAMESPACE
}

// loadOrgEnv reads them; the invocation's own fields (uin, function name,
// namespace) win over the environment.
func loadOrgEnv(ctx context.Context, getenv config.Getenv) (orgEnv, error) {
	o := orgEnv{
		notifySecret: strings.TrimSpace(getenv("JANITOR_NOTIFY_SECRET")),
		selfID:       strings.TrimSpace(getenv("TENCENTCLOUD_UIN")),
		function:     strings.TrimSpace(getenv("SCF_FUNCTIONNAME")),
		namespace:    strings.TrimSpace(getenv("SCF_NAMESPACE")),
	}
	if fc, ok := scf.FromContext(ctx); ok {
		o.selfID = cmp.Or(fc.Uin, o.selfID)
		o.function = cmp.Or(fc.FunctionName, o.function)
		o.namespace = cmp.Or(fc.Namespace, o.namespace)
	}
	if o.selfID == "" {
		o.selfID = "self"
	}
	if o.function == "" {
		o.function = "sweep-tasks"
	}
	var errs []error
	var err error
	if o.stsEndpoint, err = config.URL(getenv, "JANITOR_STS_ENDPOINT"); err != nil {
		errs = append(errs, err)
	}
	if o.scfEndpoint, err = config.URL(getenv, "JANITOR_SCF_ENDPOINT"); err != nil {
		errs = append(errs, err)
	}
	return o, errors.Join(errs...)
}

// limitersFor returns the process-wide limiters of an account (its uin; a
// role in the function's own account shares its limiters) at a rate; burst 1 spaces requests evenly, so no one-second
// window of sending holds more than rate+1 of them (arrival at the server can
// bunch a few more).
func (h *Handler) limitersFor(account string, rate float64) *tcapi.Limiters {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := limiterKey{account, rate}
	l, ok := h.limiters[k]
	if !ok {
		l = tcapi.NewLimiters(rate, 1)
		h.limiters[k] = l
	}
	return l
}

type limiterKey struct {
	account string
	rate    float64
}

// Error codes of sweep-tasks' refusals, the same as the cancel functions'
// (docs/functions.md): a direct invocation's error reports its code as the
// errorType (scf.ErrorCoder), an HTTP event gets it in a Tencent-shaped body.
const (
	codeInvalidParameter      = "InvalidParameter"
	codeInvalidParameterValue = "InvalidParameterValue"
	codeUnsupportedTrigger    = "UnsupportedOperation.Trigger"
	codeConfiguration         = "InternalError.Configuration"
	codeMissingCredentials    = "InternalError.MissingCredentials"
)

// codedError is an error with a code for scf.ErrorCoder; its text is the
// wrapped error's.
type codedError struct {
	code string
	err  error
}

func coded(code string, err error) error { return &codedError{code: code, err: err} }

func (e *codedError) Error() string     { return e.err.Error() }
func (e *codedError) Unwrap() error     { return e.err }
func (e *codedError) ErrorCode() string { return e.code }
