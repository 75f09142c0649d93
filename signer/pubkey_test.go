package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

func TestParsePublicKeyPEM(t *testing.T) {
	t.Parallel()
	k := struct {
		rsa *rsa.PrivateKey
		ec  *ecdsa.PrivateKey
	}{vkeys(t).rsa.(*rsa.PrivateKey), vkeys(t).ec.(*ecdsa.PrivateKey)}
	pkix := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, err := x509.MarshalECPrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	vector, err := os.ReadFile("testdata/vectors/test-rsa-key-public.pem")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		pem  []byte
		want any
	}{
		{"pkix rsa", pkix(k.rsa.Public()), k.rsa.Public()},
		{"pkix ecdsa", pkix(k.ec.Public()), k.ec.Public()},
		{"pkcs1 rsa public", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}), k.rsa.Public()},
		{"pkcs1 rsa private", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.rsa)}), k.rsa.Public()},
		{"pkcs8 ecdsa private", pkcs8(k.ec), k.ec.Public()},
		{"sec1 after ec parameters", append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...), k.ec.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := ParsePublicKeyPEM(tc.pem)
			if err != nil {
				t.Fatal(err)
			}
			type equaler interface{ Equal(crypto.PublicKey) bool }
			if !pub.(equaler).Equal(tc.want) {
				t.Errorf("got another key")
			}
		})
	}
	if pub, err := ParsePublicKeyPEM(vector); err != nil {
		t.Errorf("public test vector: %v", err)
	} else if _, ok := pub.(*rsa.PublicKey); !ok {
		t.Errorf("public test vector: %T", pub)
	}

	secret := x509.MarshalPKCS1PrivateKey(k.rsa)
	for _, tc := range []struct {
		name, pem, err string
	}{
		{"empty", "", "no PEM"},
		{"not pem", "hello", "no PEM"},
		{"certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "certificate"},
		{"other block", "-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n", `"DH PARAMETERS"`},
		{"bad public key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "parse PKIX"},
		{"truncated private key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: secret[:len(secret)/2]})), "PKCS#1"},
		{"encrypted private key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePublicKeyPEM([]byte(tc.pem))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one containing %q", err, tc.err)
			}
			if strings.Contains(err.Error(), "AAAA") {
				t.Errorf("error quotes the PEM: %v", err)
			}
		})
	}
}
