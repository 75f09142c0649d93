package mediacookies

import (
	"encoding/json"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// An Answer is what one issuance granted, as its JSON body says it.
type Answer struct {
	// ExpiresAt is the earliest expiry of the grants' policies, in UTC.
	ExpiresAt time.Time
	// RefreshAfter is when the client should ask again: the earliest
	// grant's expiry less a fifth of its scope's TTL, in UTC.
	RefreshAfter time.Time
	Grants       []Grant
}

// A Grant is one scope of an Answer.
type Grant struct {
	Scope      string
	Resource   string // the policy's Resource
	CookiePath string
	Expires    time.Time
}

// issuedGrant is one signed scope of an answer.
type issuedGrant[ID Identity] struct {
	scope        *scope[ID]
	resource     string
	signed       signer.Signed
	refreshAfter time.Time
}

// grantJSON returns the JSON of an answer's grant before and after its
// resource: `{"scope":NAME,"resource":` and `,"cookiePath":PATH}`.
func grantJSON(scope, cookiePath string) (head, tail []byte) {
	head = appendJSONString([]byte(`{"scope":`), scope)
	head = append(head, `,"resource":`...)
	tail = appendJSONString([]byte(`,"cookiePath":`), cookiePath)
	return head, append(tail, '}')
}

// answer returns the Answer of grants.
func answer[ID Identity](grants []issuedGrant[ID]) Answer {
	var a Answer
	a.Grants = make([]Grant, len(grants))
	for i, g := range grants {
		if i == 0 || g.signed.Expires.Before(a.ExpiresAt) {
			a.ExpiresAt = g.signed.Expires
		}
		if i == 0 || g.refreshAfter.Before(a.RefreshAfter) {
			a.RefreshAfter = g.refreshAfter
		}
		a.Grants[i] = Grant{Scope: g.scope.Name, Resource: g.resource, CookiePath: g.scope.CookiePath, Expires: g.signed.Expires}
	}
	a.ExpiresAt, a.RefreshAfter = a.ExpiresAt.UTC(), a.RefreshAfter.UTC()
	return a
}

// appendAnswer appends the JSON of a, whose grants are grants, to b as
// encoding/json's Encoder writes it (newline included):
//
//	{"expiresAt":TIME,"refreshAfter":TIME,"grants":[{"scope":NAME,"resource":URL,"cookiePath":PATH},...]}
//
// Each scope's name and cookie Path are encoded once, when the Handler is
// made; BenchmarkIssueCookies in the server measures what this saves.
func appendAnswer[ID Identity](b []byte, a *Answer, grants []issuedGrant[ID]) []byte {
	b = append(b, `{"expiresAt":"`...)
	b = a.ExpiresAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","refreshAfter":"`...)
	b = a.RefreshAfter.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","grants":[`...)
	for i, g := range grants {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, g.scope.jsonHead...)
		b = appendJSONString(b, g.resource)
		b = append(b, g.scope.jsonTail...)
	}
	return append(b, "]}\n"...)
}

// appendJSONString appends s as encoding/json writes a string (with HTML
// escaping): directly when every byte is printable ASCII that needs no
// escape, as resources built from templates are; through encoding/json
// otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
