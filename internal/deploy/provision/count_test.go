package provision

// Count returns how many changes have op and kind ("" matches any).
func (p *Plan) Count(op, kind string) int {
	n := 0
	for _, c := range p.Changes {
		if (op == "" || c.Op == op) && (kind == "" || c.Kind == kind) {
			n++
		}
	}
	return n
}
