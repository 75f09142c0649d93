package kmssigner

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// API is the part of the KMS client a Signer calls. *kms.Client satisfies
// it; tests may pass their own.
type API interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
}

var _ API = (*kms.Client)(nil)

// Errors a caller may branch on with errors.Is. Errors from KMS itself are
// wrapped as they come, so errors.As with smithy.APIError gives their code
// (NotFoundException, DisabledException, KMSInvalidStateException,
// AccessDeniedException, ThrottlingException...).
var (
	// ErrKeyUsage: the key's KeyUsage is not SIGN_VERIFY.
	ErrKeyUsage = errors.New("kmssigner: key usage is not SIGN_VERIFY")
	// ErrKeySpec: the key's KeySpec is not one CloudFront verifies
	// (RSA_2048 or ECC_NIST_P256), or the key does not sign with the
	// matching algorithm.
	ErrKeySpec = errors.New("kmssigner: key spec is not RSA_2048 or ECC_NIST_P256")
	// ErrPublicKey: the public key KMS answered does not parse, or is not
	// of the key's spec.
	ErrPublicKey = errors.New("kmssigner: unusable public key")
	// ErrBadSignature: KMS answered a signature that does not verify with
	// the key's public key.
	ErrBadSignature = errors.New("kmssigner: signature from KMS does not verify with the key's public key")
	// ErrUnsupported: Sign was asked for something KMS cannot do for
	// CloudFront: a hash other than SHA-256 (KMS has no SHA-1), a digest
	// that is not 32 bytes, or RSA-PSS.
	ErrUnsupported = errors.New("kmssigner: unsupported signing request")
	// ErrZeroValue: a Signer not made by New.
	ErrZeroValue = errors.New("kmssigner: zero Signer (use New)")
)

// Options are a Signer's optional settings. The zero value is safe.
type Options struct {
	// OnSign, when not nil, is called after every call to KMS Sign,
	// the start-up check of New included, with the time the call took
	// and its error (nil on success): for metrics. It must be safe for
	// concurrent use and should return quickly.
	OnSign func(took time.Duration, err error)
}

// A Signer is a crypto.Signer whose private key stays in AWS KMS: every
// signature is one KMS Sign call. It signs SHA-256 digests only, with
// PKCS#1 v1.5 for an RSA_2048 key and ECDSA (ASN.1 DER) for an
// ECC_NIST_P256 key, which is what CloudFront verifies. It is safe for
// concurrent use if its API is (*kms.Client is). Build it with New: the
// zero Signer signs nothing (ErrZeroValue).
type Signer struct {
	client API
	keyARN string // as GetPublicKey reported it; every Sign names it
	pub    crypto.PublicKey
	alg    types.SigningAlgorithmSpec
	onSign func(took time.Duration, err error)
}

// selfCheckDigest is the digest New has KMS sign to check the key: the
// SHA-256 of a fixed text, which is no CloudFront policy.
var selfCheckDigest = sha256.Sum256([]byte("cfcookies kmssigner start-up check"))

// New returns a Signer for the KMS key keyID: a key id, key ARN, alias name
// ("alias/cloudfront") or alias ARN. It reads the key's public key
// (GetPublicKey), refuses a key whose usage is not SIGN_VERIFY
// (ErrKeyUsage) or whose spec is not RSA_2048 or ECC_NIST_P256
// (ErrKeySpec), then has KMS sign one fixed digest and checks the answer
// with the public key (ErrBadSignature), so that a key that cannot sign
// fails here rather than at the first request. The Signer then always
// names the key by the ARN KMS reported, so re-pointing an alias later
// does not change the key it signs with. The caller needs the
// kms:GetPublicKey and kms:Sign permissions on the key. Every error names
// the key; one from KMS wraps the SDK's error.
func New(ctx context.Context, client API, keyID string, opts Options) (*Signer, error) {
	if client == nil {
		return nil, errors.New("kmssigner: nil KMS client")
	}
	if keyID == "" {
		return nil, errors.New("kmssigner: empty key id: give a key id, key ARN, alias name or alias ARN")
	}
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: &keyID})
	if err != nil {
		return nil, fmt.Errorf("kmssigner: get public key of %s: %w", keyID, err)
	}
	arn := keyID
	if out.KeyId != nil && *out.KeyId != "" {
		arn = *out.KeyId
	}
	spec := string(out.KeySpec)
	if spec == "" {
		spec = string(out.CustomerMasterKeySpec) //nolint:staticcheck // older answers name the spec only here
	}
	if out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("%w: key %s (%s) has usage %s; CloudFront signatures need a SIGN_VERIFY key of spec RSA_2048 or ECC_NIST_P256",
			ErrKeyUsage, arn, orNone(spec), orNone(string(out.KeyUsage)))
	}
	var alg types.SigningAlgorithmSpec
	switch types.KeySpec(spec) {
	case types.KeySpecRsa2048:
		alg = types.SigningAlgorithmSpecRsassaPkcs1V15Sha256
	case types.KeySpecEccNistP256:
		alg = types.SigningAlgorithmSpecEcdsaSha256
	default:
		return nil, fmt.Errorf("%w: key %s has spec %s; CloudFront verifies RSA_2048 or ECC_NIST_P256", ErrKeySpec, arn, orNone(spec))
	}
	if len(out.SigningAlgorithms) > 0 && !contains(out.SigningAlgorithms, alg) {
		return nil, fmt.Errorf("%w: key %s (%s) does not sign with %s", ErrKeySpec, arn, spec, alg)
	}
	pub, err := parsePublicKey(out.PublicKey, types.KeySpec(spec))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s (%s): %w", ErrPublicKey, arn, spec, err)
	}
	s := &Signer{client: client, keyARN: arn, pub: pub, alg: alg, onSign: opts.OnSign}
	if _, err := s.SignContext(ctx, selfCheckDigest[:], crypto.SHA256); err != nil {
		return nil, fmt.Errorf("kmssigner: start-up check of key %s (%s) with %s: %w", arn, spec, alg, err)
	}
	return s, nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func contains(algs []types.SigningAlgorithmSpec, alg types.SigningAlgorithmSpec) bool {
	for _, a := range algs {
		if a == alg {
			return true
		}
	}
	return false
}

// parsePublicKey parses KMS's DER (SubjectPublicKeyInfo) public key and
// checks it is of the key's spec.
func parsePublicKey(der []byte, spec types.KeySpec) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if spec == types.KeySpecRsa2048 && k.N.BitLen() == 2048 {
			return k, nil
		}
		return nil, fmt.Errorf("found a %d-bit RSA public key", k.N.BitLen())
	case *ecdsa.PublicKey:
		if spec == types.KeySpecEccNistP256 && k.Curve == elliptic.P256() {
			return k, nil
		}
		return nil, fmt.Errorf("found an ECDSA public key on %s", k.Curve.Params().Name)
	}
	return nil, fmt.Errorf("found a public key of type %T", pub)
}

// verify reports whether sig is a signature of the SHA-256 digest by pub,
// as CloudFront checks it.
func verify(pub crypto.PublicKey, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	}
	return false
}

func (s *Signer) zero() bool { return s == nil || s.client == nil || s.pub == nil }

// Public returns the key's public key, *rsa.PublicKey or *ecdsa.PublicKey;
// nil for the zero Signer.
func (s *Signer) Public() crypto.PublicKey {
	if s.zero() {
		return nil
	}
	return s.pub
}

// KeyID returns the key's ARN, as KMS reported it to New; "" for the zero
// Signer.
func (s *Signer) KeyID() string {
	if s.zero() {
		return ""
	}
	return s.keyARN
}

// Sign is SignContext with context.Background(); rand is not used, as
// KMS makes the signature. It makes Signer a crypto.Signer.
func (s *Signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignContext(context.Background(), digest, opts)
}

// SignContext has KMS sign digest, the SHA-256 of a message, with one Sign
// call (MessageType DIGEST) bounded by ctx. opts must name crypto.SHA256:
// KMS signs no SHA-1 digest, so a CloudFront policy must be signed with
// SHA-256 (the CloudFront-Hash-Algorithm=SHA256 cookie). It returns a
// PKCS#1 v1.5 signature for an RSA key and an ASN.1 DER one for ECDSA,
// checked with the public key first: an answer that does not verify is
// ErrBadSignature, never a signature CloudFront would refuse.
func (s *Signer) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.zero() {
		return nil, ErrZeroValue
	}
	if opts == nil {
		return nil, fmt.Errorf("%w: key %s: nil SignerOpts; pass crypto.SHA256", ErrUnsupported, s.keyARN)
	}
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return nil, fmt.Errorf("%w: key %s: RSA-PSS; CloudFront verifies PKCS#1 v1.5", ErrUnsupported, s.keyARN)
	}
	if h := opts.HashFunc(); h != crypto.SHA256 {
		return nil, fmt.Errorf("%w: key %s: KMS signs SHA-256 digests only, asked for %s: sign with SHA-256 (CloudFront-Hash-Algorithm=SHA256)",
			ErrUnsupported, s.keyARN, hashName(h))
	}
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("%w: key %s: a SHA-256 digest is %d bytes, got %d", ErrUnsupported, s.keyARN, sha256.Size, len(digest))
	}
	start := time.Now()
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            &s.keyARN,
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: s.alg,
	})
	if s.onSign != nil {
		s.onSign(time.Since(start), err)
	}
	if err != nil {
		return nil, fmt.Errorf("kmssigner: sign with key %s: %w", s.keyARN, err)
	}
	if len(out.Signature) == 0 {
		return nil, fmt.Errorf("%w: key %s: KMS answered no signature", ErrBadSignature, s.keyARN)
	}
	if !verify(s.pub, digest, out.Signature) {
		return nil, fmt.Errorf("%w: key %s, signing with %s", ErrBadSignature, s.keyARN, s.alg)
	}
	return out.Signature, nil
}

func hashName(h crypto.Hash) string {
	if h == 0 {
		return "no hash"
	}
	return h.String()
}
