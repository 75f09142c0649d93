package explain

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

const (
	keyID    = "K3ECDSATESTKEY"
	resource = "https://media.example.test/media/alice/*"
	alicePNG = "https://media.example.test/media/alice/a.png"
)

var signedAt = time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC)

// report checks cookies with a key group of key, as `server verify` does,
// and returns the printed report.
func report(t *testing.T, key *ecdsa.PrivateKey, cookies []*http.Cookie, url string, ip netip.Addr, now time.Time) string {
	t.Helper()
	v, err := signer.NewVerifier(map[string]crypto.PublicKey{keyID: key.Public()}, signer.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Report{
		URL: url, Cookies: cookies, Now: now, KeyGroup: []string{keyID + " (ECDSA P-256)"},
		ClientIP: ip, Decision: v.Check(cookies, url, ip, now),
	}.Print(&out)
	return out.String()
}

func signedCookies(t *testing.T, key crypto.Signer, g signer.Grant) []*http.Cookie {
	t.Helper()
	s, err := signer.New(keyID, key, signer.Options{HashAlgorithm: signer.SHA256, Now: func() time.Time { return signedAt }})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	return []*http.Cookie{
		{Name: signer.CookiePolicy, Value: signed.Policy},
		{Name: signer.CookieSignature, Value: signed.Signature},
		{Name: signer.CookieKeyPairID, Value: signed.KeyPairID},
		{Name: signer.CookieHashAlgorithm, Value: string(signed.HashAlgorithm)},
	}
}

func TestReportPrint(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	expires := signedAt.Add(10 * time.Minute)
	plain := signedCookies(t, key, signer.Grant{Resource: resource, Expires: expires})
	bound := signedCookies(t, key, signer.Grant{Resource: resource, Expires: expires, NotBefore: signedAt.Add(5 * time.Minute), IPRange: netip.MustParsePrefix("192.0.2.0/24")})
	forged := signedCookies(t, other, signer.Grant{Resource: resource, Expires: expires})
	controls := []*http.Cookie{{Name: signer.CookiePolicy, Value: signer.EncodeBase64([]byte("{\x1b[31m}"))}, plain[1], plain[2]}
	ip := netip.MustParseAddr("192.0.2.7")
	at := signedAt.Add(time.Minute)
	tests := []struct {
		name    string
		cookies []*http.Cookie
		url     string
		ip      netip.Addr
		now     time.Time
		want    []string
		notWant []string
	}{
		{
			name: "accepted", cookies: plain, url: alicePNG, ip: ip, now: at,
			want: []string{
				"key group  K3ECDSATESTKEY (ECDSA P-256)\n",
				"  CloudFront-Hash-Algorithm  SHA256\n",
				"  Resource         " + resource + ": matches the URL\n",
				"  DateLessThan     2027-01-15T08:10:00Z: 9m0s from now\n",
				"  DateGreaterThan  none\n",
				"  IpAddress        none\n",
				"ACCEPTED",
			},
		},
		{
			// Resource decides: the times are not judged.
			name: "another resource, expired too", cookies: plain, url: "https://media.example.test/media/bob/a.png?v=1", ip: ip, now: signedAt.Add(time.Hour),
			want: []string{
				"URL        https://media.example.test/media/bob/a.png (query not shown)\n",
				": does not match https://media.example.test/media/bob/a.png (query not shown)\n",
				"  DateLessThan     2027-01-15T08:10:00Z: not checked, as Resource denied the request\n",
				"DENIED",
			},
			notWant: []string{"expired"},
		},
		{
			name: "not yet valid", cookies: bound, url: alicePNG, ip: ip, now: at,
			want: []string{
				"  DateGreaterThan  2027-01-15T08:05:00Z: valid only after it, 4m0s from now\n",
				"  IpAddress        192.0.2.0/24: not checked, as DateGreaterThan denied the request\n",
			},
		},
		{
			name: "no client address", cookies: bound, url: alicePNG, now: signedAt.Add(6 * time.Minute),
			want: []string{
				"client IP  none given (--client-ip)\n",
				"  DateGreaterThan  2027-01-15T08:05:00Z: valid since 1m0s\n",
				"  IpAddress        192.0.2.0/24: no --client-ip to compare\n",
				"The policy is bound to 192.0.2.0/24: give the viewer's address with --client-ip.",
			},
		},
		{
			name: "outside the range", cookies: bound, url: alicePNG, ip: netip.MustParseAddr("198.51.100.7"), now: signedAt.Add(6 * time.Minute),
			want: []string{"  IpAddress        192.0.2.0/24: does not contain 198.51.100.7\n"},
		},
		{
			// An unverified policy is shown, never interpreted.
			name: "signed with another key", cookies: forged, url: alicePNG, ip: ip, now: at,
			want: []string{
				`policy     {"Statement":[{"Resource":"` + resource + `"`,
				"  conditions not checked: CloudFront reads a policy only once its signature verifies\n",
				"signature does not verify",
			},
			notWant: []string{"matches the URL", "from now"},
		},
		{
			name: "control characters in the policy", cookies: controls, url: alicePNG, ip: ip, now: at,
			want:    []string{`policy     "{\x1b[31m}"`},
			notWant: []string{"\x1b"},
		},
		{
			name: "no signed cookies", cookies: []*http.Cookie{{Name: "session", Value: "s3cr3t-session"}}, url: alicePNG, ip: ip, now: at,
			want: []string{
				"  CloudFront-Policy          MISSING\n",
				"  other cookies              session (not part of the check)\n",
				"The browser sent no signed cookies",
			},
			notWant: []string{"s3cr3t-session"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := report(t, key, tt.cookies, tt.url, tt.ip, tt.now)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("report holds %q", w)
				}
			}
			for _, c := range tt.cookies {
				if c.Name == signer.CookieSignature && strings.Contains(out, c.Value) || c.Name == signer.CookiePolicy && strings.Contains(out, c.Value) {
					t.Errorf("report shows the %s cookie", c.Name)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", out)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		alicePNG:                    "",
		"http://localhost:8081/a":   "",
		"/media/alice/a.png":        "absolute",
		"mailto:a@example.com":      "absolute",
		"https://u:p@example.com/a": "userinfo",
		alicePNG + "#t=10":          "fragment",
		"https://exa mple.com/":     "not a URL",
	} {
		err := CheckURL(raw)
		switch {
		case want == "" && err != nil:
			t.Errorf("CheckURL(%q): %v", raw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("CheckURL(%q) = %v, want an error about %s", raw, err, want)
		}
	}
}

func TestCookieHeaders(t *testing.T) {
	t.Parallel()
	pasted := "Cookie: a=1;\n  b=2; \n\ncookie:c=3"
	if got, want := NormaliseCookieHeader(pasted), "a=1; b=2; c=3"; got != want {
		t.Errorf("NormaliseCookieHeader = %q, want %q", got, want)
	}
	if got, err := ReadCookieHeader(strings.NewReader(pasted)); err != nil || got != "a=1; b=2; c=3" {
		t.Errorf("ReadCookieHeader = %q, %v", got, err)
	}
	if _, err := ReadCookieHeader(strings.NewReader("\n \n")); err == nil || !strings.Contains(err.Error(), "no Cookie header") {
		t.Errorf("blank input: %v", err)
	}
	if _, err := ReadCookieHeader(strings.NewReader(strings.Repeat("a", MaxCookieHeader+1))); err == nil || !strings.Contains(err.Error(), "over 65536 bytes") {
		t.Errorf("oversized input: %v", err)
	}
}
