package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUnknownMethods: chi answers a method it does not know with 405 before
// looking at the path; the answer is a problem, 405 with Allow on a route
// that exists, 404 on one that does not, and never echoes the method.
func TestUnknownMethods(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	long := strings.Repeat("X", 2000)
	tests := []struct {
		method, target string
		status         int
		typ, allow     string
	}{
		{"MADEUP", "/auth/media-cookies", 405, "method-not-allowed", "POST,DELETE"},
		{long, "/auth/media-cookies", 405, "method-not-allowed", "POST,DELETE"},
		{"get", "/healthz", 405, "method-not-allowed", "GET"},
		{"PUT", "/auth/media-cookies", 405, "method-not-allowed", "POST,DELETE"},
		{"MADEUP", "/nope", 404, "not-found", ""},
		{long, "/" + long, 404, "not-found", ""},
		{"PUT", "/nope", 404, "not-found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method[:min(len(tt.method), 10)]+" "+tt.target[:min(len(tt.target), 20)], func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			req.Method = tt.method
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, req)
			problemResponse(t, w, tt.status, tt.typ)
			if got := strings.Join(w.Header().Values("Allow"), ","); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if strings.Contains(w.Body.String(), "MADEUP") || strings.Contains(w.Body.String(), "XXXX") {
				t.Errorf("the method is echoed: %s", w.Body)
			}
		})
	}
}
