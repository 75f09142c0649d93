package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	mbits "math/bits"
	"strings"
)

// CloudFront accepts 2048-bit RSA public keys and ECDSA P-256 ones.
const rsaKeyBits = 2048

// Bounds on what ParsePrivateKeyPEM reads, checked before any key is decoded,
// so that hostile or mistaken material (a whole certificate bundle, a
// 16384-bit key, a file of repeated headers) costs microseconds, not the
// milliseconds to seconds that validating a large RSA key takes.
const (
	// MaxPEMSize is the most key material ParsePrivateKeyPEM accepts. An
	// RSA-2048 PKCS#8 PEM is about 1.7 KiB, an ECDSA P-256 one under 300
	// bytes.
	MaxPEMSize = 16 << 10
	// maxPEMBlocks is how many PEM blocks may come before the private key
	// ("EC PARAMETERS" blocks, which are skipped).
	maxPEMBlocks = 4
	// maxRSAKeyBits bounds KeyOptions.AllowAnyRSASize.
	maxRSAKeyBits = 4096
)

// Errors returned for keys CloudFront would not accept. Wrapped errors carry
// what was found; test with errors.Is.
var (
	ErrUnsupportedKey = errors.New("signer: unsupported key: CloudFront accepts RSA 2048-bit or ECDSA P-256 keys")
	ErrRSAKeySize     = errors.New("signer: RSA key is not 2048 bits (CloudFront accepts only 2048-bit RSA keys)")
	ErrNoKey          = errors.New("signer: no private key found in PEM")
	ErrKeyTooLarge    = errors.New("signer: key material is too large")
)

// KeyOptions adjusts which keys are accepted. The zero value accepts exactly
// what CloudFront accepts.
type KeyOptions struct {
	// AllowAnyRSASize accepts RSA keys of other sizes, up to 4096 bits.
	// CloudFront only accepts 2048-bit RSA public keys in a key group; the
	// public test vectors use a 1024-bit key. Leave it false outside tests.
	AllowAnyRSASize bool
}

// ParsePrivateKeyPEM parses the first private key in pemBytes: RSA in PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"), ECDSA P-256 in SEC1
// ("EC PRIVATE KEY") or PKCS#8. "EC PARAMETERS" blocks, as written by
// "openssl ecparam -genkey", are skipped. Certificates, public keys,
// encrypted PEM, and DSA, Ed25519 or other curves are refused with an error
// naming what was found. Errors never contain key material.
//
// Before decoding a key it refuses, with ErrKeyTooLarge, material over
// MaxPEMSize bytes, more than a few PEM blocks before the key, and an RSA
// key whose modulus is not one it would accept (2048 bits, or up to 4096
// with AllowAnyRSASize), so that no input costs the arithmetic of
// validating a large key.
func ParsePrivateKeyPEM(pemBytes []byte, opts KeyOptions) (crypto.Signer, error) {
	if len(pemBytes) > MaxPEMSize {
		return nil, fmt.Errorf("%w: found %d bytes, at most %d are read (a CloudFront key's PEM is under 2 KiB)", ErrKeyTooLarge, len(pemBytes), MaxPEMSize)
	}
	rest := pemBytes
	for n := 1; ; n++ {
		if n > maxPEMBlocks {
			return nil, fmt.Errorf("%w: found more than %d PEM blocks before a private key", ErrKeyTooLarge, maxPEMBlocks)
		}
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, ErrNoKey
		}
		if block.Type == "EC PARAMETERS" {
			continue
		}
		if err := checkRSASize(block, opts); err != nil {
			return nil, err
		}
		key, err := parseBlock(block)
		if err != nil {
			return nil, err
		}
		if err := CheckPublicKey(key.Public(), opts); err != nil {
			return nil, err
		}
		return key, nil
	}
}

func parseBlock(block *pem.Block) (crypto.Signer, error) {
	if block.Headers["Proc-Type"] != "" || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("signer: the PEM private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signer: parse PKCS#1 RSA private key: %w", err)
		}
		return k, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signer: parse SEC1 EC private key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			if alg := pkcs8Algorithm(block.Bytes); alg != "" {
				return nil, fmt.Errorf("%w: found a PKCS#8 %s key", ErrUnsupportedKey, alg)
			}
			return nil, fmt.Errorf("%w: PKCS#8 key of an unknown algorithm (%w)", ErrUnsupportedKey, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: found %T", ErrUnsupportedKey, k)
		}
		return s, nil
	case "CERTIFICATE":
		return nil, errors.New("signer: found a certificate, not a private key")
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, errors.New("signer: found a public key; signing needs the private key")
	case "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY":
		return nil, fmt.Errorf("%w: found %q", ErrUnsupportedKey, block.Type)
	default:
		return nil, fmt.Errorf("%w: found a PEM block of type %q", ErrUnsupportedKey, strings.ToValidUTF8(block.Type, "?"))
	}
}

// Algorithms of PKCS#8 keys the standard library does not parse, and RSA.
var (
	oidDSA   = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidECDSA = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

// pkcs8Key is the outer structure of a PKCS#8 private key (RFC 5208).
type pkcs8Key struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// checkRSASize reads the modulus length of an RSA private key block, PKCS#1
// or PKCS#8, from its ASN.1 framing alone and refuses a size the options do
// not accept, before x509 validates the key (which costs time that grows
// with the cube of the size). Blocks that are not RSA keys, or whose
// framing does not parse, are left to parseBlock.
func checkRSASize(block *pem.Block, opts KeyOptions) error {
	der := block.Bytes
	switch block.Type {
	case "RSA PRIVATE KEY":
	case "PRIVATE KEY":
		var k pkcs8Key
		if _, err := asn1.Unmarshal(der, &k); err != nil || !k.Algorithm.Algorithm.Equal(oidRSA) {
			return nil
		}
		der = k.PrivateKey
	default:
		return nil
	}
	// RSAPrivateKey ::= SEQUENCE { version, modulus, ... }: the fields after
	// the modulus are not read.
	var k struct {
		Version int
		N       asn1.RawValue
	}
	if _, err := asn1.Unmarshal(der, &k); err != nil || k.N.Tag != asn1.TagInteger {
		return nil
	}
	n := bytes.TrimLeft(k.N.Bytes, "\x00")
	bits := 0
	if len(n) > 0 {
		bits = 8*(len(n)-1) + mbits.Len8(n[0])
	}
	switch {
	case bits == rsaKeyBits:
		return nil
	case !opts.AllowAnyRSASize:
		return fmt.Errorf("%w: found %d bits", ErrRSAKeySize, bits)
	case bits > maxRSAKeyBits:
		return fmt.Errorf("%w: found a %d-bit RSA key, at most %d bits are read", ErrKeyTooLarge, bits, maxRSAKeyBits)
	}
	return nil
}

// pkcs8Algorithm names the algorithm of a PKCS#8 key x509 could not
// parse, when it is one worth naming: "DSA", or "ECDSA" on a curve other
// than P-224/256/384/521 (such as secp256k1).
func pkcs8Algorithm(der []byte) string {
	var k pkcs8Key
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		return ""
	}
	switch {
	case k.Algorithm.Algorithm.Equal(oidDSA):
		return "DSA"
	case k.Algorithm.Algorithm.Equal(oidECDSA):
		return "ECDSA (on an unsupported curve)"
	}
	return ""
}

// CheckPublicKey reports whether CloudFront would accept pub in a key group:
// a 2048-bit RSA key (up to 4096 bits with opts.AllowAnyRSASize) or an
// ECDSA P-256 key.
func CheckPublicKey(pub crypto.PublicKey, opts KeyOptions) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); {
		case bits == rsaKeyBits:
		case !opts.AllowAnyRSASize:
			return fmt.Errorf("%w: found %d bits", ErrRSAKeySize, bits)
		case bits > maxRSAKeyBits:
			return fmt.Errorf("%w: found a %d-bit RSA key, at most %d bits are read", ErrKeyTooLarge, bits, maxRSAKeyBits)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("%w: found ECDSA on curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
		}
		return nil
	default:
		return fmt.Errorf("%w: found %T", ErrUnsupportedKey, pub)
	}
}

// PublicKeyPEM returns the PKIX ("PUBLIC KEY") PEM of the signer's public
// key: the form CloudFront's console and Terraform's aws_cloudfront_public_key
// take.
func PublicKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("signer: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
