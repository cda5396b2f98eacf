// Package cancel implements the three cancel functions of scf-janitor:
//
//   - cancel-task cancels an AMS (audio) or VM (video) moderation task;
//   - cancel-live-audit cancels a Cloud Infinite live-stream moderation job;
//   - stop-transcription stops a TRTC cloud transcription task.
//
// Each is a Handler whose Handle method is the SCF handler. One pipeline
// serves all three: the event is decoded (shared/trigger); an HTTP event
// (Function URL or API Gateway) must be a POST of at most 64 KiB carrying a
// valid X-Janitor-Signature (shared/webhook) before its body is parsed; the
// JSON request is parsed strictly and validated locally; the invocation's
// credentials and settings are read (scf.Getenv, per invocation); Tencent is
// called through shared/tcapi; and the outcome is mapped to an HTTP status
// with a Tencent-shaped body, or, for a direct invocation, to the same result
// JSON or an *Error.
//
// See docs/functions.md for the request and response of each function and
// the table of errors.
package cancel
