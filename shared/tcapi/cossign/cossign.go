// Package cossign signs Cloud Infinite and COS requests with the COS
// signature, using the official cos-go-sdk-v5 AuthorizationTransport. Pass
// Transport as tcapi.CIOptions.Signer or tcapi.COSOptions.Signer.
//
// It is a package of its own so that only a program that calls Cloud Infinite
// or COS links cos-go-sdk-v5: that module's package initialisation costs
// about 0.5 ms of every cold start, which cancel-task and stop-transcription
// do not need to pay (cancel-live-audit calls CI; sweep-tasks writes its
// report archive to COS).
package cossign

import (
	"net/http"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

// Transport returns a RoundTripper that signs each request with secretID and
// secretKey (q-sign-algorithm=sha1 in the Authorization header; a non-empty
// sessionToken travels in x-cos-security-token) and sends it through base.
func Transport(secretID, secretKey, sessionToken string, base http.RoundTripper) http.RoundTripper {
	return &cos.AuthorizationTransport{SecretID: secretID, SecretKey: secretKey, SessionToken: sessionToken, Transport: base}
}
