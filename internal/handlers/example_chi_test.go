package handlers_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// Mount the public handler and its refresh middleware in a chi router, as
// a Go service with its own login would. (It lives here because the
// library module does not require chi.)
func Example_chi() {
	now := func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // signer.ParsePrivateKeyPEM in a real service
	if err != nil {
		log.Fatal(err)
	}
	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	private, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		log.Fatal(err)
	}
	h, err := mediacookies.New(mediacookies.Config[mediacookies.Claims]{
		Signer:  s,
		BaseURL: "https://media.example.com",
		Scopes: []mediacookies.Scope[mediacookies.Claims]{
			{Name: "private", Path: private, CookiePath: "/", TTL: 10 * time.Minute},
		},
		Cookie: signer.CookieOptions{Domain: "example.com"},
		// The service's own login: here, a user name in a header.
		Identify: func(r *http.Request) (mediacookies.Claims, error) {
			if u := r.Header.Get("X-Demo-User"); u != "" {
				return mediacookies.Claims{"sub": u}, nil
			}
			return nil, errors.New("not logged in")
		},
		Now: now,
	})
	if err != nil {
		log.Fatal(err)
	}

	r := chi.NewRouter()
	r.Post("/auth/media-cookies", h.ServeIssue)
	r.Delete("/auth/media-cookies", h.ServeClear)
	r.With(h.Refresh).Get("/library", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "your videos")
	})

	for _, req := range []struct{ method, path string }{
		{"POST", "/auth/media-cookies"}, {"GET", "/library"}, {"DELETE", "/auth/media-cookies"}, {"PUT", "/auth/media-cookies"},
	} {
		rq := httptest.NewRequest(req.method, "https://app.example.com"+req.path, nil)
		rq.Header.Set("X-Demo-User", "alice")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, rq)
		fmt.Println(req.method, req.path, w.Code, len(w.Result().Cookies()), "cookies")
	}
	// Output:
	// POST /auth/media-cookies 200 4 cookies
	// GET /library 200 4 cookies
	// DELETE /auth/media-cookies 204 5 cookies
	// PUT /auth/media-cookies 405 0 cookies
}
