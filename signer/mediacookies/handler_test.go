package mediacookies

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 500e6, time.UTC)

// Keys are shared: generating them per test is slow.
var (
	rsaKey = func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}()
	ecKey = func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}()
)

func newSigner(t testing.TB, id string, key crypto.Signer, clock func() time.Time) *signer.Signer {
	t.Helper()
	return newSignerHash(t, id, key, "", clock)
}

// newSignerHash is newSigner with a hash algorithm ("" is the default,
// SHA256). A test asking for SHA1 is skipped where SHA-1 is refused.
func newSignerHash(t testing.TB, id string, key crypto.Signer, hash signer.HashAlgorithm, clock func() time.Time) *signer.Signer {
	t.Helper()
	s, err := signer.New(id, key, signer.Options{HashAlgorithm: hash, Now: clock})
	if errors.Is(err, signer.ErrNotFIPSApproved) {
		t.Skipf("SHA1: %v (GODEBUG=fips140=only); package signer tests the refusal", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tmpl(t testing.TB, s string) *signer.PathTemplate {
	t.Helper()
	p, err := signer.ParsePathTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// userHeader identifies test callers: its value is the subject, and
// "staff" in X-Role makes them staff.
func identify(r *http.Request) (Claims, error) {
	sub := r.Header.Get("X-User")
	if sub == "" {
		return nil, errors.New("no user")
	}
	return Claims{"sub": sub, "role": r.Header.Get("X-Role")}, nil
}

func testConfig(t testing.TB, s *signer.Signer) Config[Claims] {
	return Config[Claims]{
		Signer:  s,
		BaseURL: "https://media.example.com",
		Scopes: []Scope[Claims]{
			{Name: "private", Path: tmpl(t, "/media/{sub}/*"), CookiePath: "/media/", TTL: 10 * time.Minute},
			{Name: "staff", Path: tmpl(t, "/staff/*"), CookiePath: "/staff/", TTL: time.Hour,
				Allowed: func(c Claims) bool { return c["role"] == "staff" }},
		},
		Cookie:   signer.CookieOptions{Domain: "example.com"},
		Identify: identify,
		Now:      func() time.Time { return testNow },
	}
}

func newHandler(t testing.TB, c Config[Claims]) *Handler[Claims] {
	t.Helper()
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, method, body string, headers ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "/auth/media-cookies", rd)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func cookiesByName(w *httptest.ResponseRecorder) map[string][]*http.Cookie {
	out := map[string][]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		out[c.Name] = append(out[c.Name], c)
	}
	return out
}

func TestIssue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		hash signer.HashAlgorithm
	}{{"RSA", rsaKey, ""}, {"RSA SHA-1", rsaKey, signer.SHA1}, {"ECDSA", ecKey, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSignerHash(t, "K2JCJMDEHXQW5F", tc.key, tc.hash, func() time.Time { return testNow })
			hash := s.HashAlgorithm() // SHA256 unless SHA1 was asked for
			if tc.hash == "" && hash != signer.SHA256 {
				t.Fatalf("default hash %s, want SHA256", hash)
			}
			var issued *Answer
			c := testConfig(t, s)
			c.Hooks.Issued = func(_ *http.Request, _ Claims, a *Answer) { issued = a }
			w := serve(newHandler(t, c), "POST", "", "X-User", "alice", "X-Role", "staff")
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			exp := time.Date(2026, 11, 21, 12, 10, 0, 0, time.UTC)
			want := `{"expiresAt":"2026-11-21T12:10:00Z","refreshAfter":"2026-11-21T12:08:00Z","grants":[` +
				`{"scope":"private","resource":"https://media.example.com/media/alice/*","cookiePath":"/media/"},` +
				`{"scope":"staff","resource":"https://media.example.com/staff/*","cookiePath":"/staff/"}]}` + "\n"
			if w.Body.String() != want {
				t.Errorf("body\n%s\nwant\n%s", w.Body, want)
			}
			if issued == nil || len(issued.Grants) != 2 || !issued.ExpiresAt.Equal(exp) {
				t.Errorf("Issued hook got %+v", issued)
			}
			byName := cookiesByName(w)
			for _, name := range []string{signer.CookiePolicy, signer.CookieSignature, signer.CookieKeyPairID, signer.CookieHashAlgorithm} {
				if len(byName[name]) != 2 {
					t.Fatalf("%d %s cookies, want one per scope", len(byName[name]), name)
				}
				for i, ck := range byName[name] {
					wantPath := []string{"/media/", "/staff/"}[i]
					if ck.Domain != "example.com" || ck.Path != wantPath || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
						t.Errorf("%s attributes: %s", name, ck)
					}
					if name == signer.CookieHashAlgorithm {
						if hash == signer.SHA1 && ck.MaxAge != -1 || hash == signer.SHA256 && (ck.Value != "SHA256" || ck.MaxAge <= 0) {
							t.Errorf("hash cookie %s with %s", ck, hash)
						}
						continue
					}
					if ck.MaxAge <= 0 || !ck.Expires.After(testNow) {
						t.Errorf("%s expiry: %s", name, ck)
					}
				}
			}
			policy, err := signer.DecodeBase64(byName[signer.CookiePolicy][0].Value)
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"Statement":[{"Resource":"https://media.example.com/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":` +
				`1795263000}}}]}`; string(policy) != want {
				t.Errorf("policy %s", policy)
			}
			if err := signer.Verify(tc.key.Public(), hash, policy, byName[signer.CookieSignature][0].Value); err != nil {
				t.Errorf("signature: %v", err)
			}
		})
	}
}

// problemOf checks w is a problem of status and type that set no cookie.
func problemOf(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("Cache-Control") != "no-store" ||
		p.Type != ProblemTypePrefix+typ || p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("problem %+v, headers %v", p, w.Header())
	}
	if sc := w.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("cookies set on an error: %v", sc)
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "K2JCJMDEHXQW5F", ecKey, func() time.Time { return testNow })
	const ct = "application/json"
	tests := []struct {
		name    string
		method  string
		body    string
		headers []string
		status  int
		typ     string
		scope   string // Error.Scope
		is      error  // errors.Is on Error.Err
	}{
		{"no identity", "POST", "", nil, 401, ProblemUnauthenticated, "", nil},
		{"wildcard claim", "POST", "", []string{"X-User", "a*"}, 403, ProblemNotGrantable, "private", signer.ErrUnsafeValue},
		{"dot-dot claim", "POST", "", []string{"X-User", ".."}, 403, ProblemNotGrantable, "private", signer.ErrUnsafeValue},
		{"slash claim", "POST", "", []string{"X-User", "a/b"}, 403, ProblemNotGrantable, "private", signer.ErrUnsafeValue},
		{"forbidden scope", "POST", `{"scopes":["staff"]}`, []string{"X-User", "bob", "Content-Type", ct}, 403, ProblemForbiddenScope, "", nil},
		{"unknown scope", "POST", `{"scopes":["x"]}`, []string{"X-User", "bob", "Content-Type", ct}, 403, ProblemForbiddenScope, "", nil},
		{"repeated scope", "POST", `{"scopes":["private","private"]}`, []string{"X-User", "bob", "Content-Type", ct}, 400, ProblemBadRequest, "", nil},
		{"duplicate name", "POST", `{"scopes":["staff"],"scopes":["private"]}`, []string{"X-User", "bob", "Content-Type", ct}, 400, ProblemBadRequest, "", nil},
		{"folded name", "POST", `{"Scopes":["private"]}`, []string{"X-User", "bob", "Content-Type", ct}, 400, ProblemBadRequest, "", nil},
		{"null", "POST", `{"scopes":null}`, []string{"X-User", "bob", "Content-Type", ct}, 400, ProblemBadRequest, "", nil},
		{"trailing data", "POST", `{} {}`, []string{"X-User", "bob", "Content-Type", ct}, 400, ProblemBadRequest, "", nil},
		{"too large", "POST", `{"scopes":["` + strings.Repeat("a", MaxBodyBytes) + `"]}`, []string{"X-User", "bob", "Content-Type", ct}, 413, ProblemBodyTooLarge, "", nil},
		{"form body", "POST", `a=b`, []string{"X-User", "bob", "Content-Type", "application/x-www-form-urlencoded"}, 415, ProblemUnsupportedMedia, "", nil},
		{"GET not allowed", "GET", "", []string{"X-User", "bob"}, 405, ProblemMethodNotAllowed, "", nil},
		{"PUT", "PUT", "", []string{"X-User", "bob"}, 405, ProblemMethodNotAllowed, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var refused *Error
			c := testConfig(t, s)
			c.Hooks.Refused = func(_ *http.Request, e *Error) { refused = e }
			w := serve(newHandler(t, c), tt.method, tt.body, tt.headers...)
			problemOf(t, w, tt.status, tt.typ)
			if refused == nil || refused.Status != tt.status || refused.Scope != tt.scope {
				t.Fatalf("Refused hook got %+v", refused)
			}
			if tt.is != nil && !errors.Is(refused, tt.is) {
				t.Errorf("error %v is not %v", refused, tt.is)
			}
		})
	}
}

func TestNotReady(t *testing.T) {
	t.Parallel()
	c := testConfig(t, nil)
	c.Signer, c.Keys = nil, func() *signer.Signer { return nil }
	w := serve(newHandler(t, c), "POST", "", "X-User", "alice")
	problemOf(t, w, http.StatusServiceUnavailable, ProblemNotReady)
	if w.Header().Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
	}
}

// keyFunc is a crypto.Signer with ecKey's public key whose Sign is
// itself.
type keyFunc func() ([]byte, error)

func (keyFunc) Public() crypto.PublicKey { return ecKey.Public() }

func (f keyFunc) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return f() }

// A signing failure is a 500 that tells the client nothing.
func TestSigningFails(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "K2JCJMDEHXQW5F", keyFunc(func() ([]byte, error) { return nil, errors.New("kms: throttled") }), func() time.Time { return testNow })
	var refused *Error
	c := testConfig(t, s)
	c.Hooks.Refused = func(_ *http.Request, e *Error) { refused = e }
	w := serve(newHandler(t, c), "POST", "", "X-User", "alice")
	problemOf(t, w, 500, ProblemInternal)
	if strings.Contains(w.Body.String(), "kms") || refused == nil || !strings.Contains(refused.Err.Error(), "throttled") || refused.Scope != "private" {
		t.Errorf("body %s, hook %v", w.Body, refused)
	}
}

// A key that cannot sign for now (ErrKeyUnavailable) is a 503 with
// Retry-After and no cookie, even when another scope of the answer
// signed; through the signature cache too, which keeps no failure: the
// next request signs again.
func TestKeyUnavailable(t *testing.T) {
	t.Parallel()
	for _, cache := range []int{0, 16} {
		t.Run(fmt.Sprintf("cache %d", cache), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			key := keyFunc(func() ([]byte, error) {
				if calls.Add(1) == 2 { // the second scope's policy
					return nil, fmt.Errorf("kms: ThrottlingException: %w", ErrKeyUnavailable)
				}
				return ecdsa.SignASN1(rand.Reader, ecKey, make([]byte, 32))
			})
			var refused *Error
			c := testConfig(t, newSigner(t, "K2JCJMDEHXQW5F", key, func() time.Time { return testNow }))
			c.SignatureCache = cache
			c.Hooks.Refused = func(_ *http.Request, e *Error) { refused = e }
			h := newHandler(t, c)
			w := serve(h, "POST", "", "X-User", "alice", "X-Role", "staff")
			problemOf(t, w, http.StatusServiceUnavailable, ProblemKeyUnavailable)
			if got := w.Header().Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After %q, want 1", got)
			}
			if strings.Contains(w.Body.String(), "kms") || strings.Contains(w.Body.String(), "Throttling") {
				t.Errorf("the body tells the cause: %s", w.Body)
			}
			if refused == nil || refused.Scope != "staff" || !errors.Is(refused, ErrKeyUnavailable) {
				t.Fatalf("Refused hook got %v", refused)
			}
			if w := serve(h, "POST", "", "X-User", "alice", "X-Role", "staff"); w.Code != http.StatusOK || len(w.Result().Cookies()) == 0 {
				t.Errorf("the next request: %d, %d cookies", w.Code, len(w.Result().Cookies()))
			}
		})
	}
}

// The cookies of every scope are set, or none: here the second scope's
// policy has expired by the time its cookies are written (the handler's
// clock is ahead of the signer's).
func TestNothingHalfDone(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "K2JCJMDEHXQW5F", ecKey, func() time.Time { return testNow })
	c := testConfig(t, s)
	c.Scopes[1].TTL = 5 * time.Second
	c.Scopes[1].Allowed = nil
	c.Now = func() time.Time { return testNow.Add(10 * time.Second) }
	// The signer's clock says now; the handler's, ten seconds on: the
	// staff policy (5 s) signs and then cannot be written.
	c.Hooks.Signed = func(*http.Request, time.Duration) {}
	h := newHandler(t, c)
	h.now = func() time.Time { return testNow }
	grants, err := h.grant(httptest.NewRequest("POST", "/", nil), s, Claims{"sub": "alice"}, h.scopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.now = func() time.Time { return testNow.Add(10 * time.Second) }
	hd := http.Header{"Set-Cookie": {"session=1"}}
	err = h.setCookies(hd, grants)
	if e := AsError(err); err == nil || e.Scope != "staff" || !errors.Is(err, signer.ErrExpired) {
		t.Fatalf("setCookies: %v", err)
	}
	if got := hd.Values("Set-Cookie"); len(got) != 1 || got[0] != "session=1" {
		t.Errorf("Set-Cookie after a failure: %q", got)
	}
}

func TestClear(t *testing.T) {
	t.Parallel()
	c := testConfig(t, newSigner(t, "K2JCJMDEHXQW5F", ecKey, nil))
	c.Scopes = append(c.Scopes, Scope[Claims]{Name: "again", Path: tmpl(t, "/media/{sub}/*"), CookiePath: "/media/", TTL: time.Minute})
	w := serve(newHandler(t, c), "DELETE", "")
	if w.Code != http.StatusNoContent || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, headers %v", w.Code, w.Header())
	}
	paths := map[string]int{}
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge != -1 || ck.Value != "" || ck.Domain != "example.com" {
			t.Errorf("not a deletion: %s", ck)
		}
		paths[ck.Path]++
	}
	if len(paths) != 2 || paths["/media/"] != 5 || paths["/staff/"] != 5 {
		t.Errorf("cleared %v, want the five CloudFront cookies once under each cookie Path", paths)
	}
}

// New refuses what the server's configuration refuses, with errors a
// caller can tell apart.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	s := newSigner(t, "K2JCJMDEHXQW5F", ecKey, nil)
	tests := []struct {
		name   string
		mutate func(*Config[Claims])
		want   error
	}{
		{"domain not covering the host", func(c *Config[Claims]) { c.Cookie.Domain = "example.org" }, signer.ErrCookieDomain},
		{"domain a suffix but not a parent", func(c *Config[Claims]) { c.Cookie.Domain = "ample.com" }, signer.ErrCookieDomain},
		{"empty cookie path", func(c *Config[Claims]) { c.Scopes[0].CookiePath = "" }, signer.ErrCookiePath},
		{"cookie path not covering", func(c *Config[Claims]) { c.Scopes[0].CookiePath = "/other/" }, signer.ErrCookiePath},
		{"cookie path a prefix of a segment", func(c *Config[Claims]) { c.Scopes[0].CookiePath = "/med" }, signer.ErrCookiePath},
		{"cookie path inside a placeholder", func(c *Config[Claims]) { c.Scopes[0].CookiePath = "/media/alice/" }, signer.ErrCookiePath},
		{"shared cookie path", func(c *Config[Claims]) {
			c.Scopes[1].CookiePath = "/"
			c.Scopes[0].CookiePath = "/"
			c.Scopes[1].Path = tmpl(t, "/x/*")
		}, signer.ErrCookiePath},
		{"SameSite=None without Secure", func(c *Config[Claims]) {
			c.Cookie.SameSite, c.Cookie.Insecure = http.SameSiteNoneMode, true
		}, signer.ErrCookieSameSite},
		{"no signer", func(c *Config[Claims]) { c.Signer = nil }, ErrConfig},
		{"no identify", func(c *Config[Claims]) { c.Identify = nil }, ErrConfig},
		{"no scopes", func(c *Config[Claims]) { c.Scopes = nil }, ErrConfig},
		{"base URL with a path", func(c *Config[Claims]) { c.BaseURL = "https://media.example.com/x" }, ErrConfig},
		{"base URL without scheme", func(c *Config[Claims]) { c.BaseURL = "media.example.com" }, ErrConfig},
		{"zero TTL", func(c *Config[Claims]) { c.Scopes[0].TTL = 0 }, ErrConfig},
		{"scope twice", func(c *Config[Claims]) { c.Scopes[1].Name = "private" }, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig(t, s)
			tt.mutate(&c)
			if _, err := New(c); !errors.Is(err, tt.want) {
				t.Errorf("New: %v, want %v", err, tt.want)
			}
		})
	}
	ok := testConfig(t, s)
	ok.Cookie.Domain = ".Example.com"
	if _, err := New(ok); err != nil {
		t.Errorf("a leading dot and capitals: %v", err)
	}
}

func TestPolicyExpiry(t *testing.T) {
	t.Parallel()
	at := func(h, m, s, ns int) time.Time { return time.Date(2026, 11, 21, h, m, s, ns, time.UTC) }
	tests := []struct {
		name        string
		now         time.Time
		ttl, gran   time.Duration
		wantExpires time.Time
	}{
		{"no rounding truncates to the second", at(12, 0, 0, 5e8), 10 * time.Minute, 0, at(12, 10, 0, 0)},
		{"rounded up to the next minute", at(12, 0, 0, 5e8), 10 * time.Minute, time.Minute, at(12, 11, 0, 0)},
		{"a fraction of a second rounds up too", at(12, 0, 59, 1), 10 * time.Minute, time.Minute, at(12, 11, 0, 0)},
		{"on the boundary stays", at(12, 0, 0, 0), 10 * time.Minute, time.Minute, at(12, 10, 0, 0)},
		{"just after the boundary", at(12, 0, 0, 1), 10 * time.Minute, time.Minute, at(12, 11, 0, 0)},
		{"granularity of 7s counts from the epoch", at(12, 0, 0, 0), time.Minute, 7 * time.Second,
			time.Unix((at(12, 1, 0, 0).Unix()+6)/7*7, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := policyExpiry(tt.now, tt.ttl, tt.gran); !got.Equal(tt.wantExpires) {
				t.Errorf("policyExpiry = %s, want %s", got.UTC(), tt.wantExpires)
			}
		})
	}
}

// countingKey counts signatures.
type countingKey struct {
	crypto.Signer
	n atomic.Int32
}

func (k *countingKey) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	k.n.Add(1)
	return k.Signer.Sign(r, d, o)
}
