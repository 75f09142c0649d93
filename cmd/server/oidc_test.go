package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cfcookies/cfcookies/internal/testlog"
)

// testIssuer is an OpenID provider on loopback: discovery and a JWKS.
type testIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	// jwksHang, once set, holds key set requests until the test ends: an
	// issuer that is down without saying so.
	jwksHang atomic.Bool
	stop     chan struct{}
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &testIssuer{key: key, stop: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks",
			"authorization_endpoint": is.srv.URL + "/auth", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		if is.jwksHang.Load() {
			select {
			case <-is.stop:
			case <-r.Context().Done():
			}
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	t.Cleanup(func() { close(is.stop) }) // runs first: releases hung requests
	return is
}

func (is *testIssuer) token(t *testing.T, key *rsa.PrivateKey, edits map[string]any) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": is.srv.URL, "aud": "media-app", "sub": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range edits {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	payload, _ := json.Marshal(claims)
	return signToken(t, key, "k1", payload)
}

// signToken signs payload as it is, as an RS256 JWT naming kid.
func signToken(t *testing.T, key *rsa.PrivateKey, kid string, payload []byte) string {
	t.Helper()
	return signTokenAlg(t, jose.RS256, key, kid, payload)
}

// signTokenAlg signs payload as it is, with alg, as a JWT naming kid.
func signTokenAlg(t *testing.T, alg jose.SignatureAlgorithm, key *rsa.PrivateKey, kid string, payload []byte) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sig.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// hs256WithPublicKey forges the classic confusion attack: an HS256 token
// whose HMAC secret is the issuer's RSA public key.
func hs256WithPublicKey(t *testing.T, is *testIssuer, payload string) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&is.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"k1","typ":"JWT"}`))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(head + "." + payload))
	return head + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (is *testIssuer) tokenWithKid(t *testing.T, kid string) string {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"iss": is.srv.URL, "aud": "media-app", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	return signToken(t, is.key, kid, payload)
}

// TestRunOIDC runs the real server in OIDC mode against an in-test issuer:
// a good token gets cookies; every bad one gets 401 and no Set-Cookie.
func TestRunOIDC(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	base, logs, _ := startServer(t, []string{"server"}, oidcEnv(t, is, "", map[string]string{"AUTH_COOKIE": "session"}))
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	good := is.token(t, is.key, nil)
	noneTok := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(good, ".")[1] + "."
	parts := strings.Split(good, ".")
	mallory, _ := json.Marshal(map[string]any{"iss": is.srv.URL, "aud": "media-app", "sub": "mallory", "exp": time.Now().Add(time.Hour).Unix()})
	oversized := is.token(t, is.key, map[string]any{"pad": strings.Repeat("x", 8<<10)})
	// Each refusal names the cause it must be refused for (a part of the
	// logged error), so that a row cannot pass by failing earlier for
	// another reason.
	tests := []struct {
		name    string
		header  string // Authorization
		cookie  string // session cookie
		want    int
		because string // refused: in the logged error of the request
	}{
		{"bearer token", "Bearer " + good, "", 200, ""},
		{"token in the AUTH_COOKIE cookie", "", good, 200, ""},
		{"no token", "", "", 401, "no bearer token and no session cookie"},
		{"bad signature", "Bearer " + is.token(t, other, nil), "", 401, "signature does not verify"},
		{"tampered payload", "Bearer " + parts[0] + "." + base64.RawURLEncoding.EncodeToString(mallory) + "." + parts[2], "", 401, "signature does not verify"},
		{"alg none", "Bearer " + noneTok, "", 401, `unexpected signature algorithm "none"`},
		{"wrong issuer", "Bearer " + is.token(t, is.key, map[string]any{"iss": "https://evil.example.com"}), "", 401, "issued by a different provider"},
		{"wrong audience", "Bearer " + is.token(t, is.key, map[string]any{"aud": "other-app"}), "", 401, "does not include the configured audience"},
		{"expired", "Bearer " + is.token(t, is.key, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), "", 401, "token expired"},
		{"not yet valid", "Bearer " + is.token(t, is.key, map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}), "", 401, "token not valid for another"},
		{"malformed", "Bearer not.a.jwt", "", 401, "malformed jwt"},
		{"signed token over 8 KiB", "Bearer " + oversized, "", 401, "over the 8192-byte limit"},
		{"signed token over 8 KiB in the AUTH_COOKIE cookie", "", oversized, 401, "over the 8192-byte limit"},
		{"HS256 signed with the issuer's RSA public key", "Bearer " + hs256WithPublicKey(t, is, parts[1]), "", 401, `unexpected signature algorithm "HS256"`},
		{"unknown kid", "Bearer " + is.tokenWithKid(t, "k9"), "", 401, "unknown key id"},
		{"malformed base64: a byte outside the alphabet", "Bearer " + parts[0] + ".!!!." + parts[2], "", 401, "byte outside base64url"},
		{"malformed base64: an impossible length", "Bearer " + parts[0] + ".e." + parts[2], "", 401, "illegal base64 data"},
		{"malformed header JSON", "Bearer " + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256",`)) + "." + parts[1] + "." + parts[2], "", 401, "malformed jwt: unexpected end of JSON input"},
		{"malformed payload JSON under a good signature", "Bearer " + signToken(t, is.key, "k1", []byte(`{"sub":`)), "", 401, "failed to unmarshal claims"},
		{"wildcard subject", "Bearer " + is.token(t, is.key, map[string]any{"sub": "*"}), "", 403, "unsafe value for path template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", base+"/auth/media-cookies", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "session", Value: tt.cookie})
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if n := len(resp.Header.Values("Set-Cookie")); (tt.want == 200) != (n > 0) {
				t.Fatalf("%d Set-Cookie headers with status %d", n, resp.StatusCode)
			}
			if tt.because != "" {
				if got := loggedError(t, logs, resp.Header.Get("X-Request-Id")); !strings.Contains(got, tt.because) {
					t.Errorf("refused because %q, want %q", got, tt.because)
				}
			}
		})
	}
	if strings.Contains(logs.String(), parts[2]) {
		t.Error("a token signature was logged")
	}
}

// loggedError returns the error the server logged for a request.
func loggedError(t *testing.T, logs *testlog.Buffer, requestID string) string {
	t.Helper()
	for _, l := range strings.Split(logs.String(), "\n") {
		var line struct {
			RequestID string `json:"request_id"`
			Error     string `json:"error"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && requestID != "" && line.RequestID == requestID && line.Error != "" {
			return line.Error
		}
	}
	t.Fatalf("no error logged for request %q", requestID)
	return ""
}

// claimScopes is the SCOPES_FILE of TestRunOIDCHostileClaims: a path built
// from a number claim, and a scope for one tenant only.
const claimScopes = `claims: [tenant_id]
scopes:
  - name: tenant
    path: /tenants/{tenant_id}/*
    cookiePath: /tenants/
  - name: vip
    path: /vip/*
    cookiePath: /vip/
    allow:
      - claim: tenant_id
        equals: 9007199254740993
`

// TestRunOIDCHostileClaims runs the real server in OIDC mode and sends it
// signed tokens whose claims are hostile or merely unusual: number claims
// keep every digit, so tenants 9007199254740992 and 9007199254740993 get
// different resources and only the second passes a rule naming it; a
// number that is not an exact integer fills no path (403); a NumericDate
// written as a string, a token signed with another algorithm than its key
// declares, and several audiences without the right azp get 401. Every
// refusal is problem+json, sets no cookie and logs no error.
func TestRunOIDCHostileClaims(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	base, logs, _ := startServer(t, []string{"server"}, oidcEnv(t, is, claimScopes, nil))
	now := time.Now().Unix()
	// token signs the payload {iss, sub, members}: members as raw JSON, so
	// numbers reach the server exactly as written.
	token := func(alg jose.SignatureAlgorithm, members string) string {
		payload := fmt.Sprintf(`{"iss":%q,"sub":"alice",%s}`, is.srv.URL, members)
		return signTokenAlg(t, alg, is.key, "k1", []byte(payload))
	}
	tenant := func(raw string) string {
		return token(jose.RS256, fmt.Sprintf(`"aud":"media-app","exp":%d,"tenant_id":%s`, now+3600, raw))
	}
	const media = "https://media.example.com"

	tests := []struct {
		name    string
		token   string
		body    string            // JSON request body; empty for none
		want    int               // status
		grants  map[string]string // 200: scope -> resource
		problem string            // refused: the problem type's last segment
		because string            // refused: in the logged error
	}{
		{name: "tenant 9007199254740992", token: tenant(`9007199254740992`), want: 200,
			grants: map[string]string{"tenant": media + "/tenants/9007199254740992/*"}},
		{name: "tenant 9007199254740993 and its rule", token: tenant(`9007199254740993`), want: 200,
			grants: map[string]string{"tenant": media + "/tenants/9007199254740993/*", "vip": media + "/vip/*"}},
		{name: "tenant 9007199254740992 asking for the rule of 9007199254740993", token: tenant(`9007199254740992`), body: `{"scopes":["vip"]}`,
			want: 403, problem: "forbidden-scope"},
		{name: "tenant 1000000", token: tenant(`1000000`), want: 200, grants: map[string]string{"tenant": media + "/tenants/1000000/*"}},
		{name: "tenant -5", token: tenant(`-5`), want: 200, grants: map[string]string{"tenant": media + "/tenants/-5/*"}},
		{name: "tenant beyond 64 bits", token: tenant(`123456789012345678901234567890`), want: 200,
			grants: map[string]string{"tenant": media + "/tenants/123456789012345678901234567890/*"}},
		{name: "tenant a numeric string", token: tenant(`"9007199254740993"`), want: 200,
			grants: map[string]string{"tenant": media + "/tenants/9007199254740993/*", "vip": media + "/vip/*"}},

		{name: "tenant 1.5", token: tenant(`1.5`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant 1.0", token: tenant(`1.0`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant 1e6", token: tenant(`1e6`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant 1E+06", token: tenant(`1E+06`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant 9.007199254740993e15", token: tenant(`9.007199254740993e15`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant -0", token: tenant(`-0`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant 1e400", token: tenant(`1e400`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant true", token: tenant(`true`), want: 403, problem: "identity-not-grantable", because: "no value for {tenant_id}"},
		{name: "tenant 007, not JSON", token: tenant(`007`), want: 401, problem: "unauthenticated", because: "unmarshal claims"},

		{name: "exp a numeric string", token: token(jose.RS256, fmt.Sprintf(`"aud":"media-app","exp":"%d","tenant_id":"acme"`, now+3600)),
			want: 401, problem: "unauthenticated", because: "exp: a string"},
		{name: "nbf a numeric string", token: token(jose.RS256, fmt.Sprintf(`"aud":"media-app","exp":%d,"nbf":"%d","tenant_id":"acme"`, now+3600, now)),
			want: 401, problem: "unauthenticated", because: "nbf: a string"},
		{name: "iat a numeric string", token: token(jose.RS256, fmt.Sprintf(`"aud":"media-app","exp":%d,"iat":"%d","tenant_id":"acme"`, now+3600, now)),
			want: 401, problem: "unauthenticated", because: "iat: a string"},
		{name: "exp in exponent form", token: token(jose.RS256, fmt.Sprintf(`"aud":"media-app","exp":%de0,"tenant_id":"acme"`, now+3600)),
			want: 200, grants: map[string]string{"tenant": media + "/tenants/acme/*"}},

		{name: "PS256 with the key declaring RS256", token: token(jose.PS256, fmt.Sprintf(`"aud":"media-app","exp":%d,"tenant_id":"acme"`, now+3600)),
			want: 401, problem: "unauthenticated", because: "token alg PS256 is not an algorithm of key"},
		{name: "RS512 with the key declaring RS256", token: token(jose.RS512, fmt.Sprintf(`"aud":"media-app","exp":%d,"tenant_id":"acme"`, now+3600)),
			want: 401, problem: "unauthenticated", because: "token alg RS512 is not an algorithm of key"},

		{name: "two audiences, azp media-app", token: token(jose.RS256, fmt.Sprintf(`"aud":["account","media-app"],"azp":"media-app","exp":%d,"tenant_id":"acme"`, now+3600)),
			want: 200, grants: map[string]string{"tenant": media + "/tenants/acme/*"}},
		{name: "two audiences, no azp", token: token(jose.RS256, fmt.Sprintf(`"aud":["account","media-app"],"exp":%d,"tenant_id":"acme"`, now+3600)),
			want: 401, problem: "unauthenticated", because: "no azp"},
		{name: "two audiences, azp another client", token: token(jose.RS256, fmt.Sprintf(`"aud":["account","media-app"],"azp":"account","exp":%d,"tenant_id":"acme"`, now+3600)),
			want: 401, problem: "unauthenticated", because: `azp "account" is not the configured audience`},
		{name: "one audience, azp another client", token: token(jose.RS256, fmt.Sprintf(`"aud":"media-app","azp":"other-app","exp":%d,"tenant_id":"acme"`, now+3600)),
			want: 401, problem: "unauthenticated", because: `azp "other-app" is not the configured audience`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest("POST", base+"/auth/media-cookies", body)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer struct {
				Type   string `json:"type"`
				Grants []struct {
					Scope    string `json:"scope"`
					Resource string `json:"resource"`
				} `json:"grants"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				t.Fatalf("status %d, body not JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, answer.Type, tt.want)
			}
			requestID := resp.Header.Get("X-Request-Id")
			if level := errorLevelLine(logs, requestID); level != "" {
				t.Errorf("logged at error level: %s", level)
			}
			cookies := resp.Header.Values("Set-Cookie")
			if tt.want != 200 {
				if len(cookies) > 0 {
					t.Errorf("refused with %d Set-Cookie headers", len(cookies))
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want application/problem+json", ct)
				}
				if !strings.HasSuffix(answer.Type, tt.problem) {
					t.Errorf("problem type %q, want ...%s", answer.Type, tt.problem)
				}
				if tt.because != "" {
					if got := loggedError(t, logs, requestID); !strings.Contains(got, tt.because) {
						t.Errorf("refused because %q, want %q", got, tt.because)
					}
				}
				return
			}
			if len(cookies) == 0 {
				t.Error("granted without Set-Cookie")
			}
			got := map[string]string{}
			for _, g := range answer.Grants {
				got[g.Scope] = g.Resource
			}
			if !maps.Equal(got, tt.grants) {
				t.Errorf("grants %v, want %v", got, tt.grants)
			}
		})
	}
}

// errorLevelLine returns a log line of the request logged at error level
// or above, "" if there is none.
func errorLevelLine(logs *testlog.Buffer, requestID string) string {
	for _, l := range strings.Split(logs.String(), "\n") {
		var line struct {
			RequestID string `json:"request_id"`
			Level     string `json:"level"`
		}
		if json.Unmarshal([]byte(l), &line) == nil && line.RequestID == requestID &&
			(line.Level == "error" || line.Level == "fatal" || line.Level == "panic") {
			return l
		}
	}
	return ""
}

// oidcEnv is the environment of a server that believes tokens from is for
// the audience media-app and signs with the RSA-2048 test key; a non-empty
// scopes is written to a SCOPES_FILE. extra adds or overrides variables.
func oidcEnv(t *testing.T, is *testIssuer, scopes string, extra map[string]string) map[string]string {
	t.Helper()
	pemBytes, err := os.ReadFile(testKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CLOUDFRONT_DOMAIN":      "media.example.com",
		"CLOUDFRONT_KEY_PAIR_ID": "K2JCJMDEHXQW5F",
		"CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(string(pemBytes), "\n", `\n`),
		"OIDC_ISSUER":            is.srv.URL,
		"OIDC_AUDIENCE":          "media-app",
		"METRICS_ADDR":           "",
	}
	if scopes != "" {
		path := filepath.Join(t.TempDir(), "scopes.yaml")
		if err := os.WriteFile(path, []byte(scopes), 0o600); err != nil {
			t.Fatal(err)
		}
		env["SCOPES_FILE"] = path
	}
	maps.Copy(env, extra)
	return env
}
