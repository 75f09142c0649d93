//go:build !openssl

package keys

import "crypto"

// fastKey returns key unchanged: this build signs with Go's crypto. The
// openssl build tag swaps RSA and ECDSA P-256 keys for libcrypto ones
// (backend_openssl.go).
func fastKey(key crypto.Signer) (crypto.Signer, error) { return key, nil }

// Backend names what signs in this build, for the startup log.
func Backend() string { return "go" }
