package emulator

// scfInvokeActions are the SCF (2018-04-16) Invoke and InvokeFunction: the local Invoke API.
var scfInvokeActions = map[string]actionFunc{}
