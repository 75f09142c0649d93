// Package auth decides who is calling: the identity whose claims fill the
// media path templates.
//
// An [Authenticator] returns a request's verified [Identity]: [OIDC] from
// a JWT, [ALB] from the header a load balancer signs, [Dev] from a header
// anyone may set (development only). [New] builds the one a [Mode] names,
// as AUTH_MODE does. A [Rule] says who may have a scope, and [AnyRule]
// turns a scope's rules into its predicate.
package auth

import (
	"errors"
	"net/http"
	"slices"
	"strings"
)

// ErrUnauthenticated is wrapped by every Authenticator error that means "no
// valid identity" (answered 401). Its detail is for logs, not for clients.
var ErrUnauthenticated = errors.New("auth: unauthenticated")

// An Authenticator returns the verified identity of a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// Identity is a verified caller: its subject and the claims the path
// templates may use.
type Identity struct {
	Subject string
	Claims  map[string]any
}

// Claim returns a claim usable in a path template: "sub" is the subject;
// other claims are used only when they are strings or integers, so a list,
// an object or a boolean never turns into a path. An integer is its exact
// decimal digits, negative ones included ("1000000", "9007199254740993",
// "-5"); a number that is not an integer written in plain decimal (1.5,
// 1.0, 1e6, -0) is refused rather than rounded or reformatted, so that two
// different values never expand to the same path.
func (id Identity) Claim(name string) (string, bool) {
	if name == "sub" {
		return id.Subject, id.Subject != ""
	}
	return claimText(id.Claims[name])
}

// DevUserHeader carries the identity in dev mode.
const DevUserHeader = "X-Dev-User"

// Dev trusts the X-Dev-User header, "dev" when absent. It exists only with
// --dev: anyone can claim any identity.
type Dev struct{}

// Authenticate implements Authenticator.
func (Dev) Authenticate(r *http.Request) (Identity, error) {
	values := r.Header.Values(DevUserHeader)
	switch len(values) {
	case 0:
		return Identity{Subject: "dev"}, nil
	case 1:
		if values[0] == "" {
			return Identity{}, unauthenticated(ReasonMalformed, "empty %s header", DevUserHeader)
		}
		return Identity{Subject: values[0]}, nil
	}
	return Identity{}, unauthenticated(ReasonMalformed, "%d %s headers", len(values), DevUserHeader)
}

// ClaimEquals reports whether claim name is v: a string claim equal to
// it, an integer claim whose decimal digits are v (as Claim has them), or
// a boolean claim that v names as "true" or "false".
func (id Identity) ClaimEquals(name, v string) bool {
	if name == "sub" {
		return id.Subject != "" && id.Subject == v
	}
	got, ok := ruleText(id.Claims[name])
	return ok && got == v
}

// ClaimContains reports whether claim name holds v: as an element of a list
// (groups, roles), compared as ClaimEquals compares, or as a word of a
// space-separated string (OAuth's scope).
func (id Identity) ClaimContains(name, v string) bool {
	switch c := id.Claims[name].(type) {
	case []any:
		for _, e := range c {
			if s, ok := ruleText(e); ok && s == v {
				return true
			}
		}
	case []string:
		return slices.Contains(c, v)
	case string:
		return slices.Contains(strings.Fields(c), v)
	}
	return false
}
