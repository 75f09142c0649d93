//go:build openssl

package opensslkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// ECDSAKey is a crypto.Signer holding an ECDSA P-256 private key in
// libcrypto. It signs SHA-256 digests, what CloudFront checks for ECDSA,
// and is safe for concurrent use.
type ECDSAKey struct {
	pub   *ecdsa.PublicKey
	key   *openssl.PrivateKeyECDSA
	slots slots // bounds its signatures in libcrypto at once (libcrypto.go)
}

// NewECDSA copies k, a P-256 key, into libcrypto, and checks that a
// signature made there verifies with k's public key.
func NewECDSA(k *ecdsa.PrivateKey) (*ECDSAKey, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if k.Curve != elliptic.P256() {
		name := "no curve"
		if k.Curve != nil {
			name = k.Curve.Params().Name
		}
		return nil, fmt.Errorf("opensslkey: only ECDSA P-256 keys are supported, found %s", name)
	}
	d, err := k.Bytes()
	if err != nil {
		return nil, fmt.Errorf("opensslkey: ECDSA key: %w", err)
	}
	defer clear(d)
	q, err := k.PublicKey.Bytes() // 0x04, X, Y: 65 bytes on P-256
	if err != nil {
		return nil, fmt.Errorf("opensslkey: ECDSA public key: %w", err)
	}
	x, y, dd := new(big.Int).SetBytes(q[1:33]), new(big.Int).SetBytes(q[33:]), new(big.Int).SetBytes(d)
	defer clear(dd.Bits())
	key, err := openssl.NewPrivateKeyECDSA("P-256", bbig.Enc(x), bbig.Enc(y), bbig.Enc(dd))
	if err != nil {
		return nil, fmt.Errorf("opensslkey: load ECDSA key: %w", err)
	}
	pub := k.PublicKey
	fast := &ECDSAKey{pub: &pub, key: key, slots: newSlots()}
	// A key libcrypto took apart differently would sign cookies CloudFront
	// refuses: fail here, once, instead.
	check := sha256.Sum256([]byte("opensslkey: pairwise consistency"))
	sig, err := fast.Sign(nil, check[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	if !ecdsa.VerifyASN1(&pub, check[:], sig) {
		return nil, errors.New("opensslkey: libcrypto's ECDSA signature does not verify with the Go public key")
	}
	return fast, nil
}

// Public returns the *ecdsa.PublicKey.
func (k *ECDSAKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest, a SHA-256 hash, and returns the ASN.1 DER signature
// that crypto/ecdsa's SignASN1 would. rand is unused: libcrypto draws the
// nonce from its own generator, so every signature differs.
func (k *ECDSAKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var h crypto.Hash
	if opts != nil {
		h = opts.HashFunc()
	}
	if h != crypto.SHA256 {
		return nil, fmt.Errorf("opensslkey: hash %v is not supported for ECDSA (SHA-256 only)", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("opensslkey: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	return k.slots.sign(func() ([]byte, error) { return openssl.SignMarshalECDSA(k.key, digest) })
}
