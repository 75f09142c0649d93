package signer

import (
	"crypto"
	"crypto/rand"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key pair IDs of the trusted key group in verifier tests.
const (
	vidRSA   = "K2RSATESTKEY"
	vidEC    = "K3ECDSATESTKEY"
	vidOther = "K4NOTTRUSTED"
)

// verifyT0 is the verifier tests' "now" at signing time.
var verifyT0 = time.Unix(1_800_000_000, 0).UTC()

type verifyKeys struct {
	rsa, ec, rsaOther crypto.Signer
}

// loadVerifyKeys reads the RSA and ECDSA test keys once per test binary.
var loadVerifyKeys = sync.OnceValues(func() (verifyKeys, error) {
	var k verifyKeys
	for _, f := range []struct {
		dst  *crypto.Signer
		file string
	}{
		{&k.rsa, "testdata/keys/rsa2048-pkcs1.pem"},
		{&k.rsaOther, "testdata/keys/rsa3072.pem"},
		{&k.ec, "testdata/vectors/test-ecdsa-key.pem"},
	} {
		b, err := os.ReadFile(f.file)
		if err != nil {
			return k, err
		}
		if *f.dst, err = ParsePrivateKeyPEM(b, KeyOptions{AllowAnyRSASize: true}); err != nil {
			return k, err
		}
	}
	return k, nil
})

func vkeys(t testing.TB) verifyKeys {
	t.Helper()
	k, err := loadVerifyKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestVerifierSigner(t testing.TB) *Verifier {
	t.Helper()
	k := vkeys(t)
	v, err := NewVerifier(map[string]crypto.PublicKey{vidRSA: k.rsa.Public(), vidEC: k.ec.Public()}, VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signedCookies signs g with key as keyPairID and returns the cookies a
// browser would send back: the expired CloudFront-Hash-Algorithm set for
// SHA1 is deleted by browsers, not sent.
func signedCookies(t testing.TB, keyPairID string, key crypto.Signer, h HashAlgorithm, g Grant) []*http.Cookie {
	t.Helper()
	s, err := New(keyPairID, key, Options{HashAlgorithm: h, Now: func() time.Time { return verifyT0 }, Key: KeyOptions{AllowAnyRSASize: true}})
	if err != nil {
		t.Fatal(err)
	}
	cookies, err := s.Cookies(g, CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sent []*http.Cookie
	for _, c := range cookies {
		if c.MaxAge >= 0 {
			sent = append(sent, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return sent
}

// with returns cookies with name's value replaced (or the cookie removed
// when value is "-").
func with(cookies []*http.Cookie, name, value string) []*http.Cookie {
	var out []*http.Cookie
	found := false
	for _, c := range cookies {
		if c.Name == name {
			found = true
			if value == "-" {
				continue
			}
			out = append(out, &http.Cookie{Name: name, Value: value})
			continue
		}
		out = append(out, c)
	}
	if !found && value != "-" {
		out = append(out, &http.Cookie{Name: name, Value: value})
	}
	return out
}

func cookieValueOf(cookies []*http.Cookie, name string) string {
	for _, c := range cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestVerifierCheck(t *testing.T) {
	t.Parallel()
	k := vkeys(t)
	v := newTestVerifierSigner(t)
	const alice = "https://m.example.com/media/alice/*"
	const aliceURL = "https://m.example.com/media/alice/a.ts"
	grant := Grant{Resource: alice, Expires: verifyT0.Add(time.Hour)}
	rsaSHA256 := signedCookies(t, vidRSA, k.rsa, SHA256, grant)
	var rsaSHA1 []*http.Cookie // signed with SHA-1, which fips140=only refuses
	if !fips140Only() {
		rsaSHA1 = signedCookies(t, vidRSA, k.rsa, SHA1, grant)
	}
	ec := signedCookies(t, vidEC, k.ec, SHA256, grant)
	bound := signedCookies(t, vidRSA, k.rsa, SHA256, Grant{Resource: alice, Expires: verifyT0.Add(time.Hour), IPRange: netip.MustParsePrefix("192.0.2.0/24")})
	later := signedCookies(t, vidRSA, k.rsa, SHA256, Grant{Resource: alice, Expires: verifyT0.Add(time.Hour), NotBefore: verifyT0.Add(time.Minute)})
	otherKey := signedCookies(t, vidRSA, k.rsaOther, SHA256, grant)
	wider := signedCookies(t, vidRSA, k.rsa, SHA256, Grant{Resource: "https://m.example.com/*", Expires: verifyT0.Add(time.Hour)})
	tampered := with(rsaSHA256, CookiePolicy, cookieValueOf(wider, CookiePolicy))

	// A signed policy CloudFront could not parse.
	badJSON := []byte(`{"Statement":[{"Resource":"` + alice + `"}]}`)
	badDigest, err := SHA256.digest(badJSON)
	if err != nil {
		t.Fatal(err)
	}
	badSig, err := k.rsa.Sign(rand.Reader, badDigest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	unparsable := with(with(rsaSHA256, CookiePolicy, EncodeBase64(badJSON)), CookieSignature, EncodeBase64(badSig))
	// Without the hash cookie CloudFront checks with SHA-1, which a process
	// under fips140=only cannot do: it denies, saying why.
	noHashReason := "does not verify"
	if fips140Only() {
		noHashReason = "GODEBUG=fips140=only refuses SHA-1"
	}

	ip := netip.MustParseAddr("192.0.2.7")
	cases := []struct {
		name    string
		cookies []*http.Cookie
		url     string
		ip      netip.Addr
		now     time.Time
		code    string // "" = allowed
		reason  string
		sha1    bool // needs cookies signed with SHA-1
	}{
		{"rsa sha1", rsaSHA1, aliceURL, ip, verifyT0, "", "signature valid (key K2RSATESTKEY, SHA1)", true},
		{"rsa sha256", rsaSHA256, aliceURL, ip, verifyT0, "", "signature valid (key K2RSATESTKEY, SHA256)", false},
		{"ecdsa", ec, aliceURL, ip, verifyT0, "", "K3ECDSATESTKEY", false},
		{"query allowed by wildcard", rsaSHA256, aliceURL + "?v=1", ip, verifyT0, "", "signature valid", false},
		{"no cookies", nil, aliceURL, ip, verifyT0, CodeMissingKey, "no CloudFront-Key-Pair-Id", false},
		{"no key pair id", with(rsaSHA256, CookieKeyPairID, "-"), aliceURL, ip, verifyT0, CodeMissingKey, "no CloudFront-Key-Pair-Id", false},
		{"no policy", with(rsaSHA256, CookiePolicy, "-"), aliceURL, ip, verifyT0, CodeMissingKey, "no CloudFront-Policy", false},
		{"canned policy", with(with(rsaSHA256, CookiePolicy, "-"), CookieExpires, "1800003600"), aliceURL, ip, verifyT0, CodeMissingKey, "canned-policy", false},
		{"empty signature", with(rsaSHA256, CookieSignature, ""), aliceURL, ip, verifyT0, CodeMissingKey, "no CloudFront-Signature", false},
		{"untrusted key", with(rsaSHA256, CookieKeyPairID, vidOther), aliceURL, ip, verifyT0, CodeInvalidKey, "trusted: K2RSATESTKEY, K3ECDSATESTKEY", false},
		{"unknown hash", with(rsaSHA256, CookieHashAlgorithm, "SHA3"), aliceURL, ip, verifyT0, CodeAccessDenied, "neither SHA1 nor SHA256", false},
		{"empty hash means sha1", with(rsaSHA1, CookieHashAlgorithm, ""), aliceURL, ip, verifyT0, "", "SHA1", true},
		{"sha256 cookie missing", with(rsaSHA256, CookieHashAlgorithm, "-"), aliceURL, ip, verifyT0, CodeAccessDenied, noHashReason, false},
		{"sha256 cookie empty", with(rsaSHA256, CookieHashAlgorithm, ""), aliceURL, ip, verifyT0, CodeAccessDenied, noHashReason, false},
		{"ecdsa without hash cookie", with(ec, CookieHashAlgorithm, "-"), aliceURL, ip, verifyT0, CodeAccessDenied, "ECDSA, which signs with SHA256", false},
		{"policy not base64", with(rsaSHA256, CookiePolicy, "!!!!"), aliceURL, ip, verifyT0, CodeMalformedPolicy, "not CloudFront base64", false},
		{"signature not base64", with(rsaSHA256, CookieSignature, "!!!!"), aliceURL, ip, verifyT0, CodeMalformedSignature, "not CloudFront base64", false},
		{"signed with another key", otherKey, aliceURL, ip, verifyT0, CodeAccessDenied, "does not verify with key K2RSATESTKEY", false},
		{"policy widened after signing", tampered, aliceURL, ip, verifyT0, CodeAccessDenied, "does not verify", false},
		{"signed but unparsable", unparsable, aliceURL, ip, verifyT0, CodeMalformedPolicy, "no Condition", false},
		{"another user's resource", rsaSHA256, "https://m.example.com/media/bob/a.ts", ip, verifyT0, CodeAccessDenied, "does not match the request URL https://m.example.com/media/bob/a.ts", false},
		{"another host", rsaSHA256, "https://evil.example.com/media/alice/a.ts", ip, verifyT0, CodeAccessDenied, "another scheme or host", false},
		{"query not shown", rsaSHA256, "https://m.example.com/media/bob/a.ts?secret=1", ip, verifyT0, CodeAccessDenied, "(query not shown)", false},
		{"expired", rsaSHA256, aliceURL, ip, verifyT0.Add(time.Hour), CodeAccessDenied, "policy expired at 2027-01-15T09:00:00Z", false},
		{"not yet valid", later, aliceURL, ip, verifyT0, CodeAccessDenied, "not yet valid", false},
		{"valid after start", later, aliceURL, ip, verifyT0.Add(time.Minute + time.Second), "", "signature valid", false},
		{"ip inside", bound, aliceURL, ip, verifyT0, "", "signature valid", false},
		{"ip mapped inside", bound, aliceURL, netip.MustParseAddr("::ffff:192.0.2.7"), verifyT0, "", "signature valid", false},
		{"ip outside", bound, aliceURL, netip.MustParseAddr("198.51.100.7"), verifyT0, CodeAccessDenied, "client IP 198.51.100.7 is outside", false},
		{"ip unknown", bound, aliceURL, netip.Addr{}, verifyT0, CodeAccessDenied, "client address is unknown", false},
		{"stale duplicate shadows", append([]*http.Cookie{{Name: CookiePolicy, Value: cookieValueOf(wider, CookiePolicy)}}, rsaSHA256...), aliceURL, ip, verifyT0, CodeAccessDenied, "2 CloudFront-Policy sent; the first of each was used", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.sha1 {
				skipSHA1InFIPS(t)
			}
			d := v.Check(tc.cookies, tc.url, tc.ip, tc.now)
			if d.Allowed != (tc.code == "") || d.Code != tc.code {
				t.Fatalf("Allowed %v, Code %q (%s); want code %q", d.Allowed, d.Code, d.Reason, tc.code)
			}
			if !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", d.Reason, tc.reason)
			}
			for _, c := range tc.cookies {
				if c.Name != CookieKeyPairID && len(c.Value) >= 8 && strings.Contains(d.Reason, c.Value) {
					t.Errorf("reason %q quotes the %s cookie", d.Reason, c.Name)
				}
			}
		})
	}
}

// A Decision carries the policy once its signature verified, and names the
// condition that denied the request, so a caller can explain it without
// checking again.
func TestDecisionPolicyAndCondition(t *testing.T) {
	t.Parallel()
	k := vkeys(t)
	v := newTestVerifierSigner(t)
	const alice = "https://m.example.com/media/alice/*"
	const aliceURL = "https://m.example.com/media/alice/a.ts"
	rsaSHA256 := signedCookies(t, vidRSA, k.rsa, SHA256, Grant{Resource: alice, Expires: verifyT0.Add(time.Hour)})
	bound := signedCookies(t, vidRSA, k.rsa, SHA256, Grant{Resource: alice, Expires: verifyT0.Add(time.Hour), IPRange: netip.MustParsePrefix("192.0.2.0/24")})
	later := signedCookies(t, vidRSA, k.rsa, SHA256, Grant{Resource: alice, Expires: verifyT0.Add(time.Hour), NotBefore: verifyT0.Add(time.Minute)})
	otherKey := signedCookies(t, vidRSA, k.rsaOther, SHA256, Grant{Resource: alice, Expires: verifyT0.Add(time.Hour)})
	ip := netip.MustParseAddr("192.0.2.7")
	cases := []struct {
		name       string
		cookies    []*http.Cookie
		url        string
		ip         netip.Addr
		now        time.Time
		wantPolicy bool
		condition  string
	}{
		{"allowed", rsaSHA256, aliceURL, ip, verifyT0, true, ""},
		{"another user's resource", rsaSHA256, "https://m.example.com/media/bob/a.ts", ip, verifyT0, true, "Resource"},
		{"expired", rsaSHA256, aliceURL, ip, verifyT0.Add(time.Hour), true, "DateLessThan"},
		{"not yet valid", later, aliceURL, ip, verifyT0, true, "DateGreaterThan"},
		{"ip outside", bound, aliceURL, netip.MustParseAddr("198.51.100.7"), verifyT0, true, "IpAddress"},
		{"ip unknown", bound, aliceURL, netip.Addr{}, verifyT0, true, "IpAddress"},
		{"signature does not verify", otherKey, aliceURL, ip, verifyT0, false, ""},
		{"no cookies", nil, aliceURL, ip, verifyT0, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := v.Check(tc.cookies, tc.url, tc.ip, tc.now)
			if d.Condition != tc.condition {
				t.Errorf("Condition %q, want %q (%s)", d.Condition, tc.condition, d.Reason)
			}
			switch {
			case !tc.wantPolicy && d.Policy != nil:
				t.Errorf("Policy %+v, want nil: the policy must not be read before its signature verifies", *d.Policy)
			case tc.wantPolicy && (d.Policy == nil || d.Policy.Resource != alice):
				t.Errorf("Policy %v, want the signed one for %s", d.Policy, alice)
			}
		})
	}
}

// The zero Verifier and a nil one trust no key; a zero Decision denies.
func TestVerifierZeroValues(t *testing.T) {
	t.Parallel()
	k := vkeys(t)
	cookies := signedCookies(t, vidRSA, k.rsa, SHA256, Grant{Resource: "https://m.example.com/*", Expires: verifyT0.Add(time.Hour)})
	var zero Verifier
	if d := zero.Check(cookies, "https://m.example.com/a", netip.Addr{}, verifyT0); d.Allowed || d.Code != CodeInvalidKey {
		t.Errorf("zero Verifier: %+v", d)
	}
	var nilV *Verifier
	if d := nilV.Check(cookies, "https://m.example.com/a", netip.Addr{}, verifyT0); d.Allowed || d.Code != CodeInvalidKey {
		t.Errorf("nil Verifier: %+v", d)
	}
	if d := (Decision{}); d.Allowed || d.Message() != "Access denied" {
		t.Errorf("zero Decision %+v says %q", d, d.Message())
	}
	// A zero time is now, not the year 1: an expired policy stays expired.
	old, err := New(vidRSA, k.rsa, Options{Now: func() time.Time { return time.Unix(999_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := old.Cookies(Grant{Resource: "https://m.example.com/*", Expires: time.Unix(1_000_000_000, 0)}, CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := newTestVerifierSigner(t).Check(expired, "https://m.example.com/a", netip.Addr{}, time.Time{}); d.Allowed || !strings.Contains(d.Reason, "expired") {
		t.Errorf("zero time: %+v", d)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	t.Parallel()
	k := vkeys(t)
	// A 1024-bit key CloudFront refuses, read rather than generated:
	// fips140=only refuses to generate one.
	small, err := ParsePrivateKeyPEM(readKeyFile(t, "vectors/test-rsa-key.pem"), KeyOptions{AllowAnyRSASize: true})
	if err != nil {
		t.Fatal(err)
	}
	six := map[string]crypto.PublicKey{}
	for _, id := range []string{"K1", "K2", "K3", "K4", "K5", "K6"} {
		six[id] = k.ec.Public()
	}
	cases := []struct {
		name  string
		keys  map[string]crypto.PublicKey
		error string
	}{
		{"no keys", nil, "at least one"},
		{"six keys", six, "at most 5"},
		{"empty id", map[string]crypto.PublicKey{"": k.ec.Public()}, "not a CloudFront public key ID"},
		{"id with a comma", map[string]crypto.PublicKey{"K1,K2": k.ec.Public()}, "not a CloudFront public key ID"},
		{"nil key", map[string]crypto.PublicKey{"K1": nil}, "no public key"},
		{"rsa 1024", map[string]crypto.PublicKey{"K1": small.Public()}, "2048"},
		{"private key given", map[string]crypto.PublicKey{"K1": k.ec}, "unsupported key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewVerifier(tc.keys, VerifierOptions{})
			if !errors.Is(err, ErrKeyGroup) {
				t.Fatalf("error %v does not wrap ErrKeyGroup", err)
			}
			if !strings.Contains(err.Error(), tc.error) {
				t.Errorf("error %q does not mention %q", err, tc.error)
			}
		})
	}
	if _, err := NewVerifier(map[string]crypto.PublicKey{"K1": small.Public()}, VerifierOptions{Key: KeyOptions{AllowAnyRSASize: true}}); err != nil {
		t.Errorf("AllowAnyRSASize: %v", err)
	}
}

func TestRequestURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://m.example.com/media/alice/a.ts", "https://m.example.com/media/alice/a.ts"},
		{"https://m.example.com:8443/a%20b.ts?x=1&y=2", "https://m.example.com:8443/a%20b.ts?x=1&y=2"},
		{"https://m.example.com/a?", "https://m.example.com/a?"},
		{"https://user:pw@m.example.com/a#frag", "https://m.example.com/a"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := RequestURL(u); got != tc.want {
			t.Errorf("RequestURL(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestVerifyErrors(t *testing.T) {
	t.Parallel()
	k := vkeys(t)
	policy := []byte(`{"Statement":[{"Resource":"https://m.example.com/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800003600}}}]}`)
	digest, err := SHA256.digest(policy)
	if err != nil {
		t.Fatal(err)
	}
	rsaSig, err := k.rsa.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ecSig, err := k.ec.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	// A SHA-256 signature checked with SHA-1 does not match; under
	// fips140=only SHA-1 is not computed at all.
	wrongHash := ErrBadSignature
	if fips140Only() {
		wrongHash = ErrNotFIPSApproved
	}
	cases := []struct {
		name string
		pub  crypto.PublicKey
		h    HashAlgorithm
		sig  string
		want error // nil = verifies
	}{
		{"rsa", k.rsa.Public(), SHA256, EncodeBase64(rsaSig), nil},
		{"ecdsa", k.ec.Public(), SHA256, EncodeBase64(ecSig), nil},
		{"rsa wrong hash", k.rsa.Public(), SHA1, EncodeBase64(rsaSig), wrongHash},
		{"rsa no hash means sha1", k.rsa.Public(), "", EncodeBase64(rsaSig), wrongHash},
		{"rsa other key", k.rsaOther.Public(), SHA256, EncodeBase64(rsaSig), ErrBadSignature},
		{"ecdsa wrong key", k.ec.Public(), SHA256, EncodeBase64(rsaSig), ErrBadSignature},
		{"ecdsa with sha1", k.ec.Public(), SHA1, EncodeBase64(ecSig), ErrBadSignature},
		{"not base64", k.rsa.Public(), SHA256, "!!", ErrBadSignature},
		{"private key", k.rsa, SHA256, EncodeBase64(rsaSig), ErrUnsupportedKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tc.pub, tc.h, policy, tc.sig)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// BenchmarkVerifierCheck checks one allowed cookie set per key type; the
// signature verification dominates.
func BenchmarkVerifierCheck(b *testing.B) {
	k := vkeys(b)
	v := newTestVerifierSigner(b)
	grant := Grant{Resource: "https://m.example.com/media/alice/*", Expires: verifyT0.Add(time.Hour)}
	ip := netip.MustParseAddr("192.0.2.7")
	for _, tc := range []struct {
		name    string
		cookies []*http.Cookie
	}{
		{"rsa-sha1", signedCookies(b, vidRSA, k.rsa, SHA1, grant)},
		{"ecdsa", signedCookies(b, vidEC, k.ec, SHA256, grant)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := v.Check(tc.cookies, "https://m.example.com/media/alice/a.ts", ip, verifyT0); !d.Allowed {
					b.Fatal(d.Reason)
				}
			}
		})
	}
}
