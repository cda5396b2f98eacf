package trigger

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// Response is SCF's integrated HTTP response, understood by API Gateway
// (integrated response enabled) and Function URLs.
type Response struct {
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
}

// JSON returns a response with the given status whose body is v encoded as
// JSON, with Content-Type: application/json. If v cannot be encoded the
// response is a 500 with a generic JSON error body.
func JSON(status int, v any) Response {
	b, err := marshalText(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal error: response could not be encoded"}`)
	}
	return Response{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

// ErrorBody is the Tencent-shaped error body the functions answer an HTTP
// caller with: {"Error":{"Code":"...","Message":"..."},"RequestId":"..."}.
type ErrorBody struct {
	Error     ErrorDetail
	RequestId string
}

// ErrorDetail is ErrorBody's Error.
type ErrorDetail struct {
	Code    string
	Message string
}

// Error returns a response with the given status whose body is the
// Tencent-shaped error body.
func Error(status int, code, message, requestID string) Response {
	return JSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}, RequestId: requestID})
}

// marshalText is json.Marshal without HTML escaping: an error message that
// quotes "<jobId>" reads as such, not as "\u003cjobId\u003e" (the bodies are
// JSON API answers, never embedded in HTML).
func marshalText(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
