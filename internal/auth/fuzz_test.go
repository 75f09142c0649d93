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

// Fuzz inputs stay short: Go's fuzzer minimizes a new input in time that
// grows with the square of its length, and every candidate here verifies a
// signature. Whole tokens, too long to mutate cheaply, enter a template by
// name.
const maxFuzzTemplate = 128

// FuzzOIDCAuthorization drives an Authorization header value through
// extraction, parsing and verification against a real in-test issuer. The
// value is a template: $GOOD is a valid token, $H, $P and $S its header,
// payload and signature segments, and the other names the tokens below.
func FuzzOIDCAuthorization(f *testing.F) {
	is := newTestIssuer(f)
	clock := newClock()
	o := newOIDC(f, is, clock)
	now := clock.Now()

	good := signJWT(f, jose.RS256, "rsa-1", rsaKey1(), is.claims(now, nil))
	h, p, s := segments(f, good)
	expand := strings.NewReplacer(
		"$GOOD", good, "$H", h, "$P", p, "$S", s,
		"$ES256", signJWT(f, jose.ES256, "ec-1", ecKey1(), is.claims(now, nil)),
		"$CLIENTID", signJWT(f, jose.RS256, "rsa-1", rsaKey1(), is.claims(now, map[string]any{"aud": nil, "client_id": testAudience})),
		"$OTHERKEY", signJWT(f, jose.RS256, "rsa-1", rsaOther(), is.claims(now, nil)),
		"$EXPIRED", signJWT(f, jose.RS256, "rsa-1", rsaKey1(), is.claims(now, map[string]any{"exp": now.Add(-time.Hour).Unix()})),
		"$BADJSON", signJWT(f, jose.RS256, "rsa-1", rsaKey1(), []byte(`{"sub":`)),
		"$NONE", b64(map[string]string{"alg": "none"}),
		"$HMAC", b64(map[string]string{"alg": "HS256", "kid": "hmac-1"}),
		"$LONG", strings.Repeat("A", MaxTokenBytes+1),
	).Replace
	for _, seed := range []string{
		"Bearer $GOOD",
		"bearer $GOOD",
		"Bearer $ES256",
		"Bearer $CLIENTID",
		"Bearer $OTHERKEY",
		"Bearer $EXPIRED",
		"Bearer $BADJSON",
		"Bearer $NONE.$P.",
		"Bearer $HMAC.$P.$S",
		"Bearer $H.$P",
		"Bearer $H..$S",
		"Bearer $H.$P.$S",
		"Bearer $LONG",
		"Bearer ",
		"Basic YWxpY2U6cHc=",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, template string) {
		if len(template) > maxFuzzTemplate {
			return
		}
		header := expand(template)
		id, err := o.Authenticate(oidcRequest([]string{header}, nil))
		checkOutcome(t, header, id, err, "alice")
		if err == nil && (len(header) < 7 || !strings.EqualFold(header[:7], "Bearer ")) {
			t.Fatalf("accepted a header that is not a bearer token: %q", header)
		}
	})
}

// FuzzALBData drives an x-amzn-oidc-data value through decoding, the header
// checks and verification against an in-test key endpoint. The value is a
// template: $GOOD is a valid value, $H, $P and $S its three segments, and
// the other names the values below.
func FuzzALBData(f *testing.F) {
	ks := newALBKeyServer(f)
	clock := newClock()
	a := newTestALB(f, ks, clock)
	now := clock.Now()

	good := mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil))
	seg := strings.Split(good, ".")
	expand := strings.NewReplacer(
		"$GOOD", good, "$H", seg[0], "$P", seg[1], "$S", seg[2],
		"$RAWURL", mintALB(f, ecKey1(), base64.RawURLEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil)),
		"$STD", mintALB(f, ecKey1(), base64.StdEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil)),
		"$OTHERKEY", mintALB(f, ecOther(), base64.URLEncoding, albHeaderAt(now, nil), albClaimsAt(now, nil)),
		"$BADKID", mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, map[string]any{"kid": "../x"}), albClaimsAt(now, nil)),
		"$BADSIGNER", mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, map[string]any{"signer": "arn:aws:x"}), albClaimsAt(now, nil)),
		"$BADJSON", mintALB(f, ecKey1(), base64.URLEncoding, albHeaderAt(now, nil), []byte(`{"sub":`)),
	).Replace
	for _, seed := range []string{
		"$GOOD", "$RAWURL", "$STD", "$OTHERKEY", "$BADKID", "$BADSIGNER", "$BADJSON",
		"$H.$P.$S", "$H.$P", "$H==.$P.$S", "$H.$P.", "", "...",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, template string) {
		if len(template) > maxFuzzTemplate {
			return
		}
		data := expand(template)
		id, err := a.Authenticate(albRequest(data))
		checkOutcome(t, data, id, err, "bob")
	})
}
