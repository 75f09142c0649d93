// Package keys loads the CloudFront private key from where operators keep
// it (inline PEM, a file, AWS Secrets Manager), or a KMS key that keeps it
// (CLOUDFRONT_KMS_KEY_ID, or named by the file or secret), reads the file
// and the secret again as they change, and hands the current signer to
// the handlers.
//
// A key that cannot be used never replaces a good one, and a failed refresh
// keeps the key in use. A new key pair id and key take effect together, for
// requests that start after the swap; a request already signing finishes
// with the key it took.
package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/signer"
)

// ErrNoKey is returned by Store.Sign while no usable key is loaded.
var ErrNoKey = errors.New("keys: no signing key loaded")

// Before the first key loads, Run retries from firstRetry, doubling up to
// maxFirstRetry (or the refresh interval, when shorter).
const (
	firstRetry    = time.Second
	maxFirstRetry = 30 * time.Second
)

// readTimeout bounds one read of a source, the SDK's retries included.
const readTimeout = 30 * time.Second

// Info describes a loaded key: nothing in it is secret.
type Info struct {
	Source        string // env, file, secret, kms or ephemeral
	KeyPairID     string
	KMSKeyARN     string // the KMS key that signs, as KMS names it; "" for a key held in memory
	HashAlgorithm signer.HashAlgorithm
	KeyType       string    // "RSA 2048" or "ECDSA P-256"
	PublicKeyPEM  string    // PKIX "PUBLIC KEY" PEM, as CloudFront takes it
	Fingerprint   string    // hex SHA-256 of the public key's DER (SubjectPublicKeyInfo)
	LoadedAt      time.Time // when new requests started signing with this key
}

// Status is what health checks and metrics need to know about the key:
// nothing in it is secret.
type Status struct {
	Source string // env, file, secret, kms or ephemeral: where keys come from
	Ready  bool   // a usable key has been loaded
	Key    Info   // the key new requests sign with; zero until Ready
	// Rotations counts the keys that replaced another since startup.
	Rotations int
	// LastAttempt is when the source was last read (at startup or on
	// refresh); LastSuccess when a read last gave a usable key, new or
	// unchanged. An inline key is read at startup only; an ephemeral key
	// is never read, and both stay zero.
	LastAttempt time.Time
	LastSuccess time.Time
	// LastError is the error of the last attempt, nil when it succeeded.
	// It names the source and never holds key material.
	LastError error
	// ConsecutiveFailures counts the failed attempts since the last success.
	ConsecutiveFailures int
}

// Options are the Store's optional dependencies.
type Options struct {
	// Logger receives a line for each key loaded or rotated and each failed
	// refresh. The zero Logger writes nothing.
	Logger zerolog.Logger
	// Secrets reads CLOUDFRONT_PRIVATE_KEY_SECRET. Nil means a client from
	// NewSecretsClient (the AWS SDK's default configuration).
	Secrets SecretsClient
	// KMS signs with a KMS key, CLOUDFRONT_KMS_KEY_ID or one a secret or
	// file names. Nil means a client from NewKMSClient, made when first
	// needed.
	KMS KMSClient
	// Now is the clock of Info and Status times. Nil means time.Now.
	Now func() time.Time
}

// Store holds the current signer. It is safe for concurrent use.
type Store struct {
	current atomic.Pointer[loaded]

	src       source // nil for an ephemeral key
	keyPairID string // CLOUDFRONT_KEY_PAIR_ID, used when the material names none
	hash      signer.HashAlgorithm
	interval  time.Duration // 0: never read again
	log       zerolog.Logger
	now       func() time.Time
	retry     time.Duration // first retry delay before a key has loaded

	refreshMu sync.Mutex // one read of the source at a time
	digest    [32]byte   // SHA-256 of the material of the current key; guarded by refreshMu
	kms       KMSClient  // nil until a KMS key is first read; guarded by refreshMu

	kmsMetrics *kmsMetrics

	mu     sync.Mutex // guards status
	status Status
}

// loaded is one usable key and what it is.
type loaded struct {
	signer *signer.Signer
	info   Info
}

// Open loads the configured key and returns the Store that holds it; with
// no key configured (only possible with --dev) it makes an ephemeral
// RSA-2048 key.
//
// An inline or file key that cannot be used fails Open, and so does a
// secret or KMS key that cannot be read or used for a reason retrying will
// not fix: access denied, no region, a key that does not exist, is
// disabled or pending deletion, a key CloudFront would refuse. When Secrets
// Manager or KMS is unreachable, throttles or fails, or the secret does
// not exist yet, Open logs the error and returns a Store that is not
// ready: Run keeps trying, and the Store becomes ready when the key loads.
//
// cf.HashAlgorithm is config's, already parsed (SHA256 unless SHA1 was
// asked for); signer.New refuses any other value when the key loads.
func Open(ctx context.Context, cf config.CloudFront, k config.Key, opts Options) (*Store, error) {
	var err error
	s := &Store{
		keyPairID: cf.KeyPairID,
		hash:      cf.HashAlgorithm,
		interval:  k.RefreshInterval,
		log:       opts.Logger,
		now:       opts.Now,
		retry:     firstRetry,
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.kms, s.kmsMetrics = opts.KMS, newKMSMetrics()
	if s.src, err = newSource(ctx, k, opts); err != nil {
		return nil, err
	}
	switch {
	case s.src == nil:
		if err := s.ephemeral(); err != nil {
			return nil, err
		}
		return s, nil
	case s.src.kind() == "env" || s.src.kind() == "kms":
		s.interval = 0 // never read again
	}
	if err := s.attempt(ctx); err != nil {
		// A key file's KMS key may be throttled too: only KMS errors of
		// an inline or file key are waited out.
		if isPermanent(err) || (s.src.kind() == "env" || s.src.kind() == "file") && !isKMSTransient(err) {
			return nil, err
		}
		s.log.Error().Err(err).Str("key_source", s.src.kind()).
			Msg("no signing key loaded yet; /readyz answers 503 until one loads; retrying")
	}
	return s, nil
}

// newSource returns the configured source, nil for none (an ephemeral
// key).
func newSource(ctx context.Context, k config.Key, opts Options) (source, error) {
	switch {
	case k.SecretID != "":
		client := opts.Secrets
		if client == nil {
			c, err := NewSecretsClient(ctx, k.SecretID)
			if err != nil {
				return nil, err
			}
			client = c
		}
		return secretSource{client: client, id: k.SecretID}, nil
	case k.KMSKeyID != "":
		return kmsSource(k.KMSKeyID), nil
	case k.File != "":
		return fileSource(k.File), nil
	case k.PEM != "":
		return inlineSource(k.PEM), nil
	}
	return nil, nil
}

// ephemeral installs a fresh RSA-2048 key.
func (s *Store) ephemeral() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("keys: generate ephemeral key: %w", err)
	}
	k, err := s.newLoaded("ephemeral", s.keyPairID, key)
	if err != nil {
		return err
	}
	s.install(k)
	return nil
}

// Sign signs g with the current key. A rotation during the call does not
// affect it: it finishes with the key it started with.
func (s *Store) Sign(g signer.Grant) (signer.Signed, error) {
	k := s.current.Load()
	if k == nil {
		return signer.Signed{}, ErrNoKey
	}
	return k.signer.Sign(g)
}

// Ready reports whether a usable key has been loaded. Once true it stays
// true: a failed refresh keeps the key in use.
func (s *Store) Ready() bool { return s.current.Load() != nil }

// Signer returns the current signer, or nil before a key has loaded. A
// caller that signs several grants with it signs them all with one key.
func (s *Store) Signer() *signer.Signer {
	if k := s.current.Load(); k != nil {
		return k.signer
	}
	return nil
}

// Status returns the key in use and the outcome of the last refresh.
func (s *Store) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Source = "ephemeral"
	if s.src != nil {
		st.Source = s.src.kind()
	}
	if k := s.current.Load(); k != nil {
		st.Ready, st.Key = true, k.info
	}
	return st
}

// Run reads a key file or secret again every refresh interval until ctx is
// done. Until a first key has loaded it retries sooner, backing off from 1s
// to 30s. It returns at once for an inline or ephemeral key, and for a KMS
// key (CLOUDFRONT_KMS_KEY_ID) once it has loaded.
func (s *Store) Run(ctx context.Context) {
	delay := s.retry
	for {
		if s.src == nil || s.interval == 0 && s.Ready() {
			return
		}
		wait := s.interval
		if !s.Ready() {
			wait = delay
			delay = min(delay*2, maxFirstRetry)
			if s.interval > 0 {
				delay = min(delay, s.interval)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		_ = s.Refresh(ctx) // logged
	}
}

// Refresh reads the source once. A usable key that differs from the
// current one replaces it; anything else leaves the current key in place.
// A failure is logged (a warning while a key is in use) and kept for
// Status.
func (s *Store) Refresh(ctx context.Context) error {
	if s.src == nil {
		return nil
	}
	err := s.attempt(ctx)
	if err == nil || ctx.Err() != nil {
		return err // shutting down
	}
	if cur := s.current.Load(); cur != nil {
		s.log.Warn().Err(err).Str("key_source", s.src.kind()).Str("key_pair_id", cur.info.KeyPairID).
			Msg("key refresh failed; still signing with the current key")
	} else {
		s.log.Error().Err(err).Str("key_source", s.src.kind()).
			Msg("no signing key loaded yet; /readyz answers 503 until one loads; retrying")
	}
	return err
}

// attempt reads the source once, installs its key if it changed, and
// records the outcome for Status.
func (s *Store) attempt(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	err := s.load(rctx)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.LastAttempt = now
	if err == nil {
		s.status.LastSuccess, s.status.LastError, s.status.ConsecutiveFailures = now, nil, 0
	} else {
		s.status.LastError = err
		s.status.ConsecutiveFailures++
	}
	return err
}

// load reads the source and, when its material changed, installs its key.
func (s *Store) load(ctx context.Context) error {
	raw, err := s.src.read(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	cur := s.current.Load()
	if cur != nil && sum == s.digest {
		return nil
	}
	m, err := decodeSource(s.src, raw)
	if err != nil {
		return permanent(fmt.Errorf("keys: %s: %w", s.src, err))
	}
	id := m.keyPairID
	if id == "" {
		id = s.keyPairID
	} else if s.keyPairID != "" && id != s.keyPairID {
		s.log.Warn().Str("key_source", s.src.kind()).Str("key_pair_id", id).Str("ignored_key_pair_id", s.keyPairID).
			Msg("the key material names its key pair id; CLOUDFRONT_KEY_PAIR_ID is ignored (unset it)")
	}
	if id == "" {
		return permanent(fmt.Errorf(`keys: %s: the key is PEM text, which names no key pair id: set CLOUDFRONT_KEY_PAIR_ID, or store JSON {"keyPairId": ..., "privateKey": ...}`, s.src))
	}
	if m.kmsKeyID != "" && s.hash == signer.SHA1 {
		return permanent(fmt.Errorf("keys: %s: KMS key %q: CLOUDFRONT_HASH_ALGORITHM=SHA1 cannot be used with a KMS key, which signs only SHA-256 digests: set SHA256 or unset it", s.src, m.kmsKeyID))
	}
	key, err := s.signingKey(ctx, m)
	if err != nil {
		return err
	}
	k, err := s.newLoaded(s.src.kind(), id, key)
	if err != nil {
		return permanent(fmt.Errorf("keys: %s: %w", s.src, err))
	}
	if cur != nil && k.info.KeyPairID == cur.info.KeyPairID && k.info.Fingerprint != cur.info.Fingerprint {
		return permanent(fmt.Errorf("keys: %s: the key changed but its key pair id %s did not; CloudFront binds an id to one public key and would refuse every cookie: give the new key its new id (the JSON form carries both), or restart with the new CLOUDFRONT_KEY_PAIR_ID",
			s.src, k.info.KeyPairID))
	}
	s.digest = sum
	if cur != nil && k.info.KeyPairID == cur.info.KeyPairID {
		return nil // the same key written differently
	}
	s.install(k)
	return nil
}

// newLoaded makes a signer for key and describes it. A KMS key signs with
// SHA-256, the only hash KMS signs.
func (s *Store) newLoaded(source, keyPairID string, key crypto.Signer) (*loaded, error) {
	hash, kmsARN := s.hash, ""
	if k, ok := key.(*kmsKey); ok {
		hash, kmsARN = signer.SHA256, k.key.KeyID()
	} else {
		var err error
		if key, err = fastKey(key); err != nil { // libcrypto in the openssl build (backend*.go)
			return nil, err
		}
	}
	sg, err := signer.New(keyPairID, key, signer.Options{HashAlgorithm: hash})
	if err != nil {
		return nil, err
	}
	pub, err := signer.PublicKeyPEM(key)
	if err != nil {
		return nil, err
	}
	fingerprint, err := Fingerprint(key.Public())
	if err != nil {
		return nil, err
	}
	return &loaded{signer: sg, info: Info{
		Source:        source,
		KeyPairID:     sg.KeyPairID(),
		KMSKeyARN:     kmsARN,
		HashAlgorithm: sg.HashAlgorithm(),
		KeyType:       KeyType(key.Public()),
		PublicKeyPEM:  string(pub),
		Fingerprint:   fingerprint,
	}}, nil
}

// Fingerprint is the hex SHA-256 of pub's DER SubjectPublicKeyInfo: how
// the server's log and metrics name a public key (public_key_sha256), and
// what `server keygen` prints for the key it makes.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("keys: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// KeyType names a public key's type and size as the server's log and
// reports do: "RSA 2048", "ECDSA P-256".
func KeyType(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", pub)
}

// install makes k the key of new requests and logs it.
func (s *Store) install(k *loaded) {
	k.info.LoadedAt = s.now()
	old := s.current.Swap(k)
	e := s.log.Info()
	msg := "signing key loaded"
	if old != nil {
		s.mu.Lock()
		s.status.Rotations++
		s.mu.Unlock()
		e = e.Str("old_key_pair_id", old.info.KeyPairID).Str("old_public_key_sha256", old.info.Fingerprint)
		msg = "signing key rotated"
	}
	if k.info.KMSKeyARN != "" {
		e = e.Str("kms_key_arn", k.info.KMSKeyARN)
	}
	e.Str("key_source", k.info.Source).Str("key_pair_id", k.info.KeyPairID).Str("key_type", k.info.KeyType).
		Str("hash_algorithm", string(k.info.HashAlgorithm)).Str("public_key_sha256", k.info.Fingerprint).
		Str("public_key_pem", k.info.PublicKeyPEM).Msg(msg)
}

// permanentError marks a failure retrying will not fix without an operator:
// access refused, or key material that cannot be used.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) error { return permanentError{err} }

func isPermanent(err error) bool {
	_, ok := errors.AsType[permanentError](err)
	return ok
}
