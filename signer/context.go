package signer

import (
	"context"
	"crypto"
)

// A ContextSigner is a crypto.Signer that can sign with a context, as a key
// held in a remote service (AWS KMS, an HSM behind a network) does.
// [Signer.SignContext] passes its context to such a key, so a request's
// deadline or cancellation reaches the call that signs; crypto.Signer's Sign
// takes no context. SignContext has Sign's meaning otherwise: digest is the
// hash of the message and opts names the hash.
type ContextSigner interface {
	crypto.Signer
	SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error)
}
