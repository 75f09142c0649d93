package signer

import (
	"crypto/rsa"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

var (
	testExpires = time.Unix(1767290400, 0)
	testNow     = time.Unix(1767290400-600, 0)
)

func TestGrantPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		grant   Grant
		want    string // policy JSON, when valid
		wantErr string // substring, when invalid
	}{
		{
			name:  "resource and expiry",
			grant: Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires},
			want:  `{"Statement":[{"Resource":"https://media.example.com/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`,
		},
		{
			name: "every condition, in CloudFront's documented order",
			grant: Grant{Resource: "https://media.example.com/v/*", Expires: testExpires,
				NotBefore: testExpires.Add(-time.Hour), IPRange: netip.MustParsePrefix("192.0.2.7/32")},
			want: `{"Statement":[{"Resource":"https://media.example.com/v/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400},"DateGreaterThan":{"AWS:EpochTime":1767286800},"IpAddress":{"AWS:SourceIp":"192.0.2.7/32"}}}]}`,
		},
		{
			name:  "sub-second expiry is truncated to whole seconds",
			grant: Grant{Resource: "https://m.example.com/a", Expires: testExpires.Add(999 * time.Millisecond)},
			want:  `{"Statement":[{"Resource":"https://m.example.com/a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`,
		},
		{
			name:  "unmasked range is written as its network",
			grant: Grant{Resource: "https://m.example.com/a", Expires: testExpires, IPRange: netip.MustParsePrefix("10.1.2.3/8")},
			want:  `{"Statement":[{"Resource":"https://m.example.com/a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400},"IpAddress":{"AWS:SourceIp":"10.0.0.0/8"}}}]}`,
		},
		{
			name:  "html characters are not escaped",
			grant: Grant{Resource: "https://m.example.com/a&b<c>", Expires: testExpires},
			want:  `{"Statement":[{"Resource":"https://m.example.com/a&b<c>","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`,
		},
		{name: "no expiry", grant: Grant{Resource: "https://m.example.com/a"}, wantErr: "expiration (DateLessThan) is required"},
		{name: "start equals expiry", grant: Grant{Resource: "https://m.example.com/a", Expires: testExpires, NotBefore: testExpires}, wantErr: "active date"},
		{name: "start after expiry", grant: Grant{Resource: "https://m.example.com/a", Expires: testExpires, NotBefore: testExpires.Add(time.Second)}, wantErr: "must be before the expiration"},
		{name: "ipv6 range", grant: Grant{Resource: "https://m.example.com/a", Expires: testExpires, IPRange: netip.MustParsePrefix("2001:db8::/32")}, wantErr: "not IPv4"},
		{name: "ipv4-mapped ipv6", grant: Grant{Resource: "https://m.example.com/a", Expires: testExpires, IPRange: netip.MustParsePrefix("::ffff:192.0.2.1/128")}, wantErr: "not IPv4"},
		{name: "empty resource", grant: Grant{Expires: testExpires}, wantErr: "resource is empty"},
		{name: "non-ASCII resource", grant: Grant{Resource: "https://m.example.com/é", Expires: testExpires}, wantErr: "non-ASCII"},
		{name: "space", grant: Grant{Resource: "https://m.example.com/a b", Expires: testExpires}, wantErr: "space"},
		{name: "quote", grant: Grant{Resource: `https://m.example.com/a","Resource":"*`, Expires: testExpires}, wantErr: `'"'`},
		{name: "backslash", grant: Grant{Resource: `https://m.example.com/a\u0022`, Expires: testExpires}, wantErr: `'\\'`},
		{name: "newline", grant: Grant{Resource: "https://m.example.com/a\n", Expires: testExpires}, wantErr: "control"},
		{name: "fragment", grant: Grant{Resource: "https://m.example.com/a#x", Expires: testExpires}, wantErr: "fragment"},
		{name: "no scheme", grant: Grant{Resource: "m.example.com/a", Expires: testExpires}, wantErr: "must start with"},
		{name: "ftp scheme", grant: Grant{Resource: "ftp://m.example.com/a", Expires: testExpires}, wantErr: "must start with"},
		{name: "no host", grant: Grant{Resource: "https:///a", Expires: testExpires}, wantErr: "no host"},
		{name: "huge resource", grant: Grant{Resource: "https://m.example.com/" + strings.Repeat("a", 3000), Expires: testExpires}, wantErr: "over 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.grant.Policy()
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidGrant) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidGrant mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("policy\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseIPRange(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"192.0.2.7": "192.0.2.7/32", "10.0.0.0/8": "10.0.0.0/8", "10.9.9.9/8": "10.0.0.0/8"} {
		got, err := ParseIPRange(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseIPRange(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "::1", "2001:db8::/32", "10.0.0.0/33", "10.0.0.0/8\",\"x", "host"} {
		if got, err := ParseIPRange(in); !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("ParseIPRange(%q) = %v, %v; want ErrInvalidGrant", in, got, err)
		}
	}
}

// TestSignModuleAgrees proves the shortcut in signPolicy: for a resource and
// an expiry the AWS module writes exactly our policy bytes, so its signature
// is a signature of them; with more conditions it writes them in another
// order, which is why those are signed here.
func TestSignModuleAgrees(t *testing.T) {
	t.Parallel()
	skipSHA1InFIPS(t) // the AWS module signs with SHA-1 only
	key, err := ParsePrivateKeyPEM(readKeyFile(t, "keys/rsa2048-pkcs8.pem"), KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New("KTEST", key, Options{HashAlgorithm: SHA1, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []Grant{
		{Resource: "https://media.example.com/media/alice/*", Expires: testExpires},
		{Resource: "https://media.example.com/a?b=c&d=<e>", Expires: testExpires},
	} {
		policy, err := g.Policy()
		if err != nil {
			t.Fatal(err)
		}
		signed, err := s.Sign(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(key.Public(), SHA1, policy, signed.Signature); err != nil {
			t.Fatalf("%s: module signature does not verify over our policy bytes: %v", g.Resource, err)
		}
		cookies, err := sign.NewCookieSigner("KTEST", key.(*rsa.PrivateKey)).Sign(g.Resource, g.Expires)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cookies {
			if c.Name == CookiePolicy && c.Value != signed.Policy {
				t.Errorf("module policy %s, ours %s", c.Value, signed.Policy)
			}
			if c.Name == CookieSignature && c.Value != signed.Signature {
				t.Errorf("module signature differs from ours")
			}
		}
	}
	withIP := Grant{Resource: "https://m.example.com/*", Expires: testExpires, IPRange: netip.MustParsePrefix("10.0.0.0/8")}
	ours, _ := withIP.Policy()
	p := sign.NewCannedPolicy(withIP.Resource, withIP.Expires)
	p.Statements[0].Condition.IPAddress = &sign.IPAddress{SourceIP: "10.0.0.0/8"}
	_, theirs, err := p.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	if string(theirs) == EncodeBase64(ours) {
		t.Fatal("the module now orders conditions like the vectors: signPolicy can use it for every RSA/SHA-1 policy")
	}
}

func TestBase64RoundTrip(t *testing.T) {
	t.Parallel()
	in := []byte{0xfb, 0xff, 0xfe, 0x3e, 0x3f, 0x00}
	enc := EncodeBase64(in)
	if strings.ContainsAny(enc, "+/=") {
		t.Fatalf("%q has standard base64 characters", enc)
	}
	if enc != "-~~-Pj8A" {
		t.Fatalf("EncodeBase64 = %q", enc)
	}
	dec, err := DecodeBase64(enc)
	if err != nil || string(dec) != string(in) {
		t.Fatalf("DecodeBase64 = %x, %v", dec, err)
	}
	if _, err := DecodeBase64("not base64!"); err == nil {
		t.Fatal("DecodeBase64 accepted garbage")
	}
}
