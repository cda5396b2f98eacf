// Package tcapi is scf-janitor's Tencent Cloud client layer.
//
// API 3.0 services (AMS, VM, TRTC) are called through the official SDK's
// generic client (common.NewCommonClient + tchttp.NewCommonRequest) with
// typed request/response structs of our own, because the per-product SDK
// modules cannot be fetched. Cloud Infinite (CI) live moderation is called
// over plain HTTP, signed by cos-go-sdk-v5's AuthorizationTransport.
//
// Every call shares one policy: a per service+action rate limiter
// (golang.org/x/time/rate, 20/s by default), context-aware retries with
// exponential backoff and full jitter for transient failures only
// (RequestLimitExceeded*, InternalError*, ResourceUnavailable*, network
// errors, 5xx/non-JSON answers), never sleeping past the context deadline,
// and one error type, *Error, that keeps Tencent's Code, Message and
// RequestId and never contains a secret.
//
// Creating calls (Create* actions, CI CreateLiveAudit) are retried only when
// the server refused them unprocessed (RequestLimitExceeded, HTTP 429): after
// a network error, an InternalError or a 5xx the resource may already exist,
// and a blind retry would create a second one.
package tcapi
