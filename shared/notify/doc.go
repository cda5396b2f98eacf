// Package notify posts a short account of what a run did to chat robots and
// webhooks: WeCom (企业微信) group robots, Slack incoming webhooks, or any
// endpoint that takes signed JSON.
//
// A Sender posts one Message to every configured URL, each in its own format
// (FormatFor picks it from the host when none is configured). Notifications
// never decide a run's outcome: Send has its own time budget (Budget, at most
// the caller's deadline), retries once on a network error or a 5xx answer, and
// returns an error whose text names each URL by its scheme, host and port only
// (Redact), for the caller to log and report.
//
// A notification follows no redirect: a 3xx answer is a final error saying
// where it pointed (redacted), and nothing is sent there, so a body, its
// signature and a Referer naming the original URL never leave for another
// address, and a 302 never passes for a delivery.
//
// The json format is signed with the X-Janitor-Signature scheme of package
// webhook (webhook.Sign) when a secret is set, so a receiver verifies it with
// webhook.Verifier exactly as the cancel functions verify their callers.
package notify
