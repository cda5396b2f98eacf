package cancel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/config"
	"github.com/scf-janitor/scf-janitor/shared/scf"
	"github.com/scf-janitor/scf-janitor/shared/tcapi"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// Function names, as deployed.
const (
	FunctionCancelTask        = "cancel-task"
	FunctionCancelLiveAudit   = "cancel-live-audit"
	FunctionStopTranscription = "stop-transcription"
)

// MaxBodySize is the largest HTTP request body accepted (413 above it).
const MaxBodySize = 64 << 10

// Settings read per invocation (see docs/functions.md).
const (
	EnvWebhookSecret = "JANITOR_WEBHOOK_SECRET" // comma-separated; several for rotation
	EnvWebhookAuth   = "JANITOR_WEBHOOK_AUTH"   // "signature" (default) or "none"
	EnvCIBucket      = "JANITOR_CI_BUCKET"
	EnvCIRegion      = "JANITOR_CI_REGION"
	EnvTRTCSdkAppID  = "JANITOR_TRTC_SDKAPPID"
	EnvTRTCRegion    = "JANITOR_TRTC_REGION"
	envRegion        = "TENCENTCLOUD_REGION"
)

// Options configure a Handler. The zero value is usable.
type Options struct {
	// Logger gets one line per invocation; nil discards.
	Logger *slog.Logger
	// Limiters pace calls to Tencent across invocations of this instance.
	// Build them once in main; nil gives each invocation private limiters.
	Limiters *tcapi.Limiters
	// Now is the clock (webhook timestamps, latency); nil means time.Now.
	Now func() time.Time
	// Client tuning passed to tcapi; zero values take tcapi's defaults.
	MaxAttempts                  int
	BaseDelay, MaxDelay, Timeout time.Duration
	Rand                         func() float64
	// COSSigner signs Cloud Infinite requests: cancel-live-audit needs it
	// (pass cossign.Transport from shared/tcapi/cossign); the other functions
	// ignore it, and do not link cos-go-sdk-v5 when their main leaves it out.
	COSSigner tcapi.COSSigner
}

// Handler is one cancel function. It is safe for concurrent use and keeps no
// state between invocations besides the shared limiters.
type Handler struct {
	function string
	opts     Options
	logger   *slog.Logger
	job      job
	clients  clients
}

// job is what differs between the three functions.
type job interface {
	// example is a request body shown in messages.
	example() string
	// prepare parses and validates a request body and resolves its defaults
	// from getenv. Errors are the caller's (400) or the deployment's (500).
	prepare(body []byte, getenv func(string) string) (*prepared, *Error)
}

// prepared is a validated request, ready to be sent.
type prepared struct {
	id     string
	target target
	// send calls Tencent. A failure to build the client is returned as an
	// *Error (configuration); a failed call as the tcapi error.
	send func(ctx context.Context, c clients, cred tcapi.Credentials, env sendEnv) (result any, requestID string, attempts int64, err error)
}

// sendEnv is what a send needs besides credentials.
type sendEnv struct {
	base config.Base
	opts Options
}

func (e sendEnv) options(region, endpoint string) tcapi.Options {
	return tcapi.Options{
		Region: region, Endpoint: endpoint, Limiters: e.opts.Limiters,
		MaxAttempts: e.opts.MaxAttempts, BaseDelay: e.opts.BaseDelay, MaxDelay: e.opts.MaxDelay,
		Timeout: e.opts.Timeout, Rand: e.opts.Rand,
	}
}

func newHandler(function string, j job, opts Options) *Handler {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{function: function, opts: opts, logger: logger, job: j, clients: tencentClients()}
}

// Function returns the function's name, such as "cancel-task".
func (h *Handler) Function() string { return h.function }

func (h *Handler) now() time.Time {
	if h.opts.Now != nil {
		return h.opts.Now()
	}
	return time.Now()
}

// record collects what the invocation's log line says.
type record struct {
	trigger, source string
	jobID           string
	status          int
	code, message   string
	tencentRID      string
	attempts        int64
}

// Handle is the SCF handler: func(ctx, payload) (any, error).
//
// For an HTTP event it always returns a trigger.Response and a nil error (the
// status says what happened). For a direct invocation it returns the result
// object, or an *Error. A timer event is refused with an *Error.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	start := h.now()
	rec := &record{}
	out, err := h.handle(ctx, payload, rec)
	h.log(ctx, rec, h.now().Sub(start))
	return out, err
}

func (h *Handler) handle(ctx context.Context, payload []byte, rec *record) (any, error) {
	ev, derr := trigger.Decode(payload)
	if derr != nil {
		msg := strings.TrimPrefix(derr.Error(), "trigger: ")
		if looksHTTP(payload) {
			rec.trigger = string(trigger.KindHTTP)
			return h.httpError(ctx, rec, badRequest(CodeInvalidParameter, "the HTTP event could not be read: %s", msg)), nil
		}
		rec.trigger = string(trigger.KindDirect)
		return nil, h.fail(rec, badRequest(CodeInvalidParameter, "%s: invoke the function with a JSON object such as %s", msg, h.job.example()))
	}
	rec.trigger = string(ev.Kind)
	switch ev.Kind {
	case trigger.KindHTTP:
		rec.source = ev.HTTP.Source
		return h.serveHTTP(ctx, ev.HTTP, rec), nil
	case trigger.KindTimer:
		return nil, h.fail(rec, &Error{Status: http.StatusBadRequest, Code: CodeUnsupportedTrigger,
			Message: h.function + " does not run on a timer (trigger " + strconv.Quote(oneLine(ev.Timer.TriggerName, 64)) +
				"): remove the timer trigger; invoke it with " + h.job.example() + " or through its Function URL, " +
				"and use sweep-tasks to cancel jobs on a schedule"})
	default:
		res, e := h.run(ctx, ev.Direct, rec)
		if e != nil {
			return nil, e
		}
		return res, nil
	}
}

// looksHTTP reports whether a payload trigger.Decode rejected was meant as an
// HTTP event, so the caller still gets an HTTP answer.
func looksHTTP(payload []byte) bool {
	var probe struct {
		RequestContext json.RawMessage `json:"requestContext"`
		HTTPMethod     json.RawMessage `json:"httpMethod"`
	}
	if json.Unmarshal(payload, &probe) != nil {
		return false
	}
	return bytes.HasPrefix(bytes.TrimSpace(probe.RequestContext), []byte("{")) || len(probe.HTTPMethod) > 0
}

func (h *Handler) serveHTTP(ctx context.Context, r *trigger.HTTPRequest, rec *record) trigger.Response {
	if r.Method != http.MethodPost {
		return h.httpError(ctx, rec, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
			Message: "use POST with a JSON body such as " + h.job.example() + ", not " + oneLine(r.Method, 16)})
	}
	if len(r.Body) > MaxBodySize {
		return h.httpError(ctx, rec, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeRequestTooLarge,
			Message: "the request body is " + strconv.Itoa(len(r.Body)) + " bytes; at most " + strconv.Itoa(MaxBodySize) + " are accepted"})
	}
	if e := h.authenticate(ctx, r); e != nil {
		return h.httpError(ctx, rec, e)
	}
	res, e := h.run(ctx, r.Body, rec)
	if e != nil {
		return h.httpError(ctx, rec, e)
	}
	rec.status = http.StatusOK
	return trigger.JSON(http.StatusOK, res)
}

// authenticate verifies the webhook signature over the raw body.
func (h *Handler) authenticate(ctx context.Context, r *trigger.HTTPRequest) *Error {
	getenv := scf.GetenvFunc(ctx)
	mode, err := config.Enum(getenv, EnvWebhookAuth, "signature", "signature", "none")
	if err != nil {
		// The caller is not authenticated yet, and an operator may have pasted
		// the secret into the wrong variable: never echo the value.
		return configError("%s is set to an invalid value (not shown): set it to signature (the default) or none", EnvWebhookAuth)
	}
	if mode == "none" {
		return nil
	}
	secrets := config.List(getenv, EnvWebhookSecret, nil)
	v := webhook.Verifier{Secrets: secrets, Now: h.opts.Now}
	err = v.Verify(r.Header.Get(webhook.Header), r.Body)
	if err == nil {
		return nil
	}
	e := &Error{Status: http.StatusUnauthorized}
	const how = "sign the raw body: " + webhook.Header + ": t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")> (see docs/functions.md)"
	switch {
	case errors.Is(err, webhook.ErrNoSecrets):
		e.Code = CodeSecretNotConfigured
		e.Message = "HTTP requests are refused because " + EnvWebhookSecret + " is not set: set it to a secret " +
			"(comma-separated to rotate) and sign requests, or set " + EnvWebhookAuth + "=none if a gateway in front already authenticates callers"
	case errors.Is(err, webhook.ErrMissing):
		e.Code, e.Message = CodeSignatureMissing, "the "+webhook.Header+" header is missing: "+how
	case errors.Is(err, webhook.ErrMalformed):
		e.Code, e.Message = CodeSignatureInvalid, err.Error()+": "+how
	case errors.Is(err, webhook.ErrExpired):
		e.Code, e.Message = CodeSignatureExpire, err.Error()
	default:
		// The usual cause: a body signed with another function's secret.
		// Named, never shown: the secrets themselves.
		e.Code, e.Message = CodeSignatureFailure, "the signature does not match the body with any secret of "+h.function+
			": each function has its own secret (its "+EnvWebhookSecret+"; this project's serverless.yml sets it from "+ownSecretVariable(h.function)+
			"), so sign with "+h.function+"'s; "+how
	}
	return e
}

// run handles one request body: parse, validate, call Tencent, map.
func (h *Handler) run(ctx context.Context, body []byte, rec *record) (any, *Error) {
	getenv := scf.SettingsGetenv(ctx)
	p, e := h.job.prepare(body, getenv)
	if e != nil {
		return nil, h.fail(rec, e)
	}
	rec.jobID = p.id
	// The log level is main's business (read once, for the logger; an invalid
	// value there is a warning): a typo in it must not stop cancellations.
	base, err := config.LoadBase(func(key string) string {
		if key == config.EnvLogLevel {
			return ""
		}
		return getenv(key)
	})
	if err != nil {
		return nil, h.fail(rec, configError("%v", err))
	}
	cred := tcapi.Credentials{SecretID: base.SecretID, SecretKey: base.SecretKey, Token: base.SessionToken}
	if strings.TrimSpace(cred.SecretID) == "" || strings.TrimSpace(cred.SecretKey) == "" {
		return nil, h.fail(rec, &Error{Status: http.StatusInternalServerError, Code: CodeMissingCredentials,
			Message: "the function has no Tencent Cloud credentials (TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY): " +
				"give it an execution role (SCF then passes the role's temporary keys to every invocation) with permission for " + p.target.permission})
	}
	wctx, cancel := withMargin(ctx)
	defer cancel()
	res, rid, attempts, err := p.send(wctx, h.clients, cred, sendEnv{base: base, opts: h.opts})
	rec.attempts = attempts
	if err != nil {
		var local *Error
		if errors.As(err, &local) {
			return nil, h.fail(rec, local)
		}
		return nil, h.fail(rec, fromTencent(err, p.target))
	}
	rec.tencentRID = rid
	rec.status = http.StatusOK
	return res, nil
}

// withMargin shortens ctx's deadline a little, so the function can still
// answer 504 itself before SCF stops the invocation.
func withMargin(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Until(dl)/10, 500*time.Millisecond)
	if margin < 0 {
		margin = 0
	}
	return context.WithDeadline(ctx, dl.Add(-margin))
}

func (h *Handler) fail(rec *record, e *Error) *Error {
	rec.status, rec.code, rec.message = e.Status, e.Code, e.Message
	if e.RequestID != "" {
		rec.tencentRID = e.RequestID
	}
	return e
}

func (h *Handler) httpError(ctx context.Context, rec *record, e *Error) trigger.Response {
	h.fail(rec, e)
	rid := e.RequestID
	if rid == "" {
		if fc, ok := scf.FromContext(ctx); ok {
			rid = fc.RequestID
		}
	}
	resp := trigger.Error(e.Status, e.Code, e.Message, rid)
	switch e.Status {
	case http.StatusMethodNotAllowed:
		resp.Headers["Allow"] = http.MethodPost
	case http.StatusTooManyRequests:
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		resp.Headers["Retry-After"] = strconv.Itoa(max(secs, 1))
	}
	return resp
}

func outcome(status int) string {
	switch status {
	case http.StatusOK:
		return "cancelled"
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "already_ended"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "throttled"
	case http.StatusInternalServerError:
		return "misconfigured"
	case http.StatusGatewayTimeout:
		return "timeout"
	}
	return "upstream_error"
}

func (h *Handler) log(ctx context.Context, rec *record, latency time.Duration) {
	level := slog.LevelInfo
	switch {
	case rec.status >= 500:
		level = slog.LevelError
	case rec.status >= 400:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("trigger", rec.trigger),
		slog.String("job_id", rec.jobID),
		slog.String("outcome", outcome(rec.status)),
		slog.Int("status", rec.status),
		slog.String("tencent_request_id", rec.tencentRID),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
	}
	if rec.source != "" {
		attrs = append(attrs, slog.String("source", rec.source))
	}
	if rec.attempts > 0 {
		attrs = append(attrs, slog.Int64("attempts", rec.attempts))
	}
	if rec.code != "" {
		attrs = append(attrs, slog.String("code", rec.code), slog.String("error", oneLine(rec.message, 512)))
	}
	h.logger.LogAttrs(ctx, level, "invocation", attrs...)
}

// ownSecretVariable is the variable this project's serverless.yml and
// .env.example give function's secret in: JANITOR_CANCEL_TASK_SECRET for
// cancel-task (see the README's settings table).
func ownSecretVariable(function string) string {
	return "JANITOR_" + strings.ToUpper(strings.ReplaceAll(function, "-", "_")) + "_SECRET"
}
