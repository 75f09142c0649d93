package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func testSigner(t *testing.T, opts Options) *Signer {
	t.Helper()
	key, err := ParsePrivateKeyPEM(readKeyFile(t, "keys/rsa2048-pkcs1.pem"), KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	s, err := New("K2JCJMDEHXQW5F", key, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCookiesAttributes(t *testing.T) {
	t.Parallel()
	s := testSigner(t, Options{})
	g := Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires}
	tests := []struct {
		name string
		opts CookieOptions
		want string // the Set-Cookie attributes after the value
	}{
		{"zero value is the safe default", CookieOptions{},
			"; Path=/; Expires=Thu, 01 Jan 2026 18:00:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax"},
		{"parent domain and path", CookieOptions{Domain: ".example.com", Path: "/media/", SameSite: http.SameSiteStrictMode},
			"; Path=/media/; Domain=example.com; Expires=Thu, 01 Jan 2026 18:00:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Strict"},
		{"cross-site", CookieOptions{Domain: "example.com", SameSite: http.SameSiteNoneMode},
			"; Path=/; Domain=example.com; Expires=Thu, 01 Jan 2026 18:00:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=None"},
		{"plain-HTTP development", CookieOptions{Insecure: true},
			"; Path=/; Expires=Thu, 01 Jan 2026 18:00:00 GMT; Max-Age=600; HttpOnly; SameSite=Lax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cookies, err := s.Cookies(g, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{CookiePolicy, CookieSignature, CookieKeyPairID, CookieHashAlgorithm}
			if len(cookies) != len(names) {
				t.Fatalf("%d cookies, want %d", len(cookies), len(names))
			}
			for i, c := range cookies {
				if c.Name != names[i] {
					t.Fatalf("cookie %d is %s, want %s", i, c.Name, names[i])
				}
				line := c.String()
				if got := line[len(c.Name)+1+len(c.Value):]; got != tt.want {
					t.Errorf("%s attributes\n got %s\nwant %s", c.Name, got, tt.want)
				}
			}
			if cookies[2].Value != "K2JCJMDEHXQW5F" {
				t.Errorf("key pair id cookie %q", cookies[2].Value)
			}
			if cookies[3].Value != "SHA256" { // the zero Options sign with SHA256
				t.Errorf("hash cookie %q, want SHA256", cookies[3].Value)
			}
		})
	}
}

// With SHA1 the CloudFront-Hash-Algorithm cookie is expired, so that one
// left by an earlier SHA256 signer cannot make CloudFront check a SHA-1
// signature with SHA-256; the other three keep their attributes.
func TestCookiesSHA1ExpiresHashCookie(t *testing.T) {
	t.Parallel()
	g := Grant{Resource: "https://m.example.com/*", Expires: testExpires}
	sha256Signed, err := testSigner(t, Options{}).Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	// Made by hand, it needs no SHA-1 and runs under GODEBUG=fips140=only.
	byHand := sha256Signed
	byHand.HashAlgorithm = SHA1
	check := func(t *testing.T, s Signed) {
		t.Helper()
		cookies, err := s.Cookies(CookieOptions{Domain: "example.com"}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(cookies) != 4 {
			t.Fatalf("%d cookies, want 4", len(cookies))
		}
		for _, c := range cookies[:3] {
			if c.MaxAge != 600 || c.Value == "" {
				t.Errorf("%s: MaxAge %d, value of %d bytes", c.Name, c.MaxAge, len(c.Value))
			}
		}
		c := cookies[3]
		line := c.String()
		if c.Name != CookieHashAlgorithm || c.MaxAge != -1 || c.Value != "" || !strings.Contains(line, "Max-Age=0") ||
			!strings.Contains(line, "Domain=example.com") || !strings.Contains(line, "Path=/") {
			t.Errorf("hash cookie not expired with the others' Domain and Path: %s", line)
		}
	}
	t.Run("made by hand", func(t *testing.T) { check(t, byHand) })
	t.Run("signed", func(t *testing.T) {
		skipSHA1InFIPS(t)
		signed, err := testSigner(t, Options{HashAlgorithm: SHA1}).Sign(g)
		if err != nil {
			t.Fatal(err)
		}
		if signed.HashAlgorithm != SHA1 {
			t.Fatalf("HashAlgorithm %s, want SHA1", signed.HashAlgorithm)
		}
		check(t, signed)
	})
}

func TestCookiesMaxAgeRoundsUp(t *testing.T) {
	t.Parallel()
	s := testSigner(t, Options{Now: func() time.Time { return testExpires.Add(-1500 * time.Millisecond) }})
	cookies, err := s.Cookies(Grant{Resource: "https://m.example.com/*", Expires: testExpires}, CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cookies[0].MaxAge != 2 || !cookies[0].Expires.Equal(testExpires) {
		t.Fatalf("MaxAge %d Expires %s", cookies[0].MaxAge, cookies[0].Expires)
	}
}

func TestCookiesRefused(t *testing.T) {
	t.Parallel()
	s := testSigner(t, Options{})
	ok := Grant{Resource: "https://m.example.com/*", Expires: testExpires}
	tests := []struct {
		name  string
		grant Grant
		opts  CookieOptions
		want  error
	}{
		{"expired grant", Grant{Resource: ok.Resource, Expires: testNow}, CookieOptions{}, ErrExpired},
		{"invalid grant", Grant{Resource: ok.Resource}, CookieOptions{}, ErrInvalidGrant},
		{"SameSite=None without Secure", ok, CookieOptions{SameSite: http.SameSiteNoneMode, Insecure: true}, nil},
		{"relative path", ok, CookieOptions{Path: "media"}, nil},
		{"path with ;", ok, CookieOptions{Path: "/a;Domain=evil.com"}, nil},
		{"domain with ;", ok, CookieOptions{Domain: "example.com;Path=/x"}, nil},
		{"domain with port", ok, CookieOptions{Domain: "example.com:443"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cookies, err := s.Cookies(tt.grant, tt.opts)
			if err == nil {
				t.Fatalf("got %d cookies, want an error", len(cookies))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestDomainMatch is RFC 6265's domain-match: the host is the cookie's
// Domain or under it, on a dot.
func TestDomainMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, domain string
		want         bool
	}{
		{"example.com", "example.com", true},
		{"media.example.com", "example.com", true},
		{"a.media.example.com", "example.com", true},
		{"Media.Example.COM", "example.com", true},
		{"media.example.com", "Example.com", true},
		{"example.com", "media.example.com", false}, // a child of the host
		{"media.example.com", "ample.com", false},   // not on a dot
		{"media.example.org", "example.com", false},
		{"example.com.evil.test", "example.com", false},
		{"media.example.com", ".example.com", false}, // the leading dot is the caller's to drop
		{"example.com", "", false},                   // host-only: no Domain to match
		{"", "", false},
	}
	for _, tt := range tests {
		if got := DomainMatch(tt.host, tt.domain); got != tt.want {
			t.Errorf("DomainMatch(%q, %q) = %v, want %v", tt.host, tt.domain, got, tt.want)
		}
	}
}

// TestPathMatch is RFC 6265's path-match: the cookie's Path is the path,
// or a prefix of it on a segment boundary.
func TestPathMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, cookiePath string
		want             bool
	}{
		{"/media", "/media", true},
		{"/media/a.mp4", "/media", true},
		{"/media/a.mp4", "/media/", true},
		{"/media/a.mp4", "/", true},
		{"/mediabox", "/media", false},
		{"/media", "/media/", false},
		{"/Media/a", "/media", false}, // case-sensitive
		{"/auth", "/media", false},
		{"/media/*", "/media/a", false}, // no wildcards
	}
	for _, tt := range tests {
		if got := PathMatch(tt.path, tt.cookiePath); got != tt.want {
			t.Errorf("PathMatch(%q, %q) = %v, want %v", tt.path, tt.cookiePath, got, tt.want)
		}
	}
}

func TestExpireCookies(t *testing.T) {
	t.Parallel()
	cookies, err := ExpireCookies(CookieOptions{Domain: "example.com", Path: "/media/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cookies) != 5 {
		t.Fatalf("%d cookies", len(cookies))
	}
	for _, c := range cookies {
		line := c.String()
		for _, want := range []string{"Max-Age=0", "Path=/media/", "Domain=example.com", "Secure", "HttpOnly", "SameSite=Lax", "Expires=Thu, 01 Jan 1970"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s lacks %s", line, want)
			}
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	rsaKey, err := ParsePrivateKeyPEM(readKeyFile(t, "keys/rsa2048-pkcs8.pem"), KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	weak, err := ParsePrivateKeyPEM(readKeyFile(t, "vectors/test-rsa-key.pem"), KeyOptions{AllowAnyRSASize: true})
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := New("K1", p256, Options{}); err != nil || s.HashAlgorithm() != SHA256 {
		t.Errorf("ECDSA default hash: %v, %v", s, err)
	}
	if s, err := New("K1", rsaKey, Options{}); err != nil || s.HashAlgorithm() != SHA256 || s.KeyPairID() != "K1" {
		t.Errorf("RSA default hash: %v, %v", s, err)
	}
	for name, tc := range map[string]struct {
		id   string
		key  crypto.Signer
		opts Options
	}{
		"empty key pair id":  {"", rsaKey, Options{}},
		"key pair id with ;": {"K1;x", rsaKey, Options{}},
		"1024-bit RSA":       {"K1", weak, Options{}},
		"P-384":              {"K1", p384, Options{}},
		"ECDSA with SHA1":    {"K1", p256, Options{HashAlgorithm: SHA1}},
		"unknown hash":       {"K1", rsaKey, Options{HashAlgorithm: "MD5"}},
		"nil key":            {"K1", nil, Options{}},
	} {
		if _, err := New(tc.id, tc.key, tc.opts); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestConcurrentSigning exercises a Signer from many goroutines (run with
// -race) and checks every result verifies.
func TestConcurrentSigning(t *testing.T) {
	t.Parallel()
	signers := []*Signer{testSigner(t, Options{})}
	if !fips140Only() { // SHA-1 is refused there
		signers = append(signers, testSigner(t, Options{HashAlgorithm: SHA1}))
	}
	for _, s := range signers {
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Go(func() {
				g := Grant{Resource: "https://m.example.com/u" + string(rune('a'+i%26)) + "/*", Expires: testExpires}
				signed, err := s.Sign(g)
				if err == nil {
					policy, _ := g.Policy()
					err = Verify(s.Public(), signed.HashAlgorithm, policy, signed.Signature)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// viaSetCookie is what http.SetCookie writes for s.Cookies(o, now).
func viaSetCookie(t testing.TB, s Signed, o CookieOptions, now time.Time) []string {
	t.Helper()
	cookies, err := s.Cookies(o, now)
	if err != nil {
		t.Fatalf("Cookies: %v", err)
	}
	w := httptest.NewRecorder()
	for _, c := range cookies {
		http.SetCookie(w, c)
	}
	return w.Header()["Set-Cookie"]
}

func TestCookieHeaderMatchesSetCookie(t *testing.T) {
	t.Parallel()
	rsaSigned, err := testSigner(t, Options{}).Sign(Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires})
	if err != nil {
		t.Fatal(err)
	}
	sha256Signed, err := testSigner(t, Options{HashAlgorithm: SHA256}).Sign(Grant{Resource: "https://media.example.com/media/*", Expires: testExpires})
	if err != nil {
		t.Fatal(err)
	}
	// SHA1 values (SHA-256 ones relabelled, which CookieHeader cannot
	// tell): their hash cookie is the expired one.
	sha1Signed := rsaSigned
	sha1Signed.HashAlgorithm = SHA1
	odd := rsaSigned
	odd.Policy, odd.KeyPairID = "has space", `q"uote`
	empty := sha256Signed
	empty.Signature = ""
	// Made by hand: its resource is read back from its policy.
	handMade := Signed{KeyPairID: sha256Signed.KeyPairID, HashAlgorithm: SHA256, Policy: sha256Signed.Policy, Signature: sha256Signed.Signature, Expires: testExpires}
	options := []CookieOptions{
		{},
		{Domain: "example.com", Path: "/media/"},
		{Domain: ".example.com", SameSite: http.SameSiteStrictMode},
		{Domain: "127.0.0.1", Insecure: true, ScriptReadable: true},
		{Domain: "exa_mple.com", SameSite: http.SameSiteNoneMode},
		{Path: "/tenants/t1/", SameSite: http.SameSiteDefaultMode},
	}
	written := 0
	for _, s := range []Signed{rsaSigned, sha256Signed, sha1Signed, odd, empty, handMade} {
		for _, o := range options {
			for _, now := range []time.Time{testNow, testExpires.Add(-time.Second), testExpires.Add(-1500 * time.Millisecond)} {
				f, err := NewCookieHeader(o)
				if err != nil {
					t.Fatalf("NewCookieHeader(%+v): %v", o, err)
				}
				h := http.Header{"Set-Cookie": {"existing=1"}}
				setErr := f.Set(h, s, now)
				if _, err := s.Cookies(o, now); err != nil || setErr != nil {
					if fmt.Sprint(err) != fmt.Sprint(setErr) {
						t.Errorf("options %+v: Set says %v, Signed.Cookies %v", o, setErr, err)
					}
					if len(h["Set-Cookie"]) != 1 {
						t.Errorf("Set refused but wrote %q", h["Set-Cookie"])
					}
					continue
				}
				written++
				want := append([]string{"existing=1"}, viaSetCookie(t, s, o, now)...)
				if got := h["Set-Cookie"]; !slices.Equal(got, want) {
					t.Errorf("options %+v, now %s:\n got %q\nwant %q", o, now, got, want)
				}
			}
		}
	}
	if written < 12 {
		t.Errorf("only %d combinations written", written)
	}
}

func TestCookieHeaderRefuses(t *testing.T) {
	t.Parallel()
	if _, err := NewCookieHeader(CookieOptions{SameSite: http.SameSiteNoneMode, Insecure: true}); err == nil {
		t.Error("SameSite=None without Secure accepted")
	}
	if _, err := NewCookieHeader(CookieOptions{Path: "media"}); err == nil {
		t.Error("a relative path accepted")
	}
	f, err := NewCookieHeader(CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := testSigner(t, Options{}).Sign(Grant{Resource: "https://media.example.com/*", Expires: testExpires})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if err := f.Set(h, s, testExpires); !errors.Is(err, ErrExpired) {
		t.Errorf("Set at the expiry: %v, want ErrExpired", err)
	}
	if len(h) != 0 {
		t.Errorf("Set refused but wrote %q", h)
	}
}

// FuzzCookieHeader checks that CookieHeader writes exactly what
// http.SetCookie writes for Signed.Cookies, whatever the values and
// options.
func FuzzCookieHeader(f *testing.F) {
	f.Add("eyJTdGF0ZW1lbnQiOltdfQ__", "c2lnbmF0dXJl~", "K2JCJMDEHXQW5F", "SHA256", "example.com", "/media/", uint8(2), false, false, int64(600))
	f.Add("a b", `"`, "", "SHA1", ".x.y", "/", uint8(4), true, true, int64(1))
	// A policy for http://a.b/*, which the options must cover.
	f.Add("eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoiaHR0cDovL2EuYi8qIiwiQ29uZGl0aW9uIjp7IkRhdGVMZXNzVGhhbiI6eyJBV1M6RXBvY2hUaW1lIjoxfX19XX0_", "c2lnbmF0dXJl~", "K2JCJMDEHXQW5F", "SHA1", "b", "/", uint8(3), true, false, int64(600))
	f.Fuzz(func(t *testing.T, policy, signature, keyID, hash, domain, path string, sameSite uint8, insecure, readable bool, left int64) {
		for _, s := range []string{policy, signature, keyID, hash, domain, path} {
			if len(s) > maxFuzzField {
				return
			}
		}
		o := CookieOptions{Domain: domain, Path: path, SameSite: http.SameSite(sameSite % 5), Insecure: insecure, ScriptReadable: readable}
		fh, err := NewCookieHeader(o)
		if err != nil {
			if o.Check() == nil {
				t.Fatalf("NewCookieHeader refused valid options %+v: %v", o, err)
			}
			return
		}
		if left <= 0 || left > 1<<40 {
			return
		}
		s := Signed{Policy: policy, Signature: signature, KeyPairID: keyID, HashAlgorithm: HashAlgorithm(hash), Expires: testExpires}
		now := testExpires.Add(-time.Duration(left) * time.Millisecond)
		h := http.Header{}
		if err := fh.Set(h, s, now); err != nil {
			if _, err2 := s.Cookies(o, now); fmt.Sprint(err2) != err.Error() {
				t.Fatalf("Set: %v; Signed.Cookies: %v", err, err2)
			}
			if len(h) != 0 {
				t.Fatalf("Set refused but wrote %q", h)
			}
			return
		}
		if got, want := h["Set-Cookie"], viaSetCookie(t, s, o, now); !slices.Equal(got, want) {
			t.Fatalf("\n got %q\nwant %q", got, want)
		}
	})
}
