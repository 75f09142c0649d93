// Package integration holds tests that join the repository's modules: the
// signer library with the kmssigner module and a real KMS (local-kms, run
// by kmssigner/kmstest). They live in the server's module because the
// library modules do not require each other. It has no code of its own.
package integration
