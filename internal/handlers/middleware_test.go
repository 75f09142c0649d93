package handlers

import (
	"net/http/httptest"
	"net/netip"
	"testing"
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
		})
	}
	w := f.do("OPTIONS", "/auth/media-cookies", "", "Origin", "https://app.example.com",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
}
