// Package config reads scf-janitor's settings from environment variables.
//
// Every helper takes a Getenv, so a function reads its settings per
// invocation through scf.Getenv (the invocation's Environment first):
//
//	base, err := config.LoadBase(scf.GetenvFunc(ctx))
//
// An empty or unset variable means the default. An invalid value is an
// *Error naming the variable, the value and the accepted form, for example
//
//	JANITOR_SWEEP_MAX_AGE="abc": want a Go duration of at least 1m, such as 2h or 30m
//
// Values are trimmed of surrounding white space before parsing.
package config

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Getenv looks up an environment variable, returning "" when it is unset
// (os.Getenv, or scf.GetenvFunc(ctx) inside a function).
type Getenv func(string) string

// Error is an invalid setting.
type Error struct {
	Name  string // the variable
	Value string // its value ("" when missing, redacted for secrets)
	Want  string // the accepted form
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q: want %s", e.Name, e.Value, e.Want)
}

func lookup(getenv Getenv, name string) string {
	if getenv == nil {
		return ""
	}
	return strings.TrimSpace(getenv(name))
}

// Duration parses a Go duration (time.ParseDuration) of at least min.
func Duration(getenv Getenv, name string, def, min time.Duration) (time.Duration, error) {
	v := lookup(getenv, name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		return 0, &Error{Name: name, Value: v, Want: "a Go duration of at least " + shortDuration(min) + ", such as 2h or 30m"}
	}
	return d, nil
}

// Int parses a base-10 integer in [min, max].
func Int(getenv Getenv, name string, def, min, max int) (int, error) {
	v := lookup(getenv, name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, &Error{Name: name, Value: v, Want: fmt.Sprintf("an integer from %d to %d", min, max)}
	}
	return n, nil
}

// Float parses a finite decimal number in [min, max].
func Float(getenv Getenv, name string, def, min, max float64) (float64, error) {
	v := lookup(getenv, name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < min || f > max {
		return 0, &Error{Name: name, Value: v, Want: fmt.Sprintf("a number from %g to %g", min, max)}
	}
	return f, nil
}

// Bool parses true/false (also 1/0, yes/no, on/off; any letter case).
func Bool(getenv Getenv, name string, def bool) (bool, error) {
	v := lookup(getenv, name)
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, &Error{Name: name, Value: v, Want: "true or false"}
}

// List splits a comma-separated value, trimming items and dropping empty
// ones; unset or empty gives def.
func List(getenv Getenv, name string, def []string) []string {
	v := lookup(getenv, name)
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// Enum returns the value if it is one of allowed (compared case-insensitively,
// returned as spelled in allowed).
func Enum(getenv Getenv, name, def string, allowed ...string) (string, error) {
	v := lookup(getenv, name)
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, nil
		}
	}
	return "", &Error{Name: name, Value: v, Want: "one of " + strings.Join(allowed, ", ")}
}

// URL parses an optional base URL: http or https, a host name (with an
// optional numeric port), and no path, query, fragment or user info (the API
// clients address the service at the root of the URL, so a path would be
// silently wrong). The result has no trailing slash.
func URL(getenv Getenv, name string) (string, error) {
	v := lookup(getenv, name)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil || !numeric(u.Port()) {
		return "", &Error{Name: name, Value: DisplayURL(v), Want: "an http or https base URL without a path, such as http://127.0.0.1:9100"}
	}
	return strings.TrimRight(v, "/"), nil
}

// DisplayURL is how a URL setting is shown in an error or a log line: only
// its scheme, host, port and path. User info (the user name too), the query
// and the fragment may carry credentials and are left out; a value without a
// scheme is shown as host[:port][/path] when it looks like a host, and a
// value that does not is not shown at all.
func DisplayURL(raw string) string {
	s := strings.TrimSpace(raw)
	noScheme := !strings.Contains(s, "://")
	if noScheme {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// Unparsable, perhaps because of what precedes an @ (a password):
		// try what follows the last @ of the authority.
		scheme, rest, _ := strings.Cut(s, "://")
		auth, path, slash := strings.Cut(rest, "/")
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			after := scheme + "://" + auth[at+1:]
			if slash {
				after += "/" + path
			}
			u, err = url.Parse(after)
		}
	}
	if err != nil || u.Host == "" || u.Opaque != "" || (noScheme && !hostLike(u.Hostname())) {
		return "(not shown: not a URL)"
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
	if noScheme {
		shown = strings.TrimPrefix(shown, "http://")
	}
	return shown
}

// hostLike reports whether h looks like a host name or address (a dot, a
// colon of IPv6, or localhost), not a word such as a key pasted by mistake.
func hostLike(h string) bool {
	return strings.ContainsAny(h, ".:") || h == "localhost"
}

// numeric reports whether s is empty or all ASCII digits.
func numeric(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// shortDuration formats d without zero trailing units: 1m, 2h, 1h30m, 500ms.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
