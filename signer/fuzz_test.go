package signer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParsePrivateKeyPEM feeds arbitrary bytes, seeded with every key file
// in testdata, to the PEM parser: it must not panic, must refuse with a
// signer error that quotes none of the input, and anything it accepts must
// be a key CloudFront takes (RSA-2048 or P-256) that signs a policy its
// public key verifies.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	for _, dir := range []string{"testdata/keys", "testdata/vectors"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := ParsePrivateKeyPEM(b, KeyOptions{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "signer: ") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				// Key material is base64: a run of it in the error is a quote.
				if line = strings.TrimSpace(line); len(line) >= 16 && isBase64Line(line) && strings.Contains(err.Error(), line) {
					t.Fatalf("error quotes the input: %q", err)
				}
			}
			if key != nil {
				t.Fatal("a key with an error")
			}
			return
		}
		hash := SHA1
		switch k := key.Public().(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() != 2048 {
				t.Fatalf("accepted a %d-bit RSA key", k.N.BitLen())
			}
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				t.Fatalf("accepted curve %s", k.Curve.Params().Name)
			}
			hash = SHA256
		default:
			t.Fatalf("accepted a %T", k)
		}
		s, err := New("KFUZZ", key, Options{HashAlgorithm: hash})
		if err != nil {
			t.Fatal(err)
		}
		signed, err := s.Sign(Grant{Resource: "https://m.example.com/*", Expires: time.Now().Add(time.Hour)})
		if err != nil {
			// A parsed key whose values do not hold together (a crafted
			// PKCS#1 key passes parsing but fails its own check).
			if strings.Contains(err.Error(), "signer:") {
				return
			}
			t.Fatal(err)
		}
		policy, err := DecodeBase64(signed.Policy)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(key.Public(), hash, policy, signed.Signature); err != nil {
			t.Fatalf("accepted key signs what its public key refuses: %v", err)
		}
	})
}

// FuzzParsePathTemplate: a template either parses, and then expands only to
// paths CheckPathValue-clean values can make, or is refused; never a panic.
func FuzzParsePathTemplate(f *testing.F) {
	for _, s := range []string{"/media/{sub}/*", "/tenants/{tenant_id}/users/{sub}/*", "/premium/*", "/a/{x}{y}", "/{", "/}", "media", "/a?b", "/a/../b", "/{sub}/**"} {
		f.Add(s, "alice")
	}
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		p, err := ParsePathTemplate(tmpl)
		if err != nil {
			return
		}
		path, err := p.Expand(func(string) (string, bool) { return value, true })
		if err != nil {
			return
		}
		if !strings.HasPrefix(path, "/") {
			t.Fatalf("expanded to %q, not an absolute path", path)
		}
		// Every * or ? in the result was written by the template's author.
		if strings.Count(path, "*")+strings.Count(path, "?") > strings.Count(tmpl, "*")+strings.Count(tmpl, "?") {
			t.Fatalf("value %q brought a wildcard into %q", value, path)
		}
	})
}

func isBase64Line(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}
