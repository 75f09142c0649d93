package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cfcookies/cfcookies/internal/config"
)

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://app.example.com":      "https://app.example.com",
		"HTTPS://App.Example.COM/":     "https://app.example.com",
		"https://app.example.com:443":  "https://app.example.com",
		"http://localhost:80":          "http://localhost",
		"https://app.example.com:8443": "https://app.example.com:8443",
		"http://127.0.0.1:5173":        "http://127.0.0.1:5173",
		"http://[::1]:3000":            "http://[::1]:3000",
	} {
		o, err := ParseOrigin(in)
		if err != nil || o.String() != want {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q", in, o, err, want)
		}
	}
	for in, rule := range map[string]string{
		"":                             "scheme://host",
		"app.example.com":              "scheme://host",
		"*":                            "scheme://host",
		"null":                         "scheme://host",
		"ftp://app.example.com":        "scheme must be https or http",
		"https://app.example.com/x":    "without a path",
		"https://app.example.com?x=1":  "without a path, query",
		"https://app.example.com/#top": "fragment",
		"https://user@app.example.com": "userinfo",
		"https://app.example.com:0":    "port",
		"https://app.example.com:http": "scheme://host",
		"https://app_1.example.com":    "valid DNS name",
		"https://[fe80::1%25eth0]":     "zone",
	} {
		if o, err := ParseOrigin(in); err == nil || !strings.Contains(err.Error(), rule) {
			t.Errorf("ParseOrigin(%q) = %q, %v; want an error containing %q", in, o, err, rule)
		}
	}
}

// topoEnv is a valid production environment for the cross-subdomain
// topology: app.example.test, api.example.test, cdn.example.test.
func topoEnv(overrides map[string]string) map[string]string {
	e := env(false, map[string]string{
		"CLOUDFRONT_DOMAIN":    "cdn.example.test",
		"COOKIE_DOMAIN":        "example.test",
		"CORS_ALLOWED_ORIGINS": "https://app.example.test",
	})
	for k, v := range overrides {
		if v == unset {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	return e
}

const (
	appOrigin = "https://app.example.test"
	apiOrigin = "https://api.example.test"
)

// want is a finding a report must hold: Message contains msg.
type want struct {
	area Area
	sev  Severity
	name string
	msg  string
}

func (w want) String() string { return fmt.Sprintf("%s %s %s ~%q", w.area, w.sev, w.name, w.msg) }

func holds(r Report, w want) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool {
		return f.Area == w.area && f.Severity == w.sev && f.Var == w.name && strings.Contains(f.Message, w.msg)
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dev      bool
		env      map[string]string
		app, api string // api "" = the app's origin
		problems int
		want     []want
		not      []want // findings that must be absent
	}{
		{
			name: "cross-subdomain, all well", env: topoEnv(nil), app: appOrigin, api: apiOrigin,
			want: []want{
				{AreaStore, OK, "COOKIE_DOMAIN", "api.example.test may set cookies for example.test"},
				{AreaStore, OK, "COOKIE_SECURE", "is https"},
				{AreaStore, OK, "", "same site (example.test)"},
				{AreaSend, OK, "COOKIE_DOMAIN", "cdn.example.test is under example.test"},
				{AreaSend, OK, "COOKIE_PATH", "Path=/ are sent with every request for MEDIA_PATH /media/{sub}/*"},
				{AreaSend, OK, "", "same site"},
				{AreaCORS, OK, "CORS_ALLOWED_ORIGINS", "Access-Control-Allow-Origin: https://app.example.test"},
				{AreaCORS, Note, "", `credentials: "include"`},
				{AreaCORS, Note, "", "response headers policy"},
			},
		},
		{
			name: "same origin, all well", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": "app.example.test", "COOKIE_DOMAIN": unset, "CORS_ALLOWED_ORIGINS": unset}),
			app: appOrigin,
			want: []want{
				{AreaStore, OK, "COOKIE_DOMAIN", "host-only cookies, stored for the API host app.example.test"},
				{AreaSend, OK, "COOKIE_DOMAIN", "serves both the API and CloudFront"},
				{AreaCORS, OK, "", "no CORS is involved, and CORS_ALLOWED_ORIGINS can stay empty"},
				{AreaCORS, OK, "", "media is on the app's own origin"},
			},
			not: []want{{AreaCORS, Note, "", "response headers policy"}},
		},
		{
			name: "dev defaults on localhost", dev: true, env: map[string]string{}, app: "http://localhost:8080",
			want: []want{
				{AreaStore, OK, "COOKIE_SECURE", "browsers let localhost set Secure cookies"},
				{AreaSend, OK, "COOKIE_DOMAIN", "go back to localhost"},
				{AreaSend, OK, "", "same site (localhost)"},
			},
		},
		{
			name: "cookie path /auth never reaches media", env: topoEnv(map[string]string{"COOKIE_PATH": "/auth"}), app: appOrigin, api: apiOrigin,
			problems: 1,
			want:     []want{{AreaSend, Problem, "COOKIE_PATH", "Path=/auth are sent only with requests under /auth, never with media requests for MEDIA_PATH /media/{sub}/*"}},
		},
		{
			name: "empty cookie path becomes /auth", env: topoEnv(map[string]string{"COOKIE_PATH": ""}), app: appOrigin, api: apiOrigin,
			problems: 2,
			want: []want{
				{AreaStore, Problem, "COOKIE_PATH", "default path of /auth/media-cookies, which is /auth"},
				{AreaSend, Problem, "COOKIE_PATH", "no Path (so /auth, the default path of /auth/media-cookies) are sent only with requests under /auth"},
			},
		},
		{
			name: "cookie domain the API host cannot set", env: topoEnv(map[string]string{"COOKIE_DOMAIN": "other.test", "CLOUDFRONT_DOMAIN": "cdn.other.test"}),
			app: appOrigin, api: apiOrigin, problems: 2,
			want: []want{
				{AreaStore, Problem, "COOKIE_DOMAIN", "the API host api.example.test is neither other.test nor under it: the browser rejects the Set-Cookie"},
				{AreaSend, OK, "COOKIE_DOMAIN", "cdn.other.test is under other.test"},
				// and CloudFront is now another site than the app
				{AreaSend, Problem, "COOKIE_SAMESITE", "different sites"},
				{AreaCORS, Note, "", "https://cdn.other.test"},
			},
		},
		{
			name: "cloudfront outside the cookie domain", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": "media.example.net"}),
			app: appOrigin, api: apiOrigin, problems: 2,
			want: []want{
				{AreaStore, OK, "COOKIE_DOMAIN", "may set cookies"},
				{AreaSend, Problem, "COOKIE_DOMAIN", "CloudFront's host media.example.net (CLOUDFRONT_DOMAIN) is neither example.test nor under it: the browser never sends the cookies there"},
				{AreaSend, Problem, "COOKIE_DOMAIN", "share no parent domain"},
				{AreaSend, Problem, "COOKIE_SAMESITE", "SameSite=Lax"},
			},
		},
		{
			name: "host-only cookies across subdomains", env: topoEnv(map[string]string{"COOKIE_DOMAIN": unset}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaSend, Problem, "COOKIE_DOMAIN", "unset: host-only cookies go back only to the API host api.example.test, never to CloudFront's host cdn.example.test, which answers 403 MissingKey; set COOKIE_DOMAIN=example.test"}},
		},
		{
			name: "samesite none without secure", env: topoEnv(map[string]string{"COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{
				{AreaStore, Problem, "COOKIE_SAMESITE", "with COOKIE_SECURE=false: the browser rejects the Set-Cookie"},
				{AreaStore, Note, "COOKIE_SECURE", "plain http"},
			},
		},
		{
			name: "cors wildcard", env: topoEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "*"}), app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaCORS, Problem, "CORS_ALLOWED_ORIGINS", "never *: browsers refuse \"Access-Control-Allow-Origin: *\" on a request with credentials"}},
			not:  []want{{AreaCORS, Problem, "CORS_ALLOWED_ORIGINS", "does not list"}},
		},
		{
			name: "cors wildcard in the same-origin topology", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": "app.example.test", "CORS_ALLOWED_ORIGINS": "*"}),
			app: appOrigin, problems: 1,
			want: []want{{AreaCORS, Problem, "CORS_ALLOWED_ORIGINS", "needs no CORS: unset it"}},
		},
		{
			name: "app origin not in cors", env: topoEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "https://admin.example.test"}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaCORS, Problem, "CORS_ALLOWED_ORIGINS", "does not list the app's origin https://app.example.test: the browser blocks the SPA's credentialed fetch to https://api.example.test/auth/media-cookies"}},
		},
		{
			name: "cors unset across subdomains", env: topoEnv(map[string]string{"CORS_ALLOWED_ORIGINS": unset}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaCORS, Problem, "CORS_ALLOWED_ORIGINS", "unset, so it does not list the app's origin"}},
		},
		{
			name: "cors origin with another port", env: topoEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.test:8443"}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaCORS, Problem, "CORS_ALLOWED_ORIGINS", "(https://app.example.test:8443 is listed, but an origin is its scheme, host and port"}},
		},
		{
			name: "cors with a port, app with that port", env: topoEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.test:8443"}),
			app: "https://app.example.test:8443", api: apiOrigin,
		},
		{
			name: "secure cookies from a plain http api", dev: true,
			env: map[string]string{"CLOUDFRONT_DOMAIN": "https://cdn.example.test", "COOKIE_DOMAIN": "example.test", "CORS_ALLOWED_ORIGINS": "http://app.example.test"},
			app: "http://app.example.test", api: "http://api.example.test", problems: 2,
			want: []want{
				{AreaStore, Problem, "COOKIE_SECURE", "the API origin http://api.example.test is plain http: the browser rejects a Secure Set-Cookie"},
				// http app, https CloudFront: schemeful same-site says cross-site
				{AreaSend, Problem, "COOKIE_SAMESITE", "different sites"},
			},
		},
		{
			name: "secure cookies to a plain http cdn", dev: true,
			env: map[string]string{"CLOUDFRONT_DOMAIN": "http://cdn.example.test:8081", "COOKIE_DOMAIN": "example.test", "CORS_ALLOWED_ORIGINS": "https://app.example.test"},
			app: appOrigin, api: apiOrigin, problems: 2,
			want: []want{
				{AreaSend, Problem, "COOKIE_SECURE", "never sends Secure cookies over http"},
				{AreaSend, Problem, "COOKIE_SAMESITE", "different sites"},
			},
		},
		{
			name: "app on another site, samesite lax", env: topoEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "https://www.shop.test"}),
			app: "https://www.shop.test", api: apiOrigin, problems: 2,
			want: []want{
				{AreaStore, Problem, "COOKIE_SAMESITE", "the browser rejects a SameSite=Lax Set-Cookie on a cross-site fetch answer"},
				{AreaSend, Problem, "COOKIE_SAMESITE", "does not send SameSite=Lax cookies with the page's <img>, <video> or fetch requests"},
			},
		},
		{
			name: "app on another site, samesite none", env: topoEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "https://www.shop.test", "COOKIE_SAMESITE": "none"}),
			app: "https://www.shop.test", api: apiOrigin,
			want: []want{
				{AreaStore, Note, "COOKIE_SAMESITE", "third-party cookies"},
				{AreaSend, Note, "COOKIE_SAMESITE", "third-party cookies"},
			},
		},
		{
			name: "cloudfront under a public suffix is its own site", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": "d111111abcdef8.cloudfront.net", "COOKIE_DOMAIN": unset}),
			app: appOrigin, api: apiOrigin, problems: 2,
			want: []want{
				{AreaSend, Problem, "COOKIE_DOMAIN", "share no parent domain: route /auth/* through the distribution"},
				{AreaSend, Problem, "COOKIE_SAMESITE", "different sites"},
			},
		},
		{
			name: "configuration errors are findings, and the rest is still checked",
			env:  topoEnv(map[string]string{"COOKIE_TTL": "5", "AUTH_MODE": "dev", "COOKIE_SECURE": "maybe"}), app: appOrigin, api: apiOrigin,
			problems: 3,
			want: []want{
				{AreaConfig, Problem, "COOKIE_TTL", `must be a duration such as "10m"`},
				{AreaConfig, Problem, "AUTH_MODE", "only available with --dev"},
				{AreaStore, Problem, "COOKIE_SECURE", "must be true or false"},
				{AreaStore, OK, "COOKIE_DOMAIN", "may set cookies"},
				{AreaSend, OK, "COOKIE_PATH", "Path=/"},
			},
			not: []want{{AreaStore, OK, "COOKIE_SECURE", ""}},
		},
		{
			name: "a public suffix cookie domain is reported once", env: topoEnv(map[string]string{"COOKIE_DOMAIN": "test"}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaStore, Problem, "COOKIE_DOMAIN", "is a public suffix; browsers refuse cookies for it"}},
			not:  []want{{AreaSend, OK, "COOKIE_DOMAIN", ""}, {AreaStore, OK, "COOKIE_DOMAIN", ""}},
		},
		{
			name: "a cookie domain above a hosting service's public suffix", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": "media.s3.amazonaws.com", "COOKIE_DOMAIN": ".amazonaws.com"}),
			app: appOrigin, api: apiOrigin, problems: 2,
			want: []want{
				{AreaStore, Problem, "COOKIE_DOMAIN", "is a parent of the public suffix s3.amazonaws.com: browsers would send the cookies to every site under it, other customers' sites included"},
				{AreaSend, Problem, "COOKIE_SAMESITE", "different sites"},
			},
			not: []want{{AreaSend, OK, "COOKIE_DOMAIN", ""}},
		},
		{
			name: "a cookie domain on the private section of the public suffix list", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": "d111111abcdef8.cloudfront.net", "COOKIE_DOMAIN": "cloudfront.net"}),
			app: appOrigin, api: apiOrigin, problems: 2,
			want: []want{
				{AreaStore, Problem, "COOKIE_DOMAIN", "private section of the Public Suffix List"},
				{AreaSend, Problem, "COOKIE_SAMESITE", "different sites"},
			},
		},
		{
			name: "never suggests a cookie domain above a public suffix", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": "media.amazonaws.com", "COOKIE_DOMAIN": unset, "CORS_ALLOWED_ORIGINS": "https://app.amazonaws.com"}),
			app: "https://app.amazonaws.com", api: "https://api.amazonaws.com", problems: 1,
			want: []want{{AreaSend, Problem, "COOKIE_DOMAIN", "route /auth/* through the distribution"}},
			not:  []want{{AreaSend, Problem, "COOKIE_DOMAIN", "set COOKIE_DOMAIN=amazonaws.com"}},
		},
		{
			name: "trusted proxies trusting every address", env: topoEnv(map[string]string{"TRUSTED_PROXIES": "0.0.0.0/1, 128.0.0.0/1"}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaProxy, Problem, "TRUSTED_PROXIES", "would trust every IPv4 address: any client could forge X-Forwarded-For"}},
		},
		{
			name: "trusted proxies trusting every address, acknowledged", env: topoEnv(map[string]string{"TRUSTED_PROXIES": "::/0", "TRUSTED_PROXIES_ALLOW_ALL": "true"}),
			app: appOrigin, api: apiOrigin,
			want: []want{{AreaProxy, Note, "TRUSTED_PROXIES", "trusts every IPv4 and every IPv6 address (TRUSTED_PROXIES_ALLOW_ALL=true)"}},
		},
		{
			name: "trusted proxies very broad", env: topoEnv(map[string]string{"TRUSTED_PROXIES": "0.0.0.0/1, 10.0.0.0/8"}),
			app: appOrigin, api: apiOrigin,
			want: []want{{AreaProxy, Note, "TRUSTED_PROXIES", "trusts 50% of all IPv4 addresses"}},
			not:  []want{{AreaProxy, OK, "TRUSTED_PROXIES", ""}},
		},
		{
			name: "trusted proxies very broad in IPv6", env: topoEnv(map[string]string{"TRUSTED_PROXIES": "2000::/3"}),
			app: appOrigin, api: apiOrigin,
			want: []want{{AreaProxy, Note, "TRUSTED_PROXIES", "trusts 12.5% of all IPv6 addresses"}},
		},
		{
			name: "trusted proxies of a VPC", env: topoEnv(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/16"}),
			app: appOrigin, api: apiOrigin,
			want: []want{{AreaProxy, OK, "TRUSTED_PROXIES", "X-Forwarded-For is believed only from 10.0.0.0/16"}},
			not:  []want{{AreaProxy, Note, "TRUSTED_PROXIES", ""}},
		},
		{
			name: "no cloudfront domain: no send checks", env: topoEnv(map[string]string{"CLOUDFRONT_DOMAIN": unset}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{
				{AreaSend, Problem, "CLOUDFRONT_DOMAIN", "required"},
				{AreaStore, OK, "COOKIE_DOMAIN", "may set cookies"},
			},
			not: []want{{AreaSend, OK, "COOKIE_DOMAIN", ""}},
		},
		{
			name: "an invalid media path skips the path check", env: topoEnv(map[string]string{"MEDIA_PATH": "media/{sub}"}),
			app: appOrigin, api: apiOrigin, problems: 1,
			want: []want{{AreaSend, Problem, "MEDIA_PATH", ""}},
			not:  []want{{AreaSend, OK, "COOKIE_PATH", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			top := Origins{App: mustOrigin(t, tt.app)}
			if tt.api != "" {
				top.API = mustOrigin(t, tt.api)
			}
			r := check(tt.env, tt.dev, top)
			for _, w := range tt.want {
				if !holds(r, w) {
					t.Errorf("no finding %s", w)
				}
			}
			for _, w := range tt.not {
				if holds(r, w) {
					t.Errorf("unexpected finding %s", w)
				}
			}
			if got := r.Problems(); got != tt.problems {
				t.Errorf("%d problems, want %d", got, tt.problems)
			}
			if t.Failed() {
				for _, f := range r.Findings {
					t.Logf("%s %s %s=%q: %s", f.Area, f.Severity, f.Var, f.Value, f.Message)
				}
			}
		})
	}
}

func mustOrigin(t *testing.T, s string) Origin {
	t.Helper()
	o, err := ParseOrigin(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestCheckReport checks what the report says besides findings, and
// that findings come in area order.
func TestCheckReport(t *testing.T) {
	t.Parallel()
	r := check(topoEnv(map[string]string{"COOKIE_TTL": "5", "COOKIE_SAMESITE": "strict"}), false,
		Origins{App: mustOrigin(t, appOrigin)})
	if r.API != r.App || r.App.String() != appOrigin {
		t.Errorf("App %s, API %s: the API defaults to the app's origin", r.App, r.API)
	}
	if r.CloudFront.String() != "https://cdn.example.test" {
		t.Errorf("CloudFront %s", r.CloudFront)
	}
	if want := "Domain=example.test; Path=/; Secure; HttpOnly; SameSite=Strict"; r.SetCookie != want {
		t.Errorf("SetCookie %q, want %q", r.SetCookie, want)
	}
	if !slices.IsSortedFunc(r.Findings, func(a, b Finding) int { return int(a.Area) - int(b.Area) }) {
		t.Error("findings are not in area order")
	}
	if r.Findings[len(r.Findings)-1].Area != AreaConfig {
		t.Error("the COOKIE_TTL error is not last, in the config area")
	}

	bad := check(topoEnv(map[string]string{"COOKIE_DOMAIN": "com", "COOKIE_SECURE": "x", "COOKIE_SAMESITE": "lenient", "COOKIE_PATH": "media"}), false,
		Origins{App: mustOrigin(t, appOrigin)})
	if want := "Domain=?; Path=?; Secure=?; HttpOnly; SameSite=?"; bad.SetCookie != want {
		t.Errorf("SetCookie %q, want %q", bad.SetCookie, want)
	}
}

func TestCheckNeverShowsTheKey(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, []byte(testPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range []map[string]string{
		{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(testPEM, "\n", `\n`), "COOKIE_TTL": "1s"},
		{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": "c2VjcmV0LWtleS1ieXRlcy1kby1ub3QtbG9n"},
		{"CLOUDFRONT_PRIVATE_KEY_SECRET": testPEM},
		{"CLOUDFRONT_PRIVATE_KEY_FILE": keyFile, "CLOUDFRONT_PRIVATE_KEY": testPEM},
	} {
		r := check(topoEnv(e), false, Origins{App: mustOrigin(t, appOrigin)})
		if r.Problems() == 0 {
			t.Errorf("%v: no problem found", e)
		}
		for _, f := range r.Findings {
			if strings.Contains(f.Value+f.Message, "c2VjcmV0") || strings.Contains(f.Value+f.Message, "BEGIN PRIVATE KEY") {
				t.Errorf("finding shows the key: %s=%q: %s", f.Var, f.Value, f.Message)
			}
		}
	}
}

// check runs Check on the configuration env holds, read as the check
// command reads it.
func check(env map[string]string, dev bool, o Origins) Report {
	c, problems := config.Read(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}, dev)
	return Check(c, problems, o)
}

// unset in an override removes the variable from the environment.
const unset = "\x00unset"

// env returns the smallest valid production environment (or an empty one
// for dev) with overrides.
func env(dev bool, overrides map[string]string) map[string]string {
	e := map[string]string{}
	if !dev {
		e = map[string]string{
			"CLOUDFRONT_DOMAIN":             "media.example.com",
			"CLOUDFRONT_KEY_PAIR_ID":        "K2JCJMDEHXQW5F",
			"CLOUDFRONT_PRIVATE_KEY_SECRET": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies-key",
			"OIDC_ISSUER":                   "https://login.example.com/",
			"OIDC_AUDIENCE":                 "spa-client",
		}
	}
	for k, v := range overrides {
		if v == unset {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	return e
}

const testPEM = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcy1kby1ub3QtbG9n\n-----END PRIVATE KEY-----"

// TestCookieRules: the rules check and probe share with browsers: which
// hosts are trustworthy without TLS, what a site is, and the Path a cookie
// without one gets.
func TestCookieRules(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "app.localhost": true, "127.0.0.1": true, "127.9.9.9": true,
		"::1": true, "[::1]": true, "localhost.example.com": false, "10.0.0.1": false, "example.com": false, "::2": false,
	} {
		if got := IsLocalhost(host); got != want {
			t.Errorf("IsLocalhost(%q) = %v, want %v", host, got, want)
		}
	}
	for _, tc := range []struct {
		o           Origin
		site        string
		trustworthy bool
	}{
		{Origin{Scheme: "https", Host: "app.example.com", Port: "8443"}, "https://example.com", true},
		{Origin{Scheme: "http", Host: "app.example.com"}, "http://example.com", false},
		{Origin{Scheme: "https", Host: "a.b.example.co.uk"}, "https://example.co.uk", true},
		{Origin{Scheme: "http", Host: "localhost", Port: "3000"}, "http://localhost", true},
		{Origin{Scheme: "http", Host: "::1"}, "http://::1", true},
		{Origin{Scheme: "https", Host: "192.0.2.1"}, "https://192.0.2.1", true},
	} {
		if got := tc.o.Site(); got != tc.site {
			t.Errorf("%v.Site() = %q, want %q", tc.o, got, tc.site)
		}
		if got := tc.o.Trustworthy(); got != tc.trustworthy {
			t.Errorf("%v.Trustworthy() = %v, want %v", tc.o, got, tc.trustworthy)
		}
	}
	for path, want := range map[string]string{"/auth/media-cookies": "/auth", "/media-cookies": "/", "/": "/", "": "/", "/a/b/": "/a/b"} {
		if got := DefaultCookiePath(path); got != want {
			t.Errorf("DefaultCookiePath(%q) = %q, want %q", path, got, want)
		}
	}
}
