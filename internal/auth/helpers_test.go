package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Keys are made once per test binary: RSA generation is slow under -race.
var (
	rsaKey1  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	rsaKey2  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	rsaOther = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	ecKey1   = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC() })
	ecOther  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC() })
	ecP384   = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// hmacSecret is the symmetric key the test issuer also publishes, as a
// misconfigured issuer might: it must never verify anything.
const hmacSecret = "an-hmac-secret-that-is-32-bytes!"

// testAudience is the client ID every test authenticator expects.
const testAudience = "media-app"

// fakeClock is an adjustable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testIssuer is an OpenID provider on httptest: discovery and a JWKS whose
// keys a test can change.
type testIssuer struct {
	srv *httptest.Server
	// path follows the server's address in the issuer URL, as a real
	// provider's does ("/realms/media", "/TENANT/v2.0", "/"); "" for none.
	path     string
	jwksHits atomic.Int32
	// jwksDown, when set, is how the key set endpoint misbehaves:
	// "500" answers errors, "hang" holds the request until the test ends.
	jwksDown atomic.Value
	stop     chan struct{}

	mu   sync.Mutex
	keys []jose.JSONWebKey
}

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	return newTestIssuerAt(t, "")
}

// newTestIssuerAt returns an issuer whose URL is the server's address
// followed by path, with its discovery document where OpenID Connect
// Discovery puts it: under the path, trailing slash removed.
func newTestIssuerAt(t testing.TB, path string) *testIssuer {
	t.Helper()
	is := &testIssuer{path: path, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+strings.TrimSuffix(path, "/")+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                is.URL(),
			"jwks_uri":                              is.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "HS256", "none"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		is.jwksHits.Add(1)
		switch is.jwksDown.Load() {
		case "500":
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		case "hang":
			select {
			case <-is.stop:
			case <-r.Context().Done():
			}
			return
		}
		is.mu.Lock()
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), is.keys...)}
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	t.Cleanup(func() { close(is.stop) }) // runs first: releases hung requests
	is.publish("rsa-1", "RS256", rsaKey1().Public())
	is.publish("ec-1", "ES256", ecKey1().Public())
	is.publish("hmac-1", "HS256", []byte(hmacSecret))
	return is
}

// URL is the issuer: the iss of its tokens.
func (is *testIssuer) URL() string { return is.srv.URL + is.path }

func (is *testIssuer) publish(kid, alg string, key any) {
	is.publishJWK(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"})
}

// publishJWK adds a key as given: without alg, for encryption, …
func (is *testIssuer) publishJWK(k jose.JSONWebKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = append(is.keys, k)
}

func (is *testIssuer) unpublish(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	var keep []jose.JSONWebKey
	for _, k := range is.keys {
		if k.KeyID != kid {
			keep = append(keep, k)
		}
	}
	is.keys = keep
}

// claims returns valid claims at now, changed by edits (a nil value deletes).
func (is *testIssuer) claims(now time.Time, edits map[string]any) map[string]any {
	c := map[string]any{
		"iss":    is.URL(),
		"sub":    "alice",
		"aud":    testAudience,
		"iat":    now.Unix(),
		"exp":    now.Add(5 * time.Minute).Unix(),
		"tenant": "acme",
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// newOIDC returns an authenticator for is on clock, reading cookie AUTH.
func newOIDC(t testing.TB, is *testIssuer, clock *fakeClock) *OIDC {
	t.Helper()
	o, err := NewOIDC(t.Context(), OIDCConfig{
		Issuer:     is.URL(),
		Audience:   testAudience,
		Cookie:     "AUTH",
		HTTPClient: is.srv.Client(),
		Now:        clock.Now,
	})
	if err != nil {
		t.Fatalf("NewOIDC: %v", err)
	}
	return o
}

// signJWT signs claims (any JSON value, or raw bytes) with go-jose.
func signJWT(t testing.TB, alg jose.SignatureAlgorithm, kid string, key crypto.Signer, claims any) string {
	t.Helper()
	payload, ok := claims.([]byte)
	if !ok {
		var err error
		if payload, err = json.Marshal(claims); err != nil {
			t.Fatal(err)
		}
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(v any) string {
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			panic(err)
		}
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// segments splits a compact token.
func segments(t testing.TB, tok string) (header, payload, sig string) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("token has %d segments", len(p))
	}
	return p[0], p[1], p[2]
}

func publicPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// testARN is the load balancer every ALB test trusts.
const testARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/media/50dc6c495c0c9188"

// albKeyServer serves PEM public keys at /<kid>, 404 for other paths, and
// records every path asked for.
type albKeyServer struct {
	srv *httptest.Server

	mu    sync.Mutex
	keys  map[string][]byte
	paths []string
}

func newALBKeyServer(t testing.TB) *albKeyServer {
	t.Helper()
	ks := &albKeyServer{keys: map[string][]byte{}}
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.mu.Lock()
		ks.paths = append(ks.paths, r.URL.EscapedPath())
		pemKey, ok := ks.keys[strings.TrimPrefix(r.URL.Path, "/")]
		ks.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(pemKey)
	}))
	t.Cleanup(ks.srv.Close)
	ks.add(t, "alb-key-1", &ecKey1().PublicKey)
	return ks
}

func (ks *albKeyServer) add(t testing.TB, kid string, pub any) {
	p := publicPEM(t, pub)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys[kid] = p
}

func (ks *albKeyServer) requested() []string {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return append([]string(nil), ks.paths...)
}

func newTestALB(t testing.TB, ks *albKeyServer, clock *fakeClock) *ALB {
	t.Helper()
	a, err := NewALB(ALBConfig{ARN: testARN, KeysBaseURL: ks.srv.URL, HTTPClient: ks.srv.Client(), Now: clock.Now})
	if err != nil {
		t.Fatalf("NewALB: %v", err)
	}
	return a
}

// albHeader returns a valid ALB JWT header at now, changed by edits.
func albHeaderAt(now time.Time, edits map[string]any) map[string]any {
	h := map[string]any{
		"alg":    "ES256",
		"kid":    "alb-key-1",
		"signer": testARN,
		"iss":    "https://idp.example.com",
		"client": "alb-client",
		"exp":    now.Add(2 * time.Minute).Unix(),
	}
	for k, v := range edits {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	return h
}

func albClaimsAt(now time.Time, edits map[string]any) map[string]any {
	c := map[string]any{
		"sub":   "bob",
		"email": "bob@example.com",
		"iss":   "https://idp.example.com",
		"exp":   now.Add(2 * time.Minute).Unix(),
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// mintALB signs like an ALB: ES256 with R||S, each segment in enc (ALB's
// own output is base64url with '=' padding).
func mintALB(t testing.TB, key *ecdsa.PrivateKey, enc *base64.Encoding, header, claims any) string {
	t.Helper()
	seg := func(v any) string {
		b, ok := v.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		return enc.EncodeToString(b)
	}
	input := seg(header) + "." + seg(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig)
}
