// Package keys loads the CloudFront private key from where operators keep
// it and hands the current signer to the handlers.
package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/signer"
)

// ErrNoKey is returned by Store.Sign while no usable key is loaded.
var ErrNoKey = errors.New("keys: no signing key loaded")

// Store holds the current signer. Swapping it is atomic: a request that
// already took the old signer finishes with it. Safe for concurrent use.
type Store struct {
	current atomic.Pointer[signer.Signer]
}

// Sign signs g with the current key.
func (s *Store) Sign(g signer.Grant) (signer.Signed, error) {
	sg := s.current.Load()
	if sg == nil {
		return signer.Signed{}, ErrNoKey
	}
	return sg.Sign(g)
}

// Ready reports whether a usable key has been loaded.
func (s *Store) Ready() bool { return s.current.Load() != nil }

// Signer returns the current signer, or nil.
func (s *Store) Signer() *signer.Signer { return s.current.Load() }

// Set makes sg the signer for new requests.
func (s *Store) Set(sg *signer.Signer) { s.current.Store(sg) }

// Info describes a loaded key for the startup log: nothing in it is secret.
type Info struct {
	Source        string // env, file, secret or ephemeral
	KeyPairID     string
	HashAlgorithm signer.HashAlgorithm
	PublicKeyPEM  string
	Fingerprint   string // hex SHA-256 of the public key's DER (SubjectPublicKeyInfo)
}

// Load reads the configured key, or makes an ephemeral RSA-2048 key when
// none is configured (only possible with --dev), and returns a Store holding
// its signer.
func Load(cf config.CloudFront, k config.Key) (*Store, Info, error) {
	key, err := loadKey(k)
	if err != nil {
		return nil, Info{}, err
	}
	hash, err := signer.ParseHashAlgorithm(cf.HashAlgorithm)
	if err != nil {
		return nil, Info{}, fmt.Errorf("keys: CLOUDFRONT_HASH_ALGORITHM: %w", err)
	}
	sg, err := signer.New(cf.KeyPairID, key, signer.Options{HashAlgorithm: hash})
	if err != nil {
		return nil, Info{}, fmt.Errorf("keys: %s key: %w", k.Source(), err)
	}
	info, err := describe(k.Source(), sg, key)
	if err != nil {
		return nil, Info{}, err
	}
	s := &Store{}
	s.Set(sg)
	return s, info, nil
}

func loadKey(k config.Key) (crypto.Signer, error) {
	switch {
	case k.SecretID != "":
		return nil, errors.New("keys: CLOUDFRONT_PRIVATE_KEY_SECRET: Secrets Manager is not supported by this version yet; use CLOUDFRONT_PRIVATE_KEY or CLOUDFRONT_PRIVATE_KEY_FILE")
	case k.File != "":
		b, err := os.ReadFile(k.File)
		if err != nil {
			return nil, fmt.Errorf("keys: CLOUDFRONT_PRIVATE_KEY_FILE: %w", err)
		}
		key, err := signer.ParsePrivateKeyPEM(b, signer.KeyOptions{})
		if err != nil {
			return nil, fmt.Errorf("keys: CLOUDFRONT_PRIVATE_KEY_FILE %s: %w", k.File, err)
		}
		return key, nil
	case k.PEM != "":
		key, err := signer.ParsePrivateKeyPEM([]byte(k.PEM.Reveal()), signer.KeyOptions{})
		if err != nil {
			return nil, fmt.Errorf("keys: CLOUDFRONT_PRIVATE_KEY: %w", err)
		}
		return key, nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("keys: generate ephemeral key: %w", err)
	}
	return key, nil
}

func describe(source string, sg *signer.Signer, key crypto.Signer) (Info, error) {
	pub, err := signer.PublicKeyPEM(key)
	if err != nil {
		return Info{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return Info{}, fmt.Errorf("keys: %w", err)
	}
	sum := sha256.Sum256(der)
	return Info{
		Source:        source,
		KeyPairID:     sg.KeyPairID(),
		HashAlgorithm: sg.HashAlgorithm(),
		PublicKeyPEM:  string(pub),
		Fingerprint:   hex.EncodeToString(sum[:]),
	}, nil
}
