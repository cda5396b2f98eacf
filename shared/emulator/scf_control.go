package emulator

// scfControlActions are the SCF (2018-04-16) control-plane actions: functions, triggers.
var scfControlActions = map[string]actionFunc{}
