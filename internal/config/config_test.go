package config

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/signer"
)

// unset in an override removes the variable from the environment.
const unset = "\x00unset"

// lookup is a fake os.LookupEnv backed by a map.
func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// prodEnv is the smallest valid production environment.
func prodEnv() map[string]string {
	return map[string]string{
		"CLOUDFRONT_DOMAIN":             "media.example.com",
		"CLOUDFRONT_KEY_PAIR_ID":        "K2JCJMDEHXQW5F",
		"CLOUDFRONT_PRIVATE_KEY_SECRET": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies-key",
		"OIDC_ISSUER":                   "https://login.example.com/",
		"OIDC_AUDIENCE":                 "spa-client",
	}
}

// env returns the base environment (production, or empty for dev) with overrides.
func env(dev bool, overrides map[string]string) map[string]string {
	e := map[string]string{}
	if !dev {
		e = prodEnv()
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

// With --dev, CLOUDFRONT_DOMAIN follows the port of DEV_CDN_ADDR, so that
// moving the emulated CloudFront keeps the dev cookies valid for it; with
// ":0" the server sets the port it binds (FollowsDevCDN), unless
// CLOUDFRONT_DOMAIN is set.
func TestLoadDevCloudFrontFollowsDevCDNAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env         map[string]string
		wantHost    string
		wantFollows bool
	}{
		{nil, "localhost:8081", true},
		{map[string]string{"DEV_CDN_ADDR": "127.0.0.1:9181"}, "localhost:9181", true},
		{map[string]string{"DEV_CDN_ADDR": ":9182"}, "localhost:9182", true},
		{map[string]string{"DEV_CDN_ADDR": "127.0.0.1:0"}, "localhost:8081", true},
		{map[string]string{"DEV_CDN_ADDR": "127.0.0.1:9183", "CLOUDFRONT_DOMAIN": "http://localhost:9999"}, "localhost:9999", false},
		{map[string]string{"DEV_CDN_ADDR": "127.0.0.1:0", "CLOUDFRONT_DOMAIN": "http://localhost:9999"}, "localhost:9999", false},
	}
	for _, tc := range tests {
		got, err := Load(lookup(tc.env), true)
		if err != nil {
			t.Fatalf("Load(%v): %v", tc.env, err)
		}
		if got.CloudFront.Scheme != "http" || got.CloudFront.Host != tc.wantHost {
			t.Errorf("Load(%v): CloudFront %s://%s, want http://%s", tc.env, got.CloudFront.Scheme, got.CloudFront.Host, tc.wantHost)
		}
		if got.CloudFront.FollowsDevCDN != tc.wantFollows {
			t.Errorf("Load(%v): FollowsDevCDN %v, want %v", tc.env, got.CloudFront.FollowsDevCDN, tc.wantFollows)
		}
	}
}

func TestLoadDevDefaults(t *testing.T) {
	t.Parallel()
	got, err := Load(lookup(nil), true)
	if err != nil {
		t.Fatalf("Load(empty, dev) = %v", err)
	}
	want := &Config{
		Dev:                  true,
		ListenAddr:           "127.0.0.1:8080",
		MetricsAddr:          "127.0.0.1:9090",
		DevCDNAddr:           "127.0.0.1:8081",
		CloudFront:           CloudFront{Scheme: "http", Host: "localhost:8081", KeyPairID: "KCFCOOKIESDEV", HashAlgorithm: signer.SHA256, FollowsDevCDN: true},
		Cookie:               Cookie{Path: "/", SameSite: http.SameSiteLaxMode, Secure: true, TTL: 10 * time.Minute},
		MediaPath:            "/media/{sub}/*",
		Auth:                 Auth{Mode: "dev"},
		RateLimitPerIP:       DefaultRateLimitPerIP,
		RateLimitPerIdentity: DefaultRateLimitPerIdentity,
		LogLevel:             zerolog.InfoLevel,
		LogFormat:            "json",
		IPv6Clients:          "reject",

		ExpiryGranularity:  time.Minute,
		SignatureCacheSize: 1024,
	}
	checkDefaultScope(t, got)
	got.Scopes = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(empty, dev) =\n%+v\nwant\n%+v", got, want)
	}
	if !got.Key.Ephemeral() || got.Key.Source() != "ephemeral" {
		t.Errorf("Key = %+v, want ephemeral", got.Key)
	}
	if got.CloudFront.BaseURL() != "http://localhost:8081" {
		t.Errorf("BaseURL() = %q", got.CloudFront.BaseURL())
	}
}

func TestLoadProduction(t *testing.T) {
	t.Parallel()
	got, err := Load(lookup(map[string]string{
		"LISTEN_ADDR":               " :8000 ",
		"METRICS_ADDR":              "127.0.0.1:9100",
		"CLOUDFRONT_DOMAIN":         "https://Media.Example.com/",
		"CLOUDFRONT_KEY_PAIR_ID":    "K2JCJMDEHXQW5F",
		"CLOUDFRONT_PRIVATE_KEY":    strings.ReplaceAll(testPEM, "\n", `\n`),
		"CLOUDFRONT_HASH_ALGORITHM": "sha-256",
		"COOKIE_DOMAIN":             ".Example.com",
		"COOKIE_PATH":               "/media/",
		"COOKIE_SAMESITE":           "None",
		"COOKIE_SECURE":             "true",
		"COOKIE_TTL":                "15m",
		"MEDIA_PATH":                "/media/{sub}/*",
		"ALLOW_GET":                 "1",
		"AUTH_MODE":                 "alb",
		"ALB_ARN":                   "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
		"AUTH_COOKIE":               "session_jwt",
		"CORS_ALLOWED_ORIGINS":      "https://app.example.com, https://admin.example.com:8443,,https://app.example.com",
		"TRUSTED_PROXIES":           "10.1.2.3/16, 192.0.2.10, 2001:db8::1",
		"LOG_LEVEL":                 "warn",
		"LOG_FORMAT":                "console",
		"EXPIRY_GRANULARITY":        "30s",
		"SIGNATURE_CACHE_SIZE":      "0",
	}), false)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	want := &Config{
		ListenAddr:  ":8000",
		MetricsAddr: "127.0.0.1:9100",
		CloudFront:  CloudFront{Scheme: "https", Host: "media.example.com", KeyPairID: "K2JCJMDEHXQW5F", HashAlgorithm: "SHA256"},
		Key:         Key{PEM: Secret(testPEM)},
		Cookie:      Cookie{Domain: "example.com", Path: "/media/", SameSite: http.SameSiteNoneMode, Secure: true, TTL: 15 * time.Minute},
		MediaPath:   "/media/{sub}/*",
		AllowGet:    true,
		IPv6Clients: "reject",

		ExpiryGranularity:  30 * time.Second,
		SignatureCacheSize: 0,
		Auth: Auth{
			Mode:   "alb",
			Cookie: "session_jwt",
			ALBArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
		},
		CORSAllowedOrigins: []string{"https://app.example.com", "https://admin.example.com:8443"},
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.1.0.0/16"),
			netip.MustParsePrefix("192.0.2.10/32"),
			netip.MustParsePrefix("2001:db8::1/128"),
		},
		RateLimitPerIP:       DefaultRateLimitPerIP,
		RateLimitPerIdentity: DefaultRateLimitPerIdentity,
		LogLevel:             zerolog.WarnLevel,
		LogFormat:            "console",
	}
	checkDefaultScope(t, got)
	got.Scopes = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
	}
	if got.Key.PEM.Reveal() != testPEM {
		t.Errorf(`PEM: literal \n not turned into newlines: %q`, got.Key.PEM.Reveal())
	}
}

// TestLoadAccepts covers values that are valid, and how they are normalised.
func TestLoadAccepts(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, []byte(testPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		dev   bool
		env   map[string]string
		check func(c *Config) (got, want any)
	}{
		{"empty counts as unset", false, map[string]string{"COOKIE_TTL": " ", "LISTEN_ADDR": "", "CLOUDFRONT_HASH_ALGORITHM": ""},
			func(c *Config) (any, any) {
				return []any{c.Cookie.TTL, c.ListenAddr, c.CloudFront.HashAlgorithm}, []any{10 * time.Minute, ":8080", signer.SHA256}
			}},
		{"empty METRICS_ADDR disables metrics", false, map[string]string{"METRICS_ADDR": ""},
			func(c *Config) (any, any) { return c.MetricsAddr, "" }},
		{"METRICS_ADDR on another interface, same port", false, map[string]string{"LISTEN_ADDR": "10.0.0.1:8080", "METRICS_ADDR": "127.0.0.1:8080"},
			func(c *Config) (any, any) { return c.MetricsAddr, "127.0.0.1:8080" }},
		{"bare domain gets https", false, map[string]string{"CLOUDFRONT_DOMAIN": "d111111abcdef8.cloudfront.net"},
			func(c *Config) (any, any) { return c.CloudFront.BaseURL(), "https://d111111abcdef8.cloudfront.net" }},
		{"upper-case scheme and host", false, map[string]string{"CLOUDFRONT_DOMAIN": "HTTPS://MEDIA.EXAMPLE.COM"},
			func(c *Config) (any, any) { return c.CloudFront.BaseURL(), "https://media.example.com" }},
		{"dev: http with port", true, map[string]string{"CLOUDFRONT_DOMAIN": "http://cdn.localhost:9000/"},
			func(c *Config) (any, any) { return c.CloudFront.BaseURL(), "http://cdn.localhost:9000" }},
		{"dev: IPv4 address", true, map[string]string{"CLOUDFRONT_DOMAIN": "http://127.0.0.1:8081"},
			func(c *Config) (any, any) { return c.CloudFront.Host, "127.0.0.1:8081" }},
		{"dev: IPv6 address", true, map[string]string{"CLOUDFRONT_DOMAIN": "http://[::1]:8081"},
			func(c *Config) (any, any) { return c.CloudFront.BaseURL(), "http://[::1]:8081" }},
		{"dev: configured key needs no default id", true, map[string]string{"CLOUDFRONT_PRIVATE_KEY_FILE": keyFile, "CLOUDFRONT_KEY_PAIR_ID": "KABC"},
			func(c *Config) (any, any) {
				return []any{c.Key.Source(), c.Key.Ephemeral(), c.CloudFront.KeyPairID}, []any{"file", false, "KABC"}
			}},
		{"dev: own key pair id without key", true, map[string]string{"CLOUDFRONT_KEY_PAIR_ID": "KMINE"},
			func(c *Config) (any, any) { return c.CloudFront.KeyPairID, "KMINE" }},
		{"key file", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY_FILE": keyFile},
			func(c *Config) (any, any) { return c.Key, Key{File: keyFile, RefreshInterval: 5 * time.Minute} }},
		{"key file refreshed every 30s", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY_FILE": keyFile, "KEY_REFRESH_INTERVAL": "30s"},
			func(c *Config) (any, any) { return c.Key.RefreshInterval, 30 * time.Second }},
		{"secret refreshed every 5m by default", false, nil,
			func(c *Config) (any, any) { return c.Key.RefreshInterval, 5 * time.Minute }},
		{"secret refresh bounds", false, map[string]string{"KEY_REFRESH_INTERVAL": "24h"},
			func(c *Config) (any, any) { return c.Key.RefreshInterval, 24 * time.Hour }},
		{"inline key is never refreshed", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": testPEM},
			func(c *Config) (any, any) { return c.Key.RefreshInterval, time.Duration(0) }},
		{"secret without key pair id: the JSON secret names it", false, map[string]string{"CLOUDFRONT_KEY_PAIR_ID": unset},
			func(c *Config) (any, any) { return []any{c.Key.Source(), c.CloudFront.KeyPairID}, []any{"secret", ""} }},
		{"inline key with real newlines", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": testPEM + "\n"},
			func(c *Config) (any, any) { return []any{c.Key.PEM.Reveal(), c.Key.Source()}, []any{testPEM, "env"} }},
		{"secret id", false, nil,
			func(c *Config) (any, any) { return c.Key.Source(), "secret" }},
		{"hash SHA1", false, map[string]string{"CLOUDFRONT_HASH_ALGORITHM": "Sha-1"},
			func(c *Config) (any, any) { return c.CloudFront.HashAlgorithm, signer.SHA1 }},
		{"hash SHA256", false, map[string]string{"CLOUDFRONT_HASH_ALGORITHM": "SHA256"},
			func(c *Config) (any, any) { return c.CloudFront.HashAlgorithm, signer.SHA256 }},
		{"cookie domain equal to the host", false, map[string]string{"COOKIE_DOMAIN": "media.example.com"},
			func(c *Config) (any, any) { return c.Cookie.Domain, "media.example.com" }},
		{"cookie domain with leading dot", false, map[string]string{"COOKIE_DOMAIN": ".example.com"},
			func(c *Config) (any, any) { return c.Cookie.Domain, "example.com" }},
		{"cookie domain under a multi-label suffix", false, map[string]string{"CLOUDFRONT_DOMAIN": "cdn.shop.example.co.uk", "COOKIE_DOMAIN": "example.co.uk"},
			func(c *Config) (any, any) { return c.Cookie.Domain, "example.co.uk" }},
		{"cookie domain upper case", false, map[string]string{"COOKIE_DOMAIN": ".EXAMPLE.Com"},
			func(c *Config) (any, any) { return c.Cookie.Domain, "example.com" }},
		{"cookie domain: the distribution's own name under cloudfront.net", false, map[string]string{"CLOUDFRONT_DOMAIN": "d111111abcdef8.cloudfront.net", "COOKIE_DOMAIN": "d111111abcdef8.cloudfront.net"},
			func(c *Config) (any, any) { return c.Cookie.Domain, "d111111abcdef8.cloudfront.net" }},
		{"cookie domain: a bucket's own name under s3.amazonaws.com", false, map[string]string{"CLOUDFRONT_DOMAIN": "cdn.media.s3.amazonaws.com", "COOKIE_DOMAIN": "media.s3.amazonaws.com"},
			func(c *Config) (any, any) { return c.Cookie.Domain, "media.s3.amazonaws.com" }},
		{"cookie path without trailing slash covers media", false, map[string]string{"COOKIE_PATH": "/media"},
			func(c *Config) (any, any) { return c.Cookie.Path, "/media" }},
		{"samesite strict", false, map[string]string{"COOKIE_SAMESITE": "STRICT"},
			func(c *Config) (any, any) { return c.Cookie.SameSite, http.SameSiteStrictMode }},
		{"samesite none with default secure", false, map[string]string{"COOKIE_SAMESITE": "none"},
			func(c *Config) (any, any) { return c.Cookie.SameSite, http.SameSiteNoneMode }},
		{"secure false", false, map[string]string{"COOKIE_SECURE": "false"},
			func(c *Config) (any, any) { return c.Cookie.Secure, false }},
		{"ttl lower bound", false, map[string]string{"COOKIE_TTL": "1m"},
			func(c *Config) (any, any) { return c.Cookie.TTL, time.Minute }},
		{"ttl upper bound", false, map[string]string{"COOKIE_TTL": "168h"},
			func(c *Config) (any, any) { return c.Cookie.TTL, 168 * time.Hour }},
		{"expiry granularity disabled", false, map[string]string{"EXPIRY_GRANULARITY": "0"},
			func(c *Config) (any, any) { return c.ExpiryGranularity, time.Duration(0) }},
		{"expiry granularity just under the ttl", false, map[string]string{"EXPIRY_GRANULARITY": "9m59s"},
			func(c *Config) (any, any) { return c.ExpiryGranularity, 9*time.Minute + 59*time.Second }},
		{"default expiry granularity is a fifth of a short ttl", false, map[string]string{"COOKIE_TTL": "1m"},
			func(c *Config) (any, any) { return c.ExpiryGranularity, 12 * time.Second }},
		{"default expiry granularity with a 2m ttl", false, map[string]string{"COOKIE_TTL": "2m"},
			func(c *Config) (any, any) { return c.ExpiryGranularity, 24 * time.Second }},
		{"signature cache size", false, map[string]string{"SIGNATURE_CACHE_SIZE": " 100000 "},
			func(c *Config) (any, any) { return c.SignatureCacheSize, 100000 }},
		{"media path with wildcards", false, map[string]string{"MEDIA_PATH": "/v?/{tenant}/{sub}/*.m3u8"},
			func(c *Config) (any, any) { return c.MediaPath, "/v?/{tenant}/{sub}/*.m3u8" }},
		{"oidc issuer on localhost over http", false, map[string]string{"OIDC_ISSUER": "http://localhost:8000/realms/dev"},
			func(c *Config) (any, any) { return c.Auth.OIDCIssuer, "http://localhost:8000/realms/dev" }},
		{"alb needs no oidc", false, map[string]string{"AUTH_MODE": "ALB", "OIDC_ISSUER": unset, "OIDC_AUDIENCE": unset, "ALB_ARN": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/y"},
			func(c *Config) (any, any) { return c.Auth.Mode, auth.ModeALB }},
		{"alb outside the aws partition with its keys URL", false, map[string]string{"AUTH_MODE": "alb", "ALB_ARN": "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/x/y", "ALB_PUBLIC_KEYS_URL": "https://keys.example.com/us-gov-west-1"},
			func(c *Config) (any, any) { return c.Auth.ALBKeysURL, "https://keys.example.com/us-gov-west-1" }},
		{"dev: oidc on request", true, map[string]string{"AUTH_MODE": "oidc", "OIDC_ISSUER": "http://127.0.0.1:8000", "OIDC_AUDIENCE": "x"},
			func(c *Config) (any, any) { return c.Auth.Mode, auth.ModeOIDC }},
		{"cors: trimmed, empty entries ignored, deduplicated", false, map[string]string{"CORS_ALLOWED_ORIGINS": " https://a.example.com , ,https://a.example.com,http://localhost:5173,http://127.0.0.1:3000,http://[::1]:3000"},
			func(c *Config) (any, any) {
				return c.CORSAllowedOrigins, []string{"https://a.example.com", "http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:3000"}
			}},
		{"dev: cors over http", true, map[string]string{"CORS_ALLOWED_ORIGINS": "http://app.test:8080"},
			func(c *Config) (any, any) { return c.CORSAllowedOrigins, []string{"http://app.test:8080"} }},
		{"trusted proxies masked and deduplicated", false, map[string]string{"TRUSTED_PROXIES": "10.9.8.7/8,10.0.0.0/8, fd00::5/8"},
			func(c *Config) (any, any) {
				return c.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
			}},
		{"trusted proxies written IPv4-mapped are the IPv4 ranges clients come from", false, map[string]string{"TRUSTED_PROXIES": "::ffff:10.0.0.0/104, ::ffff:192.0.2.1, 10.0.0.0/8"},
			func(c *Config) (any, any) {
				return c.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
			}},
		{"trusted proxies covering all but one IPv4 address", false, map[string]string{"TRUSTED_PROXIES": allButLastIPv4()},
			func(c *Config) (any, any) {
				return []any{len(c.TrustedProxies), c.TrustedProxiesAllowAll}, []any{32, false}
			}},
		{"trusted proxies trusting every address, acknowledged", false, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/0, ::/0", "TRUSTED_PROXIES_ALLOW_ALL": "true"},
			func(c *Config) (any, any) {
				return []any{c.TrustedProxies, c.TrustedProxiesAllowAll},
					[]any{[]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}, true}
			}},
		{"trusted proxies allow all false is the default", false, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8", "TRUSTED_PROXIES_ALLOW_ALL": "false"},
			func(c *Config) (any, any) { return c.TrustedProxiesAllowAll, false }},
		{"rate limits default", false, nil,
			func(c *Config) (any, any) {
				return []any{c.RateLimitPerIP, c.RateLimitPerIdentity},
					[]any{handlers.RateLimit{Requests: 300, Window: time.Minute}, handlers.RateLimit{Requests: 60, Window: time.Minute}}
			}},
		{"rate limits set", false, map[string]string{"RATE_LIMIT_PER_IP": "1000/ 30s", "RATE_LIMIT_PER_IDENTITY": "5/1h"},
			func(c *Config) (any, any) {
				return []any{c.RateLimitPerIP, c.RateLimitPerIdentity},
					[]any{handlers.RateLimit{Requests: 1000, Window: 30 * time.Second}, handlers.RateLimit{Requests: 5, Window: time.Hour}}
			}},
		{"rate limits off", false, map[string]string{"RATE_LIMIT_PER_IP": "OFF", "RATE_LIMIT_PER_IDENTITY": "0"},
			func(c *Config) (any, any) {
				return []any{c.RateLimitPerIP.Enabled(), c.RateLimitPerIdentity.Enabled(), c.RateLimitPerIP.String()},
					[]any{false, false, "off"}
			}},
		{"log level case-insensitive", false, map[string]string{"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "Console"},
			func(c *Config) (any, any) {
				return []any{c.LogLevel, c.LogFormat}, []any{zerolog.DebugLevel, LogConsole}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(lookup(env(tt.dev, tt.env)), tt.dev)
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			if got, want := tt.check(c); !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestLoadRejects has one row per rule: each bad environment must fail with exactly
// one problem, naming the variable and the rule.
func TestLoadRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, []byte(testPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 64)
	tests := []struct {
		name     string
		dev      bool
		env      map[string]string
		wantVar  string
		wantRule string
	}{
		{"listen addr without port", false, map[string]string{"LISTEN_ADDR": "8080"}, "LISTEN_ADDR", "must be host:port"},
		{"listen addr named port", false, map[string]string{"LISTEN_ADDR": ":http"}, "LISTEN_ADDR", "port must be a number"},
		{"metrics addr invalid", false, map[string]string{"METRICS_ADDR": "localhost"}, "METRICS_ADDR", "must be host:port"},
		{"metrics addr equals listen addr", false, map[string]string{"METRICS_ADDR": ":8080"}, "METRICS_ADDR", "must differ from LISTEN_ADDR :8080"},
		{"metrics addr collides with wildcard listener", false, map[string]string{"LISTEN_ADDR": "0.0.0.0:9000", "METRICS_ADDR": "127.0.0.1:9000"}, "METRICS_ADDR", "must differ from LISTEN_ADDR"},

		{"cloudfront domain missing", false, map[string]string{"CLOUDFRONT_DOMAIN": unset}, "CLOUDFRONT_DOMAIN", "required"},
		{"cloudfront domain empty", false, map[string]string{"CLOUDFRONT_DOMAIN": "  "}, "CLOUDFRONT_DOMAIN", "required"},
		{"cloudfront domain with path", false, map[string]string{"CLOUDFRONT_DOMAIN": "https://media.example.com/media"}, "CLOUDFRONT_DOMAIN", "must not contain a path"},
		{"cloudfront domain with double slash", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.example.com//"}, "CLOUDFRONT_DOMAIN", "must not contain a path"},
		{"cloudfront domain with query", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.example.com?x=1"}, "CLOUDFRONT_DOMAIN", "must not contain a query"},
		{"cloudfront domain with fragment", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.example.com#top"}, "CLOUDFRONT_DOMAIN", "must not contain a fragment"},
		{"cloudfront domain with userinfo", false, map[string]string{"CLOUDFRONT_DOMAIN": "https://me@media.example.com"}, "CLOUDFRONT_DOMAIN", "userinfo"},
		{"cloudfront domain wildcard", false, map[string]string{"CLOUDFRONT_DOMAIN": "*.example.com"}, "CLOUDFRONT_DOMAIN", "wildcard"},
		{"cloudfront domain IP", false, map[string]string{"CLOUDFRONT_DOMAIN": "203.0.113.7"}, "CLOUDFRONT_DOMAIN", "not an IP address"},
		{"cloudfront domain port", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.example.com:443"}, "CLOUDFRONT_DOMAIN", "must not include a port"},
		{"dev: cloudfront domain bad port", true, map[string]string{"CLOUDFRONT_DOMAIN": "http://localhost:99999"}, "CLOUDFRONT_DOMAIN", "port must be a number"},
		{"cloudfront domain non-ASCII", false, map[string]string{"CLOUDFRONT_DOMAIN": "médias.example.com"}, "CLOUDFRONT_DOMAIN", "xn--"},
		{"cloudfront domain http", false, map[string]string{"CLOUDFRONT_DOMAIN": "http://media.example.com"}, "CLOUDFRONT_DOMAIN", "must use https (http only with --dev)"},
		{"cloudfront domain other scheme", true, map[string]string{"CLOUDFRONT_DOMAIN": "ftp://media.example.com"}, "CLOUDFRONT_DOMAIN", "scheme must be https"},
		{"cloudfront domain label starts with dash", false, map[string]string{"CLOUDFRONT_DOMAIN": "-media.example.com"}, "CLOUDFRONT_DOMAIN", "valid DNS name"},
		{"cloudfront domain underscore", false, map[string]string{"CLOUDFRONT_DOMAIN": "media_1.example.com"}, "CLOUDFRONT_DOMAIN", "valid DNS name"},
		{"cloudfront domain label too long", false, map[string]string{"CLOUDFRONT_DOMAIN": long + ".example.com"}, "CLOUDFRONT_DOMAIN", "valid DNS name"},
		{"cloudfront domain too long", false, map[string]string{"CLOUDFRONT_DOMAIN": strings.Repeat("abcdefghi.", 25) + "example.com"}, "CLOUDFRONT_DOMAIN", "valid DNS name"},
		{"cloudfront domain trailing dot", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.example.com."}, "CLOUDFRONT_DOMAIN", "valid DNS name"},

		{"key pair id missing", false, map[string]string{"CLOUDFRONT_KEY_PAIR_ID": unset, "CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": testPEM}, "CLOUDFRONT_KEY_PAIR_ID", "required"},
		{"key pair id missing with a file", false, map[string]string{"CLOUDFRONT_KEY_PAIR_ID": unset, "CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY_FILE": keyFile}, "CLOUDFRONT_KEY_PAIR_ID", "required"},
		{"key pair id punctuation", false, map[string]string{"CLOUDFRONT_KEY_PAIR_ID": "K2JC-JMDE"}, "CLOUDFRONT_KEY_PAIR_ID", "letters and digits"},
		{"key pair id too long", false, map[string]string{"CLOUDFRONT_KEY_PAIR_ID": strings.Repeat("K", 129)}, "CLOUDFRONT_KEY_PAIR_ID", "1 to 128"},
		{"dev: key pair id required with a key", true, map[string]string{"CLOUDFRONT_PRIVATE_KEY": testPEM}, "CLOUDFRONT_KEY_PAIR_ID", "required with a configured key"},

		{"no key source", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset}, "CLOUDFRONT_PRIVATE_KEY", "no key source"},
		{"two key sources", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY": testPEM}, "CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_PRIVATE_KEY_SECRET", "exactly one key source"},
		{"inline key not PEM", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}, "CLOUDFRONT_PRIVATE_KEY", `"-----BEGIN "`},
		{"key file missing", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY_FILE": filepath.Join(dir, "nope.pem")}, "CLOUDFRONT_PRIVATE_KEY_FILE", "cannot be read: no such file"},
		{"key file is a directory", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY_FILE": dir}, "CLOUDFRONT_PRIVATE_KEY_FILE", "must be a regular file, not a directory"},
		{"key secret holds the key", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": testPEM}, "CLOUDFRONT_PRIVATE_KEY_SECRET", "not the key itself"},
		{"key refresh not a duration", false, map[string]string{"KEY_REFRESH_INTERVAL": "300"}, "KEY_REFRESH_INTERVAL", `must be a duration such as "5m"`},
		{"key refresh too short", false, map[string]string{"KEY_REFRESH_INTERVAL": "5s"}, "KEY_REFRESH_INTERVAL", "between 10s and 24h"},
		{"key refresh too long", false, map[string]string{"KEY_REFRESH_INTERVAL": "48h"}, "KEY_REFRESH_INTERVAL", "between 10s and 24h"},
		{"key refresh negative", false, map[string]string{"KEY_REFRESH_INTERVAL": "-1m"}, "KEY_REFRESH_INTERVAL", "between 10s and 24h"},
		{"key refresh with an inline key", false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": testPEM, "KEY_REFRESH_INTERVAL": "1m"}, "KEY_REFRESH_INTERVAL", "never re-read"},
		{"dev: key refresh with an ephemeral key", true, map[string]string{"KEY_REFRESH_INTERVAL": "1m"}, "KEY_REFRESH_INTERVAL", "never re-read"},

		{"hash algorithm unknown", false, map[string]string{"CLOUDFRONT_HASH_ALGORITHM": "SHA512"}, "CLOUDFRONT_HASH_ALGORITHM", "must be SHA256 or SHA1"},

		{"cookie domain is a public suffix", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.example.co.uk", "COOKIE_DOMAIN": ".co.uk"}, "COOKIE_DOMAIN", "is a public suffix; browsers refuse cookies for it"},
		{"cookie domain is a TLD", false, map[string]string{"COOKIE_DOMAIN": "com"}, "COOKIE_DOMAIN", "public suffix"},
		{"cookie domain is a private public suffix", false, map[string]string{"CLOUDFRONT_DOMAIN": "me.github.io", "COOKIE_DOMAIN": "github.io"}, "COOKIE_DOMAIN", "public suffix"},
		{"cookie domain does not cover cloudfront", false, map[string]string{"COOKIE_DOMAIN": "example.org"}, "COOKIE_DOMAIN", "does not cover CLOUDFRONT_DOMAIN media.example.com: the browser would not send the cookies to CloudFront"},
		{"cookie domain is a sibling", false, map[string]string{"COOKIE_DOMAIN": "api.example.com"}, "COOKIE_DOMAIN", "does not cover"},
		{"dev: cookie domain does not cover host with port", true, map[string]string{"CLOUDFRONT_DOMAIN": "http://cdn.example.test:8081", "COOKIE_DOMAIN": "other.test"}, "COOKIE_DOMAIN", "does not cover CLOUDFRONT_DOMAIN cdn.example.test:"},
		{"cookie domain with scheme", false, map[string]string{"COOKIE_DOMAIN": "https://example.com"}, "COOKIE_DOMAIN", "without a scheme"},
		{"cookie domain with port", false, map[string]string{"COOKIE_DOMAIN": "example.com:443"}, "COOKIE_DOMAIN", "port"},
		{"cookie domain with path", false, map[string]string{"COOKIE_DOMAIN": "example.com/media"}, "COOKIE_DOMAIN", "without a path"},
		{"cookie domain IP", false, map[string]string{"COOKIE_DOMAIN": "192.0.2.1"}, "COOKIE_DOMAIN", "not an IP address"},
		{"cookie domain wildcard", false, map[string]string{"COOKIE_DOMAIN": "*.example.com"}, "COOKIE_DOMAIN", "wildcard"},
		{"cookie domain invalid name", false, map[string]string{"COOKIE_DOMAIN": "exa_mple.com"}, "COOKIE_DOMAIN", "valid DNS name"},
		{"cookie domain is cloudfront.net", false, map[string]string{"CLOUDFRONT_DOMAIN": "d111111abcdef8.cloudfront.net", "COOKIE_DOMAIN": ".cloudfront.net"}, "COOKIE_DOMAIN", "is a public suffix; browsers refuse cookies for it"},
		{"cookie domain is S3's public suffix", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.s3.amazonaws.com", "COOKIE_DOMAIN": ".s3.amazonaws.com"}, "COOKIE_DOMAIN", "is a public suffix"},
		{"cookie domain names the private section", false, map[string]string{"CLOUDFRONT_DOMAIN": "me.github.io", "COOKIE_DOMAIN": "github.io"}, "COOKIE_DOMAIN", "private section of the Public Suffix List"},
		{"cookie domain is a parent of S3's public suffix", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.s3.amazonaws.com", "COOKIE_DOMAIN": ".amazonaws.com"}, "COOKIE_DOMAIN", "is a parent of the public suffix s3.amazonaws.com"},
		{"cookie domain is a parent of public suffixes, cloudfront beside them", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.amazonaws.com", "COOKIE_DOMAIN": "amazonaws.com"}, "COOKIE_DOMAIN", "is a parent of the public suffix"},
		{"cookie domain is a parent of a wildcard public suffix", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.compute.amazonaws.com", "COOKIE_DOMAIN": "compute.amazonaws.com"}, "COOKIE_DOMAIN", "is a parent of the public suffix"},
		{"cookie domain is a region above S3's", false, map[string]string{"CLOUDFRONT_DOMAIN": "media.s3.dualstack.eu-west-1.amazonaws.com", "COOKIE_DOMAIN": "dualstack.eu-west-1.amazonaws.com"}, "COOKIE_DOMAIN", "is a parent of the public suffix"},
		{"dev: cookie domain localhost", true, map[string]string{"COOKIE_DOMAIN": "localhost"}, "COOKIE_DOMAIN", "host-only"},
		{"cookie domain with a trailing dot", false, map[string]string{"COOKIE_DOMAIN": "example.com."}, "COOKIE_DOMAIN", `must not end in "."`},
		{"cookie domain with two leading dots", false, map[string]string{"COOKIE_DOMAIN": "..example.com"}, "COOKIE_DOMAIN", "one leading dot at most"},
		{"cookie domain IPv6 in brackets", false, map[string]string{"COOKIE_DOMAIN": "[2001:db8::1]"}, "COOKIE_DOMAIN", "not an IP address"},
		{"cookie domain IPv6", false, map[string]string{"COOKIE_DOMAIN": "2001:db8::1"}, "COOKIE_DOMAIN", "not an IP address"},
		{"cookie domain IP with port", false, map[string]string{"COOKIE_DOMAIN": "192.0.2.1:443"}, "COOKIE_DOMAIN", "not an IP address"},
		{"cookie domain upper case with port", false, map[string]string{"COOKIE_DOMAIN": "Example.COM:8443"}, "COOKIE_DOMAIN", "must not include a port"},

		{"cookie path empty", false, map[string]string{"COOKIE_PATH": ""}, "COOKIE_PATH", "set but empty: an empty cookie Path makes browsers scope the cookies to the request path (/auth)"},
		{"cookie path blank", false, map[string]string{"COOKIE_PATH": " "}, "COOKIE_PATH", "set but empty"},
		{"cookie path relative", false, map[string]string{"COOKIE_PATH": "media"}, "COOKIE_PATH", `must start with "/"`},
		{"cookie path semicolon", false, map[string]string{"COOKIE_PATH": "/;Domain=evil.com"}, "COOKIE_PATH", "';'"},
		{"cookie path comma", false, map[string]string{"COOKIE_PATH": "/a,b"}, "COOKIE_PATH", "','"},
		{"cookie path space", false, map[string]string{"COOKIE_PATH": "/a b"}, "COOKIE_PATH", "without spaces"},
		{"cookie path control", false, map[string]string{"COOKIE_PATH": "/a\tb"}, "COOKIE_PATH", "printable ASCII"},
		{"cookie path non-ASCII", false, map[string]string{"COOKIE_PATH": "/médias"}, "COOKIE_PATH", "printable ASCII"},
		{"cookie path wildcard", false, map[string]string{"COOKIE_PATH": "/media/*"}, "COOKIE_PATH", "'*' or '?'"},
		{"cookie path does not cover media", false, map[string]string{"COOKIE_PATH": "/auth"}, "COOKIE_PATH", "does not cover MEDIA_PATH /media/{sub}/*"},

		{"samesite unknown", false, map[string]string{"COOKIE_SAMESITE": "lenient"}, "COOKIE_SAMESITE", "must be one of lax, strict, none"},
		{"samesite none without secure", false, map[string]string{"COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"}, "COOKIE_SAMESITE", "requires COOKIE_SECURE=true (browsers drop SameSite=None cookies without Secure)"},
		{"secure not a bool", false, map[string]string{"COOKIE_SECURE": "yes"}, "COOKIE_SECURE", "must be true or false"},
		{"ttl not a duration", false, map[string]string{"COOKIE_TTL": "600"}, "COOKIE_TTL", "must be a duration"},
		{"ttl fractional seconds", false, map[string]string{"COOKIE_TTL": "90500ms"}, "COOKIE_TTL", "whole seconds"},
		{"ttl too short", false, map[string]string{"COOKIE_TTL": "59s"}, "COOKIE_TTL", "between 1m and 168h"},
		{"ttl too long", false, map[string]string{"COOKIE_TTL": "169h"}, "COOKIE_TTL", "between 1m and 168h"},
		{"ttl negative", false, map[string]string{"COOKIE_TTL": "-10m"}, "COOKIE_TTL", "between 1m and 168h"},

		{"expiry granularity not a duration", false, map[string]string{"EXPIRY_GRANULARITY": "60"}, "EXPIRY_GRANULARITY", `must be a duration such as "1m", or "0"`},
		{"expiry granularity negative", false, map[string]string{"EXPIRY_GRANULARITY": "-1m"}, "EXPIRY_GRANULARITY", "must not be negative"},
		{"expiry granularity fractional", false, map[string]string{"EXPIRY_GRANULARITY": "1500ms"}, "EXPIRY_GRANULARITY", "whole seconds"},
		{"expiry granularity equal to the ttl", false, map[string]string{"EXPIRY_GRANULARITY": "10m"}, "EXPIRY_GRANULARITY", "must be shorter than COOKIE_TTL (10m0s)"},
		{"expiry granularity over the ttl", false, map[string]string{"COOKIE_TTL": "2m", "EXPIRY_GRANULARITY": "5m"}, "EXPIRY_GRANULARITY", "must be shorter than COOKIE_TTL (2m0s)"},
		{"signature cache size negative", false, map[string]string{"SIGNATURE_CACHE_SIZE": "-1"}, "SIGNATURE_CACHE_SIZE", "from 0 (no cache) to 1000000"},
		{"signature cache size too big", false, map[string]string{"SIGNATURE_CACHE_SIZE": "1000001"}, "SIGNATURE_CACHE_SIZE", "from 0 (no cache) to 1000000"},
		{"signature cache size not a number", false, map[string]string{"SIGNATURE_CACHE_SIZE": "4k"}, "SIGNATURE_CACHE_SIZE", "whole number"},

		{"media path relative", false, map[string]string{"MEDIA_PATH": "media/{sub}/*"}, "MEDIA_PATH", "must start with /"},
		{"media path dot-dot", false, map[string]string{"MEDIA_PATH": "/media/../{sub}/*"}, "MEDIA_PATH", `".."`},
		{"media path unbalanced", false, map[string]string{"MEDIA_PATH": "/media/{sub/*"}, "MEDIA_PATH", "unclosed {"},
		{"media path percent", false, map[string]string{"MEDIA_PATH": "/media/%7Bsub%7D/*"}, "MEDIA_PATH", `'%'`},

		{"allow get not a bool", false, map[string]string{"ALLOW_GET": "sometimes"}, "ALLOW_GET", "must be true or false"},

		{"auth mode unknown", false, map[string]string{"AUTH_MODE": "saml"}, "AUTH_MODE", "must be one of oidc, alb, dev"},
		{"auth mode dev without --dev", false, map[string]string{"AUTH_MODE": "dev"}, "AUTH_MODE", "only available with --dev"},
		{"oidc issuer missing", false, map[string]string{"OIDC_ISSUER": unset}, "OIDC_ISSUER", "required with AUTH_MODE=oidc"},
		{"oidc audience missing", false, map[string]string{"OIDC_AUDIENCE": ""}, "OIDC_AUDIENCE", "required with AUTH_MODE=oidc"},
		{"oidc issuer not absolute", false, map[string]string{"OIDC_ISSUER": "login.example.com"}, "OIDC_ISSUER", "absolute URL"},
		{"oidc issuer over http", false, map[string]string{"OIDC_ISSUER": "http://login.example.com"}, "OIDC_ISSUER", "must use https (http only for localhost)"},
		{"oidc issuer with query", false, map[string]string{"OIDC_ISSUER": "https://login.example.com/?tenant=1"}, "OIDC_ISSUER", "query"},
		{"alb arn missing", false, map[string]string{"AUTH_MODE": "alb"}, "ALB_ARN", "required with AUTH_MODE=alb"},
		{"alb arn not a load balancer", false, map[string]string{"AUTH_MODE": "alb", "ALB_ARN": "arn:aws:iam::123456789012:role/web"}, "ALB_ARN", "load balancer ARN"},
		{"alb arn with a malformed account", false, map[string]string{"AUTH_MODE": "alb", "ALB_ARN": "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/y"}, "ALB_ARN", "malformed account id"},
		{"alb arn of a network load balancer", false, map[string]string{"AUTH_MODE": "alb", "ALB_ARN": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/x/y"}, "ALB_ARN", "not an application load balancer"},
		{"alb outside the aws partition without a keys URL", false, map[string]string{"AUTH_MODE": "alb", "ALB_ARN": "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/x/y"}, "ALB_PUBLIC_KEYS_URL", "required for an ALB in partition aws-us-gov"},
		{"auth cookie with space", false, map[string]string{"AUTH_COOKIE": "my token"}, "AUTH_COOKIE", "valid cookie name"},
		{"auth cookie with equals", false, map[string]string{"AUTH_COOKIE": "a=b"}, "AUTH_COOKIE", "valid cookie name"},
		{"auth cookie is a CloudFront cookie", false, map[string]string{"AUTH_COOKIE": "CloudFront-Policy"}, "AUTH_COOKIE", "CloudFront-*"},

		{"cors wildcard", false, map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, "CORS_ALLOWED_ORIGINS", "never *: browsers refuse a wildcard origin with credentials"},
		{"cors null", false, map[string]string{"CORS_ALLOWED_ORIGINS": "null"}, "CORS_ALLOWED_ORIGINS", "never null"},
		{"cors upper case", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://App.example.com"}, "CORS_ALLOWED_ORIGINS", "lower case, as browsers send it: https://app.example.com"},
		{"cors trailing slash", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com/"}, "CORS_ALLOWED_ORIGINS", `must not end in "/"`},
		{"cors path", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com/login"}, "CORS_ALLOWED_ORIGINS", "must not contain a path"},
		{"cors query", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com?x"}, "CORS_ALLOWED_ORIGINS", "query"},
		{"cors fragment", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com#x"}, "CORS_ALLOWED_ORIGINS", "fragment"},
		{"cors userinfo", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://me@app.example.com"}, "CORS_ALLOWED_ORIGINS", "userinfo"},
		{"cors no scheme", false, map[string]string{"CORS_ALLOWED_ORIGINS": "app.example.com"}, "CORS_ALLOWED_ORIGINS", "scheme://host[:port]"},
		{"cors http in production", false, map[string]string{"CORS_ALLOWED_ORIGINS": "http://app.example.com"}, "CORS_ALLOWED_ORIGINS", "must use https"},
		{"cors other scheme", false, map[string]string{"CORS_ALLOWED_ORIGINS": "ftp://app.example.com"}, "CORS_ALLOWED_ORIGINS", "scheme must be https or http"},
		{"cors default port", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com:443"}, "CORS_ALLOWED_ORIGINS", "must omit the default port :443"},
		{"cors wildcard subdomain", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://*.example.com"}, "CORS_ALLOWED_ORIGINS", "wildcard"},
		{"cors one bad among good", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example.com,*,https://b.example.com"}, "CORS_ALLOWED_ORIGINS", "never *"},
		{"cors null in capitals among good", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example.com, NULL"}, "CORS_ALLOWED_ORIGINS", "never null"},
		{"cors wildcard host", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://*"}, "CORS_ALLOWED_ORIGINS", "wildcard"},
		{"cors wildcard scheme", false, map[string]string{"CORS_ALLOWED_ORIGINS": "*://app.example.com"}, "CORS_ALLOWED_ORIGINS", "scheme must be https or http"},
		{"cors wildcard port", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com:*"}, "CORS_ALLOWED_ORIGINS", "wildcard"},
		{"cors wildcard within a label", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app-*.example.com"}, "CORS_ALLOWED_ORIGINS", "wildcard"},
		{"cors wildcard path", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com/*"}, "CORS_ALLOWED_ORIGINS", "must not contain a path"},
		{"cors domain pattern without scheme", false, map[string]string{"CORS_ALLOWED_ORIGINS": ".example.com"}, "CORS_ALLOWED_ORIGINS", "scheme://host[:port]"},
		{"cors no host", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://"}, "CORS_ALLOWED_ORIGINS", "has no host"},

		{"trusted proxy bad prefix", false, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES", "must be a CIDR"},
		{"trusted proxy host name", false, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, "TRUSTED_PROXIES", "must be a CIDR"},
		{"trusted proxy zone", false, map[string]string{"TRUSTED_PROXIES": "fe80::1%eth0"}, "TRUSTED_PROXIES", "must be a CIDR"},
		{"trusted proxies: all of IPv4", false, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/0"}, "TRUSTED_PROXIES", "trust every IPv4 address: any client could forge X-Forwarded-For"},
		{"trusted proxies: all of IPv6", false, map[string]string{"TRUSTED_PROXIES": "::/0"}, "TRUSTED_PROXIES", "every IPv6 address"},
		{"trusted proxies: all of IPv4 in halves", false, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/1,128.0.0.0/1"}, "TRUSTED_PROXIES", "trust every IPv4 address"},
		{"trusted proxies: all of IPv4, unsorted and overlapping", false, map[string]string{"TRUSTED_PROXIES": "192.0.0.0/2, 10.0.0.0/8, 0.0.0.0/2, 128.0.0.0/3, 160.0.0.0/3, 64.0.0.0/2"}, "TRUSTED_PROXIES", "trust every IPv4 address"},
		{"trusted proxies: all of IPv4, to the last address", false, map[string]string{"TRUSTED_PROXIES": allButLastIPv4() + ",255.255.255.255"}, "TRUSTED_PROXIES", "trust every IPv4 address"},
		{"trusted proxies: all of IPv6 in halves", false, map[string]string{"TRUSTED_PROXIES": "8000::/1, ::/1"}, "TRUSTED_PROXIES", "every IPv6 address"},
		{"trusted proxies: every IPv4-mapped address", false, map[string]string{"TRUSTED_PROXIES": "::ffff:0:0/96"}, "TRUSTED_PROXIES", "trust every IPv4 address"},
		{"trusted proxies: IPv4-mapped and IPv4 halves", false, map[string]string{"TRUSTED_PROXIES": "::ffff:0.0.0.0/97, 128.0.0.0/1"}, "TRUSTED_PROXIES", "trust every IPv4 address"},
		{"trusted proxies: an IPv6 range holding every IPv4-mapped address", false, map[string]string{"TRUSTED_PROXIES": "::/80"}, "TRUSTED_PROXIES", "trust every IPv4 address"},
		{"trusted proxies: all, acknowledgement off", false, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/0", "TRUSTED_PROXIES_ALLOW_ALL": "false"}, "TRUSTED_PROXIES", "TRUSTED_PROXIES_ALLOW_ALL=true"},
		{"trusted proxies allow all not a bool", false, map[string]string{"TRUSTED_PROXIES": "0.0.0.0/0", "TRUSTED_PROXIES_ALLOW_ALL": "yes"}, "TRUSTED_PROXIES_ALLOW_ALL", "must be true or false"},
		{"trusted proxies allow all with narrow proxies", false, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8", "TRUSTED_PROXIES_ALLOW_ALL": "true"}, "TRUSTED_PROXIES_ALLOW_ALL", "only applies when TRUSTED_PROXIES trusts every IPv4 or every IPv6 address"},
		{"trusted proxies allow all without proxies", false, map[string]string{"TRUSTED_PROXIES_ALLOW_ALL": "true"}, "TRUSTED_PROXIES_ALLOW_ALL", "only applies when"},

		{"rate limit without window", false, map[string]string{"RATE_LIMIT_PER_IP": "300"}, "RATE_LIMIT_PER_IP", `must be "N/duration"`},
		{"rate limit bare unit", false, map[string]string{"RATE_LIMIT_PER_IP": "300/m"}, "RATE_LIMIT_PER_IP", `must be "N/duration"`},
		{"rate limit not a number", false, map[string]string{"RATE_LIMIT_PER_IDENTITY": "many/1m"}, "RATE_LIMIT_PER_IDENTITY", `must be "N/duration"`},
		{"rate limit zero requests", false, map[string]string{"RATE_LIMIT_PER_IDENTITY": "0/1m"}, "RATE_LIMIT_PER_IDENTITY", "must allow 1 to 1000000 requests"},
		{"rate limit negative", false, map[string]string{"RATE_LIMIT_PER_IP": "-5/1m"}, "RATE_LIMIT_PER_IP", "must allow 1 to 1000000 requests"},
		{"rate limit too many", false, map[string]string{"RATE_LIMIT_PER_IP": "1000001/1m"}, "RATE_LIMIT_PER_IP", "must allow 1 to 1000000 requests"},
		{"rate limit window too short", false, map[string]string{"RATE_LIMIT_PER_IP": "10/500ms"}, "RATE_LIMIT_PER_IP", "between 1s and 24h"},
		{"rate limit window too long", false, map[string]string{"RATE_LIMIT_PER_IP": "10/25h"}, "RATE_LIMIT_PER_IP", "between 1s and 24h"},
		{"rate limit window fractional", false, map[string]string{"RATE_LIMIT_PER_IP": "10/1.5s"}, "RATE_LIMIT_PER_IP", "whole seconds"},

		{"log level unknown", false, map[string]string{"LOG_LEVEL": "verbose"}, "LOG_LEVEL", "must be one of trace, debug, info"},
		{"log format unknown", false, map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT", "must be one of json, console"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(lookup(env(tt.dev, tt.env)), tt.dev)
			if err == nil {
				t.Fatalf("Load = %+v, want an error about %s", c, tt.wantVar)
			}
			if c != nil {
				t.Errorf("Load returned a Config with an error")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load error %T, want Errors", err)
			}
			if len(errs) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(errs), err)
			}
			if errs[0].Var != tt.wantVar || !strings.Contains(errs[0].Rule, tt.wantRule) {
				t.Errorf("got %q, want %s with a rule containing %q", errs[0].Error(), tt.wantVar, tt.wantRule)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantVar) || !strings.Contains(msg, tt.wantRule) {
				t.Errorf("Error() = %q lacks the variable or the rule", msg)
			}
		})
	}
}

// TestLoadCombinationOfErrors checks that every problem is reported at once, in order.
func TestLoadCombinationOfErrors(t *testing.T) {
	t.Parallel()
	_, err := Load(lookup(map[string]string{
		"CLOUDFRONT_DOMAIN":      "https://media.example.com/videos",
		"CLOUDFRONT_KEY_PAIR_ID": "K2JCJMDEHXQW5F",
		"CLOUDFRONT_PRIVATE_KEY": "hunter2",
		"COOKIE_DOMAIN":          "com",
		"COOKIE_PATH":            "",
		"COOKIE_SAMESITE":        "none",
		"COOKIE_SECURE":          "false",
		"COOKIE_TTL":             "30s",
		"AUTH_MODE":              "dev",
		"CORS_ALLOWED_ORIGINS":   "*, https://app.example.com/",
		"TRUSTED_PROXIES":        "0.0.0.0/1, 128.0.0.0/1",
		"LOG_FORMAT":             "xml",
	}), false)
	want := `config: 11 problems:
  CLOUDFRONT_DOMAIN="https://media.example.com/videos": must not contain a path
  CLOUDFRONT_PRIVATE_KEY=[redacted]: must be PEM text containing "-----BEGIN " (newlines may be written as \n)
  COOKIE_DOMAIN="com": is a public suffix; browsers refuse cookies for it: use a domain of your own that CLOUDFRONT_DOMAIN is under, or leave it empty for host-only cookies
  COOKIE_PATH: set but empty: an empty cookie Path makes browsers scope the cookies to the request path (/auth), so CloudFront never receives them; use "/" or unset it
  COOKIE_SAMESITE="none": requires COOKIE_SECURE=true (browsers drop SameSite=None cookies without Secure)
  COOKIE_TTL="30s": must be between 1m and 168h
  AUTH_MODE="dev": only available with --dev
  CORS_ALLOWED_ORIGINS="*": never *: browsers refuse a wildcard origin with credentials
  CORS_ALLOWED_ORIGINS="https://app.example.com/": must not end in "/": browsers send https://app.example.com
  TRUSTED_PROXIES="0.0.0.0/1, 128.0.0.0/1": would trust every IPv4 address: any client could forge X-Forwarded-For and choose the address that BIND_CLIENT_IP binds, the per-IP rate limit counts and the access log shows; list only your proxies' ranges (behind an ALB, the VPC's CIDR), or set TRUSTED_PROXIES_ALLOW_ALL=true if nothing but your proxies can reach the service
  LOG_FORMAT="xml": must be one of json, console`
	if err == nil || err.Error() != want {
		t.Errorf("Load error =\n%v\nwant\n%s", err, want)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const body = "c2VjcmV0LWtleS1ieXRlcy1kby1ub3QtbG9n"
	badKeys := map[string]map[string]string{
		"inline key not PEM":         {"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": body},
		"inline key with other bad":  {"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": testPEM, "COOKIE_TTL": "1s"},
		"inline key with two source": {"CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(testPEM, "\n", `\n`)},
		"key pasted into file var":   {"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY_FILE": testPEM},
		"key pasted into secret var": {"CLOUDFRONT_PRIVATE_KEY_SECRET": testPEM},
		"key pasted elsewhere":       {"COOKIE_DOMAIN": testPEM},
	}
	for name, overrides := range badKeys {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(lookup(env(false, overrides)), false)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), body) || strings.Contains(fmt.Sprintf("%#v", err), body) {
				t.Errorf("error shows the key:\n%v", err)
			}
		})
	}

	t.Run("valid config output", func(t *testing.T) {
		t.Parallel()
		c, err := Load(lookup(env(false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": unset, "CLOUDFRONT_PRIVATE_KEY": testPEM})), false)
		if err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		logger := zerolog.New(&logged)
		logger.Info().Object("config", c).Msg("starting")
		if !strings.Contains(logged.String(), `"key_source":"env"`) {
			t.Errorf("log lacks key_source: %s", logged.String())
		}
		js, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		outputs := map[string]string{
			"zerolog": logged.String(),
			"json":    string(js),
			"%v":      fmt.Sprintf("%v", c),
			"%+v":     fmt.Sprintf("%+v", *c),
			"%#v":     fmt.Sprintf("%#v", *c),
			"%s key":  fmt.Sprintf("%s", c.Key),
		}
		for how, out := range outputs {
			if strings.Contains(out, body) {
				t.Errorf("%s output shows the key: %s", how, out)
			}
		}
	})
}

func TestMarshalZerologObject(t *testing.T) {
	t.Parallel()
	c, err := Load(lookup(env(false, map[string]string{
		"TRUSTED_PROXIES":      "10.0.0.0/8",
		"CORS_ALLOWED_ORIGINS": "https://app.example.com",
		"COOKIE_SAMESITE":      "strict",
	})), false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logger := zerolog.New(&buf)
	logger.Info().EmbedObject(c).Send()
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log is not JSON: %v: %s", err, buf.String())
	}
	for field, want := range map[string]any{
		"cloudfront_url":          "https://media.example.com",
		"key_source":              "secret",
		"key_secret_id":           "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies-key",
		"key_refresh_interval":    "5m0s",
		"cookie_samesite":         "strict",
		"cookie_ttl":              "10m0s",
		"auth_mode":               "oidc",
		"trusted_proxies":         []any{"10.0.0.0/8"},
		"cors_allowed_origins":    []any{"https://app.example.com"},
		"log_level":               "info",
		"metrics_addr":            ":9090",
		"rate_limit_per_ip":       "300/1m0s",
		"rate_limit_per_identity": "60/1m0s",
	} {
		if !reflect.DeepEqual(got[field], want) {
			t.Errorf("%s = %#v, want %#v", field, got[field], want)
		}
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	s := Secret("hunter2")
	for _, out := range []string{
		s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Sprintf("%+v", struct{ K Secret }{s}), fmt.Sprintf("%#v", struct{ K Secret }{s}),
	} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("output shows the secret: %s", out)
		}
	}
	if j, _ := json.Marshal(map[string]Secret{"k": s, "e": ""}); string(j) != `{"e":"","k":"[redacted]"}` {
		t.Errorf("json = %s", j)
	}
	if txt, _ := s.MarshalText(); string(txt) != "[redacted]" {
		t.Errorf("MarshalText = %s", txt)
	}
	if Secret("").String() != "" {
		t.Errorf("empty Secret prints %q", Secret("").String())
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestErrorsFormat(t *testing.T) {
	t.Parallel()
	one := Errors{{Var: "COOKIE_TTL", Value: "1s", Rule: "must be between 1m and 168h"}}
	if got, want := one.Error(), "config: 1 problem:\n  COOKIE_TTL=\"1s\": must be between 1m and 168h"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var fe FieldError
	if !errors.As(error(one), &fe) || fe.Var != "COOKIE_TTL" {
		t.Errorf("errors.As(FieldError) = %+v", fe)
	}
}

// FuzzLoadNeverShowsKey puts PEM text into any variable: Load must not panic, and its
// error must never contain the key.
func FuzzLoadNeverShowsKey(f *testing.F) {
	names := []string{
		"CLOUDFRONT_PRIVATE_KEY", "CLOUDFRONT_PRIVATE_KEY_FILE", "CLOUDFRONT_PRIVATE_KEY_SECRET",
		"CLOUDFRONT_DOMAIN", "COOKIE_DOMAIN", "COOKIE_PATH", "MEDIA_PATH", "CORS_ALLOWED_ORIGINS",
		"TRUSTED_PROXIES", "OIDC_ISSUER", "LOG_LEVEL", "CLOUDFRONT_KEY_PAIR_ID",
	}
	f.Add(uint8(0), "c2VjcmV0")
	f.Add(uint8(1), "c2VjcmV0\nmore")
	f.Add(uint8(4), "example.com")
	f.Add(uint8(7), "https://x, *")
	f.Fuzz(func(t *testing.T, i uint8, body string) {
		if len(body) > maxFuzzValue {
			return
		}
		key := "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----"
		e := env(false, map[string]string{names[int(i)%len(names)]: key})
		if _, err := Load(lookup(e), false); err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("error shows the key: %v", err)
		}
	})
}

// allButLastIPv4 is 32 prefixes, from 0.0.0.0/1 to 255.255.255.254/32, that
// cover every IPv4 address but 255.255.255.255.
func allButLastIPv4() string {
	var ps []string
	for bits := 1; bits <= 32; bits++ {
		ps = append(ps, ipv4Prefix(uint32(0xffffffff)<<(33-bits), bits)) // bits-1 ones, then a zero
	}
	return strings.Join(ps, ",")
}

// ipv4Prefix writes the address a with a prefix of bits, as in 10.0.0.0/8.
func ipv4Prefix(a uint32, bits int) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a)
	return netip.PrefixFrom(netip.AddrFrom4(b), bits).String()
}

// checkDefaultScope asserts the single scope built from MEDIA_PATH.
func checkDefaultScope(t *testing.T, c *Config) {
	t.Helper()
	if len(c.Scopes) != 1 {
		t.Fatalf("%d scopes, want 1", len(c.Scopes))
	}
	sc := c.Scopes[0]
	if sc.Name != DefaultScope || sc.Path.String() != c.MediaPath || sc.CookiePath != c.Cookie.Path || sc.TTL != c.Cookie.TTL || len(sc.Allow) != 0 {
		t.Errorf("default scope %+v", sc)
	}
}

// allButFirstIPv4 is 32 prefixes, from 0.0.0.1/32 to 128.0.0.0/1, that
// cover every IPv4 address but 0.0.0.0.
func allButFirstIPv4() string {
	var ps []string
	for bits := 32; bits >= 1; bits-- {
		ps = append(ps, ipv4Prefix(uint32(1)<<(32-bits), bits))
	}
	return strings.Join(ps, ",")
}

func TestAddressCoverage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefixes       string
		share4, share6 float64
		all4, all6     bool
	}{
		{"", 0, 0, false, false},
		{"10.0.0.0/8", 1.0 / 256, 0, false, false},
		{"10.0.0.0/8, 10.1.0.0/16, 11.0.0.0/8", 2.0 / 256, 0, false, false},
		{"0.0.0.0/0", 1, 0, true, false},
		{"10.0.0.0/8, 0.0.0.0/0", 1, 0, true, false},
		{"0.0.0.0/1, 128.0.0.0/1", 1, 0, true, false},
		{"128.0.0.0/1, 0.0.0.0/2, 64.0.0.0/2", 1, 0, true, false},
		{"0.0.0.0/1, 128.0.0.0/2", 0.75, 0, false, false},
		{allButLastIPv4(), 1, 0, false, false},
		{allButLastIPv4() + ", 255.255.255.255/32", 1, 0, true, false},
		{allButFirstIPv4(), 1, 0, false, false},
		{allButFirstIPv4() + ", 0.0.0.0/32", 1, 0, true, false},
		{"::/0", 1, 1, true, true},
		{"::/1, 8000::/1", 1, 1, true, true},
		{"8000::/1", 0, 0.5, false, false},
		{"::ffff:0:0/96", 1, 0, true, false},
		{"::ffff:0:0/97", 0.5, 0, false, false},
		{"::ffff:0:0/97, 128.0.0.0/1", 1, 0, true, false},
		{"::/80", 1, 0, true, false},
		{"64:ff9b::/96", 0, 0, false, false}, // NAT64 addresses are IPv6 ones
		{"fc00::/7", 0, 1.0 / 128, false, false},
		{"2001:db8::/32, 10.0.0.0/8", 1.0 / 256, 0, false, false},
	}
	for _, tt := range tests {
		var ps []netip.Prefix
		for _, s := range strings.Split(tt.prefixes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				ps = append(ps, netip.MustParsePrefix(s))
			}
		}
		c := AddressCoverage(ps)
		near := func(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }
		if !near(c.Share4, tt.share4) || !near(c.Share6, tt.share6) || c.All4 != tt.all4 || c.All6 != tt.all6 {
			t.Errorf("AddressCoverage(%.60s) = %+v, want share4 %g share6 %g all4 %v all6 %v", tt.prefixes, c, tt.share4, tt.share6, tt.all4, tt.all6)
		}
	}
}

// TestPublicSuffixUnder names, for hosting parents every cloud user meets,
// a public suffix under them, and none for an ordinary domain.
func TestPublicSuffixUnder(t *testing.T) {
	t.Parallel()
	for d, want := range map[string]string{
		"amazonaws.com":         "s3.amazonaws.com",
		"compute.amazonaws.com": "*.compute.amazonaws.com",
		"windows.net":           "servicebus.windows.net",
		"example.com":           "",
		"s3.amazonaws.com":      "", // a public suffix itself
		"media.example.co.uk":   "",
	} {
		got, ok := publicSuffixUnder(d)
		if got != want || ok != (want != "") {
			t.Errorf("publicSuffixUnder(%s) = %q, %v; want %q", d, got, ok, want)
		}
	}
}

// TestLoadKeepsBrowserRules checks that the browser rules Read leaves to
// internal/topology are still Load's, and that Read keeps the values that
// break them.
func TestLoadKeepsBrowserRules(t *testing.T) {
	t.Parallel()
	broken := map[string]map[string]string{
		"COOKIE_DOMAIN":   {"COOKIE_DOMAIN": "example.org"},
		"COOKIE_PATH":     {"COOKIE_PATH": "/auth"},
		"COOKIE_SAMESITE": {"COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"},
	}
	for name, overrides := range broken {
		_, err := Load(lookup(env(false, overrides)), false)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Load with %v = %v, want a %s problem", overrides, err, name)
		}
	}
	if _, err := Load(lookup(env(false, map[string]string{"COOKIE_PATH": ""})), false); err == nil {
		t.Error("Load accepts an empty COOKIE_PATH")
	}

	broken["empty COOKIE_PATH"] = map[string]string{"COOKIE_PATH": ""}
	for _, overrides := range broken {
		if c, problems := Read(lookup(env(false, overrides)), false); c == nil || problems != nil {
			t.Errorf("Read with %v = %v, %v; want the config and no problem", overrides, c, problems)
		}
	}
	c, _ := Read(lookup(env(false, map[string]string{"COOKIE_DOMAIN": ".Example.org", "COOKIE_PATH": "/auth", "COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"})), false)
	if c.Cookie.Domain != "example.org" || c.Cookie.Path != "/auth" || c.Cookie.SameSite != http.SameSiteNoneMode {
		t.Errorf("Read gives Domain %q, Path %q, SameSite %v; want example.org, /auth, None", c.Cookie.Domain, c.Cookie.Path, c.Cookie.SameSite)
	}
}
