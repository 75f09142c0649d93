package mediacookies

// An Identity is an authenticated caller, as [Config.Identify] finds it.
// Claim returns the text of one of its claims, for the {name}
// placeholders of the scopes' path templates; "sub" is the subject.
// Anything else the caller knows about it (groups, roles) is the
// business of [Scope.Allowed], which receives the Identity as it is.
type Identity interface {
	Claim(name string) (value string, ok bool)
}

// Claims is an Identity made of claim texts, for callers whose own
// identity type has no Claim method: Claims{"sub": "alice", "tenant":
// "acme"}. An empty value counts as absent.
type Claims map[string]string

// Claim returns c[name], if set and not empty.
func (c Claims) Claim(name string) (string, bool) {
	v, ok := c[name]
	return v, ok && v != ""
}
