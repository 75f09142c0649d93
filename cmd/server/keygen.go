package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/signer"
)

// keygen makes a key pair CloudFront accepts: it writes the private key as
// PKCS#8 PEM to --out (mode 0600, never over an existing file), prints the
// public key PEM on stdout, exactly what CloudFront's console and
// Terraform's aws_cloudfront_public_key take, and its fingerprint and the
// next steps on stderr.
func keygen(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("keygen", flag.ContinueOnError)
	typ := fset.String("type", "", "rsa (RSA 2048: SHA-256, or SHA-1 if chosen) or ecdsa (P-256: SHA-256)")
	out := fset.String("out", "", "file to write the private key to (mode 0600; an existing file is never overwritten)")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: server keygen --type rsa|ecdsa --out private.pem > public.pem")
		fmt.Fprintln(fset.Output(), "Write a new private key CloudFront accepts to --out and print its public key, ready for CloudFront.")
		fset.PrintDefaults()
	}
	if err := parseArgs(fset, args, stdout, stderr); err != nil {
		return err
	}
	var problem string
	switch {
	case fset.NArg() > 0:
		problem = fmt.Sprintf("unexpected argument %q", fset.Arg(0))
	case *typ != "rsa" && *typ != "ecdsa":
		problem = fmt.Sprintf("--type must be rsa or ecdsa, not %q", *typ)
	case *out == "":
		problem = "--out is required: the file to write the private key to"
	}
	if problem != "" {
		fset.Usage()
		return fmt.Errorf("%w: keygen: %s", errUsage, problem)
	}

	key, desc, err := generateKey(*typ)
	if err != nil {
		return err
	}
	if err := writePrivateKey(*out, key); err != nil {
		return err
	}
	pub, err := signer.PublicKeyPEM(key)
	if err != nil {
		return err
	}
	fingerprint, err := keys.Fingerprint(key.Public())
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if _, err := stdout.Write(pub); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stderr, nextSteps, desc, *out, fingerprint, *out)
	return nil
}

const nextSteps = `Wrote a new %s private key to %s (mode 0600). Keep it secret.
The public key is on stdout; its SHA-256 fingerprint is
  %s
(the server logs it as public_key_sha256 when it loads the key).

Next steps:
  1. Upload the public key to CloudFront (console: Key management > Public
     keys > Create public key; Terraform: aws_cloudfront_public_key with
     encoded_key = file("public.pem")) and add it to the distribution's
     trusted key group. CloudFront gives it an ID such as K2JCJMDEHXQW5F.
  2. Store the private key and that ID together as the secret named by
     CLOUDFRONT_PRIVATE_KEY_SECRET:
       jq -n --arg id K2JCJMDEHXQW5F --rawfile key %s \
         '{keyPairId: $id, privateKey: $key}' > secret.json
       aws secretsmanager put-secret-value --secret-id SECRET \
         --secret-string file://secret.json
     (or use CLOUDFRONT_PRIVATE_KEY_FILE or CLOUDFRONT_PRIVATE_KEY with
     CLOUDFRONT_KEY_PAIR_ID).
  3. When this key replaces another, keep the old public key in the key
     group until the longest cookie TTL has passed after every task logs
     "signing key rotated"; see docs/keys.md.
  4. Delete the private key and secret.json from this machine once stored.
`

// generateKey makes an RSA-2048 or ECDSA P-256 key, the two kinds
// CloudFront accepts, and names it.
func generateKey(typ string) (crypto.Signer, string, error) {
	if typ == "ecdsa" {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, "", fmt.Errorf("keygen: %w", err)
		}
		return k, "ECDSA P-256 (signs with SHA-256)", nil
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", fmt.Errorf("keygen: %w", err)
	}
	return k, "RSA 2048", nil
}

// writePrivateKey writes key as PKCS#8 PEM to a new file readable by its
// owner only. An existing file, or a symlink, at path is an error: a key is
// never overwritten.
func writePrivateKey(path string, key crypto.Signer) (err error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator names this file
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("keygen: %s already exists: refusing to overwrite it (move it away or choose another --out)", path)
	}
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("keygen: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(path) // a half-written key is of no use
		}
	}()
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	return nil
}
