package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	h := Handler(next)
	tests := []struct {
		method, path string
		wantCode     int
		wantType     string
		wantBody     string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `import { MediaCookies, ProblemError } from "./cfcookies.js"`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		// Module scripts need a JavaScript media type, or the browser refuses them.
		{"GET", "/cfcookies.js", 200, "text/javascript; charset=utf-8", "export class MediaCookies"},
		{"GET", "/index.html", http.StatusMovedPermanently, "", ""},
		// Everything else is the API's.
		{"POST", "/", http.StatusTeapot, "", ""},
		{"POST", "/cfcookies.js", http.StatusTeapot, "", ""},
		{"GET", "/auth/media-cookies", http.StatusTeapot, "", ""},
		{"GET", "/healthz", http.StatusTeapot, "", ""},
		{"GET", "/web.go", http.StatusTeapot, "", ""},
		{"GET", "/../index.html", http.StatusTeapot, "", ""},
		{"GET", "/cfcookies.js/", http.StatusTeapot, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "http://localhost:8080/", nil)
			req.URL.Path = tt.path
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantCode != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("headers %v", rec.Header())
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
		})
	}
}
