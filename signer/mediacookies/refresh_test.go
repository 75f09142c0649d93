package mediacookies

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// browserCookies returns the Cookie header a browser sends to path from
// the cookies set by w: those whose Path covers it, not expired, longer
// Paths first.
func browserCookies(w *httptest.ResponseRecorder, path string) string {
	var sent []*http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 && signer.PathMatch(path, c.Path) {
			sent = append(sent, c)
		}
	}
	sort.SliceStable(sent, func(i, j int) bool { return len(sent[i].Path) > len(sent[j].Path) })
	var parts []string
	for _, c := range sent {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

type refreshCase struct {
	t         *testing.T
	h         *Handler[Claims]
	reason    string
	failed    *Error
	nextCalls int
}

func newRefreshCase(t *testing.T, mutate func(*Config[Claims])) *refreshCase {
	t.Helper()
	rc := &refreshCase{t: t}
	c := testConfig(t, newSigner(t, "K2JCJMDEHXQW5F", ecKey, func() time.Time { return testNow }))
	c.Hooks.Refreshed = func(_ *http.Request, _ Claims, reason string, _ *Answer) { rc.reason = reason }
	c.Hooks.RefreshFailed = func(_ *http.Request, e *Error) { rc.failed = e }
	if mutate != nil {
		mutate(&c)
	}
	rc.h = newHandler(t, c)
	return rc
}

// issue gets the cookies of user from the handler.
func (rc *refreshCase) issue(user string) *httptest.ResponseRecorder {
	rc.t.Helper()
	w := serve(rc.h, "POST", "", "X-User", user)
	if w.Code != http.StatusOK {
		rc.t.Fatalf("issue: %d %s", w.Code, w.Body)
	}
	return w
}

// get sends GET host+path through the middleware as user with cookie.
func (rc *refreshCase) get(host, path, user, cookie string) *httptest.ResponseRecorder {
	rc.t.Helper()
	rc.reason, rc.failed = "", nil
	r := httptest.NewRequest("GET", "https://"+host+path, nil)
	if user != "" {
		r.Header.Set("X-User", user)
	}
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	rc.h.Refresh(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rc.nextCalls++
		w.WriteHeader(http.StatusOK)
	})).ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		rc.t.Fatalf("the wrapped handler was not reached: %d", w.Code)
	}
	return w
}

// wantRefresh checks w set the private scope's cookies (only) for reason,
// or nothing when reason is "".
func (rc *refreshCase) wantRefresh(w *httptest.ResponseRecorder, reason string) {
	rc.t.Helper()
	cookies := w.Result().Cookies()
	if reason == "" {
		if len(cookies) != 0 || rc.reason != "" {
			rc.t.Fatalf("refreshed (%q): %v", rc.reason, w.Header()["Set-Cookie"])
		}
		return
	}
	if rc.reason != reason || len(cookies) != 4 || w.Header().Get("Cache-Control") != "no-store" {
		rc.t.Fatalf("reason %q, %d cookies, Cache-Control %q; want %q", rc.reason, len(cookies), w.Header().Get("Cache-Control"), reason)
	}
	for _, c := range cookies {
		if c.Path != "/media/" {
			rc.t.Errorf("refreshed %s under %s", c.Name, c.Path)
		}
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	rc := newRefreshCase(t, nil)
	alice := rc.issue("alice")
	fresh := browserCookies(alice, "/media/alice/a.mp4")

	rc.wantRefresh(rc.get("app.example.com", "/media/alice/a.mp4", "alice", fresh), "")
	rc.wantRefresh(rc.get("app.example.com", "/media/alice/a.mp4", "alice", ""), RefreshMissing)
	// Another user's cookies left in the browser.
	rc.wantRefresh(rc.get("app.example.com", "/media/bob/a.mp4", "bob", fresh), RefreshIdentity)
	// A policy that is not CloudFront base64 of a policy at all.
	rc.wantRefresh(rc.get("app.example.com", "/media/alice/a.mp4", "alice", "CloudFront-Policy=x; "+fresh[strings.Index(fresh, "CloudFront-Signature"):]), RefreshIdentity)
	// The refreshed cookies are fresh in turn.
	again := rc.get("app.example.com", "/media/alice/a.mp4", "alice", "")
	rc.wantRefresh(rc.get("app.example.com", "/media/alice/a.mp4", "alice", browserCookies(again, "/media/alice/a.mp4")), "")

	// Nothing to do: not identified, a path no cookie Path covers, a host
	// the cookie Domain does not cover.
	rc.wantRefresh(rc.get("app.example.com", "/media/alice/a.mp4", "", ""), "")
	rc.wantRefresh(rc.get("app.example.com", "/api/me", "alice", ""), "")
	rc.wantRefresh(rc.get("app.example.org", "/media/alice/a.mp4", "alice", ""), "")
	rc.wantRefresh(rc.get("example.com:8443", "/media/alice/a.mp4", "alice", fresh), "")
	// A claim that cannot be granted: nothing, ServeIssue says why.
	rc.wantRefresh(rc.get("app.example.com", "/media/x", "a*", ""), "")
	if rc.nextCalls != 11 {
		t.Errorf("the wrapped handler ran %d times, want 11", rc.nextCalls)
	}
}

func TestRefreshExpiring(t *testing.T) {
	t.Parallel()
	now := testNow
	rc := newRefreshCase(t, func(c *Config[Claims]) { c.Now = func() time.Time { return now } })
	cookie := browserCookies(rc.issue("alice"), "/media/alice/a.mp4")
	// Issued at 12:00:00.5 for 10 minutes: refreshAfter is 12:08:00.
	now = time.Date(2026, 11, 21, 12, 7, 59, 0, time.UTC)
	rc.wantRefresh(rc.get("app.example.com", "/media/alice/a.mp4", "alice", cookie), "")
	now = time.Date(2026, 11, 21, 12, 8, 0, 0, time.UTC)
	rc.wantRefresh(rc.get("app.example.com", "/media/alice/a.mp4", "alice", cookie), RefreshExpiring)
}

func TestRefreshKeyAndHash(t *testing.T) {
	t.Parallel()
	old := newRefreshCase(t, nil)
	oldCookies := browserCookies(old.issue("alice"), "/media/alice/a.mp4")
	// A new key pair, same key material: only the id tells them apart.
	rotated := newRefreshCase(t, func(c *Config[Claims]) {
		c.Signer = newSigner(t, "KNEWKEY", ecKey, func() time.Time { return testNow })
	})
	rotated.wantRefresh(rotated.get("app.example.com", "/media/alice/a.mp4", "alice", oldCookies), RefreshKey)

	// SHA-256 cookies without their CloudFront-Hash-Algorithm.
	noHash := strings.Replace(oldCookies, "CloudFront-Hash-Algorithm=SHA256", "x=y", 1)
	old.wantRefresh(old.get("app.example.com", "/media/alice/a.mp4", "alice", noHash), RefreshHash)

	// An RSA signer's SHA-256 cookies are fresh, with their hash cookie.
	rsaCase := newRefreshCase(t, func(c *Config[Claims]) {
		c.Signer = newSigner(t, "K2JCJMDEHXQW5F", rsaKey, func() time.Time { return testNow })
	})
	rsaCookies := browserCookies(rsaCase.issue("alice"), "/media/alice/a.mp4")
	if !strings.Contains(rsaCookies, "CloudFront-Hash-Algorithm=SHA256") {
		t.Fatal("RSA cookies without CloudFront-Hash-Algorithm=SHA256")
	}
	rsaCase.wantRefresh(rsaCase.get("app.example.com", "/media/alice/a.mp4", "alice", rsaCookies), "")

	// A SHA-1 signer, and a CloudFront-Hash-Algorithm=SHA256 left over.
	t.Run("SHA1", func(t *testing.T) {
		sha1 := newRefreshCase(t, func(c *Config[Claims]) {
			c.Signer = newSignerHash(t, "K2JCJMDEHXQW5F", rsaKey, signer.SHA1, func() time.Time { return testNow })
		})
		sha1Cookies := browserCookies(sha1.issue("alice"), "/media/alice/a.mp4")
		sha1.wantRefresh(sha1.get("app.example.com", "/media/alice/a.mp4", "alice", sha1Cookies), "")
		sha1.wantRefresh(sha1.get("app.example.com", "/media/alice/a.mp4", "alice", sha1Cookies+"; CloudFront-Hash-Algorithm=SHA256"), RefreshHash)
	})
}

func TestRefreshFails(t *testing.T) {
	t.Parallel()
	rc := newRefreshCase(t, func(c *Config[Claims]) {
		c.Signer = newSigner(t, "K2JCJMDEHXQW5F", keyFunc(func() ([]byte, error) { return nil, errors.New("kms down") }),
			func() time.Time { return testNow })
	})
	w := rc.get("app.example.com", "/media/alice/a.mp4", "alice", "")
	if len(w.Result().Cookies()) != 0 || rc.failed == nil || rc.failed.Status != 500 || rc.failed.Scope != "private" {
		t.Errorf("cookies %v, RefreshFailed %v", w.Header()["Set-Cookie"], rc.failed)
	}
}

type userKey struct{}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the middleware alone.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkRefreshNoop is the middleware on a request whose cookies need
// nothing: the cost every authenticated request of a consumer pays. The
// identity comes from the request's context, as a consumer's own auth
// middleware leaves it.
func BenchmarkRefreshNoop(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  crypto.Signer
	}{{"ECDSA", ecKey}, {"RSA", rsaKey}} {
		b.Run(tc.name, func(b *testing.B) {
			c := testConfig(b, newSigner(b, "K2JCJMDEHXQW5F", tc.key, func() time.Time { return testNow }))
			h := newHandler(b, c)
			cookie := browserCookies(serve(h, "POST", "", "X-User", "alice"), "/media/alice/a.mp4")
			alice := Claims{"sub": "alice"}
			c.Identify = func(r *http.Request) (Claims, error) {
				if id, ok := r.Context().Value(userKey{}).(Claims); ok {
					return id, nil
				}
				return nil, errors.New("no user")
			}
			h = newHandler(b, c)
			r := httptest.NewRequest("GET", "https://app.example.com/media/alice/a.mp4", nil)
			r.Header.Set("Cookie", cookie)
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, alice))
			mw := h.Refresh(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				mw.ServeHTTP(w, r)
			}
			if len(w.h) != 0 {
				b.Fatalf("the middleware added %v", w.h)
			}
		})
	}
}

// FuzzFindPolicy: a CloudFront-Policy value the middleware takes as the
// policy it would issue is one signer.DecodePolicy reads the same way:
// the same resource, expiry and IP range.
func FuzzFindPolicy(f *testing.F) {
	want := signer.Grant{Resource: "https://media.example.com/media/alice/*"}
	for _, g := range []signer.Grant{
		{Resource: want.Resource, Expires: testNow},
		{Resource: "https://media.example.com/media/bob/*", Expires: testNow},
	} {
		p, err := g.Policy()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signer.EncodeBase64(p))
	}
	f.Add("x")
	f.Fuzz(func(t *testing.T, value string) {
		if len(value) > maxFuzzBody {
			return
		}
		var j jar
		j.v[cookiePolicy][0], j.n[cookiePolicy] = value, 1
		i, expires := j.find(want)
		if i < 0 {
			return
		}
		p, err := signer.DecodePolicy(value)
		if err != nil {
			t.Fatalf("find took %q, DecodePolicy refuses it: %v", value, err)
		}
		if p.Resource != want.Resource || !p.Expires.Equal(expires) || p.IPRange.IsValid() || !p.NotBefore.IsZero() {
			t.Fatalf("find read %s until %s, DecodePolicy %+v", want.Resource, expires, p)
		}
	})
}
