//go:build !go1.26

package signer

import "crypto/sha1" // #nosec G505 -- hashes nothing: asks whether SHA-1 is refused

// fips140Only reports whether Go's FIPS 140-3 mode is enforced
// (GODEBUG=fips140=only). Go 1.25 has no crypto/fips140.Enforced (Go 1.26
// adds it, see fips_go126.go), so it asks crypto/sha1 directly: a SHA-1
// hash refuses a Write, even of nothing, in that mode.
func fips140Only() bool {
	_, err := sha1.New().Write(nil) // #nosec G401 -- hashes nothing
	return err != nil
}
