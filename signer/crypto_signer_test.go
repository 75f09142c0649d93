package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// hsmKey stands for a key held in an HSM or KMS: a crypto.Signer that is
// not an *rsa.PrivateKey or *ecdsa.PrivateKey, whose private half the
// library cannot reach. It records the hash it was asked to sign with.
type hsmKey struct {
	inner crypto.Signer
	calls atomic.Int32
	hash  atomic.Value // crypto.Hash of the last call
	fail  error        // returned by Sign when set, like an unreachable HSM
}

func (k *hsmKey) Public() crypto.PublicKey { return k.inner.Public() }

func (k *hsmKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.calls.Add(1)
	k.hash.Store(opts.HashFunc())
	if k.fail != nil {
		return nil, k.fail
	}
	return k.inner.Sign(r, digest, opts)
}

func TestNewAcceptsAnyCryptoSigner(t *testing.T) {
	t.Parallel()
	rsaKey, err := ParsePrivateKeyPEM(readKeyFile(t, "keys/rsa2048-pkcs1.pem"), KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ParsePrivateKeyPEM(readKeyFile(t, "vectors/test-ecdsa-key.pem"), KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plain := Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires}
	withIP := Grant{Resource: "https://media.example.com/media/alice/*", Expires: testExpires, IPRange: netip.MustParsePrefix("192.0.2.1/32")}
	tests := []struct {
		name     string
		key      crypto.Signer
		hash     HashAlgorithm
		grant    Grant
		wantHash crypto.Hash
	}{
		// The zero Options: SHA256 for RSA as for ECDSA.
		{"RSA default", rsaKey, "", plain, crypto.SHA256},
		// Through the AWS module's canned-policy shortcut.
		{"RSA SHA1 resource and expiry", rsaKey, SHA1, plain, crypto.SHA1},
		// Signed by this package.
		{"RSA SHA1 with IP", rsaKey, SHA1, withIP, crypto.SHA1},
		{"RSA SHA256", rsaKey, SHA256, plain, crypto.SHA256},
		{"ECDSA P-256", ecKey, "", plain, crypto.SHA256},
		{"ECDSA P-256 with IP", ecKey, SHA256, withIP, crypto.SHA256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.hash == SHA1 {
				skipSHA1InFIPS(t)
			}
			hsm := &hsmKey{inner: tt.key}
			s, err := New("K2JCJMDEHXQW5F", hsm, Options{HashAlgorithm: tt.hash, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			signed, err := s.Sign(tt.grant)
			if err != nil {
				t.Fatal(err)
			}
			if n := hsm.calls.Load(); n != 1 {
				t.Fatalf("the wrapped signer was called %d times, want 1", n)
			}
			if got := hsm.hash.Load(); got != tt.wantHash {
				t.Errorf("signed with %v, want %v", got, tt.wantHash)
			}
			policy, _ := tt.grant.Policy()
			if err := Verify(tt.key.Public(), signed.HashAlgorithm, policy, signed.Signature); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Cookies(tt.grant, CookieOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("HSM failure", func(t *testing.T) {
		t.Parallel()
		for _, key := range []crypto.Signer{rsaKey, ecKey} {
			s, err := New("K1", &hsmKey{inner: key, fail: errors.New("hsm: session closed")}, Options{Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Sign(plain); err == nil || !strings.Contains(err.Error(), "hsm: session closed") {
				t.Errorf("%T: err = %v, want the HSM's error", key, err)
			}
		}
	})
}

func TestNewRefusesCryptoSignerOfOtherKinds(t *testing.T) {
	t.Parallel()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := ParsePrivateKeyPEM(readKeyFile(t, "vectors/test-rsa-key.pem"), KeyOptions{AllowAnyRSASize: true})
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ParsePrivateKeyPEM(readKeyFile(t, "vectors/test-ecdsa-key.pem"), KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     crypto.Signer
		opts    Options
		wantErr error
		errHas  string
	}{
		{"P-384", p384, Options{}, ErrUnsupportedKey, "P-384"},
		{"Ed25519", ed, Options{}, ErrUnsupportedKey, "ed25519"},
		{"RSA 1024", weak, Options{}, ErrRSAKeySize, "1024"},
		{"ECDSA with SHA1", p256, Options{HashAlgorithm: SHA1}, nil, "SHA1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hsm := &hsmKey{inner: tt.key}
			_, err := New("K1", hsm, tt.opts)
			if err == nil {
				t.Fatal("New accepted it")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("err = %v, want it to mention %q", err, tt.errHas)
			}
			if hsm.calls.Load() != 0 {
				t.Error("New signed with a key it refuses")
			}
		})
	}
}
