// Package auth decides who is calling: the identity whose claims fill the
// media path templates.
package auth

import (
	"errors"
	"fmt"
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
// other claims are used only when they are strings or numbers, so a list or
// an object never turns into a path.
func (id Identity) Claim(name string) (string, bool) {
	if name == "sub" {
		return id.Subject, id.Subject != ""
	}
	switch v := id.Claims[name].(type) {
	case string:
		return v, true
	case float64:
		return fmt.Sprint(v), true
	case int64:
		return fmt.Sprint(v), true
	}
	return "", false
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

// ClaimEquals reports whether claim name is the string (or number) v.
func (id Identity) ClaimEquals(name, v string) bool {
	got, ok := id.Claim(name)
	return ok && got == v
}

// ClaimContains reports whether claim name holds v: as an element of a list
// (groups, roles) or as a word of a space-separated string (OAuth's scope).
func (id Identity) ClaimContains(name, v string) bool {
	switch c := id.Claims[name].(type) {
	case []any:
		for _, e := range c {
			if s, ok := e.(string); ok && s == v {
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
