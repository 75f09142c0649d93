package signer

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// maxFuzzPolicy caps FuzzParsePolicy's input (see the maxFuzz constants in
// fuzz_test.go): the longest seed policy is under 200 bytes.
const maxFuzzPolicy = 256

// FuzzParsePolicy checks that ParsePolicy never panics, that every error
// wraps ErrMalformedPolicy, and that what it accepts survives a round trip
// through the policy writer unchanged.
func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		`{"Statement":[{"Resource":"https://m.example.com/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000600}}}]}`,
		`{"Statement":[{"Resource":"https://m.example.com/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000600},"DateGreaterThan":{"AWS:EpochTime":1799999000},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}`,
		`{ "Statement" : [ { "Resource" : "http*://*" , "Condition" : { "IpAddress" : { "AWS:SourceIp" : "10.0.0.0/8" } , "DateLessThan" : { "AWS:EpochTime" : 1 } } } ] }`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1}}},{}]}`,
		`{"Statement":{"Resource":"a"}}`,
		`{"Statement":[{"Resource":"\u002a","Condition":{"DateLessThan":{"AWS:EpochTime":1e3}}}]}`,
		`{"Statement":[]}`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzPolicy {
			return
		}
		p, err := ParsePolicy(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedPolicy) {
				t.Fatalf("error %v does not wrap ErrMalformedPolicy", err)
			}
			return
		}
		if p.Resource == "" || p.Expires.IsZero() {
			t.Fatalf("accepted a policy without Resource or DateLessThan: %+v", p)
		}
		if p.IPRange.IsValid() && (!p.IPRange.Addr().Is4() || p.IPRange != p.IPRange.Masked()) {
			t.Fatalf("IPRange %s is not a masked IPv4 range", p.IPRange)
		}
		g := Grant(p)
		b, err := g.Policy()
		if err != nil {
			return // a policy CloudFront may accept but Grant.Policy would not write
		}
		p2, err := ParsePolicy(b)
		if err != nil {
			t.Fatalf("Grant.Policy's %s is refused: %v", b, err)
		}
		if p2 != p {
			t.Fatalf("round trip changed the policy:\n%+v\n%+v", p, p2)
		}
	})
}

// FuzzMatchResource compares MatchResource with a regular expression
// translation of the pattern, and checks that a pattern matches itself.
func FuzzMatchResource(f *testing.F) {
	for _, seed := range [][2]string{
		{"https://m.example.com/media/alice/*", "https://m.example.com/media/alice/a/b.ts"},
		{"https://m.example.com/media/alice/*", "https://m.example.com/media/alicex/a.ts"},
		{"https://m.example.com/seg?.ts", "https://m.example.com/seg1.ts"},
		{"a*b?c*", "aXXbYcZZ"},
		{"**?*", ""},
		{"?", "é"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > maxFuzzField || len(s) > maxFuzzField {
			return
		}
		got := MatchResource(pattern, s)
		if !MatchResource(pattern, pattern) {
			t.Fatalf("%q does not match itself", pattern)
		}
		if !isASCII(pattern) || !isASCII(s) {
			return // the oracle below works on runes; MatchResource on bytes
		}
		var re strings.Builder
		re.WriteString(`\A`)
		for _, c := range []byte(pattern) {
			switch c {
			case '*':
				re.WriteString(`(?s:.*)`)
			case '?':
				re.WriteString(`(?s:.)`)
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString(`\z`)
		if want := regexp.MustCompile(re.String()).MatchString(s); got != want {
			t.Fatalf("MatchResource(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzCheck feeds arbitrary Cookie headers and paths to Verifier.Check: it must
// not panic, every denial must carry a known code and a reason, and no
// reason may quote a CloudFront cookie's value (a trusted key pair ID is
// configuration, and may be named).
func FuzzCheck(f *testing.F) {
	k := vkeys(f)
	v := newTestVerifierSigner(f)
	valid := signedCookies(f, vidRSA, k.rsa, SHA256, Grant{
		Resource: "https://m.example.com/media/alice/*", Expires: verifyT0.Add(time.Hour),
		IPRange: netip.MustParsePrefix("192.0.2.0/24"),
	})
	ec := signedCookies(f, vidEC, k.ec, SHA256, Grant{Resource: "https://m.example.com/*", Expires: verifyT0.Add(time.Hour)})
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
		"$POLICY", cookieValueOf(valid, CookiePolicy), "$SIG", cookieValueOf(valid, CookieSignature),
	).Replace
	f.Add("$RSA", "/media/alice/a.ts")
	f.Add("$EC", "/x")
	f.Add("$RSA; $EC", "/media/alice/")
	f.Add("$RSA; CloudFront-Hash-Algorithm=SHA3", "/media/alice/a.ts")
	// No hash cookie: checked with SHA-1, or, under fips140=only, denied.
	f.Add("CloudFront-Key-Pair-Id="+vidRSA+"; CloudFront-Policy=$POLICY; CloudFront-Signature=$SIG", "/media/alice/a.ts")
	f.Add("CloudFront-Key-Pair-Id="+vidRSA+"; CloudFront-Policy=$POLICY; CloudFront-Signature=AAAA", "/media/alice/a")
	f.Add("CloudFront-Key-Pair-Id="+vidEC+"; CloudFront-Policy=$POLICY; CloudFront-Signature=$SIG", "/media/alice/a")
	f.Add("CloudFront-Key-Pair-Id="+vidRSA+"; CloudFront-Policy=e30_; CloudFront-Signature=AAAA", "/")
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
		cookies := parseCookieHeader(cookieHeader)
		reqURL := RequestURL(&url.URL{Scheme: "https", Host: "m.example.com", Path: path})
		client := netip.MustParseAddr("192.0.2.10")
		d := v.Check(cookies, reqURL, client, verifyT0)
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
		for _, c := range cookies {
			trustedID := c.Name == CookieKeyPairID && (c.Value == vidRSA || c.Value == vidEC)
			if !strings.HasPrefix(c.Name, "CloudFront-") || trustedID || len(c.Value) < 12 || !strings.Contains(d.Reason, c.Value) {
				continue
			}
			// The value may be the reason's own words ("no CloudFront-Key-Pair-Id
			// cookie") or part of the request URL. It is quoted only if the
			// reason follows it: send the value with its letters and digits
			// rotated (same length, same base64 validity) and look again.
			rotated := parseCookieHeader(strings.ReplaceAll(cookieHeader, c.Value, rotate(c.Value)))
			if d2 := v.Check(rotated, reqURL, client, verifyT0); !strings.Contains(d2.Reason, c.Value) {
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

// parseCookieHeader parses a Cookie header as net/http's server does.
func parseCookieHeader(h string) []*http.Cookie {
	return (&http.Request{Header: http.Header{"Cookie": {h}}}).Cookies()
}
