package handlers

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

const testOrigin = "https://app.example.com"

// opsServer is an API with its metrics, so tests can scrape what requests did.
type opsServer struct {
	handler http.Handler
	metrics *Metrics
}

func newOpsServer(t *testing.T, signers func() *signer.Signer, ready func() bool, mutate func(*Options)) opsServer {
	t.Helper()
	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		CloudFrontBaseURL:  "https://media.example.com",
		Scopes:             []Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: 10 * time.Minute}},
		Cookie:             signer.CookieOptions{Domain: "example.com"},
		CORSAllowedOrigins: []string{testOrigin},
		Now:                func() time.Time { return testNow },
	}
	if mutate != nil {
		mutate(&opts)
	}
	if signers == nil {
		signers = signerWith(t, testKey)
	}
	if ready == nil {
		ready = func() bool { return true }
	}
	m := NewMetrics()
	return opsServer{handler: NewServer(zerolog.Nop(), opts, signers, auth.Dev{}, ready, m), metrics: m}
}

// issue POSTs /auth/media-cookies from peer remote, as user (X-Dev-User),
// with an Origin and optional extra header pairs.
func (s opsServer) issue(remote, user string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/auth/media-cookies", nil)
	req.RemoteAddr = remote
	req.Header.Set("Origin", testOrigin)
	req.Header.Set(auth.DevUserHeader, user)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, req)
	return w
}

// scrape returns the metrics exposition text.
func (s opsServer) scrape(t *testing.T) string {
	t.Helper()
	w := httptest.NewRecorder()
	s.metrics.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("scrape: %d", w.Code)
	}
	b, err := io.ReadAll(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantSeries fails unless the exposition holds each line exactly.
func wantSeries(t *testing.T, exposition string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(exposition, "\n"+l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
}

// rateLimited checks a 429 answer: problem type, Retry-After, CORS headers
// like any error, and no cookie.
func rateLimited(t *testing.T, w *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	problemResponse(t, w, http.StatusTooManyRequests, "rate-limited")
	if got := w.Header().Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After %q, want %q", got, retryAfter)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != testOrigin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, testOrigin)
	}
}

func TestRateLimitPerIP(t *testing.T) {
	t.Parallel()
	s := newOpsServer(t, nil, nil, func(o *Options) {
		o.RateLimitPerIP = RateLimit{Requests: 2, Window: time.Minute}
		o.TrustedProxies = mustPrefixes("10.0.0.0/8")
	})
	const client = "203.0.113.5:40000"
	for i := range 2 {
		if w := s.issue(client, "user"+string(rune('a'+i))); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	// Other identities from the same address share its limit.
	rateLimited(t, s.issue(client, "userc"), "60")
	// A forged X-Forwarded-For from an untrusted peer is not believed.
	rateLimited(t, s.issue("203.0.113.5:40001", "userd", "X-Forwarded-For", "198.51.100.77"), "60")
	// Another address is unaffected.
	if w := s.issue("203.0.113.6:40000", "usere"); w.Code != http.StatusOK {
		t.Fatalf("another address: %d %s", w.Code, w.Body)
	}
	// Behind a trusted proxy, the forwarded client is the key.
	if w := s.issue("10.1.2.3:5000", "userf", "X-Forwarded-For", "198.51.100.8"); w.Code != http.StatusOK {
		t.Fatalf("client behind a trusted proxy: %d %s", w.Code, w.Body)
	}
	// An IPv6 client's /64 is one client.
	for i, remote := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1"} {
		if w := s.issue(remote, "v6"); w.Code != http.StatusOK {
			t.Fatalf("IPv6 request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	rateLimited(t, s.issue("[2001:db8:1:2:ffff::9]:1", "v6"), "60")

	wantSeries(t, s.scrape(t),
		`cfcookies_rate_limited_total{limit="ip"} 3`,
		`cfcookies_rate_limited_total{limit="identity"} 0`,
		`cfcookies_issuances_total{result="rate_limited"} 3`,
		`cfcookies_http_requests_total{code="429",method="POST",route="/auth/media-cookies"} 3`,
	)
}

func TestRateLimitPerIdentity(t *testing.T) {
	t.Parallel()
	s := newOpsServer(t, nil, nil, func(o *Options) {
		o.RateLimitPerIdentity = RateLimit{Requests: 2, Window: 30 * time.Second}
	})
	// Spread over addresses: the identity is the key.
	for i, remote := range []string{"203.0.113.1:1", "203.0.113.2:1"} {
		if w := s.issue(remote, "alice"); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	rateLimited(t, s.issue("203.0.113.3:1", "alice"), "30")
	if w := s.issue("203.0.113.3:1", "bob"); w.Code != http.StatusOK {
		t.Fatalf("another identity: %d %s", w.Code, w.Body)
	}
	// Unauthenticated requests are refused before the identity limit.
	problemResponse(t, s.issue("203.0.113.3:1", ""), http.StatusUnauthorized, "unauthenticated")

	wantSeries(t, s.scrape(t),
		`cfcookies_rate_limited_total{limit="identity"} 1`,
		`cfcookies_rate_limited_total{limit="ip"} 0`,
	)
}

// With both limits on, the X-RateLimit-* headers are the per-identity
// limit's once the caller is authenticated, the per-address limit's before.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	s := newOpsServer(t, nil, nil, func(o *Options) {
		o.RateLimitPerIP = RateLimit{Requests: 50, Window: time.Minute}
		o.RateLimitPerIdentity = RateLimit{Requests: 5, Window: time.Minute}
	})
	tests := []struct {
		name          string
		user          string
		wantStatus    int
		wantLimit     string
		wantRemaining string
	}{
		{"issued: the identity's", "alice", http.StatusOK, "5", "4"},
		{"unauthenticated: the address's", "", http.StatusUnauthorized, "50", "48"},
	}
	for _, tc := range tests {
		w := s.issue("203.0.113.9:1", tc.user)
		if w.Code != tc.wantStatus {
			t.Fatalf("%s: status %d", tc.name, w.Code)
		}
		if got := w.Header().Get("X-RateLimit-Limit"); got != tc.wantLimit {
			t.Errorf("%s: X-RateLimit-Limit %q, want %q", tc.name, got, tc.wantLimit)
		}
		if got := w.Header().Get("X-RateLimit-Remaining"); got != tc.wantRemaining {
			t.Errorf("%s: X-RateLimit-Remaining %q, want %q", tc.name, got, tc.wantRemaining)
		}
	}
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	s := newOpsServer(t, nil, nil, nil)
	for i := range 50 {
		if w := s.issue("203.0.113.5:1", "alice"); w.Code != http.StatusOK {
			t.Fatalf("request %d without limits: %d", i+1, w.Code)
		}
	}
}

func TestIssueBeforeKeyLoaded(t *testing.T) {
	t.Parallel()
	ready := false
	failing := failingSigner(t)
	signers := func() *signer.Signer {
		if !ready {
			return nil
		}
		return failing()
	}
	s := newOpsServer(t, signers, func() bool { return ready }, nil)
	w := s.issue("203.0.113.5:1", "alice")
	problemResponse(t, w, http.StatusServiceUnavailable, "not-ready")
	if got := w.Header().Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != testOrigin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, testOrigin)
	}
	ready = true
	// Ready, the failing issuer is reached: a 500, no longer a 503.
	problemResponse(t, s.issue("203.0.113.5:1", "alice"), http.StatusInternalServerError, "internal")
	wantSeries(t, s.scrape(t),
		`cfcookies_issuances_total{result="not_ready"} 1`,
		`cfcookies_issuances_total{result="error"} 1`,
		`cfcookies_scope_issuances_total{outcome="error",scope="default"} 1`,
		`cfcookies_signing_duration_seconds_count 1`,
	)
}

// A key that cannot sign for now (a throttled KMS key) is a 503 with
// Retry-After and CORS headers, counted apart from other errors.
func TestIssueKeyUnavailable(t *testing.T) {
	t.Parallel()
	key := keyFunc(func() ([]byte, error) {
		return nil, fmt.Errorf("keys: KMS key \"alias/cf\": ThrottlingException: %w", mediacookies.ErrKeyUnavailable)
	})
	sg, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{HashAlgorithm: signer.SHA256, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	s := newOpsServer(t, func() *signer.Signer { return sg }, nil, nil)
	w := s.issue("203.0.113.5:1", "alice")
	problemResponse(t, w, http.StatusServiceUnavailable, "key-unavailable")
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != testOrigin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, testOrigin)
	}
	wantSeries(t, s.scrape(t),
		`cfcookies_issuances_total{result="key_unavailable"} 1`,
		`cfcookies_issuances_total{result="error"} 0`,
		`cfcookies_scope_issuances_total{outcome="error",scope="default"} 1`,
	)
}

func TestMetricsAfterRequests(t *testing.T) {
	t.Parallel()
	tmpl, err := signer.ParsePathTemplate("/premium/{sub}/*")
	if err != nil {
		t.Fatal(err)
	}
	s := newOpsServer(t, nil, nil, func(o *Options) {
		o.Scopes = append(o.Scopes, Scope{Name: "premium", Path: tmpl, CookiePath: "/premium/", TTL: time.Minute})
	})
	for range 2 {
		if w := s.issue("203.0.113.5:1", "alice"); w.Code != http.StatusOK {
			t.Fatalf("issue: %d %s", w.Code, w.Body)
		}
	}
	problemResponse(t, s.issue("203.0.113.5:1", ""), http.StatusUnauthorized, "unauthenticated")
	problemResponse(t, s.issue("203.0.113.5:1", "a", auth.DevUserHeader, "b"), http.StatusUnauthorized, "unauthenticated")
	// A subject that cannot fill a path template.
	problemResponse(t, s.issue("203.0.113.5:1", "../x"), http.StatusForbidden, "identity-not-grantable")

	got := s.scrape(t)
	wantSeries(t, got,
		`cfcookies_issuances_total{result="ok"} 2`,
		`cfcookies_issuances_total{result="unauthenticated"} 2`,
		`cfcookies_issuances_total{result="forbidden"} 1`,
		`cfcookies_scope_issuances_total{outcome="ok",scope="default"} 2`,
		`cfcookies_scope_issuances_total{outcome="ok",scope="premium"} 2`,
		`cfcookies_scope_issuances_total{outcome="not_grantable",scope="default"} 1`,
		`cfcookies_scope_issuances_total{outcome="error",scope="premium"} 0`,
		`cfcookies_auth_failures_total{reason="malformed"} 2`,
		`cfcookies_auth_failures_total{reason="missing"} 0`,
		`cfcookies_auth_failures_total{reason="keys_unavailable"} 0`,
		`cfcookies_signing_duration_seconds_count 4`,
		`cfcookies_http_requests_total{code="200",method="POST",route="/auth/media-cookies"} 2`,
		`cfcookies_http_request_duration_seconds_count{route="/auth/media-cookies"} 5`,
	)
	// Label values come from configuration and fixed sets only: never the
	// subject or anything else the request sent.
	for _, leaked := range []string{"alice", "../x"} {
		if strings.Contains(got, leaked) {
			t.Errorf("metrics hold request data %q", leaked)
		}
	}
}
