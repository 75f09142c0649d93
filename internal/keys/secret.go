package keys

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// SecretsClient is the one Secrets Manager call the Store makes.
// *secretsmanager.Client is one.
type SecretsClient interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsClient = (*secretsmanager.Client)(nil)

// NewSecretsClient returns a Secrets Manager client configured as the AWS
// SDK finds its settings: credentials from the ECS task role (or the
// environment, a profile, EC2 instance metadata) and the region from
// AWS_REGION, or else the region of secretID when it is an ARN. The SDK's
// standard retryer retries throttling, 5xx answers and network errors (3
// attempts in all, with jittered backoff).
func NewSecretsClient(ctx context.Context, secretID string) (*secretsmanager.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: CLOUDFRONT_PRIVATE_KEY_SECRET: load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if a, err := arn.Parse(secretID); err == nil {
			cfg.Region = a.Region
		}
	}
	if cfg.Region == "" {
		return nil, errors.New("keys: CLOUDFRONT_PRIVATE_KEY_SECRET: no AWS region: set AWS_REGION (ECS sets it) or give the secret's full ARN")
	}
	return secretsmanager.NewFromConfig(cfg), nil
}

// secretSource is CLOUDFRONT_PRIVATE_KEY_SECRET: the current version
// (AWSCURRENT) of a Secrets Manager secret, as text or binary.
type secretSource struct {
	client SecretsClient
	id     string
}

func (s secretSource) read(ctx context.Context) ([]byte, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &s.id})
	if err != nil {
		return nil, s.apiError(err)
	}
	if out.SecretString != nil {
		return []byte(*out.SecretString), nil
	}
	return out.SecretBinary, nil
}

func (secretSource) kind() string      { return "secret" }
func (secretSource) jsonAllowed() bool { return true }
func (s secretSource) String() string  { return fmt.Sprintf("CLOUDFRONT_PRIVATE_KEY_SECRET %q", s.id) }

// apiError names the secret and says what to do about the errors an
// operator must fix, which are permanent; the SDK's message keeps AWS's
// error code. The rest (throttling and 5xx answers the SDK already retried,
// network errors, a secret that does not exist yet) are worth retrying.
func (s secretSource) apiError(err error) error {
	err = fmt.Errorf("keys: %s: %w", s, err)
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok {
		return err
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException":
		return permanent(fmt.Errorf("%w (the task role needs secretsmanager:GetSecretValue on the secret, and kms:Decrypt on its key when that is a customer managed key)", err))
	case "DecryptionFailure":
		return permanent(fmt.Errorf("%w (the task role needs kms:Decrypt on the secret's KMS key)", err))
	case "InvalidParameterException", "InvalidRequestException", "UnrecognizedClientException":
		return permanent(err)
	case "ResourceNotFoundException":
		return fmt.Errorf("%w (no such secret, or it has no AWSCURRENT value yet)", err)
	}
	return err
}
