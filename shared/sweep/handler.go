package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/config"
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
}

// Handler is the sweep-tasks function: func(ctx, payload) (any, error).
// Build it once in main; it keeps the rate limiters across invocations, so
// back-to-back runs share one request budget.
type Handler struct {
	opts HandlerOptions

	mu       sync.Mutex
	limiters map[float64]*tcapi.Limiters // by rate
}

// NewHandler returns the sweep-tasks handler.
func NewHandler(opts HandlerOptions) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{opts: opts, limiters: map[float64]*tcapi.Limiters{}}
}

// Handle runs one sweep. The event is a timer event (its Message, when not
// empty, is a JSON object of per-run overrides) or a direct invocation whose
// JSON object is the overrides ({} = none). HTTP events are refused with 403:
// a public URL must not be able to start a sweep. Invalid settings are an
// error naming the setting; everything that happens during the sweep is in
// the returned *Report.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	getenv := config.Getenv(scf.GetenvFunc(ctx))
	if h.opts.Level != nil {
		// A bad log level must not stop the sweeping (as in the cancel
		// functions): log at info and say why.
		level, err := config.LogLevel(getenv)
		h.opts.Level.Set(level)
		if err != nil {
			h.opts.Level.Set(slog.LevelInfo)
			h.opts.Logger.WarnContext(ctx, "invalid log level: logging at info", slog.String("error", err.Error()))
		}
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
		var body struct {
			Error struct {
				Code    string
				Message string
			}
			RequestId string
		}
		body.Error.Code = codeUnsupportedTrigger
		body.Error.Message = "sweep-tasks does not accept HTTP requests: it runs from its timer or a direct (authenticated) invocation"
		if fc, ok := scf.FromContext(ctx); ok {
			body.RequestId = fc.RequestID
		}
		return trigger.JSON(http.StatusForbidden, body), nil
	}
	set, err := LoadSettings(getenv)
	if err != nil {
		return nil, coded(codeConfiguration, fmt.Errorf("sweep-tasks settings: %w", err))
	}
	if set, err = set.Override(overrides); err != nil {
		return nil, coded(codeInvalidParameterValue, fmt.Errorf("sweep-tasks per-run overrides: %w", err))
	}
	base, err := config.LoadBase(func(key string) string {
		if key == config.EnvLogLevel {
			return "" // handled above: a typo in it must not stop the sweep
		}
		return getenv(key)
	})
	if err != nil {
		return nil, coded(codeConfiguration, fmt.Errorf("sweep-tasks: %w", err))
	}
	if err := base.RequireCredentials(); err != nil {
		return nil, coded(codeMissingCredentials, fmt.Errorf("sweep-tasks: %w", err))
	}
	cred := tcapi.Credentials{SecretID: base.SecretID, SecretKey: base.SecretKey, Token: base.SessionToken}
	clients := make(map[string]Client, len(set.Services))
	for _, svc := range set.Services {
		endpoint := base.AMSEndpoint
		if svc == "vm" {
			endpoint = base.VMEndpoint
		}
		m, err := tcapi.NewModeration(svc, cred, tcapi.Options{
			Region: base.Region, Endpoint: endpoint, Limiters: h.limitersFor(set.Rate), Transport: h.opts.Transport,
		})
		if err != nil {
			return nil, coded(codeConfiguration, fmt.Errorf("sweep-tasks: %w", err))
		}
		clients[svc] = m
	}
	sw := &Sweeper{Clients: clients, Now: h.opts.Now, Logger: h.opts.Logger}
	return sw.Run(ctx, set), nil
}

// limitersFor returns the process-wide limiters of a rate; burst 1 spaces
// requests evenly, so no one-second window of sending holds more than rate+1
// of them (arrival at the server can bunch a few more).
func (h *Handler) limitersFor(rate float64) *tcapi.Limiters {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.limiters[rate]
	if !ok {
		l = tcapi.NewLimiters(rate, 1)
		h.limiters[rate] = l
	}
	return l
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
