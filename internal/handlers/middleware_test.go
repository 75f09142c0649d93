package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxy trusted: XFF ignored", "203.0.113.9:5000", []string{"1.2.3.4"}, nil, "203.0.113.9"},
		{"untrusted peer cannot forge", "203.0.113.9:5000", []string{"1.2.3.4"}, trusted, "203.0.113.9"},
		{"trusted peer: rightmost untrusted", "10.0.0.5:5000", []string{"1.2.3.4, 198.51.100.7, 10.0.0.9"}, trusted, "198.51.100.7"},
		{"several headers read right to left", "10.0.0.5:5000", []string{"1.2.3.4", "198.51.100.7"}, trusted, "198.51.100.7"},
		{"garbage stops the walk", "10.0.0.5:5000", []string{"1.2.3.4, garbage, 10.0.0.9"}, trusted, "10.0.0.9"},
		{"all trusted: leftmost", "10.0.0.5:5000", []string{"10.1.1.1, 10.0.0.9"}, trusted, "10.1.1.1"},
		{"ipv4-mapped peer", "[::ffff:203.0.113.9]:5000", nil, nil, "203.0.113.9"},
		{"ipv6 client", "10.0.0.5:5000", []string{"2001:db8::1"}, trusted, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tt.trusted); got.String() != tt.want {
				t.Fatalf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.CORSAllowedOrigins = []string{"https://app.example.com"} })
	tests := []struct {
		name, method, origin string
		headers              []string
		wantStatus           int
		wantACAO             string
	}{
		{"allowed origin", "POST", "https://app.example.com", nil, 200, "https://app.example.com"},
		{"allowed origin on a 403", "POST", "https://app.example.com", []string{"X-Dev-User", "*"}, 403, "https://app.example.com"},
		{"allowed origin on a 405", "GET", "https://app.example.com", nil, 405, "https://app.example.com"},
		{"look-alike origin", "POST", "https://app.example.com.evil.net", nil, 200, ""},
		{"scheme change", "POST", "http://app.example.com", nil, 200, ""},
		{"port change", "POST", "https://app.example.com:8443", nil, 200, ""},
		{"null origin", "POST", "null", nil, 200, ""},
		{"wildcard origin", "POST", "*", nil, 200, ""},
		{"suffix look-alike", "POST", "https://evilapp.example.com", nil, 200, ""},
		{"prefix look-alike", "POST", "https://app.example.co", nil, 200, ""},
		// Compared byte for byte: a value that differs from the configured
		// one is never echoed, even one a browser would not send.
		{"upper-case origin", "POST", "HTTPS://APP.EXAMPLE.COM", nil, 200, ""},
		{"upper-case host", "POST", "https://App.Example.com", nil, 200, ""},
		{"upper-case scheme", "POST", "HTTPS://app.example.com", nil, 200, ""},
		{"trailing slash", "POST", "https://app.example.com/", nil, 200, ""},
		{"trailing dot", "POST", "https://app.example.com.", nil, 200, ""},
		{"default port spelled out", "POST", "https://app.example.com:443", nil, 200, ""},
		{"two origins in one header", "POST", "https://app.example.com https://evil.net", nil, 200, ""},
		{"two origins, comma", "POST", "https://app.example.com, https://evil.net", nil, 200, ""},
		// Two Origin headers: no Access-Control-Allow-Origin at all, not
		// the first, not both.
		{"two Origin headers, allowed first", "POST", "https://app.example.com", []string{"Origin", "https://evil.net"}, 200, ""},
		{"two Origin headers, allowed last", "POST", "https://evil.net", []string{"Origin", "https://app.example.com"}, 200, ""},
		{"two identical Origin headers", "POST", "https://app.example.com", []string{"Origin", "https://app.example.com"}, 200, ""},
		{"two Origin headers on a 405", "GET", "https://app.example.com", []string{"Origin", "https://app.example.com"}, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := f.do(tt.method, "/auth/media-cookies", "", append([]string{"Origin", tt.origin}, tt.headers...)...)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.wantACAO {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.wantACAO)
			}
			wantCreds := ""
			if tt.wantACAO != "" {
				wantCreds = "true"
			}
			if got := w.Header().Get("Access-Control-Allow-Credentials"); got != wantCreds {
				t.Errorf("Access-Control-Allow-Credentials %q, want %q", got, wantCreds)
			}
			// Allowed or not, the answer depends on Origin: a shared cache
			// must not serve one origin's answer to another.
			if !slices.Contains(w.Header().Values("Vary"), "Origin") {
				t.Errorf("Vary %q lacks Origin", w.Header().Values("Vary"))
			}
		})
	}
	w := f.do("OPTIONS", "/auth/media-cookies", "", "Origin", "https://app.example.com",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
}

// TestCORSPreflight: a preflight passes only for exactly one Origin header
// equal byte for byte to a configured origin, and exactly one requested
// method; otherwise it gets no Access-Control-Allow-* header at all.
func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	const origin = "https://app.example.com"
	f := newFixture(t, func(o *Options) { o.CORSAllowedOrigins = []string{origin, "https://admin.example.com"} })
	tests := []struct {
		name    string
		headers []string
		allowed bool
	}{
		{"allowed", []string{"Origin", origin, "Access-Control-Request-Method", "POST"}, true},
		{"second configured origin", []string{"Origin", "https://admin.example.com", "Access-Control-Request-Method", "DELETE"}, true},
		{"upper-case origin", []string{"Origin", "HTTPS://APP.EXAMPLE.COM", "Access-Control-Request-Method", "POST"}, false},
		{"upper-case host", []string{"Origin", "https://APP.example.com", "Access-Control-Request-Method", "POST"}, false},
		{"two Origin headers", []string{"Origin", origin, "Origin", "https://evil.net", "Access-Control-Request-Method", "POST"}, false},
		{"two identical Origin headers", []string{"Origin", origin, "Origin", origin, "Access-Control-Request-Method", "POST"}, false},
		{"two requested methods", []string{"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Method", "PUT"}, false},
		{"method not allowed", []string{"Origin", origin, "Access-Control-Request-Method", "PUT"}, false},
		{"lower-case method", []string{"Origin", origin, "Access-Control-Request-Method", "post"}, false},
		{"look-alike", []string{"Origin", origin + ".evil.net", "Access-Control-Request-Method", "POST"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := f.do("OPTIONS", "/auth/media-cookies", "", tt.headers...)
			acao := w.Header().Values("Access-Control-Allow-Origin")
			if !tt.allowed {
				for k := range w.Header() {
					if strings.HasPrefix(k, "Access-Control-Allow-") {
						t.Errorf("%s: %q on a refused preflight", k, w.Header().Values(k))
					}
				}
				return
			}
			if len(acao) != 1 || acao[0] != tt.headers[1] {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", acao, tt.headers[1])
			}
			if got := w.Header().Values("Access-Control-Allow-Methods"); len(got) != 1 || got[0] != tt.headers[3] {
				t.Errorf("Access-Control-Allow-Methods %q", got)
			}
			if vary := strings.Join(w.Header().Values("Vary"), ", "); !slices.Contains(strings.Split(vary, ", "), "Origin") {
				t.Errorf("Vary %q lacks Origin", vary)
			}
		})
	}
}

// rejectAll authenticates nobody.
type rejectAll struct{}

func (rejectAll) Authenticate(*http.Request) (auth.Identity, error) {
	return auth.Identity{}, auth.ErrUnauthenticated
}

// panickingSigner signs with a key that fails the way a bug would.
func panickingSigner(t testing.TB) func() *signer.Signer {
	return signerWith(t, keyFunc(func() ([]byte, error) { panic("signer bug") }))
}

// TestCORSOnErrors: every status the SPA can get carries the same CORS
// headers as a success, so the browser hands the page the real status and
// problem+json instead of an opaque CORS error.
func TestCORSOnErrors(t *testing.T) {
	t.Parallel()
	const origin = "https://app.example.com"
	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		CloudFrontBaseURL:  "https://media.example.com",
		Scopes:             []Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: 10 * time.Minute}},
		CORSAllowedOrigins: []string{origin},
	}
	ready := func() bool { return true }
	ok, err := signer.New("K2JCJMDEHXQW5F", testKey, signer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		signers func() *signer.Signer
		authn   auth.Authenticator
		headers []string
		body    string
		want    int
	}{
		{"401 no identity", fixed(ok), rejectAll{}, nil, "", http.StatusUnauthorized},
		{"400 bad body", fixed(ok), auth.Dev{}, []string{"Content-Type", "application/json"}, "{", http.StatusBadRequest},
		{"403 unknown scope", fixed(ok), auth.Dev{}, []string{"Content-Type", "application/json"}, `{"scopes":["nope"]}`, http.StatusForbidden},
		{"415 form body", fixed(ok), auth.Dev{}, []string{"Content-Type", "application/x-www-form-urlencoded"}, "a=b", http.StatusUnsupportedMediaType},
		{"500 signing fails", failingSigner(t), auth.Dev{}, nil, "", http.StatusInternalServerError},
		{"500 handler panics", panickingSigner(t), auth.Dev{}, nil, "", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := NewServer(zerolog.Nop(), opts, tt.signers, tt.authn, ready, NewMetrics())
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := httptest.NewRequest("POST", "/auth/media-cookies", body)
			r.Header.Set("Origin", origin)
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want problem+json", ct)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, origin)
			}
			if got := w.Header().Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("Access-Control-Allow-Credentials %q, want true", got)
			}
			if !slices.Contains(w.Header().Values("Vary"), "Origin") {
				t.Errorf("Vary %q lacks Origin", w.Header().Values("Vary"))
			}
			if len(w.Result().Cookies()) != 0 {
				t.Errorf("an error set cookies")
			}
		})
	}
}

// TestObserve checks the access line and the request count of answers
// written, not written, failed and aborted.
func TestObserve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantLine  string // fragment of the access line
		wantCount string // the requests_total series, "" for none
	}{
		{"written", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) },
			`"level":"info","method":"GET","path":"/x","status":201`, `code="201",method="GET",route="unmatched"} 1`},
		{"nothing written is a 200 for the metrics", func(http.ResponseWriter, *http.Request) {},
			`"status":0`, `code="200",method="GET",route="unmatched"} 1`},
		{"a server error logs a warning", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) },
			`"level":"warn","method":"GET","path":"/x","status":502`, `code="502",method="GET",route="unmatched"} 1`},
		{"an aborted answer is logged, not counted", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) },
			`"status":0`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs strings.Builder
			m := NewMetrics()
			h := hlog.NewHandler(zerolog.New(&logs))(observe(m, nil, nil)(tc.handler))
			func() {
				defer func() { _ = recover() }()
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x?token=secret", nil))
			}()
			if !strings.Contains(logs.String(), tc.wantLine) || strings.Contains(logs.String(), "secret") {
				t.Errorf("access line %s, want %s and no query", logs.String(), tc.wantLine)
			}
			w := httptest.NewRecorder()
			m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			counted := strings.Contains(w.Body.String(), "cfcookies_http_requests_total{")
			if tc.wantCount == "" && counted {
				t.Errorf("counted:\n%s", grepLines(w.Body.String(), "cfcookies_http_requests_total"))
			}
			if tc.wantCount != "" && !strings.Contains(w.Body.String(), "cfcookies_http_requests_total{"+tc.wantCount) {
				t.Errorf("want %s in\n%s", tc.wantCount, grepLines(w.Body.String(), "cfcookies_http_requests_total"))
			}
		})
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
