package edge

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// Fuzz inputs stay short: Go's fuzzer minimizes a new input in time that
// grows with the square of its length. Signed cookies, too long to mutate
// cheaply, enter FuzzCheck's Cookie header by name.
const maxFuzzField = 128

// FuzzCheck feeds arbitrary Cookie headers and paths to a Verifier: it must
// not panic, every denial must carry a known code and a reason, and no
// reason may quote a CloudFront cookie's value (a trusted key pair ID is
// configuration, and may be named).
func FuzzCheck(f *testing.F) {
	k := keys(f)
	v := newTestVerifier(f, VerifierOptions{})
	valid := signCookies(f, idRSA, k.rsa, signer.SHA1, signer.Grant{
		Resource: "https://m.example.com/media/alice/*", Expires: t0.Add(time.Hour),
		IPRange: netip.MustParsePrefix("192.0.2.0/24"),
	})
	ec := signCookies(f, idEC, k.ec, signer.SHA256, signer.Grant{Resource: "https://m.example.com/*", Expires: t0.Add(time.Hour)})
	header := func(cs []*http.Cookie) string {
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return strings.Join(parts, "; ")
	}
	// In a template, $RSA and $EC stand for a whole valid cookie set, $POLICY
	// and $SIG for the RSA set's policy and signature values alone.
	expand := strings.NewReplacer(
		"$RSA", header(valid), "$EC", header(ec),
		"$POLICY", cookieValue(valid, signer.CookiePolicy), "$SIG", cookieValue(valid, signer.CookieSignature),
	).Replace
	f.Add("$RSA", "/media/alice/a.ts")
	f.Add("$EC", "/x")
	f.Add("$RSA; $EC", "/media/alice/")
	f.Add("$RSA; CloudFront-Hash-Algorithm=SHA3", "/media/alice/a.ts")
	f.Add("CloudFront-Key-Pair-Id="+idRSA+"; CloudFront-Policy=$POLICY; CloudFront-Signature=AAAA", "/media/alice/a")
	f.Add("CloudFront-Key-Pair-Id="+idEC+"; CloudFront-Policy=$POLICY; CloudFront-Signature=$SIG", "/media/alice/a")
	f.Add("CloudFront-Key-Pair-Id="+idRSA+"; CloudFront-Policy=e30_; CloudFront-Signature=AAAA", "/")
	f.Add(`CloudFront-Policy="eyJ9"; CloudFront-Policy=`, "/media/%2e%2e/")
	f.Add("", "")
	// A value that is the reason's own words is not a quote of it.
	f.Add("CloudFront-Policy=e30_; CloudFront-Signature=no CloudFront-Key-Pair-Id cookie", "/")
	f.Add("CloudFront-Key-Pair-Id=KNOTTRUSTED01; CloudFront-Policy=is not CloudFront base64; CloudFront-Signature=AAAA", "/")

	f.Fuzz(func(t *testing.T, template, path string) {
		if len(template) > maxFuzzField || len(path) > maxFuzzField {
			return
		}
		cookieHeader := expand(template)
		r := &http.Request{
			Method:     http.MethodGet,
			URL:        &url.URL{Path: path},
			Host:       "m.example.com",
			Header:     http.Header{"Cookie": {cookieHeader}},
			RemoteAddr: "192.0.2.10:1234",
		}
		d := v.Check(r, t0)
		if d.Allowed != (d.Code == "") {
			t.Fatalf("Allowed %v with code %q", d.Allowed, d.Code)
		}
		switch d.Code {
		case "", CodeMissingKey, CodeInvalidKey, CodeMalformedPolicy, CodeMalformedSignature, CodeAccessDenied:
		default:
			t.Fatalf("unknown code %q", d.Code)
		}
		if d.Reason == "" {
			t.Fatal("no reason")
		}
		for _, c := range r.Cookies() {
			trustedID := c.Name == signer.CookieKeyPairID && (c.Value == idRSA || c.Value == idEC)
			if !strings.HasPrefix(c.Name, "CloudFront-") || trustedID || len(c.Value) < 12 || !strings.Contains(d.Reason, c.Value) {
				continue
			}
			// The value may be the reason's own words ("no CloudFront-Key-Pair-Id
			// cookie") or part of the request URL. It is quoted only if the
			// reason follows it: send the value with its letters and digits
			// rotated (same length, same base64 validity) and look again.
			r2 := r.Clone(r.Context())
			r2.Header = http.Header{"Cookie": {strings.ReplaceAll(cookieHeader, c.Value, rotate(c.Value))}}
			if d2 := v.Check(r2, t0); !strings.Contains(d2.Reason, c.Value) {
				t.Fatalf("reason %q quotes the %s cookie", d.Reason, c.Name)
			}
		}
	})
}

// rotate maps each ASCII letter and digit to the next one in its class,
// wrapping around, and leaves every other byte alone.
func rotate(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+1)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+1)%26
		case c >= '0' && c <= '9':
			b[i] = '0' + (c-'0'+1)%10
		}
	}
	return string(b)
}
