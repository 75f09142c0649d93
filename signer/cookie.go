package signer

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CloudFront's cookie names.
const (
	CookiePolicy        = "CloudFront-Policy"
	CookieSignature     = "CloudFront-Signature"
	CookieKeyPairID     = "CloudFront-Key-Pair-Id"
	CookieHashAlgorithm = "CloudFront-Hash-Algorithm"
	// CookieExpires belongs to canned policies, which this package does not
	// issue; ExpireCookies clears it.
	CookieExpires = "CloudFront-Expires"
)

// Errors for cookies that browsers would drop, misplace or widen, and for
// zero values used in place of a constructor's result. Each names the
// rule broken; none quotes a cookie value.
var (
	// ErrCookieDomain: the Domain is not a host name, or does not
	// domain-match the host of the resource the cookies unlock, so the
	// browser would not send them there.
	ErrCookieDomain = errors.New("signer: bad cookie Domain")
	// ErrCookiePath: the Path does not start with "/", is not printable
	// ASCII without ";" and ",", or is not a prefix of the resource's path
	// on a segment boundary, so the browser would not send the cookies
	// with the requests they unlock.
	ErrCookiePath = errors.New("signer: bad cookie Path")
	// ErrCookieSameSite: SameSite=None without Secure (browsers drop such
	// cookies), or a SameSite value net/http does not write.
	ErrCookieSameSite = errors.New("signer: bad cookie SameSite")
	// ErrCookieValue: a Signed value that is not a CloudFront cookie value
	// (CloudFront base64, a key pair ID, SHA1 or SHA256), such as a zero
	// Signed, which net/http would quote or drop.
	ErrCookieValue = errors.New("signer: bad cookie value")
	// ErrZeroValue: a method was called on the zero value (or nil) of a
	// type that only its constructor makes usable: Signer (New),
	// CookieHeader (NewCookieHeader), PathTemplate (ParsePathTemplate).
	ErrZeroValue = errors.New("signer: zero value used; build it with its constructor")
)

// CookieOptions are the attributes set on every cookie. The zero value is
// the safe default: host-only, Path "/", Secure, HttpOnly, SameSite=Lax.
// Domain and Path are checked against the resource of each grant the
// cookies unlock (see CheckResource).
type CookieOptions struct {
	// Domain is the parent domain shared by the backend and the CloudFront
	// domain, such as "example.com"; it must domain-match the resource's
	// host. Empty means host-only: the cookies go back only to the host
	// that set them.
	Domain string

	// Path scopes the cookies; empty means "/". It is never left empty on
	// the cookie, since browsers would then scope it to the path of the
	// response that set it (for example "/auth"). It must be a prefix of
	// the resource's path ending on a segment boundary: "/media" or
	// "/media/" for "https://media.example.com/media/alice/*", not
	// "/med" or "/media/bob".
	Path string

	// SameSite defaults to Lax. SameSite=None requires Secure.
	SameSite http.SameSite

	// Insecure drops the Secure attribute, for plain-HTTP development only.
	Insecure bool

	// ScriptReadable drops HttpOnly, exposing the credentials to
	// JavaScript. Almost never wanted.
	ScriptReadable bool
}

// Check reports whether browsers keep cookies set with o and net/http
// writes them unchanged, whatever resource they unlock: a Path, when set,
// starts with "/" and is printable ASCII without ";" or ","; a Domain, when
// set, is a host name (one leading dot allowed); SameSite is a value
// net/http writes, and None only with Secure. The errors wrap
// ErrCookiePath, ErrCookieDomain or ErrCookieSameSite. CheckResource,
// Signed.Cookies, NewCookieHeader and ExpireCookies check the same.
func (o CookieOptions) Check() error { return o.validate() }

func (o CookieOptions) validate() error {
	if o.Path != "" && (!strings.HasPrefix(o.Path, "/") || strings.ContainsAny(o.Path, ";,") || !printable(o.Path)) {
		return fmt.Errorf("%w: %q must start with / and be printable ASCII without ; or ,", ErrCookiePath, o.Path)
	}
	if d := strings.TrimPrefix(o.Domain, "."); o.Domain != "" && (d == "" || strings.ContainsAny(d, ";,:/") || !printable(d)) {
		return fmt.Errorf("%w: %q is not a host name", ErrCookieDomain, o.Domain)
	}
	switch o.SameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if o.Insecure {
			return fmt.Errorf("%w: SameSite=None requires Secure; browsers drop such cookies", ErrCookieSameSite)
		}
	default:
		return fmt.Errorf("%w: unknown SameSite value %d", ErrCookieSameSite, o.SameSite)
	}
	return nil
}

// CheckResource reports whether cookies set with o are sent with the
// requests resource (a Grant's Resource) unlocks: o must be valid (see
// Check), its Domain, when set, must domain-match the resource's host
// (equal to it, or a parent of it: "example.com" for "media.example.com";
// after a wildcard in the host, a parent of what follows it; see
// DomainMatch), and its Path must be a prefix of the resource's path
// ending on a segment boundary ("*" and "?" in the resource's path match
// as in CloudFront; a resource "*" covers everything). The errors wrap
// ErrCookieDomain, ErrCookiePath or ErrCookieSameSite (ErrInvalidGrant for
// a resource without scheme://host), and quote neither the resource's
// path nor any cookie value.
func (o CookieOptions) CheckResource(resource string) error {
	if err := o.validate(); err != nil {
		return err
	}
	return checkScope(strings.ToLower(strings.TrimPrefix(o.Domain, ".")), o.Path, resource)
}

// checkScope checks a validated, lower-case domain (no leading dot) and path
// against resource. It allocates nothing when they cover it.
func checkScope(domain, path, resource string) error {
	_, rest, ok := strings.Cut(resource, "://")
	switch {
	case !ok && strings.HasPrefix(resource, "*"):
		return nil // every URL: any cookie scope is inside it
	case !ok:
		return fmt.Errorf("%w: resource has no scheme://host", ErrInvalidGrant)
	}
	host, rpath := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, rpath = rest[:i], rest[i:]
	}
	if domain != "" && !domainCovers(domain, host) {
		return fmt.Errorf("%w: %s does not domain-match the resource's host, so the browser would not send the cookies there", ErrCookieDomain, domain)
	}
	if path == "" {
		path = "/"
	}
	// A wildcard in the host may match "/" and part of the path too:
	// the path is then unconstrained.
	if !strings.ContainsAny(host, "*?") && !pathCovers(path, rpath) {
		return fmt.Errorf("%w: %s is not a prefix of the resource's path on a segment boundary, so the browser would not send the cookies with its requests", ErrCookiePath, path)
	}
	return nil
}

// domainCovers reports whether cookies with Domain domain (lower case, no
// leading dot) are sent to every host the resource host pattern matches:
// after a wildcard, to a parent of what follows it.
func domainCovers(domain, host string) bool {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i] // the port: cookies ignore it
	}
	if i := strings.LastIndexAny(host, "*?"); i >= 0 {
		suffix := host[i+1:]
		return len(suffix) > len(domain) && DomainMatch(suffix, domain)
	}
	return DomainMatch(host, domain)
}

// DomainMatch reports whether a browser sends a cookie whose Domain is
// cookieDomain to host, a host name without a port: whether host is
// cookieDomain or a subdomain of it (RFC 6265 section 5.1.3,
// domain-match), ignoring case. cookieDomain is the attribute as browsers
// keep it, without the one leading dot they drop: "example.com" matches
// "example.com" and "media.example.com", not "ample.com" or
// "example.com.evil.test". An empty cookieDomain matches no host: a
// cookie without Domain is host-only, sent back to the host that set it
// alone.
func DomainMatch(host, cookieDomain string) bool {
	d := cookieDomain
	if d == "" || len(host) < len(d) || !strings.EqualFold(host[len(host)-len(d):], d) {
		return false
	}
	return len(host) == len(d) || host[len(host)-len(d)-1] == '.'
}

// PathMatch reports whether a browser sends a cookie whose Path is
// cookiePath with a request for path (RFC 6265 section 5.1.4,
// path-match): cookiePath is path, or a prefix of it that ends in "/" or
// is followed in path by "/". "/media" matches "/media" and
// "/media/a.mp4", not "/mediabox". Unlike a policy's Resource, neither
// holds wildcards.
func PathMatch(path, cookiePath string) bool {
	if !strings.HasPrefix(path, cookiePath) {
		return false
	}
	return len(path) == len(cookiePath) || strings.HasSuffix(cookiePath, "/") || path[len(cookiePath)] == '/'
}

// pathCovers reports whether cookie path p is a prefix of resource path
// pattern rp ending on a segment boundary, "*" in rp matching any run and
// "?" any one byte: whether some request the resource unlocks carries the
// cookies. Without a wildcard in rp it is PathMatch(rp, p).
func pathCovers(p, rp string) bool {
	i := 0
	for ; i < len(p); i++ {
		if i >= len(rp) {
			return false
		}
		switch rp[i] {
		case '*':
			return true
		case '?':
		default:
			if rp[i] != p[i] {
				return false
			}
		}
	}
	if strings.HasSuffix(p, "/") || i == len(rp) {
		return true
	}
	return rp[i] == '/' || rp[i] == '*' || rp[i] == '?'
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func (o CookieOptions) cookie(name, value string) *http.Cookie {
	path := o.Path
	if path == "" {
		path = "/"
	}
	sameSite := o.SameSite
	if sameSite == 0 || sameSite == http.SameSiteDefaultMode {
		sameSite = http.SameSiteLaxMode
	}
	// Secure and HttpOnly are on unless the caller opts out (Insecure for
	// plain-HTTP development, ScriptReadable); SameSite is always set.
	return &http.Cookie{ // #nosec G124
		Name:     name,
		Value:    value,
		Domain:   strings.TrimPrefix(o.Domain, "."),
		Path:     path,
		Secure:   !o.Insecure,
		HttpOnly: !o.ScriptReadable,
		SameSite: sameSite,
	}
}

// Cookies returns CloudFront-Policy, CloudFront-Signature and
// CloudFront-Key-Pair-Id, then CloudFront-Hash-Algorithm: set to SHA256, or,
// for SHA1, an expired one, so that a cookie left by an earlier SHA256 key
// cannot make CloudFront check this signature with the wrong hash. Every
// attribute is set explicitly; Expires is the policy's expiry and MaxAge the
// whole seconds from now until then (rounded up).
//
// It refuses, adding nothing, what would not work or would widen access:
// values that are not CloudFront cookie values (ErrCookieValue; a zero
// Signed, for one), options whose Domain or Path do not cover the resource
// of s's policy (see [CookieOptions.CheckResource]), and an s that has
// expired (ErrExpired).
func (s Signed) Cookies(o CookieOptions, now time.Time) ([]*http.Cookie, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	resource, err := s.check()
	if err != nil {
		return nil, err
	}
	if err := checkScope(strings.ToLower(strings.TrimPrefix(o.Domain, ".")), o.Path, resource); err != nil {
		return nil, err
	}
	maxAge, err := s.maxAge(now)
	if err != nil {
		return nil, err
	}
	cookies := []*http.Cookie{
		o.cookie(CookiePolicy, s.Policy),
		o.cookie(CookieSignature, s.Signature),
		o.cookie(CookieKeyPairID, s.KeyPairID),
		o.cookie(CookieHashAlgorithm, string(s.HashAlgorithm)),
	}
	for _, c := range cookies {
		c.Expires = s.Expires
		c.MaxAge = maxAge
	}
	if s.HashAlgorithm != SHA256 {
		expire(cookies[3])
	}
	return cookies, nil
}

// check refuses an s whose values are not CloudFront cookie values, and
// returns the resource its policy unlocks: the one it was signed for, or,
// for a Signed made by hand, the one its Policy names.
func (s Signed) check() (string, error) {
	switch {
	case CheckKeyPairID(s.KeyPairID) != nil:
		return "", fmt.Errorf("%w: %s is not a key pair ID (1 to 128 letters and digits)", ErrCookieValue, CookieKeyPairID)
	case !cloudFrontBase64(s.Policy):
		return "", fmt.Errorf("%w: %s is not CloudFront base64", ErrCookieValue, CookiePolicy)
	case !cloudFrontBase64(s.Signature):
		return "", fmt.Errorf("%w: %s is not CloudFront base64", ErrCookieValue, CookieSignature)
	case s.HashAlgorithm != "" && s.HashAlgorithm != SHA1 && s.HashAlgorithm != SHA256:
		return "", fmt.Errorf("%w: %s is neither SHA1 nor SHA256", ErrCookieValue, CookieHashAlgorithm)
	}
	if s.resource != "" {
		return s.resource, nil
	}
	p, err := DecodePolicy(s.Policy)
	if err != nil {
		return "", err
	}
	return p.Resource, nil
}

// cloudFrontBase64 reports whether v is non-empty and made only of the
// characters of CloudFront base64 (see EncodeBase64), which net/http
// writes in a cookie unchanged.
func cloudFrontBase64(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !base64Byte[v[i]] {
			return false
		}
	}
	return true
}

// base64Byte holds the bytes cloudFrontBase64 accepts.
var base64Byte = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~" {
		t[c] = true
	}
	return t
}()

// maxAge is the whole seconds from now until s expires, rounded up, or
// ErrExpired when it already has.
func (s Signed) maxAge(now time.Time) (int, error) {
	left := s.Expires.Sub(now)
	if left <= 0 {
		return 0, fmt.Errorf("%w: expiration %s is not after now", ErrExpired, s.Expires.UTC().Format(time.RFC3339))
	}
	return int((left + time.Second - 1) / time.Second), nil
}

// ExpireCookies returns Set-Cookie values that delete every CloudFront
// cookie (CloudFront-Expires included) set with the same o.
func ExpireCookies(o CookieOptions) ([]*http.Cookie, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	var cookies []*http.Cookie
	for _, name := range []string{CookiePolicy, CookieSignature, CookieKeyPairID, CookieHashAlgorithm, CookieExpires} {
		c := o.cookie(name, "")
		expire(c)
		cookies = append(cookies, c)
	}
	return cookies, nil
}

func expire(c *http.Cookie) { // #nosec G124 -- keeps the attributes the cookie was built with
	c.Value = ""
	c.MaxAge = -1
	c.Expires = time.Unix(1, 0).UTC()
}

// CookieHeader writes the cookies of Signed values straight into a response
// header, for servers that issue many with one set of options. Its Set-Cookie
// values are byte for byte those http.SetCookie writes for
// [Signed.Cookies], in the same order, and it refuses what Signed.Cookies
// refuses, but costs one allocation instead of an *http.Cookie and a
// re-validation of every value per cookie. Build one per CookieOptions with
// [NewCookieHeader] and share it: it is immutable and safe for concurrent
// use. The zero CookieHeader writes nothing: its Set returns ErrZeroValue.
type CookieHeader struct {
	// attrs is what net/http writes for Path and Domain, flags what it
	// writes for HttpOnly, Secure and SameSite: the parts of every line
	// that depend only on the options.
	attrs, flags string
	// expiredHash is the whole line clearing CloudFront-Hash-Algorithm,
	// set with SHA1 signatures.
	expiredHash string
	// domain (lower case, no leading dot) and path are the options'
	// Domain and Path, checked against each Signed's resource.
	domain, path string
}

// NewCookieHeader checks o as [Signed.Cookies] does and prepares its
// attributes. The attributes are formatted by net/http itself, so they
// follow its rules (a leading dot dropped from Domain, for instance).
func NewCookieHeader(o CookieOptions) (*CookieHeader, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	const probe = "n"
	attrs := o.cookie(probe, "") // #nosec G124 -- a probe for net/http's formatting of Path and Domain; never sent
	attrs.Secure, attrs.HttpOnly, attrs.SameSite = false, false, http.SameSiteDefaultMode
	flags := o.cookie(probe, "") // #nosec G124 -- a probe, as above
	flags.Path, flags.Domain = "", ""
	expired := o.cookie(CookieHashAlgorithm, "")
	expire(expired)
	return &CookieHeader{
		attrs:       strings.TrimPrefix(attrs.String(), probe+"="),
		flags:       strings.TrimPrefix(flags.String(), probe+"="),
		expiredHash: expired.String(),
		domain:      strings.ToLower(strings.TrimPrefix(o.Domain, ".")),
		path:        o.Path,
	}, nil
}

// Set adds the Set-Cookie values of s's cookies, as of now, to h. It
// refuses what Signed.Cookies refuses (values that are not CloudFront
// cookie values, a resource the options' Domain or Path do not cover, an s
// that has expired), and then adds nothing.
func (f *CookieHeader) Set(h http.Header, s Signed, now time.Time) error {
	if f == nil || f.flags == "" {
		return fmt.Errorf("%w: CookieHeader (NewCookieHeader)", ErrZeroValue)
	}
	resource, err := s.check()
	if err != nil {
		return err
	}
	if err := checkScope(f.domain, f.path, resource); err != nil {
		return err
	}
	maxAge, err := s.maxAge(now)
	if err != nil {
		return err
	}
	values := [...]struct{ name, value string }{
		{CookiePolicy, s.Policy},
		{CookieSignature, s.Signature},
		{CookieKeyPairID, s.KeyPairID},
		{CookieHashAlgorithm, string(s.HashAlgorithm)},
	}
	n := len(values)
	if s.HashAlgorithm != SHA256 {
		n-- // the hash cookie is the constant expiredHash
	}
	var tail [64]byte
	t := append(tail[:0], "; Expires="...)
	t = s.Expires.UTC().AppendFormat(t, http.TimeFormat)
	t = append(t, "; Max-Age="...)
	t = strconv.AppendInt(t, int64(maxAge), 10)
	t = append(t, f.flags...)

	size := 0
	for _, v := range values[:n] {
		size += len(v.name) + 1 + len(v.value) + len(f.attrs) + len(t)
	}
	// One string holds every line; each line is a slice of it.
	var b strings.Builder
	b.Grow(size)
	var ends [len(values)]int
	for i, v := range values[:n] {
		b.WriteString(v.name)
		b.WriteByte('=')
		b.WriteString(v.value)
		b.WriteString(f.attrs)
		b.Write(t)
		ends[i] = b.Len()
	}
	all := b.String()
	lines := h["Set-Cookie"]
	if cap(lines)-len(lines) < len(values) {
		lines = append(make([]string, 0, len(lines)+len(values)), lines...)
	}
	start := 0
	for _, end := range ends[:n] {
		lines, start = append(lines, all[start:end]), end
	}
	if n < len(values) {
		lines = append(lines, f.expiredHash)
	}
	h["Set-Cookie"] = lines
	return nil
}
