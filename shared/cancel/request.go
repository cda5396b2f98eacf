package cancel

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// decodeObject decodes body, which must be one JSON object, into dst (a
// pointer to a struct of json.RawMessage/pointer fields). Unknown fields,
// wrong types, trailing data and non-objects are the caller's mistake: 400.
// example is a valid body for messages.
//
// Field names must match exactly: encoding/json would also take "taskid",
// "TASKID" or a name spelled with look-alike letters that fold to the same
// (the Kelvin sign K for K, the long s ſ for s) as TaskId, and the last of
// duplicate keys. Here the first is an unknown field (UnknownParameter) and
// a duplicate key is InvalidParameter.
func decodeObject(body []byte, dst any, fields []string, example string) *Error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return badRequest(CodeMissingParameter, "the request body is empty: send a JSON object such as %s", example)
	}
	if trimmed[0] != '{' {
		return badRequest(CodeInvalidParameter, "the request body must be a JSON object such as %s, not %s", example, jsonKind(trimmed))
	}
	if e := checkKeys(trimmed, fields, example); e != nil {
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, fields, example)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest(CodeInvalidParameter, "the request body has data after the JSON object: send exactly one object such as %s", example)
	}
	return nil
}

// checkKeys reads the top-level keys of the object in body and refuses a key
// that is not exactly one of fields, or one that appears twice. Syntax
// errors are left to the decoder that follows (it reports them better).
func checkKeys(body []byte, fields []string, example string) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the '{'
		return nil
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil
		}
		if !slices.Contains(fields, key) {
			return badRequest(CodeUnknownParameter, "unknown field %q: this function accepts only %s (names are case-sensitive)",
				oneLine(key, 64), strings.Join(fields, ", "))
		}
		if seen[key] {
			return badRequest(CodeInvalidParameter, "the field %s appears more than once: send it once, as in %s", key, example)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

func decodeError(err error, fields []string, example string) *Error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return badRequest(CodeInvalidParameter, "the request body is not valid JSON (%s at byte %d): send an object such as %s", syn.Error(), syn.Offset, example)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(CodeInvalidParameter, "the request body is truncated JSON: send an object such as %s", example)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest(CodeInvalidParameter, "the request body must be a JSON object such as %s", example)
		}
		return badRequest(CodeInvalidParameter, "%s must be a %s, not a JSON %s", oneLine(field, 64), goTypeName(typ.Type.String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return badRequest(CodeUnknownParameter, "unknown field %q: this function accepts only %s", oneLine(name, 64), strings.Join(fields, ", "))
	default:
		return badRequest(CodeInvalidParameter, "the request body could not be read as JSON (%s): send an object such as %s", oneLine(err.Error(), 200), example)
	}
}

func goTypeName(t string) string {
	switch strings.TrimPrefix(t, "*") {
	case "string":
		return "string"
	case "uint64", "int", "int64":
		return "number"
	}
	return "value of the documented type"
}

func jsonKind(b []byte) string {
	switch b[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if b[0] == '-' || (b[0] >= '0' && b[0] <= '9') {
		return "a number"
	}
	return "invalid JSON"
}

// idRule says what a kind of Tencent id looks like.
type idRule struct {
	field   string // "TaskId"
	max     int
	chars   string // extra characters besides ASCII letters and digits
	example string
}

var (
	// AMS/VM task ids look like "task-audio-XwxJ4fFCEWT8Bf4g".
	moderationTaskID = idRule{field: "TaskId", max: 128, chars: "-_.", example: "task-audio-XwxJ4fFCEWT8Bf4g"}
	// CI job ids look like "av5a0f3a1e76c911ea92b05254...": they go into a
	// URL path, so nothing that could change the path is allowed.
	liveJobID = idRule{field: "JobId", max: 128, chars: "-_", example: "av14d9ca15af3a11eea6f4525400b5aa5f"}
	// TRTC task ids are long base64-like strings.
	transcriptionTaskID = idRule{field: "TaskId", max: 512, chars: "-_.+/=:", example: "-ClAKLnRyYy1jbG91ZC10cmFuc2NyaXB0aW9u..."}
)

// check validates an id field that may be absent (nil).
func (r idRule) check(v *string, how string) (string, *Error) {
	if v == nil {
		return "", badRequest(CodeMissingParameter, "%s is required: %s", r.field, how)
	}
	s := *v
	if strings.TrimSpace(s) == "" {
		return "", badRequest(CodeMissingParameter, "%s is empty: %s", r.field, how)
	}
	if len(s) > r.max {
		return "", badRequest(CodeInvalidParameterValue, "%s is %d characters long; Tencent's ids are at most %d, such as %s", r.field, len(s), r.max, r.example)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(r.chars, c) >= 0 {
			continue
		}
		return "", badRequest(CodeInvalidParameterValue, "%s contains %s at position %d; Tencent's ids contain only letters, digits and %s, such as %s",
			r.field, describeByte(s, i), i+1, quoteChars(r.chars), r.example)
	}
	return s, nil
}

func describeByte(s string, i int) string {
	if s[i] < 0x80 {
		return strconv.QuoteRune(rune(s[i]))
	}
	return "a non-ASCII character"
}

func quoteChars(chars string) string {
	q := make([]string, len(chars))
	for i := range chars {
		q[i] = strconv.QuoteRune(rune(chars[i]))
	}
	return strings.Join(q, " ")
}

// optString returns *v, or "" for nil.
func optString(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

const (
	maxBucketLen = 60
	maxRegionLen = 40
)

// validBucket reports whether s is a COS bucket name with its APPID:
// "<name>-<appid>", the name of lower-case letters, digits and inner
// hyphens, the APPID 5 to 20 digits (it goes into a host name, so nothing
// else may pass). Hand-written rather than a regexp: no init-time compile.
func validBucket(s string) bool {
	if len(s) > maxBucketLen {
		return false
	}
	dash := strings.LastIndexByte(s, '-')
	if dash <= 0 || len(s)-dash-1 < 5 || len(s)-dash-1 > 20 || !allBytes(s[dash+1:], isDigit) {
		return false
	}
	name := s[:dash]
	return name[0] != '-' && name[len(name)-1] != '-' && allBytes(name, func(c byte) bool { return isLower(c) || isDigit(c) || c == '-' })
}

// validRegion reports whether s looks like a Tencent Cloud region:
// ap-guangzhou, na-siliconvalley, ap-shanghai-fsi (2 to 4 parts, the first
// 2-8 lower-case letters, the others 2-20 lower-case letters or digits).
func validRegion(s string) bool {
	if len(s) > maxRegionLen {
		return false
	}
	parts := strings.Split(s, "-")
	if len(parts) < 2 || len(parts) > 4 || len(parts[0]) < 2 || len(parts[0]) > 8 || !allBytes(parts[0], isLower) {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 2 || len(p) > 20 || !allBytes(p, func(c byte) bool { return isLower(c) || isDigit(c) }) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// parseSdkAppID reads SdkAppId from a JSON number or a string of digits.
// present is false for an absent or null field.
func parseSdkAppID(raw json.RawMessage) (id uint64, present bool, e *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, true, badRequest(CodeInvalidParameter, "SdkAppId must be a positive integer such as 1400000000")
		}
		text = strings.TrimSpace(text)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, true, badRequest(CodeInvalidParameter, "SdkAppId must be a positive integer such as 1400000000, not %s", jsonKind(raw))
	}
	id, ok := parsePositive(text)
	if !ok {
		return 0, true, badRequest(CodeInvalidParameterValue, "SdkAppId %s is not a positive integer: use the SDKAppID of your TRTC application, such as 1400000000", oneLine(text, 32))
	}
	return id, true, nil
}

func parsePositive(s string) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}
