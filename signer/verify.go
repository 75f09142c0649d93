package signer

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
)

// CloudFront's error codes, the <Code> of the XML body of its 403 answer
// when the signed-cookie check fails.
const (
	CodeMissingKey         = "MissingKey"
	CodeInvalidKey         = "InvalidKey"
	CodeMalformedPolicy    = "MalformedPolicy"
	CodeMalformedSignature = "MalformedSignature"
	CodeAccessDenied       = "AccessDenied"
)

// MaxKeys is how many public keys a CloudFront key group holds.
const MaxKeys = 5

// ErrKeyGroup is wrapped by NewVerifier's errors: the key group it was
// given is not one CloudFront would accept.
var ErrKeyGroup = errors.New("signer: invalid key group")

// A Decision is the outcome of [Verifier.Check]. Its zero value denies.
type Decision struct {
	// Allowed is true when CloudFront would pass the request to the origin.
	Allowed bool
	// Code is CloudFront's error code when denied (one of the Code
	// constants), empty when allowed.
	Code string
	// Reason says which check decided and why, for logs and people. It
	// never holds a cookie value, a policy or a signature; it may hold the
	// request URL without its query, the trusted key pair IDs, the policy's
	// times and the client address.
	Reason string
	// KeyPairID is the trusted key the cookies named, empty when they named
	// none of them.
	KeyPairID string
	// Policy is the cookies' policy once its signature verified and it
	// parsed, nil when the check stopped before: a policy is never read
	// before its signature is checked. It is for showing a person, like
	// `server verify` does; log Reason, not the policy.
	Policy *Policy
	// Condition names the policy condition that denied the request:
	// "Resource", "DateLessThan", "DateGreaterThan" or "IpAddress", as the
	// policy JSON spells them. It is empty when the request was allowed or
	// denied before the conditions were checked. The conditions are checked
	// in that order, so those before Condition hold and those after it were
	// not checked.
	Condition string
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

// VerifierOptions are a Verifier's optional settings. The zero value
// accepts what CloudFront accepts.
type VerifierOptions struct {
	// Key relaxes which public keys are trusted (see KeyOptions).
	Key KeyOptions
}

// A Verifier checks CloudFront signed cookies against a trusted key group,
// as a cache behaviour with "Restrict viewer access" does. It is immutable
// and safe for concurrent use. The zero Verifier trusts no key: it denies
// every request with CodeInvalidKey.
type Verifier struct {
	keys   map[string]crypto.PublicKey
	keyIDs string // sorted, comma separated, for Reasons
}

// NewVerifier returns a Verifier trusting keys, a key group: key pair ID →
// public key, one to MaxKeys of them, each RSA 2048 or ECDSA P-256 (see
// CheckPublicKey). Errors wrap ErrKeyGroup.
func NewVerifier(keys map[string]crypto.PublicKey, opts VerifierOptions) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: a key group needs at least one public key", ErrKeyGroup)
	}
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("%w: %d public keys; a CloudFront key group holds at most %d", ErrKeyGroup, len(keys), MaxKeys)
	}
	v := &Verifier{keys: make(map[string]crypto.PublicKey, len(keys))}
	ids := make([]string, 0, len(keys))
	for id, pub := range keys {
		if CheckKeyPairID(id) != nil {
			return nil, fmt.Errorf("%w: key pair ID %q is not a CloudFront public key ID (1 to 128 letters and digits)", ErrKeyGroup, id)
		}
		if pub == nil {
			return nil, fmt.Errorf("%w: key pair ID %s has no public key", ErrKeyGroup, id)
		}
		if err := CheckPublicKey(pub, opts.Key); err != nil {
			return nil, fmt.Errorf("%w: key pair ID %s: %w", ErrKeyGroup, id, err)
		}
		v.keys[id] = pub
		ids = append(ids, id)
	}
	slices.Sort(ids)
	v.keyIDs = strings.Join(ids, ", ")
	return v, nil
}

// RequestURL is the string CloudFront matches a policy Resource against
// for a request to u: scheme://host, the escaped path, and "?" plus the
// raw query when there is one. The fragment and user info, which browsers
// never send, are left out.
func RequestURL(u *url.URL) string {
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s
}

// cookieSet is the first value of each CloudFront cookie, and how many of
// each name were sent.
type cookieSet struct {
	policy, signature, keyPairID, hash string
	hashSent, expiresSent              bool
	dups                               []string
}

func readCookies(cookies []*http.Cookie) cookieSet {
	var cs cookieSet
	first := func(name string) (string, bool) {
		n, value := 0, ""
		for _, c := range cookies {
			if c != nil && c.Name == name {
				if n == 0 {
					value = c.Value
				}
				n++
			}
		}
		if n > 1 {
			cs.dups = append(cs.dups, fmt.Sprintf("%d %s", n, name))
		}
		return value, n > 0
	}
	cs.keyPairID, _ = first(CookieKeyPairID)
	cs.policy, _ = first(CookiePolicy)
	cs.signature, _ = first(CookieSignature)
	cs.hash, cs.hashSent = first(CookieHashAlgorithm)
	_, cs.expiresSent = first(CookieExpires)
	return cs
}

// Check decides, as CloudFront would, whether cookies (a request's, in
// the order of its Cookie header, as http.Request.Cookies returns them)
// let a viewer at clientIP fetch requestURL at now. requestURL is what
// [RequestURL] returns for the request; clientIP may be the zero Addr
// when unknown, which a policy with IpAddress then denies; a zero now
// means time.Now().
//
// The checks, in CloudFront's order:
//
//  1. CloudFront-Key-Pair-Id, CloudFront-Policy and CloudFront-Signature
//     must be present and non-empty, else CodeMissingKey. Canned-policy
//     cookies (CloudFront-Expires) are not supported and are denied as a
//     missing policy, with a Reason that says so.
//  2. The key pair ID must name a key of the group, else CodeInvalidKey.
//  3. CloudFront-Hash-Algorithm, when sent and non-empty, must be exactly
//     "SHA1" or "SHA256" (absent or empty means SHA1), else
//     CodeAccessDenied.
//  4. The policy and the signature must be CloudFront base64, else
//     CodeMalformedPolicy or CodeMalformedSignature.
//  5. The signature must verify over the decoded policy with the key and
//     hash (see [Verify]), else CodeAccessDenied. The policy is parsed only
//     after that, so unsigned bytes are never interpreted. Under
//     GODEBUG=fips140=only a SHA1 signature cannot be checked and is
//     denied, with a Reason that says so.
//  6. The policy must parse (see [ParsePolicy]), else CodeMalformedPolicy.
//  7. The Resource must match requestURL (see [MatchResource]), now must
//     be before its expiry and after its start, and clientIP inside its
//     IpAddress range, else CodeAccessDenied. Times are compared in whole
//     epoch seconds.
//
// Of several cookies with one name, the first is used, as CloudFront and
// net/http's Request.Cookie do, and the Reason counts the others: a stale
// cookie on a longer Path shadows a fresh one, a deployment bug worth
// seeing.
func (v *Verifier) Check(cookies []*http.Cookie, requestURL string, clientIP netip.Addr, now time.Time) Decision {
	if now.IsZero() {
		now = time.Now()
	}
	if v == nil {
		v = &Verifier{}
	}
	cs := readCookies(cookies)
	d := v.check(cs, requestURL, clientIP, now)
	if len(cs.dups) > 0 {
		d.Reason += fmt.Sprintf(" (duplicate cookies: %s sent; the first of each was used)", strings.Join(cs.dups, ", "))
	}
	return d
}

func (v *Verifier) check(cs cookieSet, reqURL string, clientIP netip.Addr, now time.Time) Decision {
	switch {
	case cs.keyPairID == "":
		return deny(CodeMissingKey, "no %s cookie, or an empty one", CookieKeyPairID)
	case cs.policy == "" && cs.expiresSent:
		return deny(CodeMissingKey, "no %s cookie: canned-policy cookies (%s) are not supported here; cfcookies issues custom policies",
			CookiePolicy, CookieExpires)
	case cs.policy == "":
		return deny(CodeMissingKey, "no %s cookie, or an empty one", CookiePolicy)
	case cs.signature == "":
		return deny(CodeMissingKey, "no %s cookie, or an empty one", CookieSignature)
	}
	pub, ok := v.keys[cs.keyPairID]
	if !ok {
		trusted := v.keyIDs
		if trusted == "" {
			trusted = "none"
		}
		return deny(CodeInvalidKey, "%s names no key of the key group (trusted: %s)", CookieKeyPairID, trusted)
	}
	keyID := cs.keyPairID
	denyKey := func(code, format string, args ...any) Decision {
		d := deny(code, format, args...)
		d.KeyPairID = keyID
		return d
	}

	hash := SHA1
	switch {
	case !cs.hashSent || cs.hash == "":
	case cs.hash == string(SHA1) || cs.hash == string(SHA256):
		hash = HashAlgorithm(cs.hash)
	default:
		return denyKey(CodeAccessDenied, "%s is neither SHA1 nor SHA256 (%d bytes)", CookieHashAlgorithm, len(cs.hash))
	}

	policyJSON, err := DecodeBase64(cs.policy)
	if err != nil {
		return denyKey(CodeMalformedPolicy, "%s is not CloudFront base64", CookiePolicy)
	}
	if _, err := DecodeBase64(cs.signature); err != nil {
		return denyKey(CodeMalformedSignature, "%s is not CloudFront base64", CookieSignature)
	}
	if err := Verify(pub, hash, policyJSON, cs.signature); err != nil {
		if errors.Is(err, ErrNotFIPSApproved) {
			return denyKey(CodeAccessDenied, "the signature is over SHA1 (%s not SHA256), which this process cannot check: GODEBUG=fips140=only refuses SHA-1, which is not FIPS 140-3 approved",
				CookieHashAlgorithm)
		}
		if _, isEC := pub.(*ecdsa.PublicKey); isEC && hash != SHA256 {
			return denyKey(CodeAccessDenied, "key %s is ECDSA, which signs with SHA256, but %s=SHA256 was not sent", keyID, CookieHashAlgorithm)
		}
		return denyKey(CodeAccessDenied, "signature does not verify with key %s (%s) and %s: wrong key, wrong %s, or a policy changed after signing",
			keyID, keyType(pub), hash, CookieHashAlgorithm)
	}

	p, err := ParsePolicy(policyJSON)
	if err != nil {
		return denyKey(CodeMalformedPolicy, "%s", strings.TrimPrefix(err.Error(), "signer: "))
	}

	denyCond := func(cond, format string, args ...any) Decision {
		d := denyKey(CodeAccessDenied, format, args...)
		d.Policy, d.Condition = &p, cond
		return d
	}
	if !MatchResource(p.Resource, reqURL) {
		return denyCond("Resource", "policy Resource does not match the request URL %s%s", stripQuery(reqURL), mismatchHint(p.Resource, reqURL))
	}
	// Epoch seconds, as the policy states them.
	if now.Unix() >= p.Expires.Unix() {
		return denyCond("DateLessThan", "policy expired at %s (DateLessThan), %s before now %s",
			p.Expires.Format(time.RFC3339), seconds(now.Unix()-p.Expires.Unix()), now.UTC().Format(time.RFC3339))
	}
	if !p.NotBefore.IsZero() && now.Unix() <= p.NotBefore.Unix() {
		return denyCond("DateGreaterThan", "policy not yet valid: valid only after %s (DateGreaterThan), %s after now %s",
			p.NotBefore.Format(time.RFC3339), seconds(p.NotBefore.Unix()-now.Unix()), now.UTC().Format(time.RFC3339))
	}
	if p.IPRange.IsValid() {
		switch ip := clientIP.Unmap(); {
		case !ip.IsValid():
			return denyCond("IpAddress", "policy has IpAddress but the client address is unknown")
		case !p.IPRange.Contains(ip):
			return denyCond("IpAddress", "client IP %s is outside the policy's IpAddress range", ip)
		}
	}
	return Decision{
		Allowed:   true,
		KeyPairID: keyID,
		Policy:    &p,
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
	if strings.Contains(reqURL, "?") && MatchResource(resource, stripQueryOnly(reqURL)) {
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
