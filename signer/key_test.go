package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustParsePublic(t *testing.T, pemBytes []byte) crypto.PublicKey {
	t.Helper()
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatal("no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func readKeyFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePrivateKeyPEM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		opts    KeyOptions
		wantRSA bool
		wantEC  bool
		wantErr error  // errors.Is target, when set
		errHas  string // substring of the error, when set
	}{
		{file: "keys/rsa2048-pkcs1.pem", wantRSA: true},
		{file: "keys/rsa2048-pkcs8.pem", wantRSA: true},
		{file: "vectors/test-ecdsa-key.pem", wantEC: true},
		{file: "vectors/test-ecdsa-key-sec1.pem", wantEC: true},
		{file: "keys/p256-with-params.pem", wantEC: true},
		{file: "vectors/test-rsa-key.pem", wantErr: ErrRSAKeySize, errHas: "found 1024 bits"},
		{file: "vectors/test-rsa-key-pkcs1.pem", wantErr: ErrRSAKeySize},
		{file: "vectors/test-rsa-key.pem", opts: KeyOptions{AllowAnyRSASize: true}, wantRSA: true},
		{file: "keys/rsa3072.pem", wantErr: ErrRSAKeySize, errHas: "found 3072 bits"},
		{file: "vectors/test-dsa-key.pem", wantErr: ErrUnsupportedKey, errHas: "found a PKCS#8 DSA key"},
		{file: "keys/ed25519.pem", wantErr: ErrUnsupportedKey, errHas: "ed25519"},
		{file: "keys/p384-sec1.pem", wantErr: ErrUnsupportedKey, errHas: "P-384"},
		{file: "keys/p384-pkcs8.pem", wantErr: ErrUnsupportedKey, errHas: "P-384"},
		{file: "keys/secp256k1-pkcs8.pem", wantErr: ErrUnsupportedKey, errHas: "ECDSA (on an unsupported curve)"},
		{file: "keys/cert.pem", errHas: "certificate"},
		{file: "keys/rsa2048-public.pem", errHas: "public key"},
		{file: "vectors/test-ecdsa-key-public.pem", errHas: "public key"},
		{file: "keys/rsa2048-encrypted.pem", errHas: "encrypted"},
		{file: "keys/rsa2048-encrypted-legacy.pem", errHas: "encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			key, err := ParsePrivateKeyPEM(readKeyFile(t, tt.file), tt.opts)
			if tt.wantErr != nil || tt.errHas != "" {
				if err == nil {
					t.Fatalf("parsed a %T, want an error", key)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("err = %q, want it to mention %q", err, tt.errHas)
				}
				if strings.Contains(err.Error(), "MII") {
					t.Errorf("error leaks key material: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, isRSA := key.(*rsa.PrivateKey)
			_, isEC := key.(*ecdsa.PrivateKey)
			if isRSA != tt.wantRSA || isEC != tt.wantEC {
				t.Fatalf("got %T", key)
			}
		})
	}
}

func TestParsePrivateKeyPEMGarbage(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
		"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"} {
		if k, err := ParsePrivateKeyPEM([]byte(in), KeyOptions{}); err == nil {
			t.Errorf("ParsePrivateKeyPEM(%q) = %T, want an error", in, k)
		}
	}
}

func TestPublicKeyPEMRoundTrip(t *testing.T) {
	t.Parallel()
	key, err := ParsePrivateKeyPEM(readKeyFile(t, "vectors/test-ecdsa-key.pem"), KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := PublicKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	if want := readKeyFile(t, "vectors/test-ecdsa-key-public.pem"); string(got) != string(want) {
		t.Fatalf("public PEM\n%s\nwant\n%s", got, want)
	}
}
