//go:build openssl

package opensslkey

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- CloudFront's default signature is RSA with SHA-1
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// readKey parses a PEM key of signer/testdata.
func readKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "signer", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.ParsePrivateKeyPEM(b, signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	return readKey(t, "keys/rsa2048-pkcs8.pem").(*rsa.PrivateKey)
}

// PKCS#1 v1.5 is deterministic: libcrypto must give crypto/rsa's bytes.
func TestMatchesCryptoRSA(t *testing.T) {
	t.Parallel()
	goKey := testKey(t)
	key, err := NewRSA(goKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		msg := []byte(fmt.Sprintf(`{"Statement":[{"Resource":"https://media.example.com/media/user%d/*"}]}`, i))
		s1, s256 := sha1.Sum(msg), sha256.Sum256(msg) // #nosec G401 -- the hash CloudFront verifies by default
		for _, tc := range []struct {
			h      crypto.Hash
			digest []byte
		}{{crypto.SHA1, s1[:]}, {crypto.SHA256, s256[:]}} {
			got, err := key.Sign(rand.Reader, tc.digest, tc.h)
			if err != nil {
				t.Fatal(err)
			}
			want, err := rsa.SignPKCS1v15(nil, goKey, tc.h, tc.digest)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%v signature of message %d differs from crypto/rsa", tc.h, i)
			}
			if err := rsa.VerifyPKCS1v15(key.Public().(*rsa.PublicKey), tc.h, tc.digest, got); err != nil {
				t.Fatalf("%v signature does not verify with the Go public key: %v", tc.h, err)
			}
		}
	}
}

// Through the signer package, SHA-1 (signed by way of the AWS sign
// module) and SHA-256: the same cookies as with the Go key.
func TestSigner(t *testing.T) {
	t.Parallel()
	goKey := testKey(t)
	key, err := NewRSA(goKey)
	if err != nil {
		t.Fatal(err)
	}
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: testNow.Add(10 * time.Minute)}
	for _, h := range []signer.HashAlgorithm{signer.SHA1, signer.SHA256} {
		got, want := signGrant(t, newSigner(t, key, h), g), signGrant(t, newSigner(t, goKey, h), g)
		if got != want {
			t.Errorf("%s: openssl %v\nwant crypto/rsa %v", h, got, want)
		}
		policy, _ := g.Policy()
		if err := signer.Verify(goKey.Public(), h, policy, got.Signature); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
}

// testNow is when the tests sign.
var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// newSigner returns a signer.Signer for key as key pair K1 at testNow; h
// empty is the key's default hash.
func newSigner(t *testing.T, key crypto.Signer, h signer.HashAlgorithm) *signer.Signer {
	t.Helper()
	s, err := signer.New("K1", key, signer.Options{HashAlgorithm: h, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signGrant(t *testing.T, s *signer.Signer, g signer.Grant) signer.Signed {
	t.Helper()
	signed, err := s.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestRefuses(t *testing.T) {
	t.Parallel()
	key, err := NewRSA(testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	if _, err := key.Sign(nil, d[:], &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil {
		t.Error("PSS accepted")
	}
	if _, err := key.Sign(nil, d[:], crypto.SHA512); err == nil {
		t.Error("SHA-512 accepted")
	}
	if _, err := key.Sign(nil, d[:20], crypto.SHA256); err == nil {
		t.Error("short digest accepted")
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	goKey := testKey(t)
	key, err := NewRSA(goKey)
	if err != nil {
		t.Fatal(err)
	}
	d := sha1.Sum([]byte("concurrent")) // #nosec G401 -- the hash CloudFront verifies by default
	want, _ := rsa.SignPKCS1v15(nil, goKey, crypto.SHA1, d[:])
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				got, err := key.Sign(nil, d[:], crypto.SHA1)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("concurrent signature wrong: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkSignRSA(b *testing.B) {
	key, err := NewRSA(testKey(b))
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, key, crypto.SHA1)
}

// benchSign measures key.Sign over the digest of a typical policy.
func benchSign(b *testing.B, key crypto.Signer, h crypto.Hash) {
	d := h.New()
	d.Write([]byte(`{"Statement":[{"Resource":"https://media.example.com/media/alice/*"}]}`))
	digest := d.Sum(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := key.Sign(nil, digest, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSigner is signer.Signer.Sign with the libcrypto key: policy,
// SHA-1 through the AWS sign module, base64; comparable to the signer
// package's BenchmarkSign/RSA-SHA1.
func BenchmarkSigner(b *testing.B) {
	key, err := NewRSA(testKey(b))
	if err != nil {
		b.Fatal(err)
	}
	benchSigner(b, key)
}

// benchSigner measures signer.Signer.Sign with key and its default hash.
func benchSigner(b *testing.B, key crypto.Signer) {
	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(g); err != nil {
			b.Fatal(err)
		}
	}
}
