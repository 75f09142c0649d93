package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzVars are the variables FuzzLoad sets.
var fuzzVars = []string{
	"LISTEN_ADDR", "METRICS_ADDR", "CLOUDFRONT_DOMAIN", "CLOUDFRONT_KEY_PAIR_ID", "CLOUDFRONT_HASH_ALGORITHM",
	"COOKIE_DOMAIN", "COOKIE_PATH", "COOKIE_SAMESITE", "COOKIE_SECURE", "COOKIE_TTL", "MEDIA_PATH",
	"AUTH_MODE", "OIDC_ISSUER", "OIDC_AUDIENCE", "AUTH_COOKIE", "CORS_ALLOWED_ORIGINS", "TRUSTED_PROXIES",
	"BIND_CLIENT_IP", "BIND_CLIENT_IP_IPV6", "ALLOW_GET", "LOG_LEVEL", "LOG_FORMAT", "KEY_REFRESH_INTERVAL",
}

// FuzzLoad sets two variables to arbitrary values: Load must not panic, and
// must either return a Config or errors that each name a variable.
func FuzzLoad(f *testing.F) {
	f.Add(uint8(2), "https://media.example.com", uint8(5), ".example.com")
	f.Add(uint8(6), "", uint8(10), "/media/{sub}/*")
	f.Add(uint8(15), "*", uint8(16), "10.0.0.0/8, ::/0")
	f.Add(uint8(9), "0s", uint8(7), "none")
	f.Add(uint8(10), "/{sub/*", uint8(5), "com")
	f.Fuzz(func(t *testing.T, i uint8, a string, j uint8, b string) {
		e := env(false, map[string]string{fuzzVars[int(i)%len(fuzzVars)]: a, fuzzVars[int(j)%len(fuzzVars)]: b})
		c, err := Load(lookup(e), false)
		if err == nil {
			if c == nil || len(c.Scopes) == 0 || c.Cookie.Path == "" {
				t.Fatalf("accepted a config with no scope or no cookie path: %+v", c)
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %v is not a list of variable errors", err)
		}
		for _, fe := range errs {
			if fe.Var == "" || fe.Rule == "" {
				t.Fatalf("error without a variable or rule: %+v", fe)
			}
		}
	})
}

// FuzzScopesFile loads arbitrary SCOPES_FILE contents: no panic; a refusal
// names the file; an accepted file yields named scopes whose cookie path
// covers their path.
func FuzzScopesFile(f *testing.F) {
	f.Add([]byte("scopes:\n  - name: private\n    path: /media/{sub}/*\n    cookiePath: /media/\n"))
	f.Add([]byte("claims: [tenant_id, groups]\nscopes:\n  - name: p\n    path: /t/{tenant_id}/u/{sub}/*\n    cookiePath: /t/\n  - name: premium\n    path: /premium/*\n    cookiePath: /premium/\n    ttl: 1h\n    allow:\n      - claim: groups\n        contains: premium\n"))
	f.Add([]byte(`{"scopes":[{"name":"a","path":"/a/*"}]}`))
	f.Add([]byte("scopes: [{name: a, path: /a/*, cookiePath: /b/}]"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, doc []byte) {
		path := filepath.Join(t.TempDir(), "scopes.yaml")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		e := env(false, map[string]string{"SCOPES_FILE": path, "MEDIA_PATH": unset})
		c, err := Load(lookup(e), false)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v is not a list of variable errors", err)
			}
			for _, fe := range errs {
				if fe.Var == "SCOPES_FILE" && !strings.HasPrefix(fe.Rule, path+":") {
					t.Fatalf("problem %q does not name the file", fe.Rule)
				}
			}
			return
		}
		if len(c.Scopes) == 0 {
			t.Fatal("accepted a file with no scope")
		}
		for _, sc := range c.Scopes {
			if !scopeName.MatchString(sc.Name) || sc.Path == nil || sc.TTL <= 0 {
				t.Fatalf("accepted scope %+v", sc)
			}
			if !strings.HasPrefix(sc.Path.String(), strings.TrimSuffix(sc.CookiePath, "/")) {
				t.Fatalf("scope %s: cookie path %q does not cover %q", sc.Name, sc.CookiePath, sc.Path)
			}
		}
	})
}
