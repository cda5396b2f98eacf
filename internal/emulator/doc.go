// Package emulator is a local Tencent Cloud API emulator: one http.Handler
// serving AMS and VM (content moderation), TRTC cloud transcription and CI
// live-stream moderation, so tests and the local runner can exercise real
// clients (tencentcloud-sdk-go common, cos-go-sdk-v5) without a cloud.
//
// # Routing
//
//   - Host <bucket>.cos.<region>.myqcloud.com: COS (cos.go): PUT/GET Bucket,
//     PUT/GET Object, COS sha1 signature, any path an object key.
//   - /_emulator/...          inspection API (no authentication), see below.
//   - /video/...              CI live moderation: XML bodies, COS sha1 signature.
//   - anything else           API 3.0 (JSON, TC3-HMAC-SHA256). The service is
//     the one named in the Authorization credential scope
//     (Credential=ID/DATE/SERVICE/tc3_request): ams, vm or trtc. The
//     Host header is not used for routing.
//
// # API 3.0 (AMS 2020-12-29, VM 2020-12-29, TRTC 2019-07-22)
//
// Authentication follows the published "Signature v3" algorithm: canonical
// request = method, path, query (GET only; empty for POST), the SignedHeaders
// as lower-case "name:value\n" lines (value trimmed and lower-cased, as the
// document states; "host" is the request Host), the SignedHeaders list and
// hex SHA-256 of the body (of "UNSIGNED-PAYLOAD" when X-TC-Content-SHA256
// says so). Time checks use Options.AuthNow, which defaults to the real
// clock even when Options.Now is injected (the SDKs sign with the real
// clock), so tests can age tasks by days and still authenticate. Checks, in
// order, and their codes (all answered with HTTP 200, as Tencent answers
// errors):
//
//	Authorization / X-TC-Timestamp / X-TC-Action / X-TC-Version missing -> MissingParameter
//	Authorization malformed or not TC3-HMAC-SHA256                     -> AuthFailure.InvalidAuthorization
//	X-TC-Timestamp more than 5 minutes from AuthNow (either way)       -> AuthFailure.SignatureExpire
//	SecretId unknown                                                    -> AuthFailure.SecretIdNotFound
//	scope date != UTC date of X-TC-Timestamp, content-type or host not
//	signed, or signature mismatch                                       -> AuthFailure.SignatureFailure
//	a Token is configured and X-TC-Token differs                        -> AuthFailure.TokenFailure
//	service not ams/vm/trtc, or unknown action                          -> InvalidAction
//	X-TC-Version not the service's version                              -> NoSuchVersion
//	TRTC without X-TC-Region -> MissingParameter; a region other than
//	ap-beijing, ap-guangzhou, ap-hongkong, ap-shanghai, ap-singapore
//	(the union of the Chinese and international docs)                  -> UnsupportedRegion
//	GET, or POST whose Content-Type is not application/json             -> UnsupportedOperation
//	token bucket empty                                                  -> RequestLimitExceeded
//	parameter of the wrong JSON type / not a JSON object                -> InvalidParameter
//	parameter the action does not document (AMS/VM actions and TRTC
//	Describe/Delete; CreateCloudTranscription is lenient)               -> UnknownParameter
//
// Field names are matched case-insensitively (encoding/json); Tencent is
// probably stricter. The GET form is accepted by the verifier (it is what the
// published worked example uses) but the actions are only served over POST.
//
// AMS/VM behaviour (assumptions where Tencent does not document it):
//
//   - Lifecycle: PENDING for Options.PendingFor, then RUNNING for
//     Options.RunningFor, then FINISH, computed lazily from the clock; the
//     clock of a status starts when it was set (AddTask, Create*, CancelTask),
//     not at CreatedAt, so tasks added with an old CreatedAt keep their given
//     status for the configured durations. LIVE_AUDIO/LIVE_VIDEO tasks stay
//     RUNNING until cancelled. Task.Stuck freezes a status. A FINISH task
//     without a Suggestion gets a deterministic one from its TaskId (70% Pass,
//     20% Review, 10% Block) and one matching label.
//   - CancelTask: PENDING/RUNNING -> CANCELLED and {RequestId}; an ended task
//     (FINISH, ERROR, CANCELLED) -> plain FailedOperation (Tencent documents
//     no code for it; Options.SpecificEndedCodes answers scf-janitor's old
//     FailedOperation.TaskEnded instead); an unknown
//     TaskId (also a task of the other service) -> ResourceNotFound; no
//     TaskId -> MissingParameter.
//   - DescribeTasks: every TaskFilter field (AMS BizType is a string, VM
//     BizType an array matching any of its values; Type, Suggestion,
//     TaskStatus exact, invalid values -> InvalidParameterValue; Suggestion
//     matches FINISH tasks only). StartTime defaults to 72h before the
//     clock, EndTime to no bound; both ISO 8601 (RFC 3339), compared with
//     CreatedAt inclusively; EndTime before StartTime -> InvalidParameterValue.
//     Limit: 0/absent = 10, at most Options.MaxLimit (default 100), beyond ->
//     InvalidParameterValue. Order: newest first (CreatedAt descending, then
//     TaskId descending). Total is the size of the whole filtered set as a
//     string; PageToken is "" on the last page.
//   - Paging: Options.Paging "cursor" (default): the token names the last
//     task returned, the next page starts after it, so tasks changing status
//     never shift later pages. "offset": the token is an offset into the
//     filtered list as it is when the next page is asked for, so a task that
//     leaves the set makes the next page skip one, as a naive server would.
//     Tokens are opaque base64 and bound to the Filter (not to StartTime or
//     EndTime); a foreign, corrupted or other-mode token, or one issued for
//     another Filter -> InvalidParameterValue.
//   - DescribeTaskDetail returns the task's fields (no segments).
//   - Create{Audio,Video}ModerationTask: Type required (AUDIO|LIVE_AUDIO for
//     ams, VIDEO|LIVE_VIDEO for vm), 1..10 Tasks; each gets a Result with
//     Code "OK" and a TaskId, or an error Code and no TaskId when its Input
//     is unusable.
//   - Times are formatted 2024-10-23T08:41:07.947Z (UTC, milliseconds);
//     Task.CreatedAtRaw, when set, is returned verbatim instead.
//
// TRTC: SdkAppId 0/absent -> MissingParameter.SdkAppId, not in
// Options.SdkAppIDs -> InvalidParameter.SdkAppId; RoomId -> MissingParameter.RoomId;
// TranscriptionParam.UserId -> MissingParameter.UserId; TaskId ->
// MissingParameter.TaskId. Tasks are regional: a TaskId of another region or
// app -> ResourceNotFound. Status: Idle for PendingFor, then InProgress until
// DeleteCloudTranscription makes it Exited (it stays describable); deleting
// an Exited task -> FailedOperation (FailedOperation.TaskEnded with
// Options.SpecificEndedCodes). StartTime is epoch ms.
//
// # CI live moderation (COS signature, XML)
//
//	POST /video/auditing              create (Type must be live_video, Input.Url required)
//	GET  /video/auditing/<jobId>      query
//	POST /video/cancel_auditing/<id>  cancel -> <Response><JobsDetail><DataId/><JobId/><CreationTime/></JobsDetail><RequestId/></Response>
//
// The COS signature is verified from the Authorization header (not from
// query-string presigning): q-sign-algorithm must be sha1; q-ak an accepted
// SecretId (else 403 InvalidAccessKeyId); AuthNow must be before the end
// of q-sign-time and q-key-time (else 403 AccessDenied "Request has
// expired") and not more than 5 minutes before their start (else 403
// RequestTimeTooSkewed); the signature over exactly the headers named in
// q-header-list ("host" = request Host) and the query parameters named in
// q-url-param-list must match (else 403 SignatureDoesNotMatch); with a
// configured Token, x-cos-security-token must equal it (else 403
// AccessDenied; whether the header is itself signed is not checked). Other
// errors: <Error><Code/><Message/><RequestId/><TraceId/></Error> with 404
// ResourceNotFound (unknown job), 400 FailedOperation (cancelling a
// Success/Failed/Cancelled job; 409 FailedOperation.JobEnded with
// Options.SpecificEndedCodes), 400 InvalidArgument (bad body), 429
// RequestLimitExceeded, 405 MethodNotAllowed. States: Submitted for
// PendingFor, then Auditing until cancelled (-> Cancelled). CreationTime is
// formatted 2006-01-02T15:04:05+0800 (China Standard Time), as CI examples
// show. Stats keys: ci.CreateAuditing, ci.GetAuditing, ci.CancelAuditing.
//
// # SCF control plane and CAM (scf_control.go, cam.go)
//
// SCF 2018-04-16 GetFunction, GetFunctionAddress, CreateFunction,
// UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction,
// ListTriggers, CreateTrigger, UpdateTrigger, DeleteTrigger (timer and http
// triggers), and CAM 2019-01-16 roles, custom policies and their versions
// (CreatePolicyVersion, ListPolicyVersions, GetPolicyVersion,
// DeletePolicyVersion, SetDefaultPolicyVersion, UpdatePolicy; at most
// MaxPolicyVersions versions, then FailedOperation.PolicyVersionFull), with
// the validation the SDK models document; the files' doc comments list every
// error code, where it comes from, and the assumptions. Success answers carry
// every field of tccli's published example for the action
// (conformance_test.go checks the key sets in testdata/conformance, written
// by keysets_gen.go), and the CI answers carry every node cos-go-sdk-v5's
// result types decode that applies to a live-stream job
// (ci_conformance_test.go; testdata/conformance/ci_keysets.json lists the
// ones that do not apply, each with its reason). A function is Creating/Updating for
// Options.FunctionReadyAfter (emulator clock) and refuses updates, trigger
// changes and deletion until Active. An http trigger (Function URL) gets an
// SCF-chosen name, the URL id, and its TriggerDesc carries NetConfig with
// ExtranetUrl https://<EmulatorAppID>-<id>.<region>.tencentscf.com,
// IntranetUrl https://<EmulatorAppID>-<id>.in.<region>.tencentscf.com, their
// http:// forms, and "" for a side not enabled; UpdateTrigger keeps the id. A
// timer's 5-field cron is stored as 7 fields ("0 " + cron + " *"). An empty
// Environment.Variables list in UpdateFunctionConfiguration keeps the
// variables; [{"Key":"","Value":""}] removes them all. With
// Options.RolePropagation (--role-propagation) a role is usable by SCF only
// that long after CreateRole or AttachRolePolicy: until then CreateFunction
// and UpdateFunctionConfiguration naming it answer
// FailedOperation.CallRoleFailed. Inspection: GET /_emulator/functions,
// /_emulator/roles, /_emulator/policies; POST /_emulator/fail-next
// {"Action":"scf.CreateTrigger","Code":"InternalError","Times":1} makes the
// next call(s) of that action fail before doing anything (Server.FailNext);
// {"Action":"scf.CreateFunction","Settle":"CreateFailed"} lets the call
// succeed but the function settles in CreateFailed (StatusDesc Message,
// StatusReasons [{ErrorCode: Code, ErrorMessage: Message}]) instead of
// Active; "UpdateFailed" does the same for scf.UpdateFunctionCode and
// scf.UpdateFunctionConfiguration. A CreateFailed function can only be
// deleted; an UpdateFailed one can be updated again.
//
// # Rate limits, faults, stats
//
// Every action ("ams.CancelTask", "trtc.DeleteCloudTranscription",
// "ci.CancelAuditing", ...) has a token bucket per SecretId: Options.Rate
// per second, burst = Rate, starting full, driven by Options.Now. So with
// the default 20/s the 21st request within the same instant is throttled
// and one second later 20 pass again. A request is admitted to the bucket
// and counted after authentication and action/version/region checks.
//
// Faults (Options.Faults, SetFaults, PUT /_emulator/faults) apply to
// admitted requests, after the rate limit: first Latency plus a uniform
// fraction of Jitter (real sleeping, abandoned when the client goes away),
// then at most one of, in this order of the [0,1) line: connection reset
// (TCP RST through http.Hijacker), 502 with an nginx-like HTML body,
// InternalError (HTTP InternalErrorStatus, default 500, with a JSON or XML
// error body), a slow answer (SlowDelay, default 30s, before the normal
// response). A latency or slow-answer wait cut short (the client went away,
// or cmd/tencent-emulator is shutting down) closes the connection without
// an answer, never an empty 200. All decisions come from one PRNG seeded by Options.Seed,
// which draws two numbers per admitted request, so a given sequence of
// requests meets the same faults; concurrent requests take them in arrival
// order.
//
// # SCF Invoke API (scf 2018-04-16)
//
// Invoke {FunctionName, InvocationType RequestResponse|Event, Qualifier,
// ClientContext, LogType None|Tail, Namespace} and InvokeFunction
// {FunctionName, Qualifier ($DEFAULT), Event, LogType, Namespace} run a
// function through the Options.Invoker / SetInvoker (cmd/scf-local's runner)
// and answer Result {FunctionRequestId, Duration, BillDuration, MemUsage,
// RetMsg, ErrMsg, Log (last 4 KB, Tail), InvokeResult} as in
// tencentcloud-sdk-go scf/v20180416/models.go. Event (asynchronous) answers
// FunctionRequestId only and runs the function after answering. Errors:
// unknown function or namespace -> ResourceNotFound.Function; a Qualifier
// other than $LATEST/$DEFAULT -> ResourceNotFound.Qualifier; an event that is
// not JSON -> InvalidParameter.Payload; over 6 MB (synchronous) or 128 KB
// (asynchronous) -> InvalidParameterValue.LimitExceeded; a function process
// that failed mid-call -> FailedOperation.InvokeFunction.
//
// Stats (Server.Stats, GET /_emulator/stats) count, per action, Requests
// (admitted, throttled included), Throttled, and MaxPerSecond: the largest
// number of requests that arrived within any sliding one-second window
// (t-1s, t] of the emulator clock, throttled included.
//
// Every response carries a fresh random UUID as RequestId (API 3.0: also
// the X-TC-RequestId header; CI: also x-ci-request-id).
//
// # Inspection API (/_emulator/, JSON, no authentication)
//
//	GET  /_emulator/tasks[?service=ams|vm][&status=RUNNING]   tasks as of now (Task JSON)
//	POST /_emulator/tasks             one Task or an array; returns the stored task(s), 201
//	GET  /_emulator/live-jobs         POST /_emulator/live-jobs (LiveJob)
//	GET  /_emulator/transcriptions    POST /_emulator/transcriptions (Transcription)
//	GET  /_emulator/stats             POST /_emulator/stats/reset (204)
//	GET  /_emulator/faults            PUT  /_emulator/faults {"Latency":"50ms","Jitter":"10ms","InternalErrorRate":0.1,...}
//	POST /_emulator/demo              LoadDemo
//	GET  /_emulator/tasks?account=<uin>, GET /_emulator/stats?account=<uin>   one account's tasks / counters
//	POST /_emulator/notifications     a notification sink (any body; the query string is not kept)
//	GET  /_emulator/notifications     what it received (Notification JSON)   DELETE clears it
//	POST /_emulator/accounts          {"Uin","SecretId","SecretKey"}: accept keys of another account (AddCredential), 201
//	POST /_emulator/role-credentials  {"Service":"scf.qcloud.com","RoleArn"}: the service's temporary keys for a
//	                                  role trusting it (ServiceRoleCredential), {"TmpSecretId","TmpSecretKey","Token"};
//	                                  404 unknown role, 403 not trusted (scf-local's execution-role keys)
//	GET  /_emulator/cos/              COS buckets; PUT /_emulator/cos/<bucket>[?region=R] creates one, DELETE removes it
//	GET  /_emulator/cos/<bucket>/[?prefix=P]   its objects (COSObject JSON); /_emulator/cos/<bucket>/<key> an object's content
//
// # Accounts and STS (accounts.go, sts.go)
//
// Options.Credentials belong to the default account. AddCredential adds keys
// of another account (a uin), and STS AssumeRole (2018-08-13; fields, limits
// and codes from tencentcloud-sdk-go tencentcloud/sts/v20180813) hands out
// temporary keys (TmpSecretId, TmpSecretKey, Token) in a role's account, for
// the roles of Options.Roles / AddRole whose Trusted list names the caller's
// account (empty = any): unknown role -> ResourceNotFound.RoleNotFound, not
// trusted -> UnauthorizedOperation, RoleSessionName not 2-128 of [\w+=,.@_-]
// or RoleArn not qcs::cam::uin/<uin>:roleName/<name> -> InvalidParameter.ParamError,
// DurationSeconds over 43200 -> InvalidParameter.OverTimeError. An account
// sees and cancels only its own AMS/VM tasks (Task.Account; "" = default) and
// has its own token bucket per action shared by all its keys (the default
// account's own key pairs keep one bucket per SecretId; its role sessions'
// temporary keys, such as the ones scf-local gives each function, share
// one). Not emulated: expiry of temporary keys (Tencent's error for an expired token is not documented).
// Permission policies are checked only with Options.EnforcePolicies (see
// below); without it a role may call anything.
//
// Every API 3.0 call is scoped to the caller's account and the request's
// region, as on Tencent: SCF functions exist in one account and one region
// (another account's keys, or another X-TC-Region, get
// ResourceNotFound.Function, and may use the same name), the Invoke API runs
// only the default account's functions of scf-local's region, and TRTC apps
// (Options.SdkAppIDs) are the default account's. A request body must be one
// JSON object with nothing after it (InvalidParameter), checked before the
// policy check and the action, so both read the same request; policy
// documents are parsed as strictly before CAM stores them.
//
// CAM roles and policies belong to the caller's account (each account has
// its own names). AssumeRole also assumes a role created through CAM when
// its trust policy names the caller: qcs::cam::uin/<uin>:root (any key of
// that account) or qcs::cam::uin/<uin>:roleName/<name> (only that role's
// sessions, also written role/<id>); the action is matched as in a
// permission policy (name/sts:AssumeRole, sts:AssumeRole, sts:*, *); a
// matching deny wins and any other form allows nobody (trust.go). Server.ServiceRoleCredential gives a service's keys for a role
// trusting it (what SCF gives a function of its execution role).
// GetCallerIdentity answers AccountId (Options.AccountUin, default
// DefaultAccountUin, for the default account). A role ARN naming the default
// account's uin acts in the default account.
//
// # Permission policies (policy.go, Options.EnforcePolicies, --enforce-policies)
//
// With EnforcePolicies, a request signed with a role session's temporary
// keys (AssumeRole, ServiceRoleCredential) is served only when a policy
// attached to that CAM role allows its action on its resource: default deny,
// a matching deny wins; action a string or list with "*", "<service>:*" and
// "*" inside names, the optional "name/" prefix, the service prefix in any
// case; resource "*" or a six-segment string with "*" wildcards. Action names
// are "<service>:<Action>" (scf:InvokeFunction for Invoke and
// InvokeFunction; CI: ci:CancelAuditingJobs, ci:DescribeAuditingJobs,
// ci:CreateAuditingJobs). Resources are built for sts:AssumeRole (the
// RoleArn; a CAM role's roleName/<name> and role/<id> forms name the same
// role, so a statement naming either applies) and scf:InvokeFunction
// (qcs::scf:<region>:uin/<uin>:namespace/<ns>/function/<name>); for other
// actions only "*" or a resource ending in "*" matches. Refusal: API 3.0
// UnauthorizedOperation "You are not authorized to perform operation
// (<action>) resource (<resource>) has no permission: ..." naming the role;
// CI 403 AccessDenied. Checked after the action/version/region checks,
// before the rate limit (a refused request is not counted). Not evaluated:
// condition blocks (a statement applies as if it had none), other resource
// forms, permid feature sets, preset policies; a session of a role of
// Options.Roles / AddRole (not a CAM role) is allowed nothing. Root keys of
// any account are never checked. An attached document that does not parse
// denies everything (fail closed).
//
// Secrets (SecretKey, Token, Authorization) never appear in responses or in
// the request log, except the temporary keys that AssumeRole and
// /_emulator/role-credentials exist to hand out.
package emulator
