package auth

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// oidcRequest builds a request carrying Authorization headers and AUTH cookies.
func oidcRequest(auth []string, cookies []string) *http.Request {
	r := httptest.NewRequest("POST", "/auth/media-cookies", nil)
	for _, h := range auth {
		r.Header.Add("Authorization", h)
	}
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: "AUTH", Value: c})
	}
	return r
}

func TestOIDCAuthenticate(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	clock := newClock()
	o := newOIDC(t, is, clock)
	now := clock.Now()

	claims := func(edits map[string]any) map[string]any { return is.claims(now, edits) }
	rs := func(c map[string]any) string { return signJWT(t, jose.RS256, "rsa-1", rsaKey1(), c) }

	good := rs(claims(nil))
	goodHeader, goodPayload, goodSig := segments(t, good)

	// HS256 over the header and payload, keyed with the issuer's RSA public
	// key in PEM: the classic algorithm-confusion forgery.
	hs256 := func(kid string, secret []byte) string {
		input := b64(map[string]string{"alg": "HS256", "kid": kid, "typ": "JWT"}) + "." + goodPayload
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}

	tests := []struct {
		name    string
		auth    []string // Authorization header values
		cookies []string // AUTH cookie values
		wantSub string   // empty: must be refused
		detail  string   // refused: a word of the reason, so the row fails for the right cause
		reason  string   // refused: what Reason says
	}{
		// Accepted.
		{name: "bearer RS256", auth: []string{"Bearer " + good}, wantSub: "alice"},
		{name: "bearer ES256", auth: []string{"Bearer " + signJWT(t, jose.ES256, "ec-1", ecKey1(), claims(nil))}, wantSub: "alice"},
		{name: "scheme in any case", auth: []string{"bEARER " + good}, wantSub: "alice"},
		{name: "auth cookie", cookies: []string{good}, wantSub: "alice"},
		{name: "cognito access token: client_id, no aud", wantSub: "alice", auth: []string{"Bearer " + rs(claims(map[string]any{
			"aud": nil, "client_id": testAudience, "token_use": "access", "scope": "openid",
		}))}},
		{name: "aud list holding the audience, azp it", auth: []string{"Bearer " + rs(claims(map[string]any{"aud": []string{"other", testAudience}, "azp": testAudience}))}, wantSub: "alice"},
		{name: "expired within leeway", auth: []string{"Bearer " + rs(claims(map[string]any{"exp": now.Add(-30 * time.Second).Unix()}))}, wantSub: "alice"},
		{name: "nbf within leeway", auth: []string{"Bearer " + rs(claims(map[string]any{"nbf": now.Add(30 * time.Second).Unix()}))}, wantSub: "alice"},
		{name: "header wins over cookie", auth: []string{"Bearer " + good}, cookies: []string{"garbage"}, wantSub: "alice"},

		// Refused.
		{name: "no token", detail: "no bearer token", reason: ReasonMissing},
		{name: "empty bearer", auth: []string{"Bearer "}, detail: "empty token", reason: ReasonMalformed},
		{name: "basic scheme", auth: []string{"Basic YWxpY2U6cHc="}, detail: "not \"Bearer", reason: ReasonMalformed},
		{name: "bearer without space", auth: []string{"Bearer" + good}, detail: "not \"Bearer", reason: ReasonMalformed},
		{name: "two spaces", auth: []string{"Bearer  " + good}, detail: "outside base64url", reason: ReasonMalformed},
		{name: "two tokens in one header", auth: []string{"Bearer " + good + ", Bearer " + good}, detail: "outside base64url", reason: ReasonMalformed},
		{name: "two Authorization headers", auth: []string{"Bearer " + good, "Bearer " + good}, detail: "2 Authorization headers", reason: ReasonMalformed},
		{name: "bad header does not fall back to cookie", auth: []string{"Token " + good}, cookies: []string{good}, detail: "not \"Bearer", reason: ReasonMalformed},
		{name: "two auth cookies", cookies: []string{good, good}, detail: "2 AUTH cookies", reason: ReasonMalformed},
		{name: "signed by another key under a known kid", auth: []string{"Bearer " + signJWT(t, jose.RS256, "rsa-1", rsaOther(), claims(nil))}, detail: "signature", reason: ReasonBadSignature},
		{name: "payload swapped under a good signature", auth: []string{"Bearer " + goodHeader + "." + b64(claims(map[string]any{"sub": "mallory"})) + "." + goodSig}, detail: "signature", reason: ReasonBadSignature},
		{name: "signature stripped", auth: []string{"Bearer " + goodHeader + "." + goodPayload + "."}, detail: "signature", reason: ReasonBadSignature},
		{name: "alg none", auth: []string{"Bearer " + b64(map[string]string{"alg": "none", "kid": "rsa-1"}) + "." + goodPayload + "."}, detail: "none", reason: ReasonMalformed},
		{name: "HS256 keyed with the RSA public key", auth: []string{"Bearer " + hs256("rsa-1", publicPEM(t, rsaKey1().Public()))}, detail: "HS256", reason: ReasonMalformed},
		{name: "HS256 with the published oct key", auth: []string{"Bearer " + hs256("hmac-1", []byte(hmacSecret))}, detail: "HS256", reason: ReasonMalformed},
		{name: "wrong iss", auth: []string{"Bearer " + rs(claims(map[string]any{"iss": "https://evil.example.com"}))}, detail: "different provider", reason: ReasonWrongIssuerOrAudience},
		{name: "wrong aud", auth: []string{"Bearer " + rs(claims(map[string]any{"aud": "other-app"}))}, detail: "aud", reason: ReasonWrongIssuerOrAudience},
		{name: "wrong aud, right client_id", auth: []string{"Bearer " + rs(claims(map[string]any{"aud": "other-app", "client_id": testAudience}))}, detail: "aud", reason: ReasonWrongIssuerOrAudience},
		{name: "aud list holding the audience, no azp", auth: []string{"Bearer " + rs(claims(map[string]any{"aud": []string{"other", testAudience}}))}, detail: "no azp", reason: ReasonWrongIssuerOrAudience},
		{name: "aud list holding the audience, azp another client", auth: []string{"Bearer " + rs(claims(map[string]any{"aud": []string{"other", testAudience}, "azp": "other"}))}, detail: "azp", reason: ReasonWrongIssuerOrAudience},
		{name: "no aud, wrong client_id", auth: []string{"Bearer " + rs(claims(map[string]any{"aud": nil, "client_id": "other-app"}))}, detail: "client_id", reason: ReasonWrongIssuerOrAudience},
		{name: "neither aud nor client_id", auth: []string{"Bearer " + rs(claims(map[string]any{"aud": nil}))}, detail: "neither aud", reason: ReasonWrongIssuerOrAudience},
		{name: "expired", auth: []string{"Bearer " + rs(claims(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}))}, detail: "expired", reason: ReasonExpired},
		{name: "no exp", auth: []string{"Bearer " + rs(claims(map[string]any{"exp": nil}))}, detail: "no exp", reason: ReasonMalformed},
		{name: "not yet valid", auth: []string{"Bearer " + rs(claims(map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}))}, detail: "not valid for another", reason: ReasonExpired},
		{name: "no sub", auth: []string{"Bearer " + rs(claims(map[string]any{"sub": nil}))}, detail: "no sub", reason: ReasonMalformed},
		{name: "unknown kid", auth: []string{"Bearer " + signJWT(t, jose.RS256, "rsa-9", rsaOther(), claims(nil))}, detail: "unknown key id", reason: ReasonUnknownKey},
		{name: "malformed base64", auth: []string{"Bearer " + goodHeader + ".e." + goodSig}, detail: "malformed", reason: ReasonMalformed},
		{name: "malformed payload JSON under a good signature", auth: []string{"Bearer " + signJWT(t, jose.RS256, "rsa-1", rsaKey1(), []byte(`{"sub":"alice",`))}, detail: "unmarshal", reason: ReasonMalformed},
		{name: "malformed header JSON", auth: []string{"Bearer " + b64([]byte(`{"alg":"RS256",`)) + "." + goodPayload + "." + goodSig}, detail: "malformed", reason: ReasonMalformed},
		{name: "two segments", auth: []string{"Bearer " + goodHeader + "." + goodPayload}, detail: "malformed", reason: ReasonMalformed},
		{name: "token over 8 KiB", auth: []string{"Bearer " + rs(claims(map[string]any{"pad": strings.Repeat("x", 8<<10)}))}, detail: "over the 8192-byte limit", reason: ReasonMalformed},
		{name: "cookie over 8 KiB", cookies: []string{rs(claims(map[string]any{"pad": strings.Repeat("x", 8<<10)}))}, detail: "over the 8192-byte limit", reason: ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := o.Authenticate(oidcRequest(tt.auth, tt.cookies))
			if tt.wantSub != "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.Subject != tt.wantSub || id.Claims["tenant"] != "acme" || id.Claims["sub"] != tt.wantSub {
					t.Fatalf("identity = %+v, want sub %q with all claims", id, tt.wantSub)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("err = %v (identity %+v), want ErrUnauthenticated", err, id)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("err = %q, want it to say %q", err, tt.detail)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q (err %v)", got, tt.reason, err)
			}
			for _, h := range append(tt.auth, tt.cookies...) {
				if tok := strings.TrimPrefix(h, "Bearer "); len(tok) > 20 && strings.Contains(err.Error(), tok) {
					t.Errorf("err holds the token: %q", err)
				}
			}
		})
	}
}

// TestOIDCKeyRotation switches the issuer to a new key: a token signed with
// it verifies once the key set is refetched, and made-up kids cannot make the
// authenticator refetch more than once per keysMinRefresh.
func TestOIDCKeyRotation(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	clock := newClock()
	o := newOIDC(t, is, clock)
	if n := is.jwksHits.Load(); n != 1 {
		t.Fatalf("NewOIDC fetched the key set %d times, want 1", n)
	}
	auth := func(kid string, key *rsa.PrivateKey) error {
		tok := signJWT(t, jose.RS256, kid, key, is.claims(clock.Now(), nil))
		_, err := o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil))
		return err
	}

	if err := auth("rsa-1", rsaKey1()); err != nil {
		t.Fatalf("before rotation: %v", err)
	}

	// The issuer rotates: rsa-2 in, rsa-1 out.
	is.publish("rsa-2", "RS256", rsaKey2().Public())
	is.unpublish("rsa-1")

	// The key set was fetched just now, so the new kid waits for the
	// refetch interval rather than refetching at once.
	clock.Add(keysMinRefresh / 2)
	if err := auth("rsa-2", rsaKey2()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("new kid within the refetch interval: err = %v, want refused", err)
	}
	if n := is.jwksHits.Load(); n != 1 {
		t.Fatalf("key set fetched %d times within the refetch interval, want 1", n)
	}

	clock.Add(keysMinRefresh)
	// Many callers at once share one refetch.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = auth("rsa-2", rsaKey2()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d after rotation: %v", i, err)
		}
	}
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("key set fetched %d times, want 2", n)
	}

	// rsa-1 was withdrawn: its tokens no longer verify.
	if err := auth("rsa-1", rsaKey1()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("withdrawn key: err = %v, want refused", err)
	}

	// Made-up kids, many of them, cost no more than one fetch per interval.
	for i := range 20 {
		_ = auth("made-up-"+string(rune('a'+i)), rsaOther())
	}
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("made-up kids caused %d key set fetches, want none", n-2)
	}
}

func TestNewOIDCErrors(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)

	// An issuer whose discovery names another issuer.
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":"https://elsewhere.example.com","jwks_uri":"` + is.URL() + `/jwks"}`))
	}))
	t.Cleanup(liar.Close)

	// An issuer whose key set holds only a symmetric key.
	hmacOnly := newTestIssuer(t)
	hmacOnly.unpublish("rsa-1")
	hmacOnly.unpublish("ec-1")

	tests := []struct {
		name string
		cfg  OIDCConfig
		want string
	}{
		{"no issuer", OIDCConfig{Audience: testAudience}, "issuer"},
		{"plain http off loopback", OIDCConfig{Issuer: "http://login.example.com", Audience: testAudience}, "https"},
		{"no audience", OIDCConfig{Issuer: is.URL()}, "audience"},
		{"bad cookie name", OIDCConfig{Issuer: is.URL(), Audience: testAudience, Cookie: "a b"}, "cookie"},
		{"negative leeway", OIDCConfig{Issuer: is.URL(), Audience: testAudience, Leeway: -time.Second}, "negative"},
		{"issuer mismatch", OIDCConfig{Issuer: liar.URL, Audience: testAudience}, "did not match"},
		{"no asymmetric key", OIDCConfig{Issuer: hmacOnly.URL(), Audience: testAudience}, "no RSA or ECDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := NewOIDC(t.Context(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewOIDC = %v, %v; want an error about %q", o, err, tt.want)
			}
			if errors.Is(err, ErrUnauthenticated) {
				t.Errorf("a configuration error wraps ErrUnauthenticated: %v", err)
			}
		})
	}
}

func TestOIDCLeeway(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	clock := newClock()
	o, err := NewOIDC(t.Context(), OIDCConfig{
		Issuer: is.URL(), Audience: testAudience, HTTPClient: is.srv.Client(), Now: clock.Now,
		Leeway: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := signJWT(t, jose.RS256, "rsa-1", rsaKey1(), is.claims(clock.Now(), map[string]any{"exp": clock.Now().Add(-4 * time.Minute).Unix()}))
	if _, err := o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil)); err != nil {
		t.Fatalf("4m past exp with a 5m leeway: %v", err)
	}
	clock.Add(2 * time.Minute)
	if _, err := o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("6m past exp with a 5m leeway: err = %v, want refused", err)
	}
	// No cookie configured: a cookie is not read.
	if _, err := o.Authenticate(oidcRequest(nil, []string{tok})); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("cookie without Cookie configured: err = %v, want refused", err)
	}
}

// TestOIDCIssuerDown: with the key set endpoint failing or hanging, tokens
// signed by a cached key keep working without a fetch, and a token naming
// an unknown kid is refused within keysWait rather than held for the whole
// fetch (fetchTimeout), then at once while refetches are throttled.
func TestOIDCIssuerDown(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"500", "hang"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			is := newTestIssuer(t)
			clock := newClock()
			o := newOIDC(t, is, clock)
			is.jwksDown.Store(mode)
			auth := func(kid string, key *rsa.PrivateKey) (time.Duration, error) {
				tok := signJWT(t, jose.RS256, kid, key, is.claims(clock.Now(), nil))
				start := time.Now()
				_, err := o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil))
				return time.Since(start), err
			}
			hits := is.jwksHits.Load()
			if _, err := auth("rsa-1", rsaKey1()); err != nil {
				t.Fatalf("cached key with the issuer down: %v", err)
			}
			if n := is.jwksHits.Load(); n != hits {
				t.Fatalf("a cached key caused %d key set fetches", n-hits)
			}

			clock.Add(keysMinRefresh)
			took, err := auth("rsa-9", rsaOther())
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("unknown kid: err = %v, want refused", err)
			}
			if got := Reason(err); got != ReasonKeysUnavailable {
				t.Errorf("unknown kid with the issuer down: Reason = %q, want %q", got, ReasonKeysUnavailable)
			}
			if took >= fetchTimeout {
				t.Fatalf("unknown kid held the request %s: as long as the whole fetch", took)
			}
			if n := is.jwksHits.Load(); n != hits+1 {
				t.Fatalf("unknown kid caused %d key set fetches, want 1", n-hits)
			}
			// Within the refetch interval, the hung fetch maybe still running:
			// refused without waiting again or fetching.
			took, err = auth("rsa-8", rsaOther())
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("second unknown kid: err = %v, want refused", err)
			}
			if took >= keysWait {
				t.Fatalf("second unknown kid waited %s for the same failed fetch", took)
			}
			if n := is.jwksHits.Load(); n != hits+1 {
				t.Fatalf("second unknown kid caused a key set fetch")
			}
			if _, err := auth("rsa-1", rsaKey1()); err != nil {
				t.Fatalf("cached key after the failed refetch: %v", err)
			}
		})
	}
}

// TestOIDCKeyAlgorithm checks that a key verifies only tokens of its own
// algorithm (RFC 8725, section 3.1): the alg its JWK declares or, when it
// declares none, one its type and curve are for. A key that declares an
// algorithm it cannot be used for, or one this service does not accept,
// verifies nothing.
func TestOIDCKeyAlgorithm(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t) // rsa-1 declares RS256 and ec-1 ES256
	is.publishJWK(jose.JSONWebKey{Key: rsaKey2().Public(), KeyID: "rsa-any", Use: "sig"})
	is.publishJWK(jose.JSONWebKey{Key: ecP384().Public(), KeyID: "p384-any", Use: "sig"})
	is.publishJWK(jose.JSONWebKey{Key: rsaOther().Public(), KeyID: "rsa-as-es256", Algorithm: "ES256", Use: "sig"})
	is.publishJWK(jose.JSONWebKey{Key: rsaOther().Public(), KeyID: "rsa-oaep", Algorithm: "RSA-OAEP"})
	is.publishJWK(jose.JSONWebKey{Key: rsaOther().Public(), KeyID: "rsa-ps512", Algorithm: "PS512", Use: "sig"})
	clock := newClock()
	o := newOIDC(t, is, clock)
	claims := is.claims(clock.Now(), nil)

	tests := []struct {
		name   string
		tok    string
		ok     bool
		reason string // refused: what Reason says
	}{
		{name: "RS256 with a key declaring RS256", tok: signJWT(t, jose.RS256, "rsa-1", rsaKey1(), claims), ok: true},
		{name: "ES256 with a key declaring ES256", tok: signJWT(t, jose.ES256, "ec-1", ecKey1(), claims), ok: true},
		{name: "PS256 with a key declaring RS256", tok: signJWT(t, jose.PS256, "rsa-1", rsaKey1(), claims), reason: ReasonBadSignature},
		{name: "RS384 with a key declaring RS256", tok: signJWT(t, jose.RS384, "rsa-1", rsaKey1(), claims), reason: ReasonBadSignature},
		{name: "RS512 with a key declaring RS256", tok: signJWT(t, jose.RS512, "rsa-1", rsaKey1(), claims), reason: ReasonBadSignature},
		{name: "PS256 with a key declaring RS256, no kid", tok: signJWT(t, jose.PS256, "", rsaKey1(), claims), reason: ReasonBadSignature},
		{name: "RS512 with a key declaring RS256, no kid", tok: signJWT(t, jose.RS512, "", rsaKey1(), claims), reason: ReasonBadSignature},

		// No alg in the JWK: the allow-list, within what the key type fits.
		{name: "RS256 with an RSA key without alg", tok: signJWT(t, jose.RS256, "rsa-any", rsaKey2(), claims), ok: true},
		{name: "RS384 with an RSA key without alg", tok: signJWT(t, jose.RS384, "rsa-any", rsaKey2(), claims), ok: true},
		{name: "RS512 with an RSA key without alg", tok: signJWT(t, jose.RS512, "rsa-any", rsaKey2(), claims), ok: true},
		{name: "PS256 with an RSA key without alg", tok: signJWT(t, jose.PS256, "rsa-any", rsaKey2(), claims), ok: true},
		{name: "ES256 under an RSA key without alg", tok: signJWT(t, jose.ES256, "rsa-any", ecKey1(), claims), reason: ReasonBadSignature},
		{name: "ES384 with a P-384 key without alg", tok: signJWT(t, jose.ES384, "p384-any", ecP384(), claims), ok: true},
		{name: "ES256 under a P-384 key without alg", tok: signJWT(t, jose.ES256, "p384-any", ecKey1(), claims), reason: ReasonBadSignature},

		// Keys that can verify nothing here are not loaded.
		{name: "RS256 with an RSA key declaring ES256", tok: signJWT(t, jose.RS256, "rsa-as-es256", rsaOther(), claims), reason: ReasonUnknownKey},
		{name: "RS256 with an RSA key declaring RSA-OAEP", tok: signJWT(t, jose.RS256, "rsa-oaep", rsaOther(), claims), reason: ReasonUnknownKey},
		{name: "RS256 with an RSA key declaring PS512 (not accepted)", tok: signJWT(t, jose.RS256, "rsa-ps512", rsaOther(), claims), reason: ReasonUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := o.Authenticate(oidcRequest([]string{"Bearer " + tt.tok}, nil))
			if tt.ok {
				if err != nil || id.Subject != "alice" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("accepted as %+v (err %v)", id, err)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q (err %v)", got, tt.reason, err)
			}
		})
	}
}

// TestOIDCNumericDates checks exp, nbf and iat as RFC 7519 has them: a JSON
// number of seconds, fraction and exponent allowed; a string holding one, a
// negative, non-finite or year-10000 value is refused, as is an iat further
// in the future than the leeway.
func TestOIDCNumericDates(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	clock := newClock()
	o := newOIDC(t, is, clock)
	now := clock.Now().Unix() // 1800000000

	tests := []struct {
		name   string
		times  string // exp, nbf and iat members of the payload
		detail string // empty: accepted
		reason string
	}{
		{name: "integers", times: fmt.Sprintf(`"exp":%d,"nbf":%d,"iat":%d`, now+300, now, now)},
		{name: "fractions", times: fmt.Sprintf(`"exp":%d.5,"nbf":%d.25,"iat":%d.0`, now+300, now, now)},
		{name: "exponent form", times: `"exp":1.8000003e9,"nbf":1.8E+9,"iat":18e8`},
		{name: "iat within leeway ahead", times: fmt.Sprintf(`"exp":%d,"iat":%d`, now+300, now+30)},
		{name: "no nbf nor iat", times: fmt.Sprintf(`"exp":%d`, now+300)},

		{name: "exp a numeric string", times: fmt.Sprintf(`"exp":"%d"`, now+300), detail: "exp: a string", reason: ReasonMalformed},
		{name: "nbf a numeric string", times: fmt.Sprintf(`"exp":%d,"nbf":"%d"`, now+300, now), detail: "nbf: a string", reason: ReasonMalformed},
		{name: "iat a numeric string", times: fmt.Sprintf(`"exp":%d,"iat":"%d"`, now+300, now), detail: "iat: a string", reason: ReasonMalformed},
		{name: "iat an empty string", times: fmt.Sprintf(`"exp":%d,"iat":""`, now+300), detail: "unmarshal claims", reason: ReasonMalformed}, // go-oidc refuses it first
		{name: "nbf a boolean", times: fmt.Sprintf(`"exp":%d,"nbf":true`, now+300), detail: "nbf", reason: ReasonMalformed},
		{name: "iat an object", times: fmt.Sprintf(`"exp":%d,"iat":{}`, now+300), detail: "iat", reason: ReasonMalformed},
		{name: "exp overflowing float64", times: `"exp":1e400`, detail: "1e400", reason: ReasonMalformed},
		{name: "nbf overflowing float64", times: fmt.Sprintf(`"exp":%d,"nbf":-1e400`, now+300), detail: "-1e400", reason: ReasonMalformed},
		{name: "iat overflowing float64", times: fmt.Sprintf(`"exp":%d,"iat":1e400`, now+300), detail: "1e400", reason: ReasonMalformed},
		{name: "exp after year 9999", times: `"exp":253402300800`, detail: "exp", reason: ReasonMalformed},
		{name: "negative iat", times: fmt.Sprintf(`"exp":%d,"iat":-1`, now+300), detail: "iat", reason: ReasonMalformed},
		{name: "exp null", times: `"exp":null`, detail: "unmarshal claims", reason: ReasonMalformed}, // go-oidc refuses it first
		{name: "iat in the future", times: fmt.Sprintf(`"exp":%d,"iat":%d`, now+600, now+300), detail: "issued", reason: ReasonExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			payload := fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":"alice",%s}`, is.URL(), testAudience, tt.times)
			tok := signJWT(t, jose.RS256, "rsa-1", rsaKey1(), []byte(payload))
			id, err := o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil))
			if tt.detail == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("accepted as %+v (err %v)", id, err)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("err = %q, want it to say %q", err, tt.detail)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q (err %v)", got, tt.reason, err)
			}
		})
	}
}

// TestOIDCAuthorizedParty checks azp (OpenID Connect Core 3.1.3.7): with
// several audiences it must be present, and when present it must be one of
// the configured audiences; a single-audience token without azp is
// accepted as before.
func TestOIDCAuthorizedParty(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	clock := newClock()
	single := newOIDC(t, is, clock) // OIDC_AUDIENCE=media-app
	list, err := NewOIDC(t.Context(), OIDCConfig{
		Issuer: is.URL(), Audience: testAudience + ", spa-client", HTTPClient: is.srv.Client(), Now: clock.Now,
	})
	if err != nil {
		t.Fatalf("NewOIDC with two audiences: %v", err)
	}
	tests := []struct {
		name   string
		o      *OIDC
		edits  map[string]any
		detail string // empty: accepted
		reason string // refused: what Reason says, if not wrong_issuer_or_audience
	}{
		{name: "one audience, no azp", o: single, edits: nil},
		{name: "one audience, azp the audience", o: single, edits: map[string]any{"azp": testAudience}},
		{name: "one audience in a list, no azp", o: single, edits: map[string]any{"aud": []string{testAudience}}},
		{name: "the audience twice, no azp", o: single, edits: map[string]any{"aud": []string{testAudience, testAudience}}},
		{name: "two audiences, azp the audience", o: single, edits: map[string]any{"aud": []string{"account", testAudience}, "azp": testAudience}},
		{name: "cognito access token, azp the client", o: single, edits: map[string]any{"aud": nil, "client_id": testAudience, "azp": testAudience}},

		{name: "one audience, azp another client", o: single, edits: map[string]any{"azp": "other-client"}, detail: `azp "other-client"`},
		{name: "one audience, azp empty", o: single, edits: map[string]any{"azp": ""}, detail: "azp"},
		{name: "one audience, azp a number", o: single, edits: map[string]any{"azp": 42}, detail: "azp", reason: ReasonMalformed},
		{name: "one audience, azp a list", o: single, edits: map[string]any{"azp": []string{testAudience}}, detail: "azp", reason: ReasonMalformed},
		{name: "two audiences, no azp", o: single, edits: map[string]any{"aud": []string{"account", testAudience}}, detail: "no azp"},
		{name: "two audiences, azp null", o: single, edits: map[string]any{"aud": []string{"account", testAudience}, "azp": nil}, detail: "no azp"},
		{name: "two audiences, azp the other audience", o: single, edits: map[string]any{"aud": []string{"account", testAudience}, "azp": "account"}, detail: `azp "account"`},
		{name: "cognito access token, azp another client", o: single, edits: map[string]any{"aud": nil, "client_id": testAudience, "azp": "other-client"}, detail: "azp"},

		// OIDC_AUDIENCE=media-app,spa-client: an API and the SPA that asks
		// for its tokens (Auth0, Keycloak with an audience mapper).
		{name: "list: API token requested by the SPA", o: list, edits: map[string]any{"aud": []string{testAudience, "https://tenant.example.com/userinfo"}, "azp": "spa-client"}},
		{name: "list: the SPA's own token", o: list, edits: map[string]any{"aud": "spa-client"}},
		{name: "list: requested by another client", o: list, edits: map[string]any{"aud": []string{testAudience, "https://tenant.example.com/userinfo"}, "azp": "other-client"}, detail: `azp "other-client"`},
		{name: "list: two audiences, no azp", o: list, edits: map[string]any{"aud": []string{testAudience, "spa-client"}}, detail: "no azp"},
		{name: "list: neither audience", o: list, edits: map[string]any{"aud": "other-client", "azp": "spa-client"}, detail: "aud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := is.claims(clock.Now(), tt.edits)
			if v, ok := tt.edits["azp"]; ok && v == nil {
				claims["azp"] = nil // JSON null, not absent
			}
			tok := signJWT(t, jose.RS256, "rsa-1", rsaKey1(), claims)
			id, err := tt.o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil))
			if tt.detail == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("accepted as %+v (err %v)", id, err)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("err = %q, want it to say %q", err, tt.detail)
			}
			reason := ReasonWrongIssuerOrAudience
			if tt.reason != "" {
				reason = tt.reason
			}
			if got := Reason(err); got != reason {
				t.Errorf("Reason = %q, want %q (err %v)", got, reason, err)
			}
		})
	}

	for _, bad := range []string{"media-app,", ",media-app", "media-app,,spa", " , "} {
		if _, err := NewOIDC(t.Context(), OIDCConfig{Issuer: is.URL(), Audience: bad, HTTPClient: is.srv.Client()}); err == nil ||
			!strings.Contains(err.Error(), "audience") {
			t.Errorf("NewOIDC(Audience %q) = %v, want an error about the audience", bad, err)
		}
	}
}
