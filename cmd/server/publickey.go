package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/keys"
)

// publicKey prints the public key of the configured key source (inline,
// file, secret or KMS key) as PEM on stdout, ready for CloudFront, and
// what it is, its fingerprint and the next step on stderr. It needs only
// the key source: CLOUDFRONT_KEY_PAIR_ID is what CloudFront gives the key
// it prints.
func publicKey(ctx context.Context, args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("public-key", flag.ContinueOnError)
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: server public-key > public.pem")
		fmt.Fprintln(fset.Output(), "Print the public key of the configured key source (CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_PRIVATE_KEY_FILE,")
		fmt.Fprintln(fset.Output(), "CLOUDFRONT_PRIVATE_KEY_SECRET or CLOUDFRONT_KMS_KEY_ID) as PEM, ready for CloudFront, and its fingerprint on stderr.")
	}
	if err := parseFlags(fset, args, stdout, stderr); err != nil {
		return err
	}
	k, err := config.KeySource(getenv)
	if err != nil {
		return err
	}
	info, err := keys.ReadPublicKey(ctx, k, keys.Options{})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(stdout, info.PublicKeyPEM); err != nil {
		return fmt.Errorf("public-key: %w", err)
	}
	what := "key source " + info.Source
	if info.KMSKeyARN != "" {
		what += ", KMS key " + info.KMSKeyARN
	}
	if info.KeyPairID != "" {
		what += ", key pair id " + info.KeyPairID
	}
	fmt.Fprintf(stderr, publicKeyNotes, info.KeyType, what, info.Fingerprint)
	return nil
}

const publicKeyNotes = `The public key of the %s key (%s) is on stdout; its SHA-256 fingerprint is
  %s
(the server logs it as public_key_sha256 when it loads the key).
Upload it as a CloudFront public key (Terraform: aws_cloudfront_public_key with
encoded_key = file("public.pem")), add it to the distribution's trusted key
group, and set CLOUDFRONT_KEY_PAIR_ID to the ID CloudFront gives it.
`
