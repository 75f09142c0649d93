//go:build openssl

package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"

	"github.com/cfcookies/cfcookies/internal/opensslkey"
)

// fastKey moves an RSA or ECDSA P-256 key into libcrypto, which signs
// about 2.5 times as fast as crypto/rsa and 1.15 times as fast as
// crypto/ecdsa. Any other key is returned as it is, for signer.New to
// refuse with the reason.
//
// This build does not mix with Go's FIPS 140-3 mode (GODEBUG=fips140=on or
// only, a GOFIPS140 build): its signatures are made by libcrypto, outside
// the Go Cryptographic Module, which that mode neither covers nor
// restricts, so whether they are FIPS signatures depends on the system's
// OpenSSL and its FIPS provider. Use the default build for FIPS. (SHA-1
// stays refused under fips140=only: config and signer.New refuse it
// before a key reaches libcrypto.)
func fastKey(key crypto.Signer) (crypto.Signer, error) {
	var fast crypto.Signer
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		fast, err = opensslkey.NewRSA(k)
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return key, nil
		}
		fast, err = opensslkey.NewECDSA(k)
	default:
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return fast, nil
}

// Backend names what signs in this build, for the startup log.
func Backend() string { return "openssl (RSA and ECDSA: " + opensslkey.Version() + ")" }
