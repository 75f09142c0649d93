//go:build openssl

package keys

import (
	"crypto"
	"crypto/rsa"
	"fmt"

	"github.com/cfcookies/cfcookies/internal/opensslkey"
)

// fastKey moves an RSA key into libcrypto, which signs about 2.5 times
// faster than crypto/rsa; ECDSA keys stay with Go's crypto/ecdsa.
func fastKey(key crypto.Signer) (crypto.Signer, error) {
	k, ok := key.(*rsa.PrivateKey)
	if !ok {
		return key, nil
	}
	fast, err := opensslkey.NewRSA(k)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return fast, nil
}

// Backend names what signs in this build, for the startup log.
func Backend() string { return "openssl (RSA: " + opensslkey.Version() + "; ECDSA: go)" }
