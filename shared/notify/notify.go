package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scf-janitor/scf-janitor/shared/webhook"
)

// Formats.
const (
	FormatWeCom = "wecom" // {"msgtype":"markdown","markdown":{"content":...}}
	FormatSlack = "slack" // {"text":...}
	FormatJSON  = "json"  // Message.Data, signed when a secret is set
)

// Formats lists the accepted formats.
var Formats = []string{FormatWeCom, FormatSlack, FormatJSON}

// Size limits of the chat formats' text.
const (
	// MaxWeComBytes: a WeCom group robot's markdown content is at most 4096
	// bytes of UTF-8 (issue 13; WeCom's robot document,
	// developer.work.weixin.qq.com/document/path/91770).
	MaxWeComBytes = 4096
	// MaxSlackBytes: Slack truncates a message's text after 40,000
	// characters (api.slack.com/methods/chat.postMessage, "Truncating
	// content"); we summarise below that instead.
	MaxSlackBytes = 40000
)

// Defaults of Sender.
const (
	DefaultBudget     = 5 * time.Second
	DefaultRetryDelay = 300 * time.Millisecond
	maxAnswer         = 64 << 10
)

// FormatFor picks the format for a URL from its host: qyapi.weixin.qq.com is
// WeCom, hooks.slack.com is Slack, anything else json.
func FormatFor(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return FormatJSON
	}
	switch h := strings.ToLower(u.Hostname()); {
	case h == "qyapi.weixin.qq.com":
		return FormatWeCom
	case h == "hooks.slack.com" || strings.HasSuffix(h, ".slack.com"):
		return FormatSlack
	}
	return FormatJSON
}

// ValidateURL checks one notification URL: absolute http(s) with a host. Its
// error shows the URL redacted.
func ValidateURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return fmt.Errorf("%s: not a URL", Redact(rawURL))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s: want an http:// or https:// URL", Redact(rawURL))
	case u.Hostname() == "":
		return fmt.Errorf("%s: no host", Redact(rawURL))
	}
	return nil
}

// Redact returns rawURL safe to show in an error, a log or a report: its
// scheme, host and port only. A webhook's secret may be anywhere else: in the
// path (Slack's /services/T.../B.../<secret>), the query (WeCom's key=...),
// the user info or the fragment. Every notification URL shown anywhere goes
// through Redact.
func Redact(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "[unparseable URL]"
	}
	return u.Scheme + "://" + u.Host
}

// scrub returns text (a panic's value) with rawURL, and each of its parts
// that Redact hides, replaced, clipped to 300 bytes.
func scrub(text, rawURL string) string {
	text = strings.ReplaceAll(text, rawURL, Redact(rawURL))
	if u, err := url.Parse(strings.TrimSpace(rawURL)); err == nil {
		secrets := []string{u.RawQuery, u.EscapedPath(), u.Path, u.Fragment}
		if u.User != nil {
			pw, _ := u.User.Password()
			secrets = append(secrets, u.User.String(), u.User.Username(), pw)
		}
		for k, vs := range u.Query() {
			secrets = append(secrets, k)
			secrets = append(secrets, vs...)
		}
		secrets = append(secrets, strings.Split(u.Path, "/")...)
		secrets = append(secrets, strings.Split(u.EscapedPath(), "/")...)
		// Longest first, so a part is replaced whole before a piece of it.
		slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
		for _, sec := range secrets {
			if len(sec) >= 4 { // shorter is no secret, and would mangle the text
				text = strings.ReplaceAll(text, sec, "[redacted]")
			}
		}
	}
	if len(text) > 300 {
		text = text[:300] + "..."
	}
	return text
}

// Message is what one notification says, in every format.
type Message struct {
	// Head is the summary lines, always sent whole (keep them short).
	Head []string
	// Items are detail lines (one per task or error), sent in order while
	// they fit the format's size limit; the rest are counted in a last line.
	Items []string
	// More is the number of items not even in Items (already summarised by
	// the caller), added to the "and N more" count.
	More int
	// Data is the json format's body (marshalled as is).
	Data any
}

// Text renders m as lines of at most max bytes in total (0 = no limit),
// never cutting a line: Head first, then as many Items as fit with room for a
// closing "... and N more" line.
func (m Message) Text(max int) string {
	var b strings.Builder
	for _, l := range m.Head {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	for i, it := range m.Items {
		left := len(m.Items) - i - 1 + m.More
		tail := 0
		if left > 0 {
			tail = len(moreLine(left))
		}
		if max > 0 && b.Len()+len(it)+1+tail > max {
			b.WriteString(moreLine(len(m.Items) - i + m.More))
			return strings.TrimRight(fitLines(b.String(), max), "\n")
		}
		b.WriteString(it)
		b.WriteByte('\n')
	}
	if m.More > 0 {
		b.WriteString(moreLine(m.More))
	}
	return strings.TrimRight(fitLines(b.String(), max), "\n")
}

func moreLine(n int) string { return fmt.Sprintf("... and %d more (see the function's log)\n", n) }

// fitLines drops whole lines from the end until s fits max bytes (only
// needed when the Head alone is too long).
func fitLines(s string, max int) string {
	for max > 0 && len(s) > max {
		i := strings.LastIndexByte(strings.TrimRight(s, "\n"), '\n')
		if i < 0 {
			return ""
		}
		s = s[:i+1]
	}
	return s
}

// Body returns the HTTP body of m in format.
func (m Message) Body(format string) ([]byte, error) {
	switch format {
	case FormatWeCom:
		var v struct {
			Msgtype  string `json:"msgtype"`
			Markdown struct {
				Content string `json:"content"`
			} `json:"markdown"`
		}
		v.Msgtype, v.Markdown.Content = "markdown", m.Text(MaxWeComBytes)
		return json.Marshal(v)
	case FormatSlack:
		// Slack's mrkdwn makes *text* bold; the lines are written with
		// WeCom's (and CommonMark's) **text**.
		return json.Marshal(struct {
			Text string `json:"text"`
		}{strings.ReplaceAll(m.Text(MaxSlackBytes), "**", "*")})
	case FormatJSON:
		return json.Marshal(m.Data)
	}
	return nil, fmt.Errorf("notify: format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// Sender posts messages. The zero value sends nothing (no URLs).
type Sender struct {
	URLs   []string
	Format string // "" = FormatFor each URL
	// Secret signs json bodies (X-Janitor-Signature); "" = unsigned.
	Secret string
	// Client sends the requests; nil = a client with the default transport.
	Client *http.Client
	Now    func() time.Time // signature time; default time.Now
	// Budget bounds one Send, retries included (default DefaultBudget); the
	// ctx deadline, when sooner, wins.
	Budget     time.Duration
	RetryDelay time.Duration // default DefaultRetryDelay
	Logger     *slog.Logger  // failures, with the URL redacted; nil = silent
}

// Send posts m to every URL, concurrently, and returns the failures joined
// (nil when all were delivered). Every error names its URL redacted.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if len(s.URLs) == 0 {
		return nil
	}
	budget := s.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	client := s.noRedirectClient()
	errs := make([]error, len(s.URLs))
	done := make(chan struct{})
	for i, u := range s.URLs {
		shown := Redact(u)
		if len(s.URLs) > 1 {
			// Redacted, two URLs of one host look alike.
			shown = fmt.Sprintf("%s (URL %d of %d)", shown, i+1, len(s.URLs))
		}
		go func() {
			defer func() { done <- struct{}{} }()
			defer func() {
				// A panic (the transport's, a Data that cannot be encoded)
				// fails this URL: in this goroutine it would crash the
				// process. The value is shown with the URL redacted.
				if v := recover(); v != nil {
					errs[i] = fmt.Errorf("notify %s: panic: %s", shown, scrub(fmt.Sprint(v), u))
				}
			}()
			errs[i] = s.sendOne(ctx, client, u, shown, m)
		}()
	}
	for range s.URLs {
		<-done
	}
	return errors.Join(errs...)
}

// noRedirectClient is Client (or a default client) that follows no redirect:
// following one would re-send the body and its signature to wherever the
// endpoint points (307/308), add a Referer holding the original URL with its
// secret, or turn the POST into a GET without a body that looks delivered
// (301/302/303). The response to the first request is what post judges.
func (s *Sender) noRedirectClient() *http.Client {
	var c http.Client
	if s.Client != nil {
		c = *s.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// sendOne sends m to rawURL (shown redacted as shown), retrying once.
func (s *Sender) sendOne(ctx context.Context, client *http.Client, rawURL, shown string, m Message) error {
	format := s.Format
	if format == "" {
		format = FormatFor(rawURL)
	}
	body, err := m.Body(format)
	if err != nil {
		return fmt.Errorf("notify %s: %w", shown, err)
	}
	delay := s.RetryDelay
	if delay <= 0 {
		delay = DefaultRetryDelay
	}
	var last error
	for attempt := 1; attempt <= 2; attempt++ {
		retry, err := s.post(ctx, client, rawURL, format, body)
		if err == nil {
			return nil
		}
		last = fmt.Errorf("notify %s (%s, attempt %d): %w", shown, format, attempt, err)
		if s.Logger != nil {
			s.Logger.WarnContext(ctx, "notification failed", slog.String("url", shown), slog.Int("attempt", attempt), slog.String("error", last.Error()))
		}
		if !retry || attempt == 2 {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return last
		case <-t.C:
		}
	}
	return last
}

// post makes one attempt; retry reports whether a failure may be retried
// (network error or 5xx). A redirect is a final failure (noRedirectClient).
func (s *Sender) post(ctx context.Context, client *http.Client, rawURL, format string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("bad URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "scf-janitor-notify")
	if format == FormatJSON && s.Secret != "" {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		req.Header.Set(webhook.Header, webhook.Sign(s.Secret, now(), body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, netError(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 500 {
		return true, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return false, redirectError(resp)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return false, robotError(format, answer)
}

// redirectError describes a 3xx answer, with where it pointed redacted.
func redirectError(resp *http.Response) error {
	const why = "not followed: a notification goes only to its configured URL; if the endpoint has moved, configure its new URL"
	loc, err := resp.Location() // resolved against the request's URL
	if err != nil {
		return fmt.Errorf("HTTP %d redirect without a Location, %s", resp.StatusCode, why)
	}
	return fmt.Errorf("HTTP %d redirect to %s %s", resp.StatusCode, Redact(loc.String()), why)
}

// robotError reads a WeCom robot's answer, which reports failures with HTTP
// 200 and {"errcode":93000,"errmsg":"invalid webhook url"}: errcode 0 is
// success (same document as MaxWeComBytes).
func robotError(format string, answer []byte) error {
	if format != FormatWeCom {
		return nil
	}
	var v struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if json.Unmarshal(answer, &v) != nil || v.ErrCode == nil || *v.ErrCode == 0 {
		return nil
	}
	msg := v.ErrMsg
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return fmt.Errorf("robot answered errcode %d: %s", *v.ErrCode, msg)
}

// netError describes a transport failure without the URL (which may hold a
// key): *url.Error prints it, so keep only its cause.
func netError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}
