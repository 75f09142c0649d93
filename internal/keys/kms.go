package keys

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cfcookies/cfcookies/kmssigner"
	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// KMSClient is the part of the KMS API the Store calls: GetPublicKey and
// Sign. *kms.Client is one.
type KMSClient = kmssigner.API

var _ KMSClient = (*kms.Client)(nil)

// A KMS Sign is retried within the request, never past signBudget: the
// first retry after about firstSignRetry, doubling up to maxSignRetry, for
// at most maxSignAttempts calls in all. The answer is then a 503 with
// Retry-After, well before the server's 15 s write timeout.
const (
	signBudget      = 3 * time.Second
	firstSignRetry  = 50 * time.Millisecond
	maxSignRetry    = 800 * time.Millisecond
	maxSignAttempts = 4
)

// NewKMSClient returns a KMS client configured as the AWS SDK finds its
// settings: credentials from the ECS task role (or the environment, a
// profile, EC2 instance metadata), the endpoint from AWS_ENDPOINT_URL_KMS
// or AWS_ENDPOINT_URL when set, and the region of keyID when it is an ARN
// (a KMS key answers only in its own region), else AWS_REGION.
func NewKMSClient(ctx context.Context, keyID string) (*kms.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: KMS key %q: load the AWS configuration: %w", keyID, err)
	}
	if a, err := arn.Parse(keyID); err == nil && a.Region != "" {
		cfg.Region = a.Region
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("keys: KMS key %q: no AWS region: set AWS_REGION (ECS sets it) or give the key's full ARN", keyID)
	}
	return kms.NewFromConfig(cfg), nil
}

// kmsSource is CLOUDFRONT_KMS_KEY_ID: the material is the key's id, read
// once; the key itself never leaves KMS.
type kmsSource string

func (k kmsSource) read(context.Context) ([]byte, error) { return []byte(k), nil }
func (kmsSource) kind() string                           { return "kms" }
func (kmsSource) jsonAllowed() bool                      { return false }
func (k kmsSource) String() string                       { return fmt.Sprintf("CLOUDFRONT_KMS_KEY_ID %q", string(k)) }

// openKMS reads the KMS key keyID (GetPublicKey, then one Sign checked
// with the public key) and returns it as a signing key. Its errors name
// the source and the key; those an operator must fix are permanent, the
// rest (throttling, KMS failing or unreachable) worth retrying.
func (s *Store) openKMS(ctx context.Context, keyID string) (*kmsKey, error) {
	if s.kms == nil {
		client, err := NewKMSClient(ctx, keyID)
		if err != nil {
			return nil, permanent(fmt.Errorf("keys: %s: %w", s.src, err))
		}
		s.kms = client
	}
	s.kmsMetrics.init()
	ks, err := kmssigner.New(ctx, noSignRetry{s.kms}, keyID, kmssigner.Options{OnSign: s.kmsMetrics.observe})
	if err != nil {
		return nil, s.kmsError(keyID, err)
	}
	return &kmsKey{key: ks, metrics: s.kmsMetrics}, nil
}

// kmsError names the source and says what to do about the errors an
// operator must fix, which are permanent; the SDK's message keeps AWS's
// error code.
func (s *Store) kmsError(keyID string, err error) error {
	err = fmt.Errorf("keys: %s: %w", s.src, err)
	for _, e := range []error{kmssigner.ErrKeyUsage, kmssigner.ErrKeySpec, kmssigner.ErrPublicKey, kmssigner.ErrBadSignature, kmssigner.ErrUnsupported} {
		if errors.Is(err, e) {
			return permanent(err)
		}
	}
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok {
		return kmsTransient{err} // unreachable, or a timeout: retry
	}
	region := "the configured region"
	if c, ok := s.kms.(*kms.Client); ok {
		region = "region " + c.Options().Region
	}
	switch ae.ErrorCode() {
	case "NotFoundException":
		return permanent(fmt.Errorf("%w (no key or alias %q in %s: a KMS key answers only in its region, so set AWS_REGION or give the key's ARN; an alias whose key was deleted finds nothing)", err, keyID, region))
	case "DisabledException":
		return permanent(fmt.Errorf("%w (the key is disabled: enable it, or configure another key)", err))
	case "KMSInvalidStateException":
		return permanent(fmt.Errorf("%w (the key cannot sign in its state, such as pending deletion: cancel the deletion, or configure another key)", err))
	case "AccessDeniedException":
		return permanent(fmt.Errorf("%w (the task role needs kms:GetPublicKey and kms:Sign on the key)", err))
	case "InvalidKeyUsageException", "InvalidArnException", "ValidationException", "UnsupportedOperationException",
		"UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature", "ExpiredTokenException":
		return permanent(err)
	}
	return kmsTransient{err} // throttling, KMS failing: retry
}

// kmsTransient marks a KMS failure worth retrying, even for a key file
// whose other failures stop the start.
type kmsTransient struct{ error }

func (e kmsTransient) Unwrap() error { return e.error }

func isKMSTransient(err error) bool {
	_, ok := errors.AsType[kmsTransient](err)
	return ok
}

// noSignRetry turns off the SDK's own retries of Sign: kmsKey retries
// within the request's budget, and every call is seen by the metrics.
type noSignRetry struct{ KMSClient }

func (c noSignRetry) Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error) {
	return c.KMSClient.Sign(ctx, in, append(optFns, func(o *kms.Options) {
		o.Retryer, o.RetryMaxAttempts = aws.NopRetryer{}, 0
	})...)
}

// kmsKey is a signing key held in KMS, for signer.New: kmssigner checks
// each signature with the public key, a throttled or failed call is
// retried within signBudget, and a key that still cannot sign answers an
// error wrapping mediacookies.ErrKeyUnavailable (503 with Retry-After,
// never a cookie CloudFront would refuse).
type kmsKey struct {
	key     *kmssigner.Signer
	metrics *kmsMetrics
}

var _ signer.ContextSigner = (*kmsKey)(nil)

// Public returns the key's public key.
func (k *kmsKey) Public() crypto.PublicKey { return k.key.Public() }

// Sign is SignContext without a context of its own: signBudget bounds it.
func (k *kmsKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.SignContext(context.Background(), digest, opts)
}

// SignContext has KMS sign digest, retrying throttling and failures
// while ctx and signBudget allow.
func (k *kmsKey) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, signBudget)
	defer cancel()
	delay := firstSignRetry
	for attempt := 1; ; attempt++ {
		sig, err := k.key.SignContext(ctx, digest, opts)
		switch {
		case err == nil:
			return sig, nil // kmssigner checked it with the public key
		case errors.Is(err, kmssigner.ErrBadSignature):
			return nil, fmt.Errorf("keys: %w", err) // KMS signs with another key: retrying cannot help
		case errors.Is(err, kmssigner.ErrUnsupported), errors.Is(err, kmssigner.ErrZeroValue):
			return nil, fmt.Errorf("keys: %w", err) // the caller's mistake: retrying cannot help
		}
		if attempt == maxSignAttempts || !retryableSign(err) || !sleepRetry(ctx, delay) {
			return nil, fmt.Errorf("keys: %w after %d attempts: %w", mediacookies.ErrKeyUnavailable, attempt, err)
		}
		delay = min(2*delay, maxSignRetry)
	}
}

// retryableSign reports whether a failed Sign may succeed if called
// again: throttling, KMS's internal and dependency failures, 5xx answers
// and network errors.
func retryableSign(err error) bool {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		switch ae.ErrorCode() {
		case "ThrottlingException", "KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException":
			return true
		}
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// sleepRetry waits about delay (from half of it to all of it, so that
// requests throttled together do not retry together), or reports false
// at once when ctx would end first.
func sleepRetry(ctx context.Context, delay time.Duration) bool {
	d := delay/2 + rand.N(delay/2+1) // #nosec G404 -- jitter, not a secret
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// kmsErrorCodes are the code label values of KMS Sign errors: the errors
// the KMS API reference lists for Sign, and the common errors of every
// AWS API; any other is "other", so the label stays bounded.
var kmsErrorCodes = []string{
	"DependencyTimeoutException", "DisabledException", "DryRunOperationException", "InvalidGrantTokenException",
	"InvalidKeyUsageException", "KeyUnavailableException", "KMSInternalException", "KMSInvalidStateException",
	"NotFoundException", "AccessDeniedException", "ThrottlingException", "ValidationException",
	"UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature", "ExpiredTokenException",
	"RequestExpired", "InternalFailure", "ServiceUnavailable", "other",
}

// kmsMetrics are the series of KMS Sign calls, the start-up check
// included: their latency, and their errors by AWS error code.
type kmsMetrics struct {
	latency prometheus.Histogram
	errors  *prometheus.CounterVec
}

func newKMSMetrics() *kmsMetrics {
	return &kmsMetrics{
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cfcookies_kms_sign_duration_seconds",
			Help:    "Time of each KMS Sign call (each attempt), failed or not; its count is the number of calls.",
			Buckets: []float64{.0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfcookies_kms_sign_errors_total",
			Help: "Failed KMS Sign calls by AWS error code (ThrottlingException, DisabledException, ...; other for any other, network errors included).",
		}, []string{"code"}),
	}
}

// init makes every code's series exist at zero, once a KMS key is in use.
func (m *kmsMetrics) init() {
	if m == nil {
		return
	}
	for _, c := range kmsErrorCodes {
		m.errors.WithLabelValues(c)
	}
}

// observe is kmssigner's OnSign hook.
func (m *kmsMetrics) observe(took time.Duration, err error) {
	if m == nil {
		return
	}
	m.latency.Observe(took.Seconds())
	if err != nil {
		m.errors.WithLabelValues(kmsErrorCode(err)).Inc()
	}
}

// kmsErrorCode is err's AWS error code if it is one of kmsErrorCodes,
// else "other".
func kmsErrorCode(err error) string {
	if ae, ok := errors.AsType[smithy.APIError](err); ok && slices.Contains(kmsErrorCodes, ae.ErrorCode()) {
		return ae.ErrorCode()
	}
	return "other"
}
