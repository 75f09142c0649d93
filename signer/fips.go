package signer

import "errors"

// ErrNotFIPSApproved is wrapped by the errors of New, Sign and Verify for
// SHA1 when the program runs in Go's FIPS 140-3 mode with enforcement
// (GODEBUG=fips140=only), where crypto/sha1 refuses to hash: SHA-1 is not
// an approved algorithm for signatures. CloudFront accepts SHA256 (the
// default) from RSA and ECDSA keys alike.
var ErrNotFIPSApproved = errors.New("signer: SHA-1 is not FIPS 140-3 approved and GODEBUG=fips140=only refuses it; use SHA256")
