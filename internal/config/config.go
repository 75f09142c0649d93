// Package config reads cfcookies' environment once into typed values and validates it
// as a whole: Load reports every problem at once, each naming the variable, its value
// (never a secret) and the rule it broke. Cross-field rules live here too, among them
// the browser rules (COOKIE_DOMAIN must cover CLOUDFRONT_DOMAIN, COOKIE_PATH must be set
// and cover the media paths, SameSite=None needs Secure). Read is Load without the
// browser rules, for internal/topology, which judges them with the app's and the API's
// origins in view.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/publicsuffix"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/signer"
)

// Defaults for --dev with nothing configured.
const (
	DevCloudFrontDomain = "http://localhost:8081"
	DevKeyPairID        = "KCFCOOKIESDEV"
)

// ShutdownTimeout is how long the server lets in-flight requests finish after
// SIGTERM before it closes them. A container orchestrator must wait longer than
// this before SIGKILL: ECS's stopTimeout is checked against it in deploy/.
const ShutdownTimeout = 20 * time.Second

// Config is the whole validated configuration.
type Config struct {
	Dev         bool
	ListenAddr  string // LISTEN_ADDR, default ":8080" ("127.0.0.1:8080" with dev)
	MetricsAddr string // METRICS_ADDR, default ":9090" ("127.0.0.1:9090" with dev); "" disables metrics
	CloudFront  CloudFront
	Key         Key
	Cookie      Cookie
	MediaPath   string // MEDIA_PATH, default "/media/{sub}/*"
	DevCDNAddr  string // DEV_CDN_ADDR, with dev only: the emulated CloudFront, default "127.0.0.1:8081"
	ScopesFile  string // SCOPES_FILE: YAML or JSON scopes, instead of MEDIA_PATH
	// Scopes are the grants on offer: one named "default" from MEDIA_PATH,
	// or those of SCOPES_FILE.
	Scopes             []Scope
	AllowGet           bool       // ALLOW_GET, default false
	BindClientIP       bool       // BIND_CLIENT_IP, default false: add the client's IPv4 /32 to each policy
	IPv6Clients        IPv6Policy // BIND_CLIENT_IP_IPV6: IPv6Reject (default, 403) or IPv6Unbound (no IP condition)
	Auth               Auth
	CORSAllowedOrigins []string       // CORS_ALLOWED_ORIGINS: exact origins, deduplicated
	TrustedProxies     []netip.Prefix // TRUSTED_PROXIES: masked prefixes
	// TrustedProxiesAllowAll is TRUSTED_PROXIES_ALLOW_ALL, default false:
	// the operator's acknowledgement that TRUSTED_PROXIES trusts every
	// IPv4 or every IPv6 address, without which Load refuses that.
	TrustedProxiesAllowAll bool
	// RateLimitPerIP is RATE_LIMIT_PER_IP, default 300/1m: issuance requests
	// per client address (an IPv6 client's /64), before authentication.
	RateLimitPerIP handlers.RateLimit
	// RateLimitPerIdentity is RATE_LIMIT_PER_IDENTITY, default 60/1m:
	// issuance requests per authenticated subject.
	RateLimitPerIdentity handlers.RateLimit
	LogLevel             zerolog.Level // LOG_LEVEL, default info
	LogFormat            LogFormat     // LOG_FORMAT: LogJSON (default) or LogConsole

	// ExpiryGranularity (EXPIRY_GRANULARITY) rounds every policy expiry up
	// to a multiple of it, so requests inside one window share a policy
	// and its cached signature; 0 disables. Whole seconds, shorter than
	// every TTL. Default 1m, or a fifth of the shortest TTL if that is less.
	ExpiryGranularity time.Duration
	// SignatureCacheSize (SIGNATURE_CACHE_SIZE) bounds the signed policies
	// kept in memory, default 1024; 0 disables the cache.
	SignatureCacheSize int
}

// CloudFront describes the distribution the cookies are for.
type CloudFront struct {
	Scheme        string               // "https"; "http" only with dev
	Host          string               // lower-case host, with ":port" only with dev, e.g. "media.example.com"
	KeyPairID     string               // CLOUDFRONT_KEY_PAIR_ID; may be "" with a Secrets Manager key, whose JSON form names its own
	HashAlgorithm signer.HashAlgorithm // CLOUDFRONT_HASH_ALGORITHM: signer.SHA256 (the default) or signer.SHA1
	// FollowsDevCDN is set with dev when CLOUDFRONT_DOMAIN is not: Host is
	// the emulated CloudFront's, and the server sets its port to the one
	// DEV_CDN_ADDR is bound to (which ":0" leaves to the kernel).
	FollowsDevCDN bool
}

// BaseURL is the distribution's origin, e.g. "https://media.example.com".
func (c CloudFront) BaseURL() string { return c.Scheme + "://" + c.Host }

// Key says where the private key comes from. At most one of PEM, File, SecretID
// and KMSKeyID is set; none only with dev.
type Key struct {
	PEM      Secret // CLOUDFRONT_PRIVATE_KEY, with literal `\n` turned into newlines
	File     string // CLOUDFRONT_PRIVATE_KEY_FILE
	SecretID string // CLOUDFRONT_PRIVATE_KEY_SECRET: Secrets Manager id or ARN (not secret itself)
	// KMSKeyID is CLOUDFRONT_KMS_KEY_ID: a KMS key id, key ARN, alias name
	// or alias ARN (not secret itself). The key never leaves KMS.
	KMSKeyID string
	// RefreshInterval is KEY_REFRESH_INTERVAL: how often File or SecretID is read
	// again, default 5m; 0 for an inline or ephemeral key, which is never re-read.
	RefreshInterval time.Duration
}

// Bounds of KEY_REFRESH_INTERVAL.
const (
	DefaultKeyRefreshInterval = 5 * time.Minute
	minKeyRefreshInterval     = 10 * time.Second
	maxKeyRefreshInterval     = 24 * time.Hour
)

// Ephemeral reports that no key source is configured (only possible with dev): the
// server should generate a throwaway key.
func (k Key) Ephemeral() bool {
	return k.PEM == "" && k.File == "" && k.SecretID == "" && k.KMSKeyID == ""
}

// Source names the configured key source: "env", "file", "secret", "kms" or "ephemeral".
func (k Key) Source() string {
	switch {
	case k.PEM != "":
		return "env"
	case k.File != "":
		return "file"
	case k.SecretID != "":
		return "secret"
	case k.KMSKeyID != "":
		return "kms"
	}
	return "ephemeral"
}

// Cookie holds the attributes of the CloudFront-* cookies.
type Cookie struct {
	Domain   string        // COOKIE_DOMAIN: "" = host-only; lower case, no leading dot
	Path     string        // COOKIE_PATH, default "/"
	SameSite http.SameSite // COOKIE_SAMESITE: lax (default), strict or none
	Secure   bool          // COOKIE_SECURE, default true
	TTL      time.Duration // COOKIE_TTL, default 10m: whole seconds, 1m to 168h
}

// Default and bounds of a cookie lifetime, COOKIE_TTL or a scope's ttl.
const (
	defaultTTL = 10 * time.Minute
	minTTL     = time.Minute
	maxTTL     = 168 * time.Hour
)

// Default rate limits: an SPA refreshes its cookies every few minutes, so
// one identity needs a handful of issuances per minute, and one address
// (an office behind NAT) a few hundred.
var (
	DefaultRateLimitPerIP       = handlers.RateLimit{Requests: 300, Window: time.Minute}
	DefaultRateLimitPerIdentity = handlers.RateLimit{Requests: 60, Window: time.Minute}
)

// Bounds of a rate limit.
const (
	maxRateLimitRequests = 1_000_000
	minRateLimitWindow   = time.Second
	maxRateLimitWindow   = 24 * time.Hour
)

// Auth says how callers are identified.
type Auth struct {
	Mode         auth.Mode // AUTH_MODE: auth.ModeOIDC (default), auth.ModeALB or auth.ModeDev (default with dev)
	OIDCIssuer   string    // OIDC_ISSUER
	OIDCAudience string    // OIDC_AUDIENCE
	Cookie       string    // AUTH_COOKIE: name of a cookie carrying the JWT
	ALBArn       string    // ALB_ARN: the load balancer whose x-amzn-oidc-data is trusted
	ALBKeysURL   string    // ALB_PUBLIC_KEYS_URL: where ALB signing keys are fetched by kid; "" = the region's endpoint
}

// LogFormat is LOG_FORMAT: how log lines are written.
type LogFormat string

// The values of LOG_FORMAT.
const (
	LogJSON    LogFormat = "json"    // one JSON object a line, for machines
	LogConsole LogFormat = "console" // coloured text, for people
)

// IPv6Policy is BIND_CLIENT_IP_IPV6: what BIND_CLIENT_IP does for a client
// with an IPv6 address, which a CloudFront policy cannot bind.
type IPv6Policy string

// The values of BIND_CLIENT_IP_IPV6.
const (
	IPv6Reject  IPv6Policy = "reject"  // refuse the request (403)
	IPv6Unbound IPv6Policy = "unbound" // issue cookies with no IP condition
)

// Load reads the environment through lookupEnv (os.LookupEnv in production) and returns
// a validated Config, or an error listing every problem at once. The error is always
// of type Errors. dev is the --dev flag: it supplies defaults for a local run and
// relaxes the rules that only make sense against a real CloudFront distribution.
//
// Values are trimmed; a variable set to "" counts as unset, except COOKIE_PATH (an
// error) and METRICS_ADDR (disables metrics).
func Load(lookupEnv func(string) (string, bool), dev bool) (*Config, error) {
	l := &loader{lookupEnv: lookupEnv, dev: dev}
	c := l.load()
	if errs := l.problems(true); len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Read reads the environment as Load does, but leaves out the browser rules:
// COOKIE_DOMAIN covering CLOUDFRONT_DOMAIN, COOKIE_PATH set and covering
// MEDIA_PATH, and COOKIE_SAMESITE=none with COOKIE_SECURE=true. Whether a
// browser stores and sends the cookies depends on where the app and the API
// live too, which only internal/topology knows.
//
// Read always returns a Config, in which a variable with a problem holds its
// default or zero (a value that only breaks a browser rule is kept), and
// every other problem, in Load's order; nil when there is none. A Config
// with problems must not be served.
func Read(lookupEnv func(string) (string, bool), dev bool) (*Config, Errors) {
	l := &loader{lookupEnv: lookupEnv, dev: dev}
	c := l.load()
	return c, l.problems(false)
}

// loader reads variables and collects problems.
type loader struct {
	lookupEnv func(string) (string, bool)
	dev       bool
	errs      Errors
	// browser[i] says that errs[i] breaks a browser rule, which Read
	// leaves out.
	browser []bool
}

// problems returns the problems recorded, without those that break a
// browser rule unless browserRules.
func (l *loader) problems(browserRules bool) Errors {
	var es Errors
	for i, e := range l.errs {
		if browserRules || !l.browser[i] {
			es = append(es, e)
		}
	}
	return es
}

// load reads every variable into a Config, recording problems in l.errs. A
// variable with a problem leaves its field at the default or zero, unless it
// only breaks a browser rule.
func (l *loader) load() *Config {
	c := &Config{Dev: l.dev}
	l.listen(c)
	l.cloudFront(c)
	l.key(c)
	l.cookie(c)
	l.media(c)
	l.signing(c)
	l.auth(c)
	l.cors(c)
	l.proxies(c)
	l.rateLimits(c)
	l.logging(c)
	return c
}

// raw returns the trimmed value and whether the variable is set at all.
func (l *loader) raw(name string) (string, bool) {
	v, ok := l.lookupEnv(name)
	return strings.TrimSpace(v), ok
}

// get returns the trimmed value and whether it is set and not empty.
func (l *loader) get(name string) (string, bool) {
	v, _ := l.raw(name)
	return v, v != ""
}

// str returns the value, or def when unset.
func (l *loader) str(name, def string) string {
	if v, ok := l.get(name); ok {
		return v
	}
	return def
}

// fail records a problem. A value that looks like key material is never echoed.
func (l *loader) fail(name, value, rule string) {
	if strings.Contains(value, "-----BEGIN") || strings.Contains(value, "PRIVATE KEY") {
		value = redacted
	}
	l.errs = append(l.errs, FieldError{Var: name, Value: value, Rule: rule})
	l.browser = append(l.browser, false)
}

// failBrowser records a problem with a browser rule: Load reports it, Read
// leaves it to internal/topology.
func (l *loader) failBrowser(name, value, rule string) {
	l.fail(name, value, rule)
	l.browser[len(l.browser)-1] = true
}

// check records err, if any, as the rule value broke.
func (l *loader) check(name, value string, err error) bool {
	if err != nil {
		l.fail(name, value, err.Error())
		return false
	}
	return true
}

// boolean parses a strconv.ParseBool value; ok is false when it is invalid.
func (l *loader) boolean(name string, def bool) (b, ok bool) {
	v, set := l.get(name)
	if !set {
		return def, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, v, "must be true or false")
		return def, false
	}
	return b, true
}

// choice returns the lower-cased value of the variable name if it is one
// of allowed, def when it is unset, and "" (after recording the problem)
// otherwise.
func choice[T ~string](l *loader, name string, def T, allowed ...T) T {
	v, set := l.get(name)
	if !set {
		return def
	}
	if lv := T(strings.ToLower(v)); slices.Contains(allowed, lv) {
		return lv
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	l.fail(name, v, "must be one of "+strings.Join(names, ", "))
	return ""
}

// list splits a comma-separated value, trimming entries and dropping empty ones.
func (l *loader) list(name string) []string {
	v, _ := l.get(name)
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func (l *loader) listen(c *Config) {
	// --dev listens on loopback only: its identity header is trusted blindly.
	host := ""
	if c.Dev {
		host = "127.0.0.1"
	}
	c.ListenAddr = l.str("LISTEN_ADDR", host+":8080")
	listenOK := l.check("LISTEN_ADDR", c.ListenAddr, parseListenAddr(c.ListenAddr))

	if c.Dev {
		c.DevCDNAddr = l.str("DEV_CDN_ADDR", "127.0.0.1:8081")
		l.check("DEV_CDN_ADDR", c.DevCDNAddr, parseListenAddr(c.DevCDNAddr))
	}

	c.MetricsAddr = host + ":9090"
	if v, set := l.raw("METRICS_ADDR"); set {
		c.MetricsAddr = v // "" disables metrics
	}
	if c.MetricsAddr == "" || !l.check("METRICS_ADDR", c.MetricsAddr, parseListenAddr(c.MetricsAddr)) {
		return
	}
	if listenOK && sameListener(c.ListenAddr, c.MetricsAddr) {
		l.fail("METRICS_ADDR", c.MetricsAddr, "must differ from LISTEN_ADDR "+c.ListenAddr+" (set it empty to disable metrics)")
	}
}

// devCloudFrontDomain is the CLOUDFRONT_DOMAIN of --dev: the emulated
// CloudFront on localhost, at the port of DEV_CDN_ADDR when it names one.
func devCloudFrontDomain(devCDNAddr string) string {
	if parseListenAddr(devCDNAddr) == nil {
		if _, port, _ := net.SplitHostPort(devCDNAddr); port != "0" {
			return "http://localhost:" + port
		}
	}
	return DevCloudFrontDomain
}

func (l *loader) cloudFront(c *Config) {
	v, set := l.get("CLOUDFRONT_DOMAIN")
	switch {
	case set:
		scheme, host, err := parseCloudFrontDomain(v, l.dev)
		if l.check("CLOUDFRONT_DOMAIN", v, err) {
			c.CloudFront.Scheme, c.CloudFront.Host = scheme, host
		}
	case l.dev:
		c.CloudFront.Scheme, c.CloudFront.Host, _ = parseCloudFrontDomain(devCloudFrontDomain(c.DevCDNAddr), true)
		c.CloudFront.FollowsDevCDN = true
	default:
		l.fail("CLOUDFRONT_DOMAIN", "", "required: the distribution's custom domain, e.g. media.example.com")
	}

	c.CloudFront.HashAlgorithm = signer.SHA256
	if v, set := l.get("CLOUDFRONT_HASH_ALGORITHM"); set {
		alg, err := parseHashAlgorithm(v)
		if l.check("CLOUDFRONT_HASH_ALGORITHM", v, err) {
			c.CloudFront.HashAlgorithm = alg
		}
	}
}

func (l *loader) key(c *Config) {
	var sources []string
	if v, set := l.get("CLOUDFRONT_PRIVATE_KEY"); set {
		sources = append(sources, "CLOUDFRONT_PRIVATE_KEY")
		pem := strings.TrimSpace(strings.ReplaceAll(v, `\n`, "\n"))
		c.Key.PEM = Secret(pem)
		if !strings.Contains(pem, "-----BEGIN ") {
			l.fail("CLOUDFRONT_PRIVATE_KEY", redacted, `must be PEM text containing "-----BEGIN " (newlines may be written as \n)`)
		}
	}
	if v, set := l.get("CLOUDFRONT_PRIVATE_KEY_FILE"); set {
		sources = append(sources, "CLOUDFRONT_PRIVATE_KEY_FILE")
		c.Key.File = v
		l.check("CLOUDFRONT_PRIVATE_KEY_FILE", v, checkKeyFile(v))
	}
	if v, set := l.get("CLOUDFRONT_PRIVATE_KEY_SECRET"); set {
		sources = append(sources, "CLOUDFRONT_PRIVATE_KEY_SECRET")
		c.Key.SecretID = v
		if strings.Contains(v, "-----BEGIN") {
			l.fail("CLOUDFRONT_PRIVATE_KEY_SECRET", redacted, "must be a Secrets Manager secret id or ARN, not the key itself (put PEM text in CLOUDFRONT_PRIVATE_KEY)")
		}
	}
	if v, set := l.get("CLOUDFRONT_KMS_KEY_ID"); set {
		sources = append(sources, "CLOUDFRONT_KMS_KEY_ID")
		if l.check("CLOUDFRONT_KMS_KEY_ID", v, checkKMSKeyID(v)) {
			c.Key.KMSKeyID = v
		}
		if c.CloudFront.HashAlgorithm == signer.SHA1 {
			h, _ := l.get("CLOUDFRONT_HASH_ALGORITHM")
			l.fail("CLOUDFRONT_HASH_ALGORITHM", h, "SHA1 cannot be used with CLOUDFRONT_KMS_KEY_ID: KMS signs only SHA-256 digests "+
				"(RSASSA_PKCS1_V1_5_SHA_256, ECDSA_SHA_256); set SHA256 or unset it")
		}
	}
	switch {
	case len(sources) > 1:
		l.fail(strings.Join(sources, ", "), "", "set together: configure exactly one key source")
	case len(sources) == 0 && !l.dev:
		l.fail("CLOUDFRONT_PRIVATE_KEY", "", "no key source: set one of CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_PRIVATE_KEY_FILE, CLOUDFRONT_PRIVATE_KEY_SECRET or CLOUDFRONT_KMS_KEY_ID")
	}

	l.keyRefresh(c)

	id, set := l.get("CLOUDFRONT_KEY_PAIR_ID")
	switch {
	case set:
		if signer.CheckKeyPairID(id) == nil {
			c.CloudFront.KeyPairID = id
		} else {
			l.fail("CLOUDFRONT_KEY_PAIR_ID", id, "must be the public key ID from the key group: 1 to 128 letters and digits")
		}
	case l.dev && len(sources) == 0:
		c.CloudFront.KeyPairID = DevKeyPairID
	case c.Key.SecretID != "" && len(sources) == 1:
		// A JSON secret names its key pair id; a PEM one without it fails
		// when the secret is read, with a message saying so.
	case len(sources) > 0:
		l.fail("CLOUDFRONT_KEY_PAIR_ID", "", "required with a configured key: the ID CloudFront gave its public key")
	default:
		l.fail("CLOUDFRONT_KEY_PAIR_ID", "", "required: the ID CloudFront gave the public key in the trusted key group")
	}
}

// keyRefresh reads KEY_REFRESH_INTERVAL, which only a key that can change uses.
func (l *loader) keyRefresh(c *Config) {
	v, set := l.get("KEY_REFRESH_INTERVAL")
	refreshed := c.Key.File != "" || c.Key.SecretID != ""
	if !refreshed {
		if set {
			l.fail("KEY_REFRESH_INTERVAL", v, "only applies to CLOUDFRONT_PRIVATE_KEY_FILE and CLOUDFRONT_PRIVATE_KEY_SECRET: an inline, KMS or ephemeral key is never re-read; unset it")
		}
		return
	}
	c.Key.RefreshInterval = DefaultKeyRefreshInterval
	if !set {
		return
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		l.fail("KEY_REFRESH_INTERVAL", v, `must be a duration such as "5m" or "1h"`)
	case d < minKeyRefreshInterval || d > maxKeyRefreshInterval:
		l.fail("KEY_REFRESH_INTERVAL", v, "must be between 10s and 24h")
	default:
		c.Key.RefreshInterval = d
	}
}

// checkKeyFile requires a regular file that can be opened for reading.
func checkKeyFile(path string) error {
	if strings.Contains(path, "-----BEGIN") {
		return errors.New("must be a path, not the key itself (put PEM text in CLOUDFRONT_PRIVATE_KEY)")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot be read: %w", unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("must be a regular file, not %s", describeMode(fi.Mode()))
	}
	f, err := os.Open(path) // #nosec G304 -- the operator names this file
	if err != nil {
		return fmt.Errorf("cannot be read: %w", unwrapPathError(err))
	}
	return f.Close()
}

// unwrapPathError drops the path from an *fs.PathError: the variable already shows it.
func unwrapPathError(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

func describeMode(m fs.FileMode) string {
	if m.IsDir() {
		return "a directory"
	}
	return "a " + m.Type().String() + " file"
}

func (l *loader) cookie(c *Config) {
	if v, set := l.get("COOKIE_DOMAIN"); set {
		d, err := ParseCookieDomain(v)
		if l.check("COOKIE_DOMAIN", v, err) {
			host := c.CloudFront.hostname()
			switch ps, _ := publicsuffix.PublicSuffix(host); {
			case host == "":
				c.Cookie.Domain = d
			case signer.DomainMatch(host, d) && ps != host && signer.DomainMatch(ps, d):
				// CloudFront's host lies under a public suffix under d.
				l.fail("COOKIE_DOMAIN", v, errPublicSuffixParent(ps).Error())
			default:
				c.Cookie.Domain = d
				if !signer.DomainMatch(host, d) {
					l.failBrowser("COOKIE_DOMAIN", v, "does not cover CLOUDFRONT_DOMAIN "+host+": the browser would not send the cookies to CloudFront")
				}
			}
		}
	}

	c.Cookie.Path = "/"
	if v, set := l.raw("COOKIE_PATH"); set {
		c.Cookie.Path = v
		if v != "" {
			l.check("COOKIE_PATH", v, validateCookiePath(v))
		} else {
			l.failBrowser("COOKIE_PATH", "", `set but empty: an empty cookie Path makes browsers scope the cookies to the request path (/auth), so CloudFront never receives them; use "/" or unset it`)
		}
	}

	secure, secureOK := l.boolean("COOKIE_SECURE", true)
	c.Cookie.Secure = secure
	if name := choice(l, "COOKIE_SAMESITE", "lax", sameSiteNames[http.SameSiteLaxMode:]...); name != "" {
		c.Cookie.SameSite = http.SameSite(slices.Index(sameSiteNames[:], name))
	}
	if c.Cookie.SameSite == http.SameSiteNoneMode {
		if secureOK && !secure {
			v, _ := l.get("COOKIE_SAMESITE")
			l.failBrowser("COOKIE_SAMESITE", v, "requires COOKIE_SECURE=true (browsers drop SameSite=None cookies without Secure)")
		}
	}

	c.Cookie.TTL = defaultTTL
	if v, set := l.get("COOKIE_TTL"); set {
		d, err := parseTTL(v)
		if l.check("COOKIE_TTL", v, err) {
			c.Cookie.TTL = d
		}
	}
}

// hostname is Host without a port or IPv6 brackets; "" when unset.
func (c CloudFront) hostname() string {
	h := c.Host
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return strings.Trim(h, "[]")
}

func (l *loader) media(c *Config) {
	c.MediaPath = l.str("MEDIA_PATH", "/media/{sub}/*")
	if v, set := l.get("SCOPES_FILE"); set {
		c.ScopesFile = v
		if _, both := l.get("MEDIA_PATH"); both {
			l.fail("MEDIA_PATH", c.MediaPath, "is ignored when SCOPES_FILE is set: unset one of them")
		}
		scopes, problems := loadScopes(v, c.Cookie)
		for _, p := range problems {
			l.fail("SCOPES_FILE", "", p)
		}
		c.Scopes = scopes
	} else {
		tmpl, err := signer.ParsePathTemplate(c.MediaPath)
		if l.check("MEDIA_PATH", c.MediaPath, err) {
			if c.Cookie.Path != "" && validateCookiePath(c.Cookie.Path) == nil && !tmpl.CoveredBy(c.Cookie.Path) {
				l.failBrowser("COOKIE_PATH", c.Cookie.Path, "does not cover MEDIA_PATH "+c.MediaPath+": the browser would not send the cookies with media requests")
			}
			c.Scopes = []Scope{{Name: DefaultScope, Path: tmpl, CookiePath: c.Cookie.Path, TTL: c.Cookie.TTL}}
		}
	}

	c.AllowGet, _ = l.boolean("ALLOW_GET", false)
	c.BindClientIP, _ = l.boolean("BIND_CLIENT_IP", false)
	c.IPv6Clients = choice(l, "BIND_CLIENT_IP_IPV6", IPv6Reject, IPv6Reject, IPv6Unbound)
}

// Defaults and bounds of the signing settings.
const (
	defaultExpiryGranularity  = time.Minute
	defaultSignatureCacheSize = 1024
	maxSignatureCacheSize     = 1_000_000
)

func (l *loader) signing(c *Config) {
	// The shortest TTL of any scope; COOKIE_TTL when scopes failed to load.
	shortest, shortestName := c.Cookie.TTL, "COOKIE_TTL"
	for _, sc := range c.Scopes {
		if sc.TTL < shortest {
			shortest, shortestName = sc.TTL, "the TTL of scope "+sc.Name
		}
	}
	c.ExpiryGranularity = min(defaultExpiryGranularity, (shortest / 5).Truncate(time.Second))
	if v, set := l.get("EXPIRY_GRANULARITY"); set {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			l.fail("EXPIRY_GRANULARITY", v, `must be a duration such as "1m", or "0" to disable rounding`)
		case d < 0:
			l.fail("EXPIRY_GRANULARITY", v, "must not be negative")
		case d%time.Second != 0:
			l.fail("EXPIRY_GRANULARITY", v, "must be whole seconds: CloudFront policies expire on a second")
		case d >= shortest:
			l.fail("EXPIRY_GRANULARITY", v, "must be shorter than "+shortestName+" ("+shortest.String()+"): rounding up must not double a cookie's lifetime")
		default:
			c.ExpiryGranularity = d
		}
	}

	c.SignatureCacheSize = defaultSignatureCacheSize
	if v, set := l.get("SIGNATURE_CACHE_SIZE"); set {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxSignatureCacheSize {
			l.fail("SIGNATURE_CACHE_SIZE", v, "must be a whole number from 0 (no cache) to 1000000")
		} else {
			c.SignatureCacheSize = n
		}
	}
}

func (l *loader) auth(c *Config) {
	def := auth.ModeOIDC
	if l.dev {
		def = auth.ModeDev
	}
	a := &c.Auth
	a.Mode = choice(l, "AUTH_MODE", def, auth.ModeOIDC, auth.ModeALB, auth.ModeDev)
	if a.Mode == auth.ModeDev && !l.dev {
		v, _ := l.get("AUTH_MODE")
		l.fail("AUTH_MODE", v, "only available with --dev")
	}

	a.OIDCIssuer, _ = l.get("OIDC_ISSUER")
	a.OIDCAudience, _ = l.get("OIDC_AUDIENCE")
	a.ALBArn, _ = l.get("ALB_ARN")
	if a.OIDCIssuer != "" {
		l.check("OIDC_ISSUER", a.OIDCIssuer, validateIssuer(a.OIDCIssuer))
	}
	partition := "aws"
	if a.ALBArn != "" {
		p, err := validateALBArn(a.ALBArn)
		if l.check("ALB_ARN", a.ALBArn, err) {
			partition = p
		}
	}
	keysURL, keysURLSet := l.get("ALB_PUBLIC_KEYS_URL")
	if keysURLSet && l.check("ALB_PUBLIC_KEYS_URL", keysURL, validateIssuer(keysURL)) {
		a.ALBKeysURL = keysURL
	}
	switch a.Mode {
	case auth.ModeOIDC:
		if a.OIDCIssuer == "" {
			l.fail("OIDC_ISSUER", "", "required with AUTH_MODE=oidc: the token issuer URL, e.g. https://login.example.com/")
		}
		if a.OIDCAudience == "" {
			l.fail("OIDC_AUDIENCE", "", "required with AUTH_MODE=oidc: the audience (client id) tokens must carry")
		}
	case auth.ModeALB:
		if a.ALBArn == "" {
			l.fail("ALB_ARN", "", "required with AUTH_MODE=alb: the ARN of the load balancer that signs x-amzn-oidc-data")
		}
		if partition != "aws" && !keysURLSet {
			l.fail("ALB_PUBLIC_KEYS_URL", "", "required for an ALB in partition "+partition+": its signing-key endpoint is listed in the ELB user guide")
		}
	}

	if v, set := l.get("AUTH_COOKIE"); set && l.check("AUTH_COOKIE", v, validateCookieName(v)) {
		a.Cookie = v
	}
}

func (l *loader) cors(c *Config) {
	for _, o := range l.list("CORS_ALLOWED_ORIGINS") {
		if l.check("CORS_ALLOWED_ORIGINS", o, parseOrigin(o, l.dev)) && !slices.Contains(c.CORSAllowedOrigins, o) {
			c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, o)
		}
	}
}

func (l *loader) proxies(c *Config) {
	for _, v := range l.list("TRUSTED_PROXIES") {
		p, err := parseProxy(v)
		if l.check("TRUSTED_PROXIES", v, err) && !slices.Contains(c.TrustedProxies, p) {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}

	// Trusting every address believes every client's X-Forwarded-For: only
	// an operator who says so, because nothing but a proxy reaches the
	// service, may have it.
	allowAll, allowAllOK := l.boolean("TRUSTED_PROXIES_ALLOW_ALL", false)
	every := AddressCoverage(c.TrustedProxies).Every()
	switch {
	case !allowAllOK:
	case every != "" && !allowAll:
		v, _ := l.get("TRUSTED_PROXIES")
		l.fail("TRUSTED_PROXIES", v, "would trust "+every+": any client could forge X-Forwarded-For and choose the address "+
			"that BIND_CLIENT_IP binds, the per-IP rate limit counts and the access log shows; list only your proxies' ranges "+
			"(behind an ALB, the VPC's CIDR), or set TRUSTED_PROXIES_ALLOW_ALL=true if nothing but your proxies can reach the service")
	case every == "" && allowAll:
		v, _ := l.get("TRUSTED_PROXIES_ALLOW_ALL")
		l.fail("TRUSTED_PROXIES_ALLOW_ALL", v, "only applies when TRUSTED_PROXIES trusts every IPv4 or every IPv6 address, which it does not: unset it")
	default:
		c.TrustedProxiesAllowAll = allowAll
	}
}

// Warnings are what the server should log at warn level when it starts:
// settings it accepts because the operator acknowledged their risk.
func (c *Config) Warnings() []string {
	var ws []string
	if every := AddressCoverage(c.TrustedProxies).Every(); every != "" && c.TrustedProxiesAllowAll {
		ws = append(ws, "TRUSTED_PROXIES trusts "+every+" (TRUSTED_PROXIES_ALLOW_ALL=true): X-Forwarded-For is believed from any client, "+
			"so the client address BIND_CLIENT_IP binds, the per-IP rate limit counts and the access log shows is whatever the client says, "+
			"unless nothing but your proxies can reach the service")
	}
	return ws
}

func (l *loader) rateLimits(c *Config) {
	c.RateLimitPerIP = l.rateLimit("RATE_LIMIT_PER_IP", DefaultRateLimitPerIP)
	c.RateLimitPerIdentity = l.rateLimit("RATE_LIMIT_PER_IDENTITY", DefaultRateLimitPerIdentity)
}

// rateLimit reads "N/duration" ("300/1m"), or "0" or "off" for no limit.
func (l *loader) rateLimit(name string, def handlers.RateLimit) handlers.RateLimit {
	v, set := l.get(name)
	if !set {
		return def
	}
	r, err := parseRateLimit(v)
	if !l.check(name, v, err) {
		return def
	}
	return r
}

// parseRateLimit parses "N/duration": N from 1 to 1000000 requests per a
// duration from 1s to 24h in whole seconds; "0" and "off" disable the limit.
func parseRateLimit(v string) (handlers.RateLimit, error) {
	if v == "0" || strings.EqualFold(v, "off") {
		return handlers.RateLimit{}, nil
	}
	const form = `must be "N/duration" such as "300/1m", or "0" or "off" to disable`
	n, d, ok := strings.Cut(v, "/")
	if !ok {
		return handlers.RateLimit{}, errors.New(form)
	}
	requests, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return handlers.RateLimit{}, errors.New(form)
	}
	window, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil {
		return handlers.RateLimit{}, errors.New(form)
	}
	switch {
	case requests < 1 || requests > maxRateLimitRequests:
		return handlers.RateLimit{}, errors.New(`must allow 1 to 1000000 requests (use "off" to disable)`)
	case window < minRateLimitWindow || window > maxRateLimitWindow:
		return handlers.RateLimit{}, errors.New("must have a duration between 1s and 24h")
	case window%time.Second != 0:
		return handlers.RateLimit{}, errors.New("must have a duration in whole seconds (Retry-After is in seconds)")
	}
	return handlers.RateLimit{Requests: requests, Window: window}, nil
}

func (l *loader) logging(c *Config) {
	c.LogLevel = zerolog.InfoLevel
	if v, set := l.get("LOG_LEVEL"); set {
		lvl, err := zerolog.ParseLevel(strings.ToLower(v))
		if err != nil || lvl == zerolog.NoLevel {
			l.fail("LOG_LEVEL", v, "must be one of trace, debug, info, warn, error, fatal, panic, disabled")
		} else {
			c.LogLevel = lvl
		}
	}
	c.LogFormat = choice(l, "LOG_FORMAT", LogJSON, LogJSON, LogConsole)
}

// MarshalZerologObject logs the configuration with secrets redacted: of the private key
// only its source ("env", "file", "secret", "kms" or "ephemeral") is logged.
func (c *Config) MarshalZerologObject(e *zerolog.Event) {
	proxies := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		proxies[i] = p.String()
	}
	e.Bool("dev", c.Dev).
		Str("listen_addr", c.ListenAddr).
		Str("metrics_addr", c.MetricsAddr).
		Str("cloudfront_url", c.CloudFront.BaseURL()).
		Str("key_pair_id", c.CloudFront.KeyPairID).
		Str("hash_algorithm", string(c.CloudFront.HashAlgorithm)).
		Str("key_source", c.Key.Source()).
		Str("key_file", c.Key.File).
		Str("key_secret_id", c.Key.SecretID).
		Str("key_kms_key_id", c.Key.KMSKeyID).
		Str("key_refresh_interval", refreshInterval(c.Key.RefreshInterval)).
		Str("cookie_domain", c.Cookie.Domain).
		Str("cookie_path", c.Cookie.Path).
		Str("cookie_samesite", SameSiteName(c.Cookie.SameSite)).
		Bool("cookie_secure", c.Cookie.Secure).
		Str("cookie_ttl", c.Cookie.TTL.String()).
		Str("media_path", c.MediaPath).
		Str("scopes_file", c.ScopesFile).
		Bool("allow_get", c.AllowGet).
		Str("expiry_granularity", c.ExpiryGranularity.String()).
		Int("signature_cache_size", c.SignatureCacheSize).
		Str("auth_mode", string(c.Auth.Mode)).
		Str("oidc_issuer", c.Auth.OIDCIssuer).
		Str("oidc_audience", c.Auth.OIDCAudience).
		Str("auth_cookie", c.Auth.Cookie).
		Str("alb_arn", c.Auth.ALBArn).
		Str("alb_public_keys_url", c.Auth.ALBKeysURL).
		Strs("cors_allowed_origins", c.CORSAllowedOrigins).
		Strs("trusted_proxies", proxies).
		Bool("trusted_proxies_allow_all", c.TrustedProxiesAllowAll).
		Stringer("rate_limit_per_ip", c.RateLimitPerIP).
		Stringer("rate_limit_per_identity", c.RateLimitPerIdentity).
		Str("log_level", c.LogLevel.String()).
		Str("log_format", string(c.LogFormat))
	if ws := c.Warnings(); len(ws) > 0 {
		e.Strs("warnings", ws)
	}
}

// refreshInterval names 0 "never" in the log.
func refreshInterval(d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return d.String()
}

// sameSiteNames are the values of COOKIE_SAMESITE, indexed by the
// http.SameSite each stands for.
var sameSiteNames = [...]string{
	http.SameSiteLaxMode:    "lax",
	http.SameSiteStrictMode: "strict",
	http.SameSiteNoneMode:   "none",
}

// SameSiteName is the COOKIE_SAMESITE value that stands for s: "lax",
// "strict" or "none"; "default" for any other.
func SameSiteName(s http.SameSite) string {
	if s >= 0 && int(s) < len(sameSiteNames) && sameSiteNames[s] != "" {
		return sameSiteNames[s]
	}
	return "default"
}
