// Package scf is the Tencent Cloud SCF Go1 runtime for scf-janitor functions.
//
// SCF starts a Go1 function binary with $_LAMBDA_SERVER_PORT set and drives it
// over Go's net/rpc (gob encoding): "Function.Ping" to check it is up, then
// "Function.Invoke" once per event. This package implements the function side
// of that protocol (github.com/tencentyun/scf-go-lib cannot be fetched here);
// package scflocal implements the platform side for tests and local runs.
//
// A function's main is a few lines:
//
//	func main() {
//		if err := scf.Start(handler); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// Per invocation, the handler's context carries a deadline (from the
// request's Deadline) and a *FunctionContext (FromContext) with the request
// id, function name, namespace, version, region, memory and time limit.
// SCF delivers the execution role's temporary credentials in each
// invocation's Environment JSON; read every setting with Getenv(ctx, key),
// which prefers that Environment and falls back to the process environment.
// The Environment is never written into the process environment (os.Setenv
// would leak one invocation's values into the next and race).
//
// A handler error becomes InvokeResponse.Error with Type set to its code when
// it is or wraps an ErrorCoder, else to the type name of the error (under
// any fmt.Errorf %w wrapping); return an *InvokeError to choose Type yourself. A panic becomes
// an InvokeError with ShouldExit true and the stack trace; the process keeps
// serving. Invocations run one at a time, as on one SCF instance.
package scf
