package handlers

import (
	"crypto"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

// BenchmarkIssueCookies is POST /auth/media-cookies end to end through the
// whole middleware chain (request id, JSON access log to a discarding
// writer, metrics, routing), for the default scope:
//   - miss: a new identity per request, every request signs (RSA SHA-1);
//   - miss-ECDSA: the same with an ECDSA P-256 key;
//   - hit: one identity, answered by the signature cache.
func BenchmarkIssueCookies(b *testing.B) {
	for _, tc := range []struct {
		name    string
		keyFile string
		cached  bool
		oneUser bool
	}{
		{"miss-RSA", "keys/rsa2048-pkcs8.pem", true, false},
		{"miss-ECDSA", "vectors/test-ecdsa-key-sec1.pem", true, false},
		{"hit", "keys/rsa2048-pkcs8.pem", true, true},
		{"nocache-RSA", "keys/rsa2048-pkcs8.pem", false, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pemBytes, err := os.ReadFile(filepath.Join("..", "..", "signer", "testdata", tc.keyFile))
			if err != nil {
				b.Fatal(err)
			}
			key, err := signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
			if err != nil {
				b.Fatal(err)
			}
			h := benchServer(b, key, tc.cached)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				user := "alice"
				if !tc.oneUser {
					user = "user" + strconv.Itoa(i)
				}
				req := httptest.NewRequest("POST", "/auth/media-cookies", nil)
				req.Header.Set(auth.DevUserHeader, user)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

func benchServer(b *testing.B, key crypto.Signer, cached bool) http.Handler {
	b.Helper()
	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cache := 0
	if cached {
		cache = 1024
	}
	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		b.Fatal(err)
	}
	return NewServer(zerolog.New(discard{}), Options{
		CloudFrontBaseURL:  "https://media.example.com",
		Scopes:             []Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: 10 * time.Minute}},
		Cookie:             signer.CookieOptions{Domain: "example.com"},
		ExpiryGranularity:  time.Minute,
		SignatureCacheSize: cache,
	}, fixed(s), auth.Dev{}, func() bool { return true }, NewMetrics())
}

// discard is a log sink that, unlike io.Discard, zerolog cannot skip:
// every line is still formatted, as in production.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
