package emulator

// stsActions are the STS (2018-08-13) actions: AssumeRole.
var stsActions = map[string]actionFunc{}
