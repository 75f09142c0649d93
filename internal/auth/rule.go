package auth

// A Rule entitles a caller whose claim Equals a value (see
// Identity.ClaimEquals) or Contains it (see Identity.ClaimContains). A
// Rule with both set holds when either does; one with neither never holds.
type Rule struct {
	Claim    string
	Equals   string
	Contains string
}

// Allows reports whether r entitles id.
func (r Rule) Allows(id Identity) bool {
	return r.Equals != "" && id.ClaimEquals(r.Claim, r.Equals) ||
		r.Contains != "" && id.ClaimContains(r.Claim, r.Contains)
}

// AnyRule returns a predicate that holds for an identity when any of rules
// allows it: who may have a scope. It returns nil, which a scope reads as
// "every identified caller", when rules is empty. It keeps its own copy
// of rules.
func AnyRule(rules []Rule) func(Identity) bool {
	if len(rules) == 0 {
		return nil
	}
	rules = append([]Rule(nil), rules...)
	return func(id Identity) bool {
		for _, r := range rules {
			if r.Allows(id) {
				return true
			}
		}
		return false
	}
}
