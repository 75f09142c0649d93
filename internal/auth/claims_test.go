package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestNumericClaims signs claim sets holding a number (or a boolean) as raw
// JSON, through an OIDC token and an ALB header alike, and checks what a
// path template (Claim) and a rule (ClaimEquals, ClaimContains) make of it:
// an integer is its exact decimal digits, anything else fills no template
// rather than a guess, and two different numbers never compare equal.
func TestNumericClaims(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	ks := newALBKeyServer(t)
	clock := newClock()
	o := newOIDC(t, is, clock)
	a := newTestALB(t, ks, clock)
	now := clock.Now()

	tests := []struct {
		name string
		raw  string // the JSON value of the claims tenant and, in a list, groups
		// want is what Claim, ClaimEquals and ClaimContains see; empty:
		// the value fills no template.
		want string
		// rule is the text a rule matches when the value fills no template
		// (true, false); empty: no rule text matches it.
		rule string
		// not lists rule texts that must not match.
		not []string
	}{
		{name: "a million", raw: `1000000`, want: "1000000", not: []string{"1e+06", "1e6", "1000000.0"}},
		{name: "2^53+1 keeps its last digit", raw: `9007199254740993`, want: "9007199254740993", not: []string{"9007199254740992", "9.007199254740992e+15"}},
		{name: "2^53", raw: `9007199254740992`, want: "9007199254740992", not: []string{"9007199254740993", "9.007199254740992e+15"}},
		{name: "beyond 64 bits", raw: `123456789012345678901234567890`, want: "123456789012345678901234567890", not: []string{"1.2345678901234568e+29"}},
		{name: "negative", raw: `-5`, want: "-5", not: []string{"5"}},
		{name: "zero", raw: `0`, want: "0", not: []string{"-0", "0.0"}},
		{name: "a numeric string stays a string", raw: `"9007199254740993"`, want: "9007199254740993", not: []string{"9007199254740992"}},
		{name: "fraction", raw: `1.5`, not: []string{"1.5", "1", "2"}},
		{name: "integral fraction", raw: `1.0`, not: []string{"1", "1.0"}},
		{name: "zero fraction", raw: `0.0`, not: []string{"0", "0.0"}},
		{name: "exponent", raw: `1e6`, not: []string{"1000000", "1e6", "1e+06"}},
		{name: "upper-case signed exponent", raw: `1E+06`, not: []string{"1000000", "1E+06"}},
		{name: "exponent of an integer", raw: `10e0`, not: []string{"10", "10e0"}},
		{name: "exponent that cancels a fraction", raw: `1.5e1`, not: []string{"15", "1.5e1"}},
		{name: "overflowing float64", raw: `1e400`, not: []string{"1e400", "+Inf"}},
		{name: "negative zero", raw: `-0`, not: []string{"0", "-0"}},
		{name: "negative zero fraction", raw: `-0.0`, not: []string{"0", "-0.0"}},
		{name: "true", raw: `true`, rule: "true", not: []string{"True", "1", "false"}},
		{name: "false", raw: `false`, rule: "false", not: []string{"", "0", "true"}},
		{name: "null", raw: `null`, not: []string{"", "null"}},
	}
	authenticators := []struct {
		name string
		auth func(payload string) (Identity, error)
	}{
		{"oidc", func(payload string) (Identity, error) {
			claims := fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":"alice","exp":%d,%s}`, is.URL(), testAudience, now.Unix()+300, payload)
			tok := signJWT(t, jose.RS256, "rsa-1", rsaKey1(), []byte(claims))
			return o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil))
		}},
		{"alb", func(payload string) (Identity, error) {
			claims := fmt.Sprintf(`{"sub":"bob","exp":%d,%s}`, now.Unix()+120, payload)
			tok := mintALB(t, ecKey1(), base64.URLEncoding, albHeaderAt(now, nil), []byte(claims))
			return a.Authenticate(albRequest(tok))
		}},
	}
	for _, au := range authenticators {
		for _, tt := range tests {
			t.Run(au.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				id, err := au.auth(fmt.Sprintf(`"tenant":%s,"groups":["staff",%s]`, tt.raw, tt.raw))
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				got, ok := id.Claim("tenant")
				switch {
				case tt.want == "" && ok:
					t.Errorf("Claim(tenant) of %s = %q: a value that is not an exact integer filled a template", tt.raw, got)
				case tt.want != "" && (!ok || got != tt.want):
					t.Errorf("Claim(tenant) of %s = %q, %v; want %q", tt.raw, got, ok, tt.want)
				}
				match := tt.want
				if match == "" {
					match = tt.rule
				}
				if match != "" {
					if !id.ClaimEquals("tenant", match) {
						t.Errorf("a rule equals %q does not match %s", match, tt.raw)
					}
					if !id.ClaimContains("groups", match) {
						t.Errorf("a rule contains %q does not match [\"staff\", %s]", match, tt.raw)
					}
				}
				for _, n := range tt.not {
					if id.ClaimEquals("tenant", n) {
						t.Errorf("a rule equals %q matches %s", n, tt.raw)
					}
					if id.ClaimContains("groups", n) {
						t.Errorf("a rule contains %q matches [\"staff\", %s]", n, tt.raw)
					}
				}
				if !id.ClaimContains("groups", "staff") {
					t.Errorf("the string element beside %s no longer matches", tt.raw)
				}
			})
		}
		// Not JSON at all: the token is refused whole.
		for _, raw := range []string{`007`, `+1`, `.5`, `1.`, `0x10`, `NaN`, `Infinity`} {
			t.Run(au.name+"/not JSON "+raw, func(t *testing.T) {
				t.Parallel()
				id, err := au.auth(`"tenant":` + raw)
				if !errors.Is(err, ErrUnauthenticated) || Reason(err) != ReasonMalformed {
					t.Fatalf("tenant %s: identity %+v, err %v; want refused as malformed", raw, id, err)
				}
			})
		}
	}
}

// TestClaim covers identities built in code, whose numbers may be float64
// or Go integers: a float64 fills a template only when it is an integer
// that float64 holds exactly, below 2^53 in magnitude.
func TestClaim(t *testing.T) {
	t.Parallel()
	id := Identity{Subject: "alice", Claims: map[string]any{
		"tenant": "acme", "n": float64(42), "neg": float64(-7), "big": float64(1 << 53), "below": float64(1<<53 - 1),
		"half": 1.5, "million": float64(1e6), "negzero": math.Copysign(0, -1), "i": 42, "i64": int64(-9007199254740993),
		"u64": uint64(18446744073709551615), "yes": true,
		"groups": []any{"a"}, "obj": map[string]any{},
	}}
	tests := []struct {
		name string
		want string // empty: fills no template
	}{
		{"sub", "alice"},
		{"tenant", "acme"},
		{"n", "42"},
		{"neg", "-7"},
		{"below", "9007199254740991"},
		{"million", "1000000"},
		{"i", "42"},
		{"i64", "-9007199254740993"},
		{"u64", "18446744073709551615"},
		{"big", ""}, // 2^53: it may be 2^53+1 rounded
		{"half", ""},
		{"negzero", ""},
		{"yes", ""},
		{"groups", ""},
		{"obj", ""},
		{"missing", ""},
	}
	for _, tt := range tests {
		got, ok := id.Claim(tt.name)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("Claim(%q) = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}
