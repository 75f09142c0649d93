package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- CloudFront still accepts RSA with SHA-1, when chosen
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

// HashAlgorithm is the digest signed over the policy: CloudFront's
// CloudFront-Hash-Algorithm cookie.
type HashAlgorithm string

// Hash algorithms CloudFront accepts.
const (
	SHA1   HashAlgorithm = "SHA1"
	SHA256 HashAlgorithm = "SHA256"
)

// ParseHashAlgorithm accepts "SHA1", "SHA256" (any case, with or without a
// dash) and "" (the default, which New signs with SHA256).
func ParseHashAlgorithm(s string) (HashAlgorithm, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "":
		return "", nil
	case "SHA1":
		return SHA1, nil
	case "SHA256":
		return SHA256, nil
	}
	return "", fmt.Errorf("signer: unknown hash algorithm %q: CloudFront accepts SHA1 or SHA256", s)
}

func (h HashAlgorithm) crypto() crypto.Hash {
	if h == SHA256 {
		return crypto.SHA256
	}
	return crypto.SHA1
}

// digest hashes b with h, SHA1 for anything but SHA256 (CloudFront's
// reading of an absent hash cookie). SHA1 under GODEBUG=fips140=only is
// ErrNotFIPSApproved, where crypto/sha1 would panic.
func (h HashAlgorithm) digest(b []byte) ([]byte, error) {
	if h == SHA256 {
		d := sha256.Sum256(b)
		return d[:], nil
	}
	if fips140Only() {
		return nil, ErrNotFIPSApproved
	}
	d := sha1.Sum(b) // #nosec G401 -- the hash CloudFront verifies when told SHA1, or not told
	return d[:], nil
}

// Options are a Signer's optional settings. The zero value is safe.
type Options struct {
	// HashAlgorithm is the digest to sign. Empty means SHA256, for every
	// key type, and the cookies then include CloudFront-Hash-Algorithm=SHA256.
	// SHA1 is for RSA keys only (CloudFront refuses ECDSA with SHA1), and
	// is refused with ErrNotFIPSApproved under GODEBUG=fips140=only.
	// (Earlier versions signed RSA keys with SHA1 when it was empty.)
	HashAlgorithm HashAlgorithm

	// Now is the clock used to compute cookie Max-Age and refuse expired
	// grants. Nil means time.Now.
	Now func() time.Time

	// Key relaxes key checks; see KeyOptions.
	Key KeyOptions
}

// A Signer signs custom policies with one CloudFront key pair. It is safe
// for concurrent use. Build it with New: the zero Signer signs nothing (its
// Sign and Cookies return ErrZeroValue).
type Signer struct {
	keyPairID string
	key       crypto.Signer
	isRSA     bool
	hash      HashAlgorithm
	now       func() time.Time
}

// New returns a Signer for the public key registered in CloudFront under
// keyPairID (the key group's public key ID, such as "K2JCJMDEHXQW5F") and
// the matching private key. key may be any crypto.Signer whose public key is
// RSA 2048 or ECDSA P-256, such as a key held in an HSM or KMS: its Sign
// method is called with the policy's digest and the hash (crypto.SHA256,
// or crypto.SHA1 when opts asks for SHA1), and must return a PKCS#1 v1.5
// signature for RSA or an ASN.1 DER one for ECDSA, as crypto.Signer
// requires. AWS KMS signs RSA only over SHA-256, the default.
//
// Under GODEBUG=fips140=only (Go's FIPS 140-3 mode, enforced), SHA1 is
// refused with an error wrapping ErrNotFIPSApproved; SHA256 with RSA 2048
// or ECDSA P-256 keys works there.
func New(keyPairID string, key crypto.Signer, opts Options) (*Signer, error) {
	if err := CheckKeyPairID(keyPairID); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("signer: nil key")
	}
	if err := CheckPublicKey(key.Public(), opts.Key); err != nil {
		return nil, err
	}
	_, isRSA := key.Public().(*rsa.PublicKey)
	hash := opts.HashAlgorithm
	switch {
	case hash == "":
		hash = SHA256
	case hash != SHA1 && hash != SHA256:
		return nil, fmt.Errorf("signer: unknown hash algorithm %q: CloudFront accepts SHA1 or SHA256", hash)
	case hash == SHA1 && !isRSA:
		return nil, errors.New("signer: ECDSA keys sign with SHA256; CloudFront refuses ECDSA with SHA1")
	case hash == SHA1 && fips140Only():
		return nil, ErrNotFIPSApproved
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Signer{keyPairID: keyPairID, key: key, isRSA: isRSA, hash: hash, now: now}, nil
}

// CheckKeyPairID reports whether id looks like a CloudFront public key ID
// (such as "K2JCJMDEHXQW5F"): 1 to 128 ASCII letters and digits. The error
// does not quote id, which may come from a cookie.
func CheckKeyPairID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("signer: key pair ID must be 1 to 128 letters and digits, got %d bytes", len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return fmt.Errorf("signer: key pair ID must be letters and digits only, found another byte at offset %d", i)
		}
	}
	return nil
}

// KeyPairID returns the CloudFront public key ID the Signer signs for.
func (s *Signer) KeyPairID() string {
	if s == nil {
		return ""
	}
	return s.keyPairID
}

// HashAlgorithm returns the digest the Signer uses.
func (s *Signer) HashAlgorithm() HashAlgorithm {
	if s == nil {
		return ""
	}
	return s.hash
}

// Public returns the public key matching the private key, nil for the zero
// Signer.
func (s *Signer) Public() crypto.PublicKey {
	if s.zero() {
		return nil
	}
	return s.key.Public()
}

func (s *Signer) zero() bool { return s == nil || s.key == nil || s.now == nil }

// Signed is a signed custom policy: the values of CloudFront's cookies. The
// Policy and Signature values are bearer credentials; String omits them.
// A Signed made by Sign remembers the resource it was signed for; one made
// by hand has it read back from Policy when its cookies are set. The zero
// Signed sets no cookie (ErrCookieValue).
type Signed struct {
	KeyPairID     string
	HashAlgorithm HashAlgorithm
	Policy        string // CloudFront base64 of the policy JSON
	Signature     string // CloudFront base64 of the signature
	Expires       time.Time

	resource string // the Grant's Resource, set by Sign
}

// String describes s without its credentials.
func (s Signed) String() string {
	return fmt.Sprintf("signer.Signed{KeyPairID: %s, HashAlgorithm: %s, Expires: %s}",
		s.KeyPairID, s.HashAlgorithm, s.Expires.UTC().Format(time.RFC3339))
}

// Sign validates g, refuses it if it has already expired, and signs its
// policy. It is SignContext with context.Background().
func (s *Signer) Sign(g Grant) (Signed, error) {
	return s.SignContext(context.Background(), g)
}

// SignContext is Sign with a context for the key: a key that is a
// [ContextSigner], such as one held in AWS KMS, signs with ctx, so a
// request's deadline or cancellation reaches it. Other keys ignore ctx.
func (s *Signer) SignContext(ctx context.Context, g Grant) (Signed, error) {
	if s.zero() {
		return Signed{}, fmt.Errorf("%w: Signer (New)", ErrZeroValue)
	}
	policy, err := g.Policy()
	if err != nil {
		return Signed{}, err
	}
	if !s.now().Before(time.Unix(g.Expires.Unix(), 0)) {
		return Signed{}, fmt.Errorf("%w: expiration %s is not after now", ErrExpired, g.Expires.UTC().Format(time.RFC3339))
	}
	sig, err := s.signPolicy(ctx, g, policy)
	if err != nil {
		return Signed{}, err
	}
	return Signed{
		KeyPairID:     s.keyPairID,
		HashAlgorithm: s.hash,
		Policy:        EncodeBase64(policy),
		Signature:     sig,
		Expires:       time.Unix(g.Expires.Unix(), 0).UTC(),
		resource:      g.Resource,
	}, nil
}

// signPolicy returns the CloudFront base64 signature of policy, the JSON of g.
func (s *Signer) signPolicy(ctx context.Context, g Grant, policy []byte) (string, error) {
	ck, withCtx := s.key.(ContextSigner)
	if !withCtx && s.isRSA && s.hash == SHA1 && g.NotBefore.IsZero() && !g.IPRange.IsValid() {
		// The AWS module writes a resource-and-expiry policy byte for byte
		// as appendPolicy does (TestSignModuleAgrees), so its signature is
		// the signature of policy. A ContextSigner signs below, with ctx.
		sig, _, err := sign.NewCannedPolicy(g.Resource, time.Unix(g.Expires.Unix(), 0)).Sign(s.key)
		if err != nil {
			return "", fmt.Errorf("signer: sign policy: %w", err)
		}
		return string(sig), nil
	}
	h := s.hash.crypto()
	digest, err := s.hash.digest(policy)
	if err != nil {
		return "", fmt.Errorf("signer: sign policy: %w", err)
	}
	var sig []byte
	if withCtx {
		sig, err = ck.SignContext(ctx, digest, h)
	} else {
		sig, err = s.key.Sign(rand.Reader, digest, h)
	}
	if err != nil {
		return "", fmt.Errorf("signer: sign policy: %w", err)
	}
	return EncodeBase64(sig), nil
}

// Cookies signs g and returns its cookies with o applied; see
// Signed.Cookies. o must cover g's Resource (see
// [CookieOptions.CheckResource]); it is checked before anything is signed.
func (s *Signer) Cookies(g Grant, o CookieOptions) ([]*http.Cookie, error) {
	if s.zero() {
		return nil, fmt.Errorf("%w: Signer (New)", ErrZeroValue)
	}
	if err := g.validate(); err != nil {
		return nil, err
	}
	if err := o.CheckResource(g.Resource); err != nil {
		return nil, err
	}
	signed, err := s.Sign(g)
	if err != nil {
		return nil, err
	}
	return signed.Cookies(o, s.now())
}

// ErrBadSignature is wrapped by Verify's error when the signature is not
// one of the policy by the key with the hash.
var ErrBadSignature = errors.New("signer: signature does not match")

// Verify checks a CloudFront base64 signature of policyJSON with pub, as
// CloudFront does: PKCS#1 v1.5 for RSA, ASN.1 DER for ECDSA, over the hash
// named by h ("" meaning SHA1, as CloudFront reads cookies without
// CloudFront-Hash-Algorithm). A signature that does not match wraps
// ErrBadSignature, one that is not CloudFront base64 or an ECDSA key with
// SHA1 too; a key of another kind is ErrUnsupportedKey. Under
// GODEBUG=fips140=only a SHA1 signature cannot be checked: the error wraps
// ErrNotFIPSApproved.
func Verify(pub crypto.PublicKey, h HashAlgorithm, policyJSON []byte, signature string) error {
	if h == "" {
		h = SHA1
	}
	if h != SHA1 && h != SHA256 {
		return fmt.Errorf("signer: unknown hash algorithm %q", h)
	}
	sig, err := DecodeBase64(signature)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		digest, err := h.digest(policyJSON)
		if err != nil {
			return fmt.Errorf("signer: verify: %w", err)
		}
		if err := rsa.VerifyPKCS1v15(k, h.crypto(), digest, sig); err != nil {
			return fmt.Errorf("%w: %w", ErrBadSignature, err)
		}
		return nil
	case *ecdsa.PublicKey:
		if h != SHA256 {
			return fmt.Errorf("%w: ECDSA signatures use SHA256; CloudFront refuses ECDSA with SHA1", ErrBadSignature)
		}
		digest := sha256.Sum256(policyJSON)
		if !ecdsa.VerifyASN1(k, digest[:], sig) {
			return ErrBadSignature
		}
		return nil
	}
	return fmt.Errorf("%w: found %T", ErrUnsupportedKey, pub)
}
