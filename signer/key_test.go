package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
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

// fakeRSAKey is a PKCS#1 RSAPrivateKey whose modulus has bits bits and whose
// other values are nonsense: x509 would refuse it, after the arithmetic of
// checking it. The bounds must refuse it first, for its size.
func fakeRSAKey(t *testing.T, bits int) []byte {
	t.Helper()
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(1))
	der, err := asn1.Marshal(struct {
		Version      int
		N            *big.Int
		E, D, P, Q   int
		Dp, Dq, Qinv int
	}{0, n, 65537, 3, 5, 7, 11, 13, 17})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestParsePrivateKeyPEMBounds: material no CloudFront key needs is refused
// for what it is, before any key is decoded, and cheaply.
func TestParsePrivateKeyPEMBounds(t *testing.T) {
	t.Parallel()
	rsaPEM := readKeyFile(t, "keys/rsa2048-pkcs8.pem")
	params := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
	pkcs8 := func(pkcs1 []byte) []byte {
		der, err := asn1.Marshal(pkcs8Key{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSA, Parameters: asn1.NullRawValue}, PrivateKey: pkcs1})
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name    string
		in      []byte
		opts    KeyOptions
		wantErr error
		errHas  string
	}{
		{"over MaxPEMSize, key first", append(append([]byte{}, rsaPEM...), bytes.Repeat([]byte("\n"), MaxPEMSize)...), KeyOptions{}, ErrKeyTooLarge, "at most 16384"},
		{"over MaxPEMSize, junk", bytes.Repeat([]byte("A"), MaxPEMSize+1), KeyOptions{}, ErrKeyTooLarge, "found 16385 bytes"},
		{"many EC PARAMETERS blocks", []byte(strings.Repeat(params, 5) + string(rsaPEM)), KeyOptions{}, ErrKeyTooLarge, "more than 4 PEM blocks"},
		{"PKCS#1 8192 bits", block("RSA PRIVATE KEY", fakeRSAKey(t, 8192)), KeyOptions{}, ErrRSAKeySize, "found 8192 bits"},
		{"PKCS#8 8192 bits", block("PRIVATE KEY", pkcs8(fakeRSAKey(t, 8192))), KeyOptions{}, ErrRSAKeySize, "found 8192 bits"},
		{"PKCS#1 8192 bits, any size allowed", block("RSA PRIVATE KEY", fakeRSAKey(t, 8192)), KeyOptions{AllowAnyRSASize: true}, ErrKeyTooLarge, "at most 4096 bits"},
		{"PKCS#8 16384 bits, any size allowed", block("PRIVATE KEY", pkcs8(fakeRSAKey(t, 16384))), KeyOptions{AllowAnyRSASize: true}, ErrKeyTooLarge, "16384-bit"},
		{"PKCS#1 1024 bits", block("RSA PRIVATE KEY", fakeRSAKey(t, 1024)), KeyOptions{}, ErrRSAKeySize, "found 1024 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := ParsePrivateKeyPEM(tt.in, tt.opts)
			if err == nil {
				t.Fatalf("parsed a %T, want an error", key)
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %q, want %v mentioning %q", err, tt.wantErr, tt.errHas)
			}
		})
	}
	// Three EC PARAMETERS blocks and the key are four: still read.
	if _, err := ParsePrivateKeyPEM([]byte(strings.Repeat(params, 3)+string(readKeyFile(t, "vectors/test-ecdsa-key.pem"))), KeyOptions{}); err != nil {
		t.Fatalf("a key after three EC PARAMETERS blocks: %v", err)
	}
}

func TestCheckPublicKeyBounds(t *testing.T) {
	t.Parallel()
	large := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 8191), E: 65537}
	if err := CheckPublicKey(large, KeyOptions{AllowAnyRSASize: true}); !errors.Is(err, ErrKeyTooLarge) {
		t.Fatalf("8192-bit key with AllowAnyRSASize: %v, want ErrKeyTooLarge", err)
	}
	if err := CheckPublicKey(large, KeyOptions{}); !errors.Is(err, ErrRSAKeySize) {
		t.Fatalf("8192-bit key: %v, want ErrRSAKeySize", err)
	}
}
