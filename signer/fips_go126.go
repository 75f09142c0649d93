//go:build go1.26

package signer

import "crypto/fips140"

// fips140Only reports whether Go's FIPS 140-3 mode is enforced
// (GODEBUG=fips140=only, outside fips140.WithoutEnforcement): then
// crypto/sha1 refuses to hash, and panics in sha1.Sum.
func fips140Only() bool { return fips140.Enforced() }
