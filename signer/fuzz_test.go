package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fuzz inputs are kept short: Go's fuzzer minimizes every input that finds
// new coverage, in time that grows with the square of its length, and
// while both workers minimize a long input nothing else runs. Longer
// material (a key, a signed cookie) is built inside the target from a
// short description: which fixture, and a few bytes to change in it.
const (
	maxFuzzText  = 64  // free text around fixture material
	maxFuzzPatch = 16  // bytes written over a fixture
	maxFuzzField = 128 // a free-standing field (a template, a cookie value)
)

// fuzzKeys are the PEM blocks of every key file in testdata, usable or not.
func fuzzKeys(f *testing.F) []*pem.Block {
	f.Helper()
	var blocks []*pem.Block
	for _, dir := range []string{"testdata/keys", "testdata/vectors"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
				blocks = append(blocks, block)
			}
		}
	}
	return blocks
}

// patchedPEM is block with patch written over its DER at offset at (mod its
// length), truncated where the patch would run past the end.
func patchedPEM(block *pem.Block, at uint16, patch []byte) []byte {
	der := bytes.Clone(block.Bytes)
	if len(der) > 0 {
		i := int(at) % len(der)
		copy(der[i:], patch)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Headers: block.Headers, Bytes: der})
}

// FuzzParsePrivateKeyPEM feeds the PEM parser free text followed by one of
// the key files in testdata with a few bytes of its DER changed: it must
// not panic, must refuse with a signer error that quotes none of the input,
// and anything it accepts must be a key CloudFront takes (RSA-2048 or
// P-256) that signs a policy its public key verifies.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	blocks := fuzzKeys(f)
	for i := range blocks {
		f.Add([]byte(nil), uint8(i), uint16(0), []byte(nil))
	}
	f.Add([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), uint8(1), uint16(0), []byte(nil))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), uint8(255), uint16(0), []byte(nil))
	f.Add([]byte(""), uint8(255), uint16(0), []byte(nil))
	f.Add([]byte(nil), uint8(0), uint16(9), []byte{0x82, 0x10, 0x01})

	var verified sync.Map // keys already shown to sign, by their DER
	f.Fuzz(func(t *testing.T, text []byte, key uint8, at uint16, patch []byte) {
		if len(text) > maxFuzzText || len(patch) > maxFuzzPatch {
			return
		}
		b := bytes.Clone(text)
		if i := int(key); i < len(blocks) {
			b = append(b, patchedPEM(blocks[i], at, patch)...)
		}
		parsed, err := ParsePrivateKeyPEM(b, KeyOptions{})
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
			if parsed != nil {
				t.Fatal("a key with an error")
			}
			return
		}
		switch k := parsed.Public().(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() != 2048 {
				t.Fatalf("accepted a %d-bit RSA key", k.N.BitLen())
			}
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				t.Fatalf("accepted curve %s", k.Curve.Params().Name)
			}
		default:
			t.Fatalf("accepted a %T", k)
		}
		der, err := x509.MarshalPKCS8PrivateKey(parsed)
		if err != nil {
			t.Fatal(err)
		}
		if _, done := verified.Load(string(der)); done {
			return
		}
		s, err := New("KFUZZ", parsed, Options{})
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
		if err := Verify(parsed.Public(), signed.HashAlgorithm, policy, signed.Signature); err != nil {
			t.Fatalf("accepted key signs what its public key refuses: %v", err)
		}
		verified.Store(string(der), true)
	})
}

// FuzzParsePathTemplate: a template either parses, and then expands only to
// paths CheckPathValue-clean values can make, or is refused; never a panic.
func FuzzParsePathTemplate(f *testing.F) {
	for _, s := range []string{"/media/{sub}/*", "/tenants/{tenant_id}/users/{sub}/*", "/premium/*", "/a/{x}{y}", "/{", "/}", "media", "/a?b", "/a/../b", "/{sub}/**"} {
		f.Add(s, "alice")
	}
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		if len(tmpl) > maxFuzzField || len(value) > maxFuzzText {
			return
		}
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
