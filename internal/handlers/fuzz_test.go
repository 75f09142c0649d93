package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

// Fuzz inputs stay short: Go's fuzzer minimizes a new input in time that
// grows with the square of its length. Request bodies worth fuzzing (a few
// scope names) fit well within these.
const (
	maxFuzzBody  = 256
	maxFuzzField = 64 // a content type, a user, a scope name or path
)

// FuzzIssueRequest sends arbitrary scope requests (content type, body) as
// arbitrary dev identities: nothing panics, a refusal sets no cookie, and
// an answer grants only the caller's own path and the scopes it may have.
func FuzzIssueRequest(f *testing.F) {
	private, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		f.Fatal(err)
	}
	staff, err := signer.ParsePathTemplate("/staff/*")
	if err != nil {
		f.Fatal(err)
	}
	s, err := signer.New("K2JCJMDEHXQW5F", testKey, signer.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		f.Fatal(err)
	}
	h := NewServer(zerolog.Nop(), Options{
		CloudFrontBaseURL: "https://media.example.com",
		Scopes: []Scope{
			{Name: "private", Path: private, CookiePath: "/media/", TTL: 10 * time.Minute},
			{Name: "staff", Path: staff, CookiePath: "/staff/", TTL: time.Hour,
				Allowed: func(id auth.Identity) bool { return id.Subject == "alice" }},
		},
		Now: func() time.Time { return testNow },
	}, fixed(s), auth.Dev{}, func() bool { return true }, NewMetrics())

	f.Add("application/json", `{"scopes":["private"]}`, "alice")
	f.Add("application/json", `{"scopes":["staff"]}`, "bob")
	f.Add("application/json", `{"scopes":["private","staff"]}`, "alice")
	f.Add("application/json; charset=utf-8", `{}`, "bob")
	f.Add("", "", "*")
	f.Add("text/plain", `{"scopes":["staff"]}`, "alice")
	f.Add("application/json", `{"scopes":["private"]} {"scopes":["staff"]}`, "bob")
	f.Add("application/json", `{"scopes":["private","private"]}`, "bob")

	f.Fuzz(func(t *testing.T, contentType, body, user string) {
		if len(contentType) > maxFuzzField || len(body) > maxFuzzBody || len(user) > maxFuzzField {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/auth/media-cookies", strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		r.Header.Set(auth.DevUserHeader, user)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cookies := w.Result().Cookies()
		if w.Code != http.StatusOK {
			if w.Code >= 500 {
				t.Fatalf("status %d", w.Code)
			}
			if len(cookies) != 0 {
				t.Fatalf("status %d set %d cookies", w.Code, len(cookies))
			}
			return
		}
		var resp struct {
			Grants []struct{ Scope, Resource, CookiePath string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		// Three cookies and, with SHA-1, an expired CloudFront-Hash-Algorithm.
		if len(resp.Grants) == 0 || len(cookies) != 4*len(resp.Grants) {
			t.Fatalf("%d grants, %d cookies", len(resp.Grants), len(cookies))
		}
		id, err := auth.Dev{}.Authenticate(r)
		if err != nil {
			t.Fatalf("200 for an identity Dev refuses: %v", err)
		}
		for _, g := range resp.Grants {
			switch {
			case g.Scope == "private" && g.Resource == "https://media.example.com/media/"+id.Subject+"/*":
			case g.Scope == "staff" && g.Resource == "https://media.example.com/staff/*" && id.Subject == "alice":
			default:
				t.Fatalf("identity %q granted %q by scope %q", id.Subject, g.Resource, g.Scope)
			}
			if strings.ContainsAny(id.Subject, "*?/") {
				t.Fatalf("identity %q with a wildcard or slash was granted %q", id.Subject, g.Resource)
			}
		}
	})
}
