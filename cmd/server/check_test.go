package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// crossSubdomainEnv is a valid production environment for app.example.test,
// api.example.test and cdn.example.test, with overrides ("" values kept).
func crossSubdomainEnv(overrides map[string]string) map[string]string {
	e := map[string]string{
		"CLOUDFRONT_DOMAIN":             "cdn.example.test",
		"CLOUDFRONT_KEY_PAIR_ID":        "K2JCJMDEHXQW5F",
		"CLOUDFRONT_PRIVATE_KEY_SECRET": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies-key",
		"OIDC_ISSUER":                   "https://login.example.test/",
		"OIDC_AUDIENCE":                 "spa",
		"COOKIE_DOMAIN":                 "example.test",
		"CORS_ALLOWED_ORIGINS":          "https://app.example.test",
	}
	for k, v := range overrides {
		if v == "\x00unset" {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	return e
}

// runCmd runs the server with args and env and returns its output and exit
// status.
func runCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"server"}, args...), envOf(env), nil, &out, &errOut)
	if err != nil {
		code = exitCode(err)
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// problemLine returns the output line reporting a problem with name, or "".
func problemLine(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  PROBLEM  "+name+"=") || strings.HasPrefix(l, "  PROBLEM  "+name+":") {
			return l
		}
	}
	return ""
}

func TestRunCheck(t *testing.T) {
	t.Parallel()
	const app, api = "--app-origin=https://app.example.test", "--api-origin=https://api.example.test"
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		problems map[string]string // variable -> words of its (first) PROBLEM line
		count    int               // PROBLEM lines, when not len(problems)
		want     []string          // in the output
	}{
		{
			name: "cross-subdomain, all well", env: crossSubdomainEnv(nil), args: []string{"check", app, api},
			want: []string{
				"  app         https://app.example.test\n",
				"  API         https://api.example.test (another origin than the app's: calls go through CORS)\n",
				"  CloudFront  https://cdn.example.test (CLOUDFRONT_DOMAIN)\n",
				"  cookies     Domain=example.test; Path=/; Secure; HttpOnly; SameSite=Lax\n",
				"Will the browser store the cookies the API sets?\n",
				"Will the browser send them to CloudFront (cdn.example.test)?\n",
				"Will CORS pass?\n",
				`  ok       CORS_ALLOWED_ORIGINS="https://app.example.test": lists https://app.example.test`,
				"  note     <img> and <video> need no CORS",
				"No problem found",
			},
		},
		{
			name: "same origin, all well",
			env:  crossSubdomainEnv(map[string]string{"CLOUDFRONT_DOMAIN": "app.example.test", "COOKIE_DOMAIN": "\x00unset", "CORS_ALLOWED_ORIGINS": "\x00unset"}),
			args: []string{"check", "--app-origin", "https://app.example.test"},
			want: []string{"(the app's origin: the same-origin topology)", "no CORS is involved, and CORS_ALLOWED_ORIGINS can stay empty", "No problem found"},
		},
		{
			name: "dev defaults", env: map[string]string{}, args: []string{"--dev", "check", "--app-origin", "http://localhost:8080"},
			want: []string{"  CloudFront  http://localhost:8081 (CLOUDFRONT_DOMAIN)\n", "No problem found"},
		},
		{
			name: "cookie path /auth", env: crossSubdomainEnv(map[string]string{"COOKIE_PATH": "/auth"}), args: []string{"check", app, api},
			code:     1,
			problems: map[string]string{"COOKIE_PATH": `COOKIE_PATH="/auth": cookies with Path=/auth are sent only with requests under /auth, never with media requests for MEDIA_PATH /media/{sub}/*`},
			want:     []string{"1 problem: the cookies will not work"},
		},
		{
			name: "cookie domain the API cannot set", env: crossSubdomainEnv(map[string]string{"COOKIE_DOMAIN": "other.test"}), args: []string{"check", app, api},
			code: 1,
			problems: map[string]string{"COOKIE_DOMAIN": `COOKIE_DOMAIN="other.test": the API host api.example.test is neither other.test nor under it: ` +
				`the browser rejects the Set-Cookie (Chromium: "its Domain attribute was invalid with regards to the current host url"), so no cookie is stored; set COOKIE_DOMAIN=example.test`},
			count: 2, // and CloudFront's host is not under it either
			want:  []string{`  PROBLEM  COOKIE_DOMAIN="other.test": CloudFront's host cdn.example.test (CLOUDFRONT_DOMAIN) is neither other.test nor under it`},
		},
		{
			name: "samesite none without secure", env: crossSubdomainEnv(map[string]string{"COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"}), args: []string{"check", app, api},
			code:     1,
			problems: map[string]string{"COOKIE_SAMESITE": `COOKIE_SAMESITE="none": with COOKIE_SECURE=false: the browser rejects the Set-Cookie`},
		},
		{
			name: "cors wildcard", env: crossSubdomainEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "*"}), args: []string{"check", app, api},
			code:     1,
			problems: map[string]string{"CORS_ALLOWED_ORIGINS": `CORS_ALLOWED_ORIGINS="*": never *: browsers refuse "Access-Control-Allow-Origin: *" on a request with credentials`},
			want:     []string{"list the app's origin instead: CORS_ALLOWED_ORIGINS=https://app.example.test"},
		},
		{
			name: "app origin missing from cors", env: crossSubdomainEnv(map[string]string{"CORS_ALLOWED_ORIGINS": "https://admin.example.test"}), args: []string{"check", app, api},
			code:     1,
			problems: map[string]string{"CORS_ALLOWED_ORIGINS": `CORS_ALLOWED_ORIGINS="https://admin.example.test": does not list the app's origin https://app.example.test: the browser blocks`},
		},
		{
			name: "cloudfront outside the cookie domain", env: crossSubdomainEnv(map[string]string{"CLOUDFRONT_DOMAIN": "media.example.net"}), args: []string{"check", app, api},
			code: 1,
			problems: map[string]string{
				"COOKIE_DOMAIN":   `COOKIE_DOMAIN="example.test": CloudFront's host media.example.net (CLOUDFRONT_DOMAIN) is neither example.test nor under it: the browser never sends the cookies there`,
				"COOKIE_SAMESITE": "are different sites",
			},
			want: []string{"2 problems"},
		},
		{
			name: "configuration errors are problems, not usage errors",
			env:  crossSubdomainEnv(map[string]string{"COOKIE_TTL": "5", "CLOUDFRONT_PRIVATE_KEY": `-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----`}),
			args: []string{"check", app, api},
			code: 1,
			problems: map[string]string{
				"COOKIE_TTL": `must be a duration such as "10m"`,
				"CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_PRIVATE_KEY_SECRET": "configure exactly one key source",
			},
			want: []string{"Other configuration errors (serve refuses to start with any of them):", "  ok       COOKIE_DOMAIN=\"example.test\""},
		},
		{
			name: "trusted proxies that trust every address",
			env:  crossSubdomainEnv(map[string]string{"TRUSTED_PROXIES": "::ffff:0:0/96"}),
			args: []string{"check", app, api},
			code: 1,
			problems: map[string]string{
				"TRUSTED_PROXIES": "would trust every IPv4 address: any client could forge X-Forwarded-For",
			},
			want: []string{"Whose X-Forwarded-For will the service believe (TRUSTED_PROXIES)?\n  PROBLEM  TRUSTED_PROXIES="},
		},
		{
			name: "trusted proxies very broad, or acknowledged, are notes",
			env:  crossSubdomainEnv(map[string]string{"TRUSTED_PROXIES": "0.0.0.0/0, 2000::/3", "TRUSTED_PROXIES_ALLOW_ALL": "true"}),
			args: []string{"check", app, api},
			want: []string{
				"Whose X-Forwarded-For will the service believe (TRUSTED_PROXIES)?\n",
				`  note     TRUSTED_PROXIES="0.0.0.0/0,2000::/3": trusts every IPv4 address (TRUSTED_PROXIES_ALLOW_ALL=true)`,
				"No problem found",
			},
		},
		{
			name: "trusted proxies of a VPC",
			env:  crossSubdomainEnv(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/16"}),
			args: []string{"check", app, api},
			want: []string{`  ok       TRUSTED_PROXIES="10.0.0.0/16": X-Forwarded-For is believed only from 10.0.0.0/16`},
		},
		{
			name: "a cookie domain above other customers' sites",
			env:  crossSubdomainEnv(map[string]string{"CLOUDFRONT_DOMAIN": "media.s3.amazonaws.com", "COOKIE_DOMAIN": ".amazonaws.com", "CORS_ALLOWED_ORIGINS": "https://app.amazonaws.com"}),
			args: []string{"check", "--app-origin=https://media.s3.amazonaws.com"},
			code: 1,
			problems: map[string]string{
				"COOKIE_DOMAIN": "is a parent of the public suffix s3.amazonaws.com: browsers would send the cookies to every site under it, other customers' sites included",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runCmd(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d; stderr %s", code, tt.code, errOut)
			}
			for name, words := range tt.problems {
				if l := problemLine(out, name); !strings.Contains(l, words) {
					t.Errorf("PROBLEM line for %s is %q, want it to contain %q", name, l, words)
				}
			}
			if tt.count == 0 {
				tt.count = len(tt.problems)
			}
			if n := strings.Count(out, "  PROBLEM  "); n != tt.count {
				t.Errorf("%d PROBLEM lines, want %d", n, tt.count)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if tt.code == 1 && !strings.Contains(errOut, "check: ") {
				t.Errorf("stderr %q does not say how many problems", errOut)
			}
			if strings.Contains(out+errOut, "TOPSECRET") {
				t.Error("output shows the private key")
			}
			if t.Failed() {
				t.Logf("stdout:\n%s", out)
			}
		})
	}
}

func TestRunCheckUsage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no app origin", []string{"check"}, "--app-origin is required"},
		{"app origin with a path", []string{"check", "--app-origin", "https://app.example.test/spa"}, "without a path"},
		{"app origin without scheme", []string{"check", "--app-origin", "app.example.test"}, "scheme://host"},
		{"bad api origin", []string{"check", "--app-origin", "https://app.example.test", "--api-origin", "ftp://api.example.test"}, "--api-origin"},
		{"unknown flag", []string{"check", "--app", "https://app.example.test"}, "flag provided but not defined"},
		{"extra argument", []string{"check", "--app-origin", "https://app.example.test", "now"}, `unexpected argument "now"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runCmd(t, crossSubdomainEnv(nil), tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}
