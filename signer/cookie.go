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

// CookieOptions are the attributes set on every cookie. The zero value is
// the safe default: host-only, Path "/", Secure, HttpOnly, SameSite=Lax.
type CookieOptions struct {
	// Domain is the parent domain shared by the backend and the CloudFront
	// domain, such as "example.com". Empty means host-only: the cookies go
	// back only to the host that set them.
	Domain string

	// Path scopes the cookies; empty means "/". It is never left empty on
	// the cookie, since browsers would then scope it to the path of the
	// response that set it (for example "/auth").
	Path string

	// SameSite defaults to Lax. SameSite=None requires Secure.
	SameSite http.SameSite

	// Insecure drops the Secure attribute, for plain-HTTP development only.
	Insecure bool

	// ScriptReadable drops HttpOnly, exposing the credentials to
	// JavaScript. Almost never wanted.
	ScriptReadable bool
}

func (o CookieOptions) validate() error {
	if o.Path != "" && (!strings.HasPrefix(o.Path, "/") || strings.ContainsAny(o.Path, ";,") || !printable(o.Path)) {
		return fmt.Errorf("signer: cookie path %q must start with / and be printable ASCII without ; or ,", o.Path)
	}
	if d := strings.TrimPrefix(o.Domain, "."); o.Domain != "" && (d == "" || strings.ContainsAny(d, ";,:/") || !printable(d)) {
		return fmt.Errorf("signer: cookie domain %q is not a host name", o.Domain)
	}
	if o.SameSite == http.SameSiteNoneMode && o.Insecure {
		return errors.New("signer: SameSite=None requires Secure; browsers drop such cookies")
	}
	return nil
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
func (s Signed) Cookies(o CookieOptions, now time.Time) ([]*http.Cookie, error) {
	if err := o.validate(); err != nil {
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
// [Signed.Cookies], in the same order, but cost one allocation instead of
// an *http.Cookie and a re-validation of every value per cookie. Build one
// per CookieOptions with [NewCookieHeader] and share it: it is immutable
// and safe for concurrent use.
type CookieHeader struct {
	// attrs is what net/http writes for Path and Domain, flags what it
	// writes for HttpOnly, Secure and SameSite: the parts of every line
	// that depend only on the options.
	attrs, flags string
	// expiredHash is the whole line clearing CloudFront-Hash-Algorithm,
	// set with SHA1 signatures.
	expiredHash string
	// opts is kept for values that need net/http's quoting or sanitizing,
	// which Sign never produces.
	opts CookieOptions
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
		opts:        o,
	}, nil
}

// Set adds the Set-Cookie values of s's cookies, as of now, to h. It
// refuses an s that has expired, as Signed.Cookies does, and then adds
// nothing.
func (f *CookieHeader) Set(h http.Header, s Signed, now time.Time) error {
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
	for _, v := range values[:n] {
		if !plainCookieValue(v.value) {
			return f.setSlow(h, s, now)
		}
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

// setSlow sets s's cookies through net/http, for values it must quote or
// sanitize.
func (f *CookieHeader) setSlow(h http.Header, s Signed, now time.Time) error {
	cookies, err := s.Cookies(f.opts, now)
	if err != nil {
		return err
	}
	for _, c := range cookies {
		if v := c.String(); v != "" {
			h.Add("Set-Cookie", v)
		}
	}
	return nil
}

// plainCookieValue reports whether net/http writes v unchanged as a cookie
// value: non-empty, printable ASCII without '"', ';', '\\', space or comma
// (which it would quote). CloudFront base64 and key pair IDs always are.
func plainCookieValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !plainCookieByte[v[i]] {
			return false
		}
	}
	return true
}

// plainCookieByte holds the bytes plainCookieValue accepts.
var plainCookieByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '"' && c != ';' && c != '\\' && c != ','
	}
	return t
}()
