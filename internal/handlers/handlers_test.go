package handlers

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/testlog"
	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 500e6, time.UTC)

// testKey is shared: generating RSA keys per test is slow.
var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

type fixture struct {
	handler http.Handler
	logs    *testlog.Buffer
	signer  *signer.Signer
	opts    Options
}

func zerologFor(w io.Writer) zerolog.Logger { return zerolog.New(w) }

func mustPrefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// doFrom sends a request from the given peer address.
func (f fixture) doFrom(remote, method, target string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Add(headers[i], headers[i+1])
		}
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, req)
	return w
}

func newFixture(t *testing.T, mutate func(*Options)) fixture {
	t.Helper()
	s, err := signer.New("K2JCJMDEHXQW5F", testKey, signer.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		CloudFrontBaseURL: "https://media.example.com",
		Scopes:            []Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: 10 * time.Minute}},
		Cookie:            signer.CookieOptions{Domain: "example.com"},
		Now:               func() time.Time { return testNow },
	}
	if mutate != nil {
		mutate(&opts)
	}
	logs := &testlog.Buffer{}
	logger := zerolog.New(logs)
	return fixture{
		handler: NewServer(logger, opts, fixed(s), auth.Dev{}, func() bool { return true }, NewMetrics()),
		logs:    logs,
		signer:  s,
		opts:    opts,
	}
}

func (f fixture) do(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, req)
	return w
}

func TestIssueCookies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	w := f.do("POST", "/auth/media-cookies", "", "X-Dev-User", "alice")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	var resp struct {
		ExpiresAt    time.Time `json:"expiresAt"`
		RefreshAfter time.Time `json:"refreshAfter"`
		Grants       []struct {
			Scope, Resource, CookiePath string
		} `json:"grants"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	wantExp := time.Date(2026, 11, 21, 12, 10, 0, 0, time.UTC)
	if !resp.ExpiresAt.Equal(wantExp) {
		t.Errorf("expiresAt %s, want %s", resp.ExpiresAt, wantExp)
	}
	if !resp.RefreshAfter.After(testNow) || !resp.RefreshAfter.Before(wantExp) {
		t.Errorf("refreshAfter %s is not between now and expiry", resp.RefreshAfter)
	}
	if len(resp.Grants) != 1 || resp.Grants[0].Resource != "https://media.example.com/media/alice/*" || resp.Grants[0].CookiePath != "/" {
		t.Errorf("grants %+v", resp.Grants)
	}

	cookies := w.Result().Cookies()
	byName := map[string]*http.Cookie{}
	for _, c := range cookies {
		byName[c.Name] = c
	}
	for _, name := range []string{signer.CookiePolicy, signer.CookieSignature, signer.CookieKeyPairID, signer.CookieHashAlgorithm} {
		c := byName[name]
		if c == nil {
			t.Fatalf("no %s cookie in %v", name, w.Header()["Set-Cookie"])
		}
		if c.Domain != "example.com" || c.Path != "/" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
			c.MaxAge != 600 || !c.Expires.Equal(wantExp) {
			t.Errorf("%s attributes: %s", name, c.String())
		}
	}
	policy, err := signer.DecodeBase64(byName[signer.CookiePolicy].Value)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Statement":[{"Resource":"https://media.example.com/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1795263000}}}]}`; string(policy) != want {
		t.Errorf("policy %s\nwant %s", policy, want)
	}
	// The default hash, SHA256, which the fourth cookie names.
	if h := byName[signer.CookieHashAlgorithm].Value; h != string(signer.SHA256) {
		t.Errorf("%s=%q, want SHA256", signer.CookieHashAlgorithm, h)
	}
	if err := signer.Verify(f.signer.Public(), signer.SHA256, policy, byName[signer.CookieSignature].Value); err != nil {
		t.Errorf("signature: %v", err)
	}
	for _, secret := range []string{byName[signer.CookiePolicy].Value, byName[signer.CookieSignature].Value} {
		if strings.Contains(f.logs.String(), secret) {
			t.Fatal("a cookie value was logged")
		}
	}

	// One log line per issuance: the access line, carrying who got how
	// many grants until when.
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want the access line only:\n%s", len(lines), f.logs)
	}
	var line struct {
		Message, Sub, Method, Path string
		Status, Grants             int
		ExpiresAt                  time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line.Message != "request" || line.Sub != "alice" || line.Grants != 1 || !line.ExpiresAt.Equal(wantExp) ||
		line.Method != "POST" || line.Path != "/auth/media-cookies" || line.Status != http.StatusOK {
		t.Errorf("access line %s", lines[0])
	}
}

// problemResponse asserts w is an RFC 9457 problem of the given type and
// status, and that no cookie was set.
func problemResponse(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if sc := w.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("cookies set on an error: %v", sc)
	}
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if p.Type != mediacookies.ProblemTypePrefix+typ || p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("problem %+v, want type %s", p, typ)
	}
}

func TestIssueCookiesRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		method  string
		body    string
		headers []string
		status  int
		typ     string
	}{
		{"two identities", "POST", "", []string{"X-Dev-User", "a", "X-Dev-User", "b"}, 401, "unauthenticated"},
		{"wildcard identity", "POST", "", []string{"X-Dev-User", "*"}, 403, "identity-not-grantable"},
		{"question mark identity", "POST", "", []string{"X-Dev-User", "a?"}, 403, "identity-not-grantable"},
		{"slash identity", "POST", "", []string{"X-Dev-User", "alice/../bob"}, 403, "identity-not-grantable"},
		{"dot-dot identity", "POST", "", []string{"X-Dev-User", ".."}, 403, "identity-not-grantable"},
		{"encoded wildcard identity", "POST", "", []string{"X-Dev-User", "%2a"}, 403, "identity-not-grantable"},
		{"space identity", "POST", "", []string{"X-Dev-User", "a b"}, 403, "identity-not-grantable"},
		{"non-ASCII identity", "POST", "", []string{"X-Dev-User", "ali\u00e7e"}, 403, "identity-not-grantable"},
		{"fullwidth asterisk identity", "POST", "", []string{"X-Dev-User", "\uff0a"}, 403, "identity-not-grantable"},
		{"malformed JSON", "POST", `{"scopes":`, []string{"Content-Type", "application/json"}, 400, "bad-request"},
		{"unknown field", "POST", `{"scope":["default"]}`, []string{"Content-Type", "application/json"}, 400, "bad-request"},
		{"two objects", "POST", `{}{}`, []string{"Content-Type", "application/json"}, 400, "bad-request"},
		{"wrong type", "POST", `{"scopes":"default"}`, []string{"Content-Type", "application/json"}, 400, "bad-request"},
		{"repeated scope", "POST", `{"scopes":["default","default"]}`, []string{"Content-Type", "application/json"}, 400, "bad-request"},
		{"unknown scope", "POST", `{"scopes":["premium"]}`, []string{"Content-Type", "application/json"}, 403, "forbidden-scope"},
		{"wildcard scope", "POST", `{"scopes":["*"]}`, []string{"Content-Type", "application/json"}, 403, "forbidden-scope"},
		{"oversized body", "POST", `{"scopes":["` + strings.Repeat("a", 5000) + `"]}`, []string{"Content-Type", "application/json"}, 413, "body-too-large"},
		{"form content type", "POST", `scopes=default`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported-media-type"},
		{"body without content type", "POST", `{"scopes":["default"]}`, nil, 415, "unsupported-media-type"},
		{"text/plain JSON", "POST", `{}`, []string{"Content-Type", "text/plain"}, 415, "unsupported-media-type"},
		{"GET when not allowed", "GET", "", nil, 405, "method-not-allowed"},
		{"PUT", "PUT", "", nil, 405, "method-not-allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			w := f.do(tt.method, "/auth/media-cookies", tt.body, tt.headers...)
			problemResponse(t, w, tt.status, tt.typ)
			if strings.Contains(f.logs.String(), `"level":"error"`) {
				t.Errorf("bad input logged at error level: %s", f.logs)
			}
		})
	}
}

func TestIssueCookiesAcceptsJSONBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, body := range []string{`{}`, `{"scopes":[]}`, `{"scopes":["default"]}`, " {\"scopes\":[\"default\"]}\n"} {
		w := f.do("POST", "/auth/media-cookies", body, "Content-Type", "application/json; charset=utf-8")
		if w.Code != http.StatusOK || len(w.Result().Cookies()) != 4 {
			t.Errorf("body %q: status %d, %d cookies: %s", body, w.Code, len(w.Result().Cookies()), w.Body)
		}
	}
}

func TestMethodNotAllowedListsAllow(t *testing.T) {
	t.Parallel()
	w := newFixture(t, nil).do("PUT", "/auth/media-cookies", "")
	if got := strings.Join(w.Header().Values("Allow"), ","); got != "POST,DELETE" {
		t.Fatalf("Allow %q, want POST,DELETE", got)
	}
}

func TestAllowGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.AllowGet = true })
	if w := f.do("GET", "/auth/media-cookies", ""); w.Code != http.StatusOK {
		t.Fatalf("GET with AllowGet: %d", w.Code)
	}
}

func TestRevokeCookies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	w := f.do("DELETE", "/auth/media-cookies", "")
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d", w.Code)
	}
	got := map[string]bool{}
	for _, c := range w.Result().Cookies() {
		if c.MaxAge != -1 || c.Value != "" || c.Domain != "example.com" || c.Path != "/" {
			t.Errorf("not a deletion with the issued scope: %s", c)
		}
		got[c.Name] = true
	}
	for _, name := range []string{signer.CookiePolicy, signer.CookieSignature, signer.CookieKeyPairID, signer.CookieHashAlgorithm} {
		if !got[name] {
			t.Errorf("%s not cleared", name)
		}
	}
}

// fixed is a signer source that never rotates.
func fixed(s *signer.Signer) func() *signer.Signer { return func() *signer.Signer { return s } }

// keyFunc is a crypto.Signer with testKey's public key whose Sign is
// itself, such as a KMS key failing.
type keyFunc func() ([]byte, error)

func (keyFunc) Public() crypto.PublicKey { return testKey.Public() }

func (f keyFunc) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return f() }

// signerWith is a signer source whose key is k.
func signerWith(t testing.TB, k crypto.Signer) func() *signer.Signer {
	t.Helper()
	s, err := signer.New("K2JCJMDEHXQW5F", k, signer.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return fixed(s)
}

// failingSigner signs with a key that fails, its error holding what looks
// like a secret.
func failingSigner(t testing.TB) func() *signer.Signer {
	return signerWith(t, keyFunc(func() ([]byte, error) {
		return nil, errors.New("kms: throttled, key material -----BEGIN PRIVATE KEY----- oops")
	}))
}

func TestSigningFailureIsInternal(t *testing.T) {
	t.Parallel()
	tmpl, _ := signer.ParsePathTemplate("/media/{sub}/*")
	logs := &bytes.Buffer{}
	h := NewServer(zerolog.New(logs), Options{
		CloudFrontBaseURL: "https://media.example.com",
		Scopes:            []Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: time.Minute}},
		Now:               func() time.Time { return testNow },
	}, failingSigner(t), auth.Dev{}, func() bool { return true }, NewMetrics())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/auth/media-cookies", nil))
	problemResponse(t, w, 500, "internal")
	if strings.Contains(w.Body.String(), "kms") || strings.Contains(w.Body.String(), "BEGIN") {
		t.Errorf("internal detail leaked to the client: %s", w.Body)
	}
	if !strings.Contains(logs.String(), `"level":"error"`) || !strings.Contains(logs.String(), "throttled") {
		t.Errorf("failure not logged at error level: %s", logs)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	ready := false
	tmpl, _ := signer.ParsePathTemplate("/media/{sub}/*")
	h := NewServer(zerolog.Nop(), Options{Scopes: []Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: time.Minute}}},
		failingSigner(t), auth.Dev{}, func() bool { return ready }, NewMetrics())
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	if w := get("/healthz"); w.Code != 200 {
		t.Errorf("healthz %d", w.Code)
	}
	problemResponse(t, get("/readyz"), 503, "not-ready")
	ready = true
	if w := get("/readyz"); w.Code != 200 {
		t.Errorf("readyz when ready: %d", w.Code)
	}
	problemResponse(t, get("/nope"), 404, "not-found")
}

func TestPanicIsA500Problem(t *testing.T) {
	t.Parallel()
	logs := &bytes.Buffer{}
	h := hlog.NewHandler(zerolog.New(logs))(recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	problemResponse(t, w, 500, "internal")
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %s", logs)
	}
}
