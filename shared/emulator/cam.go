package emulator

// camActions are the CAM (2019-01-16) actions: roles and policies.
var camActions = map[string]actionFunc{}
