//go:build openssl

package opensslkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/edge"
	"github.com/cfcookies/cfcookies/signer"
)

// testECDSA returns the P-256 test key and its copy in libcrypto.
func testECDSA(t testing.TB) (*ecdsa.PrivateKey, *ECDSAKey) {
	t.Helper()
	goKey := readKey(t, "vectors/test-ecdsa-key-sec1.pem").(*ecdsa.PrivateKey)
	key, err := NewECDSA(goKey)
	if err != nil {
		t.Fatal(err)
	}
	return goKey, key
}

// ECDSA nonces are random: every signature of one policy differs, and
// every one verifies with the Go public key.
func TestECDSAVerifies(t *testing.T) {
	t.Parallel()
	goKey, key := testECDSA(t)
	if !goKey.PublicKey.Equal(key.Public()) {
		t.Fatal("Public() is not the Go key's public key")
	}
	exp := testNow.Add(10 * time.Minute)
	seen := make(map[string]bool)
	for i := range 200 {
		// 101 signatures of one policy, then 99 of distinct ones.
		g := signer.Grant{Resource: fmt.Sprintf("https://media.example.com/media/user%d/*", max(0, i-100)), Expires: exp}
		policy, err := g.Policy()
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256(policy)
		sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(&goKey.PublicKey, digest[:], sig) { // strict DER
			t.Fatalf("signature %d does not verify with ecdsa.VerifyASN1", i)
		}
		if err := signer.Verify(goKey.Public(), signer.SHA256, policy, signer.EncodeBase64(sig)); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if seen[string(sig)] {
			t.Fatalf("signature %d repeats an earlier one", i)
		}
		seen[string(sig)] = true
	}
}

// Through signer.New, cookies the CloudFront verifier of internal/edge
// accepts, and the same cookies but for the signature as with the Go key.
func TestECDSASigner(t *testing.T) {
	t.Parallel()
	goKey, key := testECDSA(t)
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: testNow.Add(10 * time.Minute)}
	fast := newSigner(t, key, "")
	got, want := signGrant(t, fast, g), signGrant(t, newSigner(t, goKey, ""), g)
	if got.HashAlgorithm != signer.SHA256 || got.Policy != want.Policy || got.KeyPairID != want.KeyPairID || !got.Expires.Equal(want.Expires) {
		t.Errorf("openssl %v\nwant crypto/ecdsa %v", got, want)
	}
	policy, _ := g.Policy()
	if err := signer.Verify(goKey.Public(), got.HashAlgorithm, policy, got.Signature); err != nil {
		t.Error(err)
	}

	v, err := edge.NewVerifier(map[string]crypto.PublicKey{"K1": goKey.Public()}, edge.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cookies, err := fast.Cookies(g, signer.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://media.example.com/media/alice/hls/index.m3u8", nil)
	for _, c := range cookies {
		if c.MaxAge >= 0 { // what a browser sends back
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if d := v.Check(r, testNow.Add(time.Minute)); !d.Allowed {
		t.Errorf("edge verifier refused the cookies: %s", d.Message())
	}
	other := httptest.NewRequest(http.MethodGet, "https://media.example.com/media/bob/a.ts", nil)
	for _, c := range r.Cookies() {
		other.AddCookie(c)
	}
	if d := v.Check(other, testNow.Add(time.Minute)); d.Allowed {
		t.Error("edge verifier allowed another user's media")
	}
}

func TestECDSARefuses(t *testing.T) {
	t.Parallel()
	goKey, key := testECDSA(t)
	d := sha256.Sum256([]byte("x"))
	long := make([]byte, 48)
	for _, tc := range []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
		errHas string
	}{
		{"nil digest", nil, crypto.SHA256, "digest is 0 bytes"},
		{"short digest", d[:20], crypto.SHA256, "digest is 20 bytes"},
		{"long digest", append(d[:], 0), crypto.SHA256, "digest is 33 bytes"},
		{"SHA-1", d[:20], crypto.SHA1, "SHA-256 only"},
		{"SHA-384", long, crypto.SHA384, "SHA-256 only"},
		{"no options", d[:], nil, "SHA-256 only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sig, err := key.Sign(nil, tc.digest, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("Sign = %x, %v; want an error with %q", sig, err, tc.errHas)
			}
		})
	}

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := NewECDSA(p384); err == nil || !strings.Contains(err.Error(), "P-384") {
		t.Errorf("NewECDSA(P-384) = %T, %v; want an error naming P-384", k, err)
	}

	// A private scalar with another key's public point: every cookie
	// would be refused, so the key is.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := goKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	mismatched, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		t.Fatal(err)
	}
	mismatched.PublicKey = other.PublicKey
	if k, err := NewECDSA(mismatched); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("NewECDSA(mismatched pair) = %T, %v; want a failed consistency check", k, err)
	}
}

func TestECDSAConcurrent(t *testing.T) {
	t.Parallel()
	goKey, key := testECDSA(t)
	policy := []byte(`{"Statement":[{"Resource":"https://media.example.com/media/alice/*"}]}`)
	d := sha256.Sum256(policy)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				sig, err := key.Sign(nil, d[:], crypto.SHA256)
				if err != nil || !ecdsa.VerifyASN1(&goKey.PublicKey, d[:], sig) {
					t.Errorf("concurrent signature wrong: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkSignECDSA(b *testing.B) {
	_, key := testECDSA(b)
	benchSign(b, key, crypto.SHA256)
}

// BenchmarkSignerECDSA is signer.Signer.Sign with the libcrypto P-256
// key; comparable to the signer package's BenchmarkSign/ECDSA-P256.
func BenchmarkSignerECDSA(b *testing.B) {
	_, key := testECDSA(b)
	benchSigner(b, key)
}
