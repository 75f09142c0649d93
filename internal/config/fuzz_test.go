package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz inputs stay short: Go's fuzzer minimizes a new input in time that
// grows with the square of its length, and nothing else runs meanwhile.
const (
	maxFuzzValue = 128 // an environment variable's value
	maxFuzzDoc   = 160 // a scopes file; the longest seed is 114 bytes
)

// fuzzVars are the variables FuzzLoad sets.
var fuzzVars = []string{
	"LISTEN_ADDR", "METRICS_ADDR", "CLOUDFRONT_DOMAIN", "CLOUDFRONT_KEY_PAIR_ID", "CLOUDFRONT_HASH_ALGORITHM",
	"COOKIE_DOMAIN", "COOKIE_PATH", "COOKIE_SAMESITE", "COOKIE_SECURE", "COOKIE_TTL", "MEDIA_PATH",
	"AUTH_MODE", "OIDC_ISSUER", "OIDC_AUDIENCE", "AUTH_COOKIE", "CORS_ALLOWED_ORIGINS", "TRUSTED_PROXIES",
	"BIND_CLIENT_IP", "BIND_CLIENT_IP_IPV6", "ALLOW_GET", "LOG_LEVEL", "LOG_FORMAT", "KEY_REFRESH_INTERVAL",
}

// FuzzLoad sets two variables to arbitrary values: Load must not panic, and
// must either return a Config or errors that each name a variable. Read
// must return a Config and no problem that Load does not report.
func FuzzLoad(f *testing.F) {
	f.Add(uint8(2), "https://media.example.com", uint8(5), ".example.com")
	f.Add(uint8(6), "", uint8(10), "/media/{sub}/*")
	f.Add(uint8(15), "*", uint8(16), "10.0.0.0/8, ::/0")
	f.Add(uint8(9), "0s", uint8(7), "none")
	f.Add(uint8(10), "/{sub/*", uint8(5), "com")
	f.Fuzz(func(t *testing.T, i uint8, a string, j uint8, b string) {
		if len(a) > maxFuzzValue || len(b) > maxFuzzValue {
			return
		}
		e := env(false, map[string]string{fuzzVars[int(i)%len(fuzzVars)]: a, fuzzVars[int(j)%len(fuzzVars)]: b})
		c, err := Load(lookup(e), false)
		read, problems := Read(lookup(e), false)
		if read == nil {
			t.Fatal("Read returned no Config")
		}
		for _, p := range problems {
			if !errors.Is(err, p) {
				t.Fatalf("Read reports %v, which Load (%v) does not", p, err)
			}
		}
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
	f.Add([]byte("claims: [tenant_id]\nscopes:\n- {name: p, path: /t/{tenant_id}/u/{sub}/*, cookiePath: /t/}\n"))
	f.Add([]byte("claims: [groups]\nscopes:\n- {name: premium, path: /premium/*, ttl: 1h, allow: [{claim: groups, contains: premium}]}\n"))
	f.Add([]byte(`{"scopes":[{"name":"a","path":"/a/*"}]}`))
	f.Add([]byte("scopes: [{name: a, path: /a/*, cookiePath: /b/}]"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte(""))
	// One file, rewritten for each input: a worker runs one input at a time.
	path := filepath.Join(f.TempDir(), "scopes.yaml")
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > maxFuzzDoc {
			return
		}
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		// loadScopes is the whole of what Load does with the file; calling it
		// alone keeps each run cheap.
		scopes, problems := loadScopes(path, scopeDefaults)
		for _, p := range problems {
			if !strings.HasPrefix(p, path+":") {
				t.Fatalf("problem %q does not name the file", p)
			}
		}
		if len(problems) > 0 {
			return // Load refuses the configuration
		}
		if len(scopes) == 0 {
			t.Fatal("accepted a file with no scope")
		}
		for _, sc := range scopes {
			if !scopeName.MatchString(sc.Name) || sc.Path == nil || sc.TTL <= 0 {
				t.Fatalf("accepted scope %+v", sc)
			}
			if !strings.HasPrefix(sc.Path.String(), strings.TrimSuffix(sc.CookiePath, "/")) {
				t.Fatalf("scope %s: cookie path %q does not cover %q", sc.Name, sc.CookiePath, sc.Path)
			}
		}
	})
}
