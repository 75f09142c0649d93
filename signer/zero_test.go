package signer

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// Every exported type's zero value is safe, or refused with ErrZeroValue
// and nothing written.
func TestZeroValues(t *testing.T) {
	t.Parallel()
	signed, err := testSigner(t, Options{}).Sign(Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires})
	if err != nil {
		t.Fatal(err)
	}
	grant := Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires}
	var nilSigner *Signer
	var nilHeader *CookieHeader
	var nilTemplate *PathTemplate
	cases := []struct {
		name string
		do   func(h http.Header) error
		want error
	}{
		{"zero CookieHeader", func(h http.Header) error { return new(CookieHeader).Set(h, signed, testNow) }, ErrZeroValue},
		{"nil CookieHeader", func(h http.Header) error { return nilHeader.Set(h, signed, testNow) }, ErrZeroValue},
		{"zero Signer signs", func(http.Header) error { _, err := new(Signer).Sign(grant); return err }, ErrZeroValue},
		{"zero Signer sets cookies", func(http.Header) error { _, err := new(Signer).Cookies(grant, CookieOptions{}); return err }, ErrZeroValue},
		{"nil Signer signs", func(http.Header) error { _, err := nilSigner.Sign(grant); return err }, ErrZeroValue},
		{"zero PathTemplate", func(http.Header) error { _, err := new(PathTemplate).Expand(nil); return err }, ErrZeroValue},
		{"nil PathTemplate", func(http.Header) error { _, err := nilTemplate.Expand(nil); return err }, ErrZeroValue},
		{"zero Signed, Cookies", func(http.Header) error { _, err := (Signed{}).Cookies(CookieOptions{}, testNow); return err }, ErrCookieValue},
		{"zero Signed, CookieHeader", func(h http.Header) error {
			f, err := NewCookieHeader(CookieOptions{})
			if err != nil {
				return err
			}
			return f.Set(h, Signed{}, testNow)
		}, ErrCookieValue},
		{"zero Grant", func(http.Header) error { _, err := (Grant{}).Policy(); return err }, ErrInvalidGrant},
		{"zero Grant signed", func(http.Header) error { _, err := testSigner(t, Options{}).Sign(Grant{}); return err }, ErrInvalidGrant},
		{"zero Grant's cookies", func(http.Header) error {
			_, err := testSigner(t, Options{}).Cookies(Grant{}, CookieOptions{Domain: "example.com"})
			return err
		}, ErrInvalidGrant},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			err := tc.do(h)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(h) != 0 {
				t.Errorf("refused but wrote %q", h)
			}
		})
	}

	if nilSigner.KeyPairID() != "" || nilSigner.HashAlgorithm() != "" || nilSigner.Public() != nil || new(Signer).Public() != nil {
		t.Error("a zero Signer describes a key")
	}
	if nilTemplate.String() != "" || nilTemplate.Names() != nil {
		t.Error("a nil PathTemplate describes a template")
	}
}

// The zero CookieOptions and Options are the documented safe defaults.
func TestZeroOptionsAreSafe(t *testing.T) {
	t.Parallel()
	s, err := New("K2JCJMDEHXQW5F", testSigner(t, Options{}).key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.HashAlgorithm() != SHA256 {
		t.Errorf("zero Options hash %s, want SHA256", s.HashAlgorithm())
	}
	cookies, err := testSigner(t, Options{}).Cookies(Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires}, CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		line := c.String()
		for _, want := range []string{"; Path=/;", "; HttpOnly", "; Secure", "; SameSite=Lax"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s lacks %q", c.Name, want)
			}
		}
		if strings.Contains(line, "Domain=") {
			t.Errorf("%s is not host-only", c.Name)
		}
	}
}

// Cookie options must cover the resource the cookies unlock, through every
// way of setting cookies: CookieOptions.CheckResource, Signer.Cookies,
// Signed.Cookies and CookieHeader.Set.
func TestCookieScope(t *testing.T) {
	t.Parallel()
	const alice = "https://media.example.com/media/alice/*"
	cases := []struct {
		name     string
		resource string
		o        CookieOptions
		want     error // nil = accepted
	}{
		{"zero options", alice, CookieOptions{}, nil},
		{"parent domain", alice, CookieOptions{Domain: "example.com"}, nil},
		{"parent domain with dot and capitals", alice, CookieOptions{Domain: ".Example.COM"}, nil},
		{"the host itself", alice, CookieOptions{Domain: "media.example.com"}, nil},
		{"host with a port", "https://media.example.com:8443/media/*", CookieOptions{Domain: "example.com"}, nil},
		{"wildcard subdomain", "https://*.example.com/*", CookieOptions{Domain: "example.com"}, nil},
		{"another domain", alice, CookieOptions{Domain: "example.org"}, ErrCookieDomain},
		{"suffix not on a dot", alice, CookieOptions{Domain: "ample.com"}, ErrCookieDomain},
		{"a child of the host", alice, CookieOptions{Domain: "cdn.media.example.com"}, ErrCookieDomain},
		{"wildcard not on a dot", "https://*example.com/*", CookieOptions{Domain: "example.com"}, ErrCookieDomain},
		{"host ends in a wildcard", "https://media.example.com*", CookieOptions{Domain: "example.com"}, ErrCookieDomain},
		{"domain with ;", alice, CookieOptions{Domain: "example.com;Path=/"}, ErrCookieDomain},
		{"domain with a port", alice, CookieOptions{Domain: "example.com:443"}, ErrCookieDomain},
		{"path of a parent segment", alice, CookieOptions{Path: "/media"}, nil},
		{"path of a parent directory", alice, CookieOptions{Path: "/media/"}, nil},
		{"path of the resource", alice, CookieOptions{Path: "/media/alice/"}, nil},
		{"path inside a wildcard", alice, CookieOptions{Path: "/media/alice/hls"}, nil},
		{"path through ?", "https://media.example.com/media/seg?/*", CookieOptions{Path: "/media/seg1"}, nil},
		{"exact file", "https://media.example.com/a.png", CookieOptions{Path: "/a.png"}, nil},
		{"path not on a segment boundary", alice, CookieOptions{Path: "/med"}, ErrCookiePath},
		{"path of another user", alice, CookieOptions{Path: "/media/bob"}, ErrCookiePath},
		{"path longer than the resource", "https://media.example.com/a.png", CookieOptions{Path: "/a.png/x"}, ErrCookiePath},
		{"relative path", alice, CookieOptions{Path: "media"}, ErrCookiePath},
		{"path with ;", alice, CookieOptions{Path: "/a;Domain=evil.example"}, ErrCookiePath},
		{"path with a space", alice, CookieOptions{Path: "/media /"}, ErrCookiePath},
		{"SameSite=None with Secure", alice, CookieOptions{SameSite: http.SameSiteNoneMode}, nil},
		{"SameSite=None without Secure", alice, CookieOptions{SameSite: http.SameSiteNoneMode, Insecure: true}, ErrCookieSameSite},
		{"unknown SameSite", alice, CookieOptions{SameSite: http.SameSite(9)}, ErrCookieSameSite},
	}
	// A policy made elsewhere may grant every URL: any scope is inside it.
	if err := (CookieOptions{Domain: "example.com", Path: "/x"}).CheckResource("*"); err != nil {
		t.Errorf("resource *: %v", err)
	}
	if err := (CookieOptions{}).CheckResource("media.example.com/*"); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("resource without a scheme: %v", err)
	}
	s := testSigner(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := Grant{Resource: tc.resource, Expires: testExpires}
			signed, err := s.Sign(g)
			if err != nil {
				t.Fatal(err)
			}
			handMade := signed
			handMade.resource = ""
			check := func(how string, err error) {
				t.Helper()
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("%s: err = %v, want %v", how, err, tc.want)
				}
			}
			check("CheckResource", tc.o.CheckResource(tc.resource))
			if err := tc.o.Check(); err != nil && !errors.Is(err, tc.want) {
				t.Errorf("Check: err = %v, want nil or %v", err, tc.want) // the options alone
			}
			_, err = s.Cookies(g, tc.o)
			check("Signer.Cookies", err)
			_, err = signed.Cookies(tc.o, testNow)
			check("Signed.Cookies", err)
			_, err = handMade.Cookies(tc.o, testNow)
			check("Signed.Cookies by hand", err)
			if f, err := NewCookieHeader(tc.o); err != nil {
				check("NewCookieHeader", err)
			} else {
				h := http.Header{}
				check("CookieHeader.Set", f.Set(h, signed, testNow))
				if tc.want != nil && len(h) != 0 {
					t.Errorf("CookieHeader.Set refused but wrote %q", h)
				}
			}
		})
	}
}

// Signed values that are not CloudFront cookie values are refused, never
// quoted or sanitized by net/http.
func TestSignedValuesRefused(t *testing.T) {
	t.Parallel()
	signed, err := testSigner(t, Options{}).Sign(Grant{Resource: "https://media.example.com/*", Expires: testExpires})
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewCookieHeader(CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(*Signed)
		want   error
	}{
		{"policy with a space", func(s *Signed) { s.Policy = "ab cd" }, ErrCookieValue},
		{"policy with ;", func(s *Signed) { s.Policy = "ab;Domain=evil" }, ErrCookieValue},
		{"empty signature", func(s *Signed) { s.Signature = "" }, ErrCookieValue},
		{"signature with a quote", func(s *Signed) { s.Signature = `a"b` }, ErrCookieValue},
		{"key pair id with a quote", func(s *Signed) { s.KeyPairID = `K1"` }, ErrCookieValue},
		{"unknown hash", func(s *Signed) { s.HashAlgorithm = "MD5" }, ErrCookieValue},
		{"hand-made policy that is not one", func(s *Signed) { *s = Signed{KeyPairID: "K1", Policy: "e30_", Signature: "AAAA", Expires: testExpires} }, ErrMalformedPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := signed
			tc.change(&s)
			if _, err := s.Cookies(CookieOptions{}, testNow); !errors.Is(err, tc.want) {
				t.Errorf("Signed.Cookies: err = %v, want %v", err, tc.want)
			}
			h := http.Header{}
			if err := f.Set(h, s, testNow); !errors.Is(err, tc.want) {
				t.Errorf("CookieHeader.Set: err = %v, want %v", err, tc.want)
			}
			if len(h) != 0 {
				t.Errorf("refused but wrote %q", h)
			}
		})
	}
}
