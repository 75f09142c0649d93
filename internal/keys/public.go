package keys

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/signer"
)

// signingKey returns the key material m holds or names: a private key
// parsed from its PEM, or a KMS key (read with GetPublicKey and checked
// with one Sign). Its errors name the source.
func (s *Store) signingKey(ctx context.Context, m material) (crypto.Signer, error) {
	if m.kmsKeyID != "" {
		return s.openKMS(ctx, m.kmsKeyID)
	}
	key, err := signer.ParsePrivateKeyPEM(m.pem, signer.KeyOptions{})
	if err != nil {
		return nil, permanent(fmt.Errorf("keys: %s: %w", s.src, err))
	}
	return key, nil
}

// ReadPublicKey reads the configured key source once and describes its
// key, as `server public-key` prints it: the public key PEM CloudFront
// takes, its fingerprint and type, the key pair id when the material names
// one, and the KMS key's ARN for a KMS key. Unlike Open it needs no key
// pair id, since CloudFront gives one only once it has the public key, and
// it waits for nothing: a source it cannot read is an error.
func ReadPublicKey(ctx context.Context, k config.Key, opts Options) (Info, error) {
	src, err := newSource(ctx, k, opts)
	if err != nil {
		return Info{}, err
	}
	if src == nil {
		return Info{}, errors.New("keys: no key source is configured: set CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_PRIVATE_KEY_FILE, CLOUDFRONT_PRIVATE_KEY_SECRET or CLOUDFRONT_KMS_KEY_ID")
	}
	s := &Store{src: src, kms: opts.KMS, log: opts.Logger}
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	raw, err := src.read(rctx)
	if err != nil {
		return Info{}, err
	}
	m, err := decodeSource(src, raw)
	if err != nil {
		return Info{}, fmt.Errorf("keys: %s: %w", src, err)
	}
	key, err := s.signingKey(rctx, m)
	if err != nil {
		return Info{}, err
	}
	info := Info{Source: src.kind(), KeyPairID: m.keyPairID, KeyType: KeyType(key.Public())}
	if kk, ok := key.(*kmsKey); ok {
		info.KMSKeyARN = kk.key.KeyID()
	}
	pub, err := signer.PublicKeyPEM(key)
	if err != nil {
		return Info{}, fmt.Errorf("keys: %s: %w", src, err)
	}
	info.PublicKeyPEM = string(pub)
	if info.Fingerprint, err = Fingerprint(key.Public()); err != nil {
		return Info{}, err
	}
	return info, nil
}
