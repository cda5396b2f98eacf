package emulator

import "sort"

// ServedAction is one API 3.0 action the emulator answers.
type ServedAction struct {
	Service string // "scf"
	Version string // "2018-04-16"
	Action  string // "ListTriggers"
}

// ServedActions lists every API 3.0 action the emulator answers, by service
// and action; the conformance test (conformance_test.go) holds each one to
// the key set of tccli's published example.
func ServedActions() []ServedAction {
	var out []ServedAction
	for svc, def := range services {
		for action := range def.actions {
			out = append(out, ServedAction{Service: svc, Version: def.version, Action: action})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Action < out[j].Action
	})
	return out
}
