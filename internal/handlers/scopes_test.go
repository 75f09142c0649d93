package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

// premiumAuth is an Authenticator whose callers named "p-…" are in the
// premium group.
type premiumAuth struct{}

func (premiumAuth) Authenticate(r *http.Request) (auth.Identity, error) {
	id, err := auth.Dev{}.Authenticate(r)
	if err == nil && strings.HasPrefix(id.Subject, "p-") {
		id.Claims = map[string]any{"groups": []any{"premium"}}
	}
	return id, err
}

func scopesFixture(t *testing.T, mutate func(*Options)) fixture {
	t.Helper()
	f := newFixture(t, func(o *Options) {
		private, _ := signer.ParsePathTemplate("/media/{sub}/*")
		premium, _ := signer.ParsePathTemplate("/premium/*")
		o.Scopes = []Scope{
			{Name: "private", Path: private, CookiePath: "/media/", TTL: 10 * time.Minute},
			{Name: "premium", Path: premium, CookiePath: "/premium/", TTL: time.Hour,
				Allowed: func(id auth.Identity) bool { return id.ClaimContains("groups", "premium") }},
		}
		if mutate != nil {
			mutate(o)
		}
	})
	f.handler = NewServer(zerologFor(f.logs), f.opts, fixed(f.signer), premiumAuth{}, func() bool { return true }, NewMetrics())
	return f
}

func TestScopes(t *testing.T) {
	t.Parallel()
	f := scopesFixture(t, nil)
	grants := func(user, body string) (int, []string, []*http.Cookie) {
		w := f.do("POST", "/auth/media-cookies", body, "X-Dev-User", user, "Content-Type", "application/json")
		var resp struct {
			Grants []struct{ Scope, Resource, CookiePath string }
		}
		_ = json.Unmarshal(w.Body.Bytes(), &resp)
		var got []string
		for _, g := range resp.Grants {
			got = append(got, g.Scope+" "+g.Resource+" "+g.CookiePath)
		}
		return w.Code, got, w.Result().Cookies()
	}
	code, got, cookies := grants("p-ann", "")
	want := []string{"private https://media.example.com/media/p-ann/* /media/", "premium https://media.example.com/premium/* /premium/"}
	if code != 200 || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("premium caller, all scopes: %d %q", code, got)
	}
	paths := map[string]int{}
	for _, c := range cookies {
		paths[c.Path]++
	}
	if paths["/media/"] != 4 || paths["/premium/"] != 4 {
		t.Errorf("cookie paths %v, want 4 cookies under each scope's path", paths)
	}
	if code, got, _ := grants("bob", ""); code != 200 || len(got) != 1 || !strings.HasPrefix(got[0], "private ") {
		t.Errorf("plain caller gets only what it is entitled to: %d %q", code, got)
	}
	if code, got, _ := grants("p-ann", `{"scopes":["premium"]}`); code != 200 || len(got) != 1 || !strings.HasPrefix(got[0], "premium ") {
		t.Errorf("subset: %d %q", code, got)
	}
	if code, _, cookies := grants("bob", `{"scopes":["premium"]}`); code != 403 || len(cookies) != 0 {
		t.Errorf("forbidden scope: %d with %d cookies", code, len(cookies))
	}
	if code, _, cookies := grants("bob", `{"scopes":["private","premium"]}`); code != 403 || len(cookies) != 0 {
		t.Errorf("one forbidden scope among allowed ones: %d with %d cookies", code, len(cookies))
	}
	// A caller whose subject is unsafe gets nothing, not even the scopes
	// that need no subject.
	if code, _, cookies := grants("p-*", ""); code != 403 || len(cookies) != 0 {
		t.Errorf("unsafe subject: %d with %d cookies", code, len(cookies))
	}
	w := f.do("DELETE", "/auth/media-cookies", "")
	paths = map[string]int{}
	for _, c := range w.Result().Cookies() {
		paths[c.Path]++
	}
	if paths["/media/"] != 5 || paths["/premium/"] != 5 {
		t.Errorf("DELETE clears %v, want 5 cookies under each scope's path", paths)
	}
}

func TestBindClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		unbound    bool
		remote     string
		xff        string
		wantStatus int
		wantIP     string // in the policy; "" for none
	}{
		{"IPv4 client is bound", false, "198.51.100.7:4000", "", 200, `"IpAddress":{"AWS:SourceIp":"198.51.100.7/32"}`},
		{"forged XFF from an untrusted peer is ignored", false, "198.51.100.7:4000", "1.2.3.4", 200, `"AWS:SourceIp":"198.51.100.7/32"`},
		{"XFF through a trusted proxy", false, "10.0.0.2:4000", "203.0.113.50", 200, `"AWS:SourceIp":"203.0.113.50/32"`},
		{"IPv6 client refused", false, "[2001:db8::1]:4000", "", 403, ""},
		{"IPv6 client unbound when configured", true, "[2001:db8::1]:4000", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(o *Options) {
				o.BindClientIP = true
				o.IPv6Unbound = tt.unbound
				o.TrustedProxies = mustPrefixes("10.0.0.0/8")
			})
			w := f.doFrom(tt.remote, "POST", "/auth/media-cookies", "X-Forwarded-For", tt.xff)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if tt.wantStatus != 200 {
				problemResponse(t, w, tt.wantStatus, "client-ip-not-bindable")
				return
			}
			var policy []byte
			for _, c := range w.Result().Cookies() {
				if c.Name == signer.CookiePolicy {
					policy, _ = signer.DecodeBase64(c.Value)
				}
			}
			if tt.wantIP == "" && strings.Contains(string(policy), "IpAddress") || !strings.Contains(string(policy), tt.wantIP) {
				t.Errorf("policy %s, want %q", policy, tt.wantIP)
			}
		})
	}
}

// rotatesEveryCall is a key store whose key rotates after every call:
// first before, then after.
func rotatesEveryCall(before, after *signer.Signer) func() *signer.Signer {
	var calls atomic.Int32
	return func() *signer.Signer {
		if calls.Add(1) == 1 {
			return before
		}
		return after
	}
}

// TestScopesSignedWithOneKey rotates the key during a request for two
// scopes, with and without the signature cache: every cookie of the answer
// carries the key it started with.
func TestScopesSignedWithOneKey(t *testing.T) {
	t.Parallel()
	for _, cache := range []int{0, 16} {
		f := scopesFixture(t, func(o *Options) { o.SignatureCacheSize = cache })
		after, err := signer.New("KAFTER", testKey, signer.Options{Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		f.handler = NewServer(zerologFor(f.logs), f.opts, rotatesEveryCall(f.signer, after), premiumAuth{},
			func() bool { return true }, NewMetrics())
		w := f.do("POST", "/auth/media-cookies", "", "X-Dev-User", "p-ann")
		if w.Code != 200 {
			t.Fatalf("cache %d: status %d: %s", cache, w.Code, w.Body)
		}
		var ids []string
		for _, c := range w.Result().Cookies() {
			if c.Name == signer.CookieKeyPairID {
				ids = append(ids, c.Value)
			}
		}
		if len(ids) != 2 || ids[0] != f.signer.KeyPairID() || ids[1] != f.signer.KeyPairID() {
			t.Errorf("cache %d: key pair ids %q, want both %s", cache, ids, f.signer.KeyPairID())
		}
	}
}

// A scope whose cookies cannot be written fails the whole answer, and the
// cookies of the scopes before it are taken back.
func TestIssueCookiesNothingHalfDone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) {
		good := o.Scopes[0]
		bad := good
		bad.Name, bad.CookiePath = "bad", "no-leading-slash"
		o.Scopes = []Scope{good, bad}
	})
	w := f.do("POST", "/auth/media-cookies", "", "X-Dev-User", "alice")
	problemResponse(t, w, http.StatusInternalServerError, "internal")
}
