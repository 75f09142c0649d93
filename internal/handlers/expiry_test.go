package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

// Requests inside one granularity window sign one policy; the cookies and
// expiresAt carry its expiry, and refreshAfter comes a fifth of the TTL
// before it, so a refresh then always gets a later policy.
func TestExpiryGranularity(t *testing.T) {
	t.Parallel()
	const ttl = 10 * time.Minute
	var now time.Time
	clock := func() time.Time { return now }
	s, err := signer.New("K2JCJMDEHXQW5F", testKey, signer.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		t.Fatal(err)
	}
	h := NewServer(zerolog.Nop(), Options{
		CloudFrontBaseURL: "https://media.example.com",
		Scopes:            []Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: ttl}},
		Now:               clock,
		ExpiryGranularity: time.Minute,
	}, fixed(s), auth.Dev{}, func() bool { return true }, NewMetrics())

	type answer struct {
		ExpiresAt    time.Time `json:"expiresAt"`
		RefreshAfter time.Time `json:"refreshAfter"`
	}
	issue := func(at time.Time) (answer, map[string]*http.Cookie) {
		t.Helper()
		now = at
		w := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/auth/media-cookies", nil)
		req.Header.Set("X-Dev-User", "alice")
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var a answer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		cookies := map[string]*http.Cookie{}
		for _, c := range w.Result().Cookies() {
			cookies[c.Name] = c
		}
		return a, cookies
	}

	start := time.Date(2026, 11, 21, 12, 0, 0, 500e6, time.UTC)
	wantExp := time.Date(2026, 11, 21, 12, 11, 0, 0, time.UTC)
	first, firstCookies := issue(start)
	second, secondCookies := issue(start.Add(59 * time.Second)) // 12:00:59.5, same window
	if !first.ExpiresAt.Equal(wantExp) || !second.ExpiresAt.Equal(wantExp) {
		t.Errorf("expiresAt %s and %s, want %s for both", first.ExpiresAt, second.ExpiresAt, wantExp)
	}
	if firstCookies[signer.CookiePolicy].Value != secondCookies[signer.CookiePolicy].Value {
		t.Error("two requests in one window got different policies")
	}
	for _, tc := range []struct {
		cookies map[string]*http.Cookie
		maxAge  int
	}{{firstCookies, 660}, {secondCookies, 601}} {
		c := tc.cookies[signer.CookiePolicy]
		if !c.Expires.Equal(wantExp) || c.MaxAge != tc.maxAge {
			t.Errorf("cookie Expires %s Max-Age %d, want %s and %d", c.Expires, c.MaxAge, wantExp, tc.maxAge)
		}
	}
	if want := wantExp.Add(-ttl / 5); !first.RefreshAfter.Equal(want) {
		t.Errorf("refreshAfter %s, want %s", first.RefreshAfter, want)
	}

	// Over many issuance times: now < refreshAfter < expiresAt, and a
	// refresh at refreshAfter gets a later expiry.
	for at := start; at.Before(start.Add(3 * time.Minute)); at = at.Add(7300 * time.Millisecond) {
		a, _ := issue(at)
		if !at.Before(a.RefreshAfter) || !a.RefreshAfter.Before(a.ExpiresAt) || a.ExpiresAt.Before(at.Add(ttl)) {
			t.Fatalf("issued at %s: refreshAfter %s, expiresAt %s", at, a.RefreshAfter, a.ExpiresAt)
		}
		next, _ := issue(a.RefreshAfter)
		if !next.ExpiresAt.After(a.ExpiresAt) {
			t.Fatalf("refresh at %s got expiresAt %s, not after %s", a.RefreshAfter, next.ExpiresAt, a.ExpiresAt)
		}
	}
}
