// Package logging builds scf-janitor's structured logger: log/slog JSON lines
// on stdout (SCF collects a function's stdout into its log service), each
// record of an invocation tagged with the SCF request id and the function
// name, like aws-lambda-go's lambdacontext log handler.
//
// Build one logger in main and log with the invocation's context so the
// request id is attached:
//
//	logger := logging.New(os.Stdout, level, "cancel-task")
//	...
//	logger.InfoContext(ctx, "task cancelled", "task_id", id)
//	// {"time":"...","level":"INFO","msg":"task cancelled","function":"cancel-task","task_id":"...","request_id":"..."}
//
// Never log secrets (SecretKey, session tokens, webhook secrets,
// Authorization headers). As a second line of defence, New replaces the value
// of any attribute whose key names a secret (see IsSecretKey) with
// "[REDACTED]". Package logtest has helpers to assert that logs hold no
// secret.
package logging

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/scf-janitor/scf-janitor/shared/scf"
)

// Attribute keys added to every record.
const (
	RequestIDKey = "request_id"
	FunctionKey  = "function"
)

// Redacted replaces the value of secret-named attributes.
const Redacted = "[REDACTED]"

// New returns a JSON logger writing to w at level. Each record gets
// function (the given name, or when it is "" the FunctionName from the scf
// context) and request_id (from the scf context, when logged with one).
// Attributes whose key names a secret are redacted.
func New(w io.Writer, level slog.Leveler, function string) *slog.Logger {
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: RedactSecrets})
	h := &handler{root: inner, inner: inner, functionFromCtx: function == ""}
	if function != "" {
		return slog.New(h).With(FunctionKey, function)
	}
	return slog.New(h)
}

// NewHandler wraps inner so that every record logged with a context that
// carries an scf.FunctionContext gets a request_id attribute. request_id is
// added at the top level even inside WithGroup.
func NewHandler(inner slog.Handler) slog.Handler {
	return &handler{root: inner, inner: inner}
}

// RedactSecrets is a slog ReplaceAttr function that replaces the value of any
// attribute whose key IsSecretKey. It also redacts the secret-named entries of
// a map logged as one value (http.Header, map[string][]string,
// map[string]string, map[string]any: headers, environment maps), which the
// JSON handler would otherwise print whole, Authorization included.
func RedactSecrets(_ []string, a slog.Attr) slog.Attr {
	if IsSecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() != slog.KindAny {
		return a
	}
	switch v := a.Value.Any().(type) {
	case http.Header:
		if m, ok := redactMap(v, []string{Redacted}); ok {
			return slog.Any(a.Key, http.Header(m))
		}
	case map[string][]string:
		if m, ok := redactMap(v, []string{Redacted}); ok {
			return slog.Any(a.Key, m)
		}
	case map[string]string:
		if m, ok := redactMap(v, Redacted); ok {
			return slog.Any(a.Key, m)
		}
	case map[string]any:
		if m, ok := redactMap(v, any(Redacted)); ok {
			return slog.Any(a.Key, m)
		}
	}
	return a
}

// redactMap returns a copy of m with the values of secret-named keys replaced
// by red, and whether there were any (m itself is never modified).
func redactMap[M ~map[string]V, V any](m M, red V) (map[string]V, bool) {
	found := false
	for k := range m {
		if IsSecretKey(k) {
			found = true
			break
		}
	}
	if !found {
		return nil, false
	}
	out := make(map[string]V, len(m))
	for k, v := range m {
		if IsSecretKey(k) {
			v = red
		}
		out[k] = v
	}
	return out, true
}

// IsSecretKey reports whether an attribute key names a secret: ignoring case,
// '_', '-', '.', spaces and a plural s, it ends with secretkey, sessiontoken,
// token, secret, password or authorization (so "secret_key", "SessionToken",
// "webhook_secrets", "X-TC-Token", "Authorization" all are; "secret_id",
// "task_id" and "page_token" are not).
func IsSecretKey(key string) bool {
	k := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(key))
	if strings.HasSuffix(k, "pagetoken") { // a paging cursor, not a credential
		return false
	}
	k = strings.TrimSuffix(k, "s") // webhook_secrets, tokens
	for _, s := range []string{"secretkey", "sessiontoken", "token", "secret", "password", "authorization"} {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// handler adds request_id (and optionally function) from the scf context.
type handler struct {
	root  slog.Handler // inner before any WithGroup
	inner slog.Handler // root with ops applied
	// ops are the WithAttrs/WithGroup calls made since the first WithGroup;
	// they are replayed on root after adding request_id, so request_id stays
	// top level.
	ops             []op
	functionFromCtx bool
}

type op struct {
	group string
	attrs []slog.Attr
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	fc, ok := scf.FromContext(ctx)
	if !ok {
		return h.inner.Handle(ctx, r)
	}
	var extra []slog.Attr
	if fc.RequestID != "" {
		extra = append(extra, slog.String(RequestIDKey, fc.RequestID))
	}
	if h.functionFromCtx && fc.FunctionName != "" {
		extra = append(extra, slog.String(FunctionKey, fc.FunctionName))
	}
	if len(extra) == 0 {
		return h.inner.Handle(ctx, r)
	}
	if len(h.ops) == 0 {
		r = r.Clone()
		r.AddAttrs(extra...)
		return h.inner.Handle(ctx, r)
	}
	hh := h.root.WithAttrs(extra)
	for _, o := range h.ops {
		if o.group != "" {
			hh = hh.WithGroup(o.group)
		} else {
			hh = hh.WithAttrs(o.attrs)
		}
	}
	return hh.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.inner = h.inner.WithAttrs(attrs)
	if len(h.ops) == 0 {
		h2.root = h2.inner
	} else {
		h2.ops = append(h.ops[:len(h.ops):len(h.ops)], op{attrs: attrs})
	}
	return &h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.inner = h.inner.WithGroup(name)
	h2.ops = append(h.ops[:len(h.ops):len(h.ops)], op{group: name})
	return &h2
}
