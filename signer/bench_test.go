package signer_test

import (
	"crypto"
	"os"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

func benchKey(b *testing.B, file string) crypto.Signer {
	b.Helper()
	pemBytes, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return key
}

// BenchmarkSign is one private-key signature of a typical policy, by key
// type and hash: what every cache miss costs. RSA SHA-1 goes through the
// AWS sign module, as Signer.Sign does.
func BenchmarkSign(b *testing.B) {
	for _, tc := range []struct {
		name string
		file string
		hash signer.HashAlgorithm
	}{
		{"RSA-SHA1", "testdata/keys/rsa2048-pkcs8.pem", signer.SHA1},
		{"RSA-SHA256", "testdata/keys/rsa2048-pkcs8.pem", signer.SHA256},
		{"ECDSA-P256", "testdata/vectors/test-ecdsa-key-sec1.pem", signer.SHA256},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := signer.New("K2JCJMDEHXQW5F", benchKey(b, tc.file), signer.Options{HashAlgorithm: tc.hash})
			if err != nil {
				b.Fatal(err)
			}
			g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Hour)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
