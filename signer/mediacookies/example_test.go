package mediacookies_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// now is the examples' clock, so that their output does not change.
func now() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

// sessions stands for the service's own login: the user of a session
// cookie.
var sessions = map[string]string{"s3cr3t": "alice"}

// identify is Config.Identify: the caller's claims from the service's
// own session, which path templates expand ({sub}) and scopes allow.
func identify(r *http.Request) (mediacookies.Claims, error) {
	c, err := r.Cookie("session")
	if err != nil || sessions[c.Value] == "" {
		return nil, errors.New("not logged in")
	}
	return mediacookies.Claims{"sub": sessions[c.Value]}, nil
}

// newHandler is what a service sets up once: a signer for its CloudFront
// key pair (any crypto.Signer: a key from PEM, KMS, an HSM) and one scope.
func newHandler() *mediacookies.Handler[mediacookies.Claims] {
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
			{Name: "private", Path: private, CookiePath: "/media/", TTL: 10 * time.Minute},
		},
		Cookie:   signer.CookieOptions{Domain: "example.com"},
		Identify: identify,
		Now:      now,
	})
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// printCookies prints the Set-Cookie lines of w without their values,
// which are credentials.
func printCookies(w *httptest.ResponseRecorder) {
	for _, c := range w.Result().Cookies() {
		fmt.Println(c.Name + strings.TrimPrefix(c.String(), c.Name+"="+c.Value))
	}
}

// Mount the handler in net/http's ServeMux: POST issues, DELETE clears.
func Example() {
	h := newHandler()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/media-cookies", h.ServeIssue)
	mux.HandleFunc("DELETE /auth/media-cookies", h.ServeClear)

	r := httptest.NewRequest("POST", "https://app.example.com/auth/media-cookies", nil)
	r.AddCookie(&http.Cookie{Name: "session", Value: "s3cr3t"})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	fmt.Print(w.Body)
	printCookies(w)

	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("POST", "https://app.example.com/auth/media-cookies", nil))
	fmt.Print(w.Code, " ", w.Body)
	// Output:
	// 200 no-store
	// {"expiresAt":"2026-11-21T12:10:00Z","refreshAfter":"2026-11-21T12:08:00Z","grants":[{"scope":"private","resource":"https://media.example.com/media/alice/*","cookiePath":"/media/"}]}
	// CloudFront-Policy; Path=/media/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// CloudFront-Signature; Path=/media/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// CloudFront-Key-Pair-Id; Path=/media/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// CloudFront-Hash-Algorithm; Path=/media/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// 401 {"type":"urn:cfcookies:problem:unauthenticated","title":"Unauthorized","status":401,"detail":"no valid identity"}
}

// Keep the cookies fresh on the service's own pages: Refresh sets them
// when the request lacks them (or they are near expiry, from another key
// or of another user), and adds nothing otherwise.
func ExampleHandler_Refresh() {
	h := newHandler()
	app := http.NewServeMux()
	app.HandleFunc("GET /media/{user}/player", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "<video src=...>")
	})
	site := h.Refresh(app)

	visit := func(cookies []*http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "https://app.example.com/media/alice/player", nil)
		r.AddCookie(&http.Cookie{Name: "session", Value: "s3cr3t"})
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		site.ServeHTTP(w, r)
		return w
	}
	first := visit(nil)
	fmt.Println("first visit sets", len(first.Result().Cookies()), "cookies")
	second := visit(first.Result().Cookies())
	fmt.Println("second visit sets", len(second.Result().Cookies()), "cookies")
	fmt.Print(second.Body)
	// Output:
	// first visit sets 4 cookies
	// second visit sets 0 cookies
	// <video src=...>
}
