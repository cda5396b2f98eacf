package deploy

// Names returns the unset variables' names.
func (e *UnsetVariablesError) Names() []string {
	out := make([]string, len(e.Vars))
	for i, v := range e.Vars {
		out[i] = v.Name
	}
	return out
}
