package signer

import (
	"errors"
	"fmt"
	"net/http"
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
	left := s.Expires.Sub(now)
	if left <= 0 {
		return nil, fmt.Errorf("%w: expiration %s is not after now", ErrExpired, s.Expires.UTC().Format(time.RFC3339))
	}
	maxAge := int((left + time.Second - 1) / time.Second)
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
