// Package opensslkey signs RSA with the system's libcrypto (OpenSSL 1.1 or
// 3) instead of Go's crypto/rsa: on this project's reference machine
// about 2.5 times the signatures per second on one core (see the README's
// Performance section). It exists only in binaries built with the openssl
// build tag, which needs cgo at build time and libcrypto at run time
// (loaded with dlopen: no OpenSSL headers are needed to build). The
// default build is pure Go and compiles none of it.
//
// The binding is github.com/golang-fips/openssl/v2. PKCS#1 v1.5 is
// deterministic, so its signatures are byte for byte those of
// crypto/rsa.
package opensslkey
