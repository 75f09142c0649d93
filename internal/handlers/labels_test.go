package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// seriesLine is one sample line of the exposition format.
var seriesLine = regexp.MustCompile(`(?m)^[a-z_:][a-zA-Z0-9_:]*(\{.*\})? `)

// TestMetricLabelsBounded: no label takes its value from a request. A
// thousand made-up methods and a thousand paths add no series, and the
// method, route and code labels keep to their fixed sets.
func TestMetricLabelsBounded(t *testing.T) {
	t.Parallel()
	s := newOpsServer(t, nil, nil, nil)
	send := func(method, target string) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Method = method
		req.RemoteAddr = "203.0.113.5:1"
		req.Header.Set("X-Dev-User", "alice")
		s.handler.ServeHTTP(httptest.NewRecorder(), req)
	}
	// A handful: an issuance, a refusal, an unknown route, a wrong method,
	// a made-up method, health checks.
	send(http.MethodPost, "/auth/media-cookies")
	send(http.MethodGet, "/healthz")
	send(http.MethodGet, "/readyz")
	send(http.MethodGet, "/nope")
	send(http.MethodPut, "/auth/media-cookies")
	send("MADEUP", "/auth/media-cookies")
	send("MADEUP", "/nope")
	send(http.MethodOptions, "/auth/media-cookies")
	before := seriesLine.FindAllString(s.scrape(t), -1)

	for i := range 1000 {
		send(fmt.Sprintf("M%d-%s", i, strings.Repeat("X", 64)), "/auth/media-cookies")
		send(fmt.Sprintf("m%d", i), fmt.Sprintf("/p%d/%s", i, strings.Repeat("y", 64)))
		send(http.MethodGet, fmt.Sprintf("/auth/media-cookies/%d", i))
	}
	after := s.scrape(t)
	if got := seriesLine.FindAllString(after, -1); len(got) != len(before) {
		t.Errorf("%d series after a handful of requests, %d after 3000 more with made-up methods and paths; new:\n%s",
			len(before), len(got), strings.Join(newLines(before, got, 20), "\n"))
	}
	for _, leaked := range []string{"M1-", "m1", "/p1", "XXXX", "yyyy", "MADEUP"} {
		if strings.Contains(after, leaked) {
			t.Errorf("metrics hold request data %q", leaked)
		}
	}
	wantSeries(t, after,
		`cfcookies_http_requests_total{code="405",method="other",route="unmatched"} 1001`,
		`cfcookies_http_requests_total{code="404",method="other",route="unmatched"} 1001`,
		`cfcookies_http_requests_total{code="404",method="GET",route="unmatched"} 1001`,
		`cfcookies_http_requests_total{code="200",method="POST",route="/auth/media-cookies"} 1`,
		`cfcookies_http_requests_total{code="405",method="PUT",route="unmatched"} 1`,
	)
}

// newLines returns at most n lines of got that are not in before.
func newLines(before, got []string, n int) []string {
	var out []string
	for _, l := range got {
		if !slices.Contains(before, l) && len(out) < n {
			out = append(out, l)
		}
	}
	return out
}

func TestMetricLabelValues(t *testing.T) {
	t.Parallel()
	methods := []struct{ in, want string }{
		{"GET", "GET"}, {"HEAD", "HEAD"}, {"POST", "POST"}, {"PUT", "PUT"}, {"PATCH", "PATCH"},
		{"DELETE", "DELETE"}, {"OPTIONS", "OPTIONS"}, {"CONNECT", "CONNECT"}, {"TRACE", "TRACE"},
		{"get", "other"}, {"Get", "other"}, {"PRI", "other"}, {"PROPFIND", "other"}, {"", "other"},
		{strings.Repeat("A", 1000), "other"}, {"GET ", "other"},
	}
	for _, m := range methods {
		if got := methodLabel(m.in); got != m.want {
			t.Errorf("methodLabel(%q) = %q, want %q", m.in, got, m.want)
		}
	}
	codes := []struct {
		in   int
		want string
	}{
		{200, "200"}, {204, "204"}, {404, "404"}, {599, "599"}, {100, "100"},
		{0, "other"}, {99, "other"}, {600, "other"}, {999, "other"}, {1000, "other"}, {-1, "other"},
	}
	for _, c := range codes {
		if got := codeLabel(c.in); got != c.want {
			t.Errorf("codeLabel(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}
