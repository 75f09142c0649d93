package signer_test

import (
	"crypto"
	"net/http"
	"net/http/httptest"
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

// BenchmarkSetCookies writes one signed policy's cookies into a response
// header: through Signed.Cookies and http.SetCookie, and through a
// CookieHeader prepared once.
func BenchmarkSetCookies(b *testing.B) {
	s, err := signer.New("K2JCJMDEHXQW5F", benchKey(b, "testdata/keys/rsa2048-pkcs8.pem"), signer.Options{HashAlgorithm: signer.SHA256})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	signed, err := s.Sign(signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	o := signer.CookieOptions{Domain: "example.com"}
	b.Run("http.SetCookie", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder() // its allocations count in both cases
			cookies, err := signed.Cookies(o, now)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range cookies {
				http.SetCookie(w, c)
			}
		}
	})
	b.Run("CookieHeader", func(b *testing.B) {
		f, err := signer.NewCookieHeader(o)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			if err := f.Set(w.Header(), signed, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
