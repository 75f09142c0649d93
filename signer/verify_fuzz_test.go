package signer

import (
	"errors"
	"regexp"
	"strings"
	"testing"
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
