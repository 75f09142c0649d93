package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFramingClosesConnection: a request whose framing a proxy in front
// may have read otherwise (chunked, where net/http drops a Content-Length
// it was sent with, or HTTP/1.0, where net/http ignores Transfer-Encoding)
// is answered with Connection: close, so nothing after it on the
// connection is read as another request. Other requests keep the
// connection.
func TestFramingClosesConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		target    string
		body      string
		mutate    func(*http.Request)
		wantClose bool
	}{
		{"chunked issuance", http.MethodPost, "/auth/media-cookies", `{}`, func(r *http.Request) {
			r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
		}, true},
		{"chunked refusal", http.MethodPost, "/auth/media-cookies", `{}`, func(r *http.Request) {
			r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
			r.Header.Del("Content-Type")
		}, true},
		{"chunked health check", http.MethodGet, "/healthz", `x`, func(r *http.Request) {
			r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
		}, true},
		{"chunked unknown route", http.MethodGet, "/nope", `x`, func(r *http.Request) {
			r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
		}, true},
		{"HTTP/1.0", http.MethodPost, "/auth/media-cookies", `{}`, func(r *http.Request) {
			r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0
		}, true},
		{"Content-Length", http.MethodPost, "/auth/media-cookies", `{}`, nil, false},
		{"no body", http.MethodGet, "/healthz", ``, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.mutate != nil {
				tt.mutate(req)
			}
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, req)
			if got := w.Header().Get("Connection") == "close"; got != tt.wantClose {
				t.Errorf("status %d, Connection %q, want close %v", w.Code, w.Header().Get("Connection"), tt.wantClose)
			}
		})
	}
}
