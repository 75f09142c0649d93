//go:build openssl

package opensslkey

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// RSAKey is a crypto.Signer holding an RSA private key in libcrypto. It
// signs PKCS#1 v1.5 over SHA-1 or SHA-256 digests, what CloudFront
// checks, and is safe for concurrent use.
type RSAKey struct {
	pub   *rsa.PublicKey
	key   *openssl.PrivateKeyRSA
	slots slots // bounds its signatures in libcrypto at once (libcrypto.go)
}

// NewRSA copies k into libcrypto.
func NewRSA(k *rsa.PrivateKey) (*RSAKey, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if len(k.Primes) != 2 {
		return nil, errors.New("opensslkey: only two-prime RSA keys are supported")
	}
	k.Precompute()
	if k.Precomputed.Dp == nil {
		return nil, errors.New("opensslkey: RSA key has no CRT values")
	}
	b := func(x *big.Int) openssl.BigInt { return bbig.Enc(x) }
	key, err := openssl.NewPrivateKeyRSA(b(k.N), b(big.NewInt(int64(k.E))), b(k.D), b(k.Primes[0]), b(k.Primes[1]),
		b(k.Precomputed.Dp), b(k.Precomputed.Dq), b(k.Precomputed.Qinv))
	if err != nil {
		return nil, fmt.Errorf("opensslkey: load RSA key: %w", err)
	}
	pub := k.PublicKey
	return &RSAKey{pub: &pub, key: key, slots: newSlots()}, nil
}

// Public returns the *rsa.PublicKey.
func (k *RSAKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest, a SHA-1 or SHA-256 hash, with PKCS#1 v1.5 padding.
// rand is unused: libcrypto blinds with its own generator.
func (k *RSAKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("opensslkey: PSS is not supported")
	}
	h := opts.HashFunc()
	if h != crypto.SHA1 && h != crypto.SHA256 {
		return nil, fmt.Errorf("opensslkey: hash %v is not supported (SHA-1 or SHA-256)", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("opensslkey: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	return k.slots.sign(func() ([]byte, error) { return openssl.SignRSAPKCS1v15(k.key, h, digest) })
}
