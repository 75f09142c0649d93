package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// checkOutcome is the property both fuzz targets hold: an error wraps
// ErrUnauthenticated and does not echo the input; a success is the subject
// that only the real keys ever sign for.
func checkOutcome(t *testing.T, input string, id Identity, err error, wantSub string) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("err = %v, want ErrUnauthenticated", err)
		}
		if len(input) >= 32 && strings.Contains(err.Error(), input) {
			t.Fatalf("err echoes the input: %q", err)
		}
		return
	}
	if id.Subject != wantSub {
		t.Fatalf("accepted %q as %+v", input, id)
	}
}

// FuzzOIDCAuthorization drives an Authorization header value through
// extraction, parsing and verification against a real in-test issuer.
func FuzzOIDCAuthorization(f *testing.F) {
	is := newTestIssuer(f)
	clock := newClock()
	o := newOIDC(f, is, clock)
	now := clock.Now()

	good := signJWT(f, jose.RS256, "rsa-1", rsaKey1(), is.claims(now, nil))
	h, p, s := segments(f, good)
	for _, seed := range []string{
		"Bearer " + good,
		"bearer " + good,
		"Bearer " + signJWT(f, jose.ES256, "ec-1", ecKey1(), is.claims(now, nil)),
		"Bearer " + signJWT(f, jose.RS256, "rsa-1", rsaKey1(), is.claims(now, map[string]any{"aud": nil, "client_id": testAudience})),
		"Bearer " + signJWT(f, jose.RS256, "rsa-1", rsaOther(), is.claims(now, nil)),
		"Bearer " + signJWT(f, jose.RS256, "rsa-1", rsaKey1(), is.claims(now, map[string]any{"exp": now.Add(-time.Hour).Unix()})),
		"Bearer " + signJWT(f, jose.RS256, "rsa-1", rsaKey1(), []byte(`{"sub":`)),
		"Bearer " + b64(map[string]string{"alg": "none"}) + "." + p + ".",
		"Bearer " + b64(map[string]string{"alg": "HS256", "kid": "hmac-1"}) + "." + p + "." + s,
		"Bearer " + h + "." + p,
		"Bearer " + h + ".." + s,
		"Bearer " + strings.Repeat("A", MaxTokenBytes+1),
		"Bearer ",
		"Basic YWxpY2U6cHc=",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		id, err := o.Authenticate(oidcRequest([]string{header}, nil))
		checkOutcome(t, header, id, err, "alice")
		if err == nil && (len(header) < 7 || !strings.EqualFold(header[:7], "Bearer ")) {
			t.Fatalf("accepted a header that is not a bearer token: %q", header)
		}
	})
}

// FuzzALBData drives an x-amzn-oidc-data value through decoding, the header
// checks and verification against an in-test key endpoint.
func FuzzALBData(f *testing.F) {
	ks := newALBKeyServer(f)
	clock := newClock()
	a := newTestALB(f, ks, clock)
	now := clock.Now()

	good := mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil))
	seg := strings.Split(good, ".")
	for _, seed := range []string{
		good,
		mintALB(f, ecKey1(), base64.RawURLEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil)),
		mintALB(f, ecKey1(), base64.StdEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil)),
		mintALB(f, ecOther(), base64.URLEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil)),
		mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, map[string]any{"kid": "../x"}), albClaimsAt(now, nil)),
		mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, map[string]any{"signer": "arn:aws:x"}), albClaimsAt(now, nil)),
		mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, nil), []byte(`{"sub":`)),
		seg[0] + "." + seg[1],
		seg[0] + "==." + seg[1] + "." + seg[2],
		"",
		"...",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		id, err := a.Authenticate(albRequest(data))
		checkOutcome(t, data, id, err, "bob")
	})
}
