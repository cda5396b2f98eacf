// Package emulator is a local Tencent Cloud API emulator: one http.Handler
// serving AMS, VM, TRTC, CI live moderation, COS, SCF, CAM and STS, so tests
// and the local runner can exercise the real clients (tencentcloud-sdk-go,
// cos-go-sdk-v5) without a cloud. docs/emulator.md is its reference: every
// emulated action, its validation and error codes, the inspection API
// (/_emulator/), and the assumptions made where Tencent documents nothing.
package emulator
