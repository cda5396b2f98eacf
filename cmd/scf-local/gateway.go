package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scf-janitor/scf-janitor/internal/scflocal"
	"github.com/scf-janitor/scf-janitor/shared/trigger"
)

// maxRequestBytes is SCF's limit on a synchronous invocation's request.
const maxRequestBytes = 6 << 20

// gateway turns HTTP requests into Function URL events: POST /<function> invokes it.
type gateway struct {
	r   *runner
	log *lockedWriter
	// routes maps function name -> function, for functions with an http trigger.
	routes map[string]*function
	order  []string
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	f, ok := g.routes[name]
	if !ok {
		g.notFound(w, req)
		return
	}
	// fail answers with a Tencent-shaped error and logs the invocation line.
	fail := func(status int, code, msg string, inv invocation, detail string) {
		id := writeError(w, status, code, msg, inv.requestID)
		g.log.line(f.fn.Name, "http", fmt.Sprint(status), inv.latency, id, detail)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxRequestBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		fail(http.StatusRequestEntityTooLarge, "RequestTooLarge", fmt.Sprintf("request body over %d bytes (SCF's synchronous invocation limit)", maxRequestBytes), invocation{}, "request body over 6 MB")
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "InvalidParameter", "the request body could not be read: "+err.Error(), "")
		return
	}
	ip, _, _ := net.SplitHostPort(req.RemoteAddr)
	inv, err := g.r.invoke(req.Context(), f, newURLEvent(req.Method, "/"+rest, req.Header, req.URL.Query(), body, ip), callOptions{})
	switch {
	case err != nil: // the process's last output in err goes to the terminal only
		status := http.StatusBadGateway
		if errors.Is(err, context.Canceled) {
			status = 499 // client went away
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		fail(status, "InvokeFailed", fmt.Sprintf("the function process failed during request %s; scf-local's output says why", inv.requestID), inv, "invoke failed: "+first)
		if g.r.logs == nil {
			g.log.printf("%s\n", indentLines(err.Error()))
		}
	case inv.Error != nil:
		status := http.StatusBadGateway
		if inv.Error.Type == "TimeoutError" {
			status = http.StatusGatewayTimeout
		}
		detail := inv.Error.Type + ": " + inv.Error.Message
		fail(status, "FunctionError", fmt.Sprintf("%s (request %s)", detail, inv.requestID), inv, detail)
	default:
		status := writeIntegrated(w, inv.Payload, inv.requestID)
		g.log.line(f.fn.Name, "http", fmt.Sprint(status), inv.latency, inv.requestID, req.Method+" "+req.URL.Path)
	}
}

// writeIntegrated turns a function's result into the HTTP response: an
// integrated response ({"statusCode":...,"headers":...,"body":...}) as is,
// anything else as a 200 JSON body (what a Function URL does).
func writeIntegrated(w http.ResponseWriter, payload []byte, requestID string) int {
	var resp struct {
		StatusCode      *int              `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	w.Header().Set("X-Scf-Request-Id", requestID)
	if json.Unmarshal(payload, &resp) != nil || resp.StatusCode == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
		return http.StatusOK
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeError(w, http.StatusBadGateway, "BadIntegratedResponse", "isBase64Encoded is true but body is not base64", requestID)
			return http.StatusBadGateway
		}
		body = b
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	status := *resp.StatusCode
	if status < 100 || status > 999 {
		writeError(w, http.StatusBadGateway, "BadIntegratedResponse", fmt.Sprintf("statusCode %d is not an HTTP status", status), requestID)
		return http.StatusBadGateway
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

func (g *gateway) notFound(w http.ResponseWriter, req *http.Request) {
	routes := make([]string, 0, len(g.order))
	for _, n := range g.order {
		routes = append(routes, "/"+n)
	}
	if req.URL.Path == "/" && req.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"routes": routes})
		return
	}
	writeError(w, http.StatusNotFound, "ResourceNotFound.Function",
		fmt.Sprintf("no function URL at %s; routes: %s (functions without an http trigger: use `scf-local invoke`)", req.URL.Path, strings.Join(routes, ", ")), "")
}

func indentLines(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// writeError answers with the Tencent-shaped error body
// {"Error":{"Code","Message"},"RequestId"}, without HTML escapes, and the
// request id ("": a new one) in X-Scf-Request-Id. It returns the id.
func writeError(w http.ResponseWriter, status int, code, msg, requestID string) string {
	if requestID == "" {
		requestID = scflocal.NewRequestID()
	}
	body := trigger.ErrorBody{Error: trigger.ErrorDetail{Code: code, Message: msg}, RequestId: requestID}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Scf-Request-Id", requestID)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
	return requestID
}

// lockedWriter serialises what several goroutines write to w: one line per
// invocation, scf-local's notes and (invoke) the functions' output.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) line(fn, trigger, status string, latency time.Duration, requestID, detail string) {
	l.printf("%s  %-19s %-6s %-5s %8s  %s  %s\n", time.Now().Format("15:04:05"), fn, trigger, status,
		latency.Round(time.Millisecond), requestID, detail)
}

func (l *lockedWriter) printf(format string, a ...any) { fmt.Fprintf(l, format, a...) }
