// Package opensslkey signs RSA and ECDSA P-256 with the system's libcrypto
// (OpenSSL 1.1 or 3) instead of Go's crypto/rsa and crypto/ecdsa: on this
// project's reference machine about 2.5 times the RSA signatures per
// second on one core, and about 1.15 times the ECDSA ones with a fifth of
// the allocations (see docs/performance.md). It exists only
// in binaries built with the openssl build tag, which needs cgo at build
// time and libcrypto at run time (loaded with dlopen: no OpenSSL headers
// are needed to build). The default build is pure Go and compiles none of
// it.
//
// It is not for Go's FIPS 140-3 mode (GODEBUG=fips140, GOFIPS140): its
// signatures are libcrypto's, outside the Go Cryptographic Module that
// mode validates and restricts.
//
// The binding is github.com/golang-fips/openssl/v2. PKCS#1 v1.5 is
// deterministic, so its signatures are byte for byte those of
// crypto/rsa. ECDSA signatures take a random nonce from libcrypto's
// generator, so no two are alike, as with crypto/ecdsa; they are ASN.1
// DER, the encoding of ecdsa.SignASN1, and verify with ecdsa.VerifyASN1.
package opensslkey
