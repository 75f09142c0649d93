package kmssigner_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/cfcookies/cfcookies/kmssigner"
)

// A service loads its AWS configuration, makes a Signer for the KMS key,
// prints the public key to register in CloudFront's key group, and gives
// the Signer to the signer package with SHA-256. (Not run: it needs AWS.)
func ExampleNew() {
	ctx := context.Background()
	var cfg aws.Config // from config.LoadDefaultConfig(ctx), module github.com/aws/aws-sdk-go-v2/config
	key, err := kmssigner.New(ctx, kms.NewFromConfig(cfg), "alias/cloudfront-cookies", kmssigner.Options{
		OnSign: func(took time.Duration, err error) {
			// Observe took in a histogram; count err by its code.
		},
	})
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr):
		// NotFoundException, DisabledException, AccessDeniedException...
		log.Fatalf("KMS refused the key: %s: %v", apiErr.ErrorCode(), err)
	case err != nil:
		log.Fatal(err) // ErrKeySpec, ErrKeyUsage, ErrBadSignature...
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		log.Fatal(err)
	}
	if err := pem.Encode(os.Stdout, &pem.Block{Type: "PUBLIC KEY", Bytes: der}); err != nil {
		log.Fatal(err)
	}
	// Then, with github.com/cfcookies/cfcookies/signer:
	//
	//	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{HashAlgorithm: signer.SHA256})
	//	signed, err := s.SignContext(r.Context(), grant)
}
