package trigger

import (
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
	b, err := json.Marshal(v)
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
