package signer

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ParsePublicKeyPEM reads a key group's public key from PEM: the first
// "PUBLIC KEY" (PKIX, the form CloudFront's console and Terraform take) or
// "RSA PUBLIC KEY" (PKCS#1) block, or the public half of the first private
// key (see [ParsePrivateKeyPEM]). "EC PARAMETERS" blocks are skipped.
// Whether CloudFront accepts the key (RSA 2048, ECDSA P-256) is
// [CheckPublicKey]'s, and [NewVerifier]'s, to check. Errors never hold key material.
func ParsePublicKeyPEM(pemBytes []byte) (crypto.PublicKey, error) {
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("signer: no PEM public or private key found")
		}
		switch block.Type {
		case "EC PARAMETERS":
			continue
		case "PUBLIC KEY":
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("signer: parse PKIX public key: %w", err)
			}
			return pub, nil
		case "RSA PUBLIC KEY":
			pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("signer: parse PKCS#1 RSA public key: %w", err)
			}
			return pub, nil
		case "CERTIFICATE":
			return nil, errors.New("signer: found a certificate; a key group takes the public key itself (openssl x509 -pubkey -noout -in cert.pem)")
		}
		if !strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("signer: found a PEM block of type %q, not a key", strings.ToValidUTF8(block.Type, "?"))
		}
		key, err := ParsePrivateKeyPEM(pem.EncodeToMemory(block), KeyOptions{AllowAnyRSASize: true})
		if err != nil {
			return nil, err
		}
		return key.Public(), nil
	}
}
