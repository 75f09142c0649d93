package edge

import (
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// CloudFront's error codes, the <Code> of its 403 XML body.
const (
	CodeMissingKey         = "MissingKey"
	CodeInvalidKey         = "InvalidKey"
	CodeMalformedPolicy    = "MalformedPolicy"
	CodeMalformedSignature = "MalformedSignature"
	CodeAccessDenied       = "AccessDenied"
)

// MaxKeys is how many public keys a CloudFront key group holds.
const MaxKeys = 5

// A Decision is the outcome of a signed-cookie check.
type Decision struct {
	// Allowed is true when CloudFront would pass the request to the origin.
	Allowed bool
	// Code is CloudFront's error code when denied (one of the Code
	// constants), empty when allowed.
	Code string
	// Reason says, for logs, which check decided and why. It never holds a
	// cookie value, a policy or a signature.
	Reason string
	// KeyPairID is the trusted key the cookies named, empty when they named
	// none of them.
	KeyPairID string
}

// Message is CloudFront's <Message> for d.Code.
func (d Decision) Message() string {
	switch d.Code {
	case CodeMissingKey:
		return "Missing Key-Pair-Id query parameter or cookie value"
	case CodeInvalidKey:
		return "Unknown Key"
	case CodeMalformedPolicy:
		return "Malformed Policy"
	case CodeMalformedSignature:
		return "Could not unencode Signature"
	}
	return "Access denied"
}

func deny(code, format string, args ...any) Decision {
	return Decision{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// VerifierOptions are a Verifier's optional settings. The zero value is
// what a distribution reached directly needs.
type VerifierOptions struct {
	// BaseURL is the scheme and host the browser used, such as
	// "https://media.example.com" or "http://localhost:8081", when a proxy
	// sits between it and the Verifier. Empty means the request's own: its
	// absolute URL if it has one, else Request.Host, with https when the
	// connection is TLS.
	BaseURL string

	// Key relaxes which public keys are accepted (see signer.KeyOptions);
	// the zero value accepts what CloudFront accepts.
	Key signer.KeyOptions
}

// A Verifier checks CloudFront signed cookies against a trusted key group.
// It is immutable and safe for concurrent use.
type Verifier struct {
	keys    map[string]crypto.PublicKey
	keyIDs  string // sorted, comma separated, for Reasons
	baseURL string // "scheme://host", or empty
}

// NewVerifier returns a Verifier trusting keys: key pair ID → public key,
// one to MaxKeys of them, each RSA 2048 or ECDSA P-256.
func NewVerifier(keys map[string]crypto.PublicKey, opts VerifierOptions) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("edge: a key group needs at least one public key")
	}
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("edge: %d public keys; a CloudFront key group holds at most %d", len(keys), MaxKeys)
	}
	v := &Verifier{keys: make(map[string]crypto.PublicKey, len(keys))}
	ids := make([]string, 0, len(keys))
	for id, pub := range keys {
		if id == "" || strings.TrimSpace(id) != id || strings.ContainsAny(id, ",;\"") {
			return nil, fmt.Errorf("edge: key pair ID %q is not a CloudFront public key ID", id)
		}
		if pub == nil {
			return nil, fmt.Errorf("edge: key pair ID %s has no public key", id)
		}
		if err := signer.CheckPublicKey(pub, opts.Key); err != nil {
			return nil, fmt.Errorf("edge: key pair ID %s: %w", id, err)
		}
		v.keys[id] = pub
		ids = append(ids, id)
	}
	slices.Sort(ids)
	v.keyIDs = strings.Join(ids, ", ")
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("edge: base URL %q must be scheme://host[:port] with scheme http or https and nothing after", opts.BaseURL)
		}
		v.baseURL = u.Scheme + "://" + u.Host
	}
	return v, nil
}

// RequestURL is the URL the policy Resource is matched against:
// scheme://host, the escaped path, and "?" plus the raw query when there is
// one. See VerifierOptions.BaseURL for where scheme and host come from.
func (v *Verifier) RequestURL(r *http.Request) string {
	base := v.baseURL
	switch {
	case base != "":
	case r.URL.IsAbs() && r.URL.Host != "":
		base = r.URL.Scheme + "://" + r.URL.Host
	default:
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	u := base + r.URL.EscapedPath()
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		u += "?" + r.URL.RawQuery
	}
	return u
}

// cookieSet is the first value of each CloudFront cookie, and how many of
// each name were sent.
type cookieSet struct {
	policy, signature, keyPairID, hash string
	hashSent, expiresSent              bool
	dups                               []string
}

func readCookies(r *http.Request) cookieSet {
	var cs cookieSet
	first := func(name string) (string, bool) {
		cookies := r.CookiesNamed(name)
		if len(cookies) == 0 {
			return "", false
		}
		if len(cookies) > 1 {
			cs.dups = append(cs.dups, fmt.Sprintf("%d %s", len(cookies), name))
		}
		return cookies[0].Value, true
	}
	cs.keyPairID, _ = first(signer.CookieKeyPairID)
	cs.policy, _ = first(signer.CookiePolicy)
	cs.signature, _ = first(signer.CookieSignature)
	cs.hash, cs.hashSent = first(signer.CookieHashAlgorithm)
	_, cs.expiresSent = first(signer.CookieExpires)
	return cs
}

// Check decides, as CloudFront would at now, whether r's signed cookies
// allow it. The steps and their order are in the package documentation.
func (v *Verifier) Check(r *http.Request, now time.Time) Decision {
	cs := readCookies(r)
	d := v.check(r, cs, now)
	if len(cs.dups) > 0 {
		d.Reason += fmt.Sprintf(" (duplicate cookies: %s sent; the first of each was used)", strings.Join(cs.dups, ", "))
	}
	return d
}

func (v *Verifier) check(r *http.Request, cs cookieSet, now time.Time) Decision {
	switch {
	case cs.keyPairID == "":
		return deny(CodeMissingKey, "no %s cookie, or an empty one", signer.CookieKeyPairID)
	case cs.policy == "" && cs.expiresSent:
		return deny(CodeMissingKey, "no %s cookie: canned-policy cookies (%s) are not supported here; cfcookies issues custom policies",
			signer.CookiePolicy, signer.CookieExpires)
	case cs.policy == "":
		return deny(CodeMissingKey, "no %s cookie, or an empty one", signer.CookiePolicy)
	case cs.signature == "":
		return deny(CodeMissingKey, "no %s cookie, or an empty one", signer.CookieSignature)
	}
	pub, ok := v.keys[cs.keyPairID]
	if !ok {
		return deny(CodeInvalidKey, "%s names no key of the key group (trusted: %s)", signer.CookieKeyPairID, v.keyIDs)
	}
	keyID := cs.keyPairID
	denyKey := func(code, format string, args ...any) Decision {
		d := deny(code, format, args...)
		d.KeyPairID = keyID
		return d
	}

	hash := signer.SHA1
	switch {
	case !cs.hashSent || cs.hash == "":
	case cs.hash == string(signer.SHA1) || cs.hash == string(signer.SHA256):
		hash = signer.HashAlgorithm(cs.hash)
	default:
		return denyKey(CodeAccessDenied, "%s is neither SHA1 nor SHA256 (%d bytes)", signer.CookieHashAlgorithm, len(cs.hash))
	}

	policyJSON, err := signer.DecodeBase64(cs.policy)
	if err != nil {
		return denyKey(CodeMalformedPolicy, "%s is not CloudFront base64", signer.CookiePolicy)
	}
	if _, err := signer.DecodeBase64(cs.signature); err != nil {
		return denyKey(CodeMalformedSignature, "%s is not CloudFront base64", signer.CookieSignature)
	}
	if err := signer.Verify(pub, hash, policyJSON, cs.signature); err != nil {
		if _, isEC := pub.(*ecdsa.PublicKey); isEC && hash != signer.SHA256 {
			return denyKey(CodeAccessDenied, "key %s is ECDSA, which signs with SHA256, but %s=SHA256 was not sent", keyID, signer.CookieHashAlgorithm)
		}
		return denyKey(CodeAccessDenied, "signature does not verify with key %s (%s) and %s: wrong key, wrong %s, or a policy changed after signing",
			keyID, keyType(pub), hash, signer.CookieHashAlgorithm)
	}

	p, err := signer.ParsePolicy(policyJSON)
	if err != nil {
		return denyKey(CodeMalformedPolicy, "%s", strings.TrimPrefix(err.Error(), "signer: "))
	}

	reqURL := v.RequestURL(r)
	if !signer.MatchResource(p.Resource, reqURL) {
		return denyKey(CodeAccessDenied, "policy Resource does not match the request URL %s%s", stripQuery(reqURL), mismatchHint(p.Resource, reqURL))
	}
	// Epoch seconds, as the policy states them.
	if now.Unix() >= p.Expires.Unix() {
		return denyKey(CodeAccessDenied, "policy expired at %s (DateLessThan), %s before now %s",
			p.Expires.Format(time.RFC3339), seconds(now.Unix()-p.Expires.Unix()), now.UTC().Format(time.RFC3339))
	}
	if !p.NotBefore.IsZero() && now.Unix() <= p.NotBefore.Unix() {
		return denyKey(CodeAccessDenied, "policy not yet valid: valid only after %s (DateGreaterThan), %s after now %s",
			p.NotBefore.Format(time.RFC3339), seconds(p.NotBefore.Unix()-now.Unix()), now.UTC().Format(time.RFC3339))
	}
	if p.IPRange.IsValid() {
		ip, ok := remoteIP(r)
		switch {
		case !ok:
			return denyKey(CodeAccessDenied, "policy has IpAddress but the client address %q is not an IP", r.RemoteAddr)
		case !p.IPRange.Contains(ip):
			return denyKey(CodeAccessDenied, "client IP %s is outside the policy's IpAddress range", ip)
		}
	}
	return Decision{
		Allowed:   true,
		KeyPairID: keyID,
		Reason: fmt.Sprintf("signature valid (key %s, %s); policy allows this URL until %s",
			keyID, hash, p.Expires.Format(time.RFC3339)),
	}
}

// seconds renders a whole number of seconds as a duration, "3m12s".
func seconds(n int64) string { return (time.Duration(n) * time.Second).String() }

func keyType(pub crypto.PublicKey) string {
	if _, ok := pub.(*ecdsa.PublicKey); ok {
		return "ECDSA P-256"
	}
	return "RSA"
}

// remoteIP is the client address from RemoteAddr ("ip:port" or a bare IP),
// IPv4-mapped IPv6 unmapped.
func remoteIP(r *http.Request) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + " (query not shown)"
	}
	return u
}

// mismatchHint explains a Resource mismatch without quoting the Resource.
func mismatchHint(resource, reqURL string) string {
	if sh, ok := schemeHost(resource); ok {
		if reqSH, _ := schemeHost(stripQueryOnly(reqURL)); reqSH != "" && sh != reqSH {
			return ": the Resource is for another scheme or host"
		}
	}
	if strings.Contains(reqURL, "?") && signer.MatchResource(resource, stripQueryOnly(reqURL)) {
		return ": the request has a query string, which the Resource does not allow"
	}
	return ""
}

func stripQueryOnly(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// schemeHost returns the "scheme://host" prefix of a resource pattern when
// it holds no wildcard, for explaining mismatches.
func schemeHost(pattern string) (string, bool) {
	i := strings.Index(pattern, "://")
	if i < 0 {
		return "", false
	}
	end := len(pattern)
	if j := strings.IndexByte(pattern[i+3:], '/'); j >= 0 {
		end = i + 3 + j
	}
	prefix := pattern[:end]
	if strings.ContainsAny(prefix, "*?") {
		return "", false
	}
	return prefix, true
}
