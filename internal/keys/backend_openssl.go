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
