package mediacookies

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// Why the refresh middleware set new cookies, as Hooks.Refreshed hears it.
const (
	RefreshMissing  = "missing"  // a scope's cookies were not on the request
	RefreshExpiring = "expiring" // its policy expires within a fifth of the scope's TTL
	RefreshKey      = "key"      // they were signed by another key pair
	RefreshIdentity = "identity" // they were granted to another identity (or IP address)
	RefreshHash     = "hash"     // CloudFront-Hash-Algorithm disagrees with the signer's
)

// Refresh returns middleware for a service's own authenticated routes: it
// identifies the caller with Config.Identify and, for each scope the caller
// may have whose cookie Path covers the request's path (the others' cookies
// are not sent with it), looks at the CloudFront cookies the request
// carries. It sets every such scope's cookies anew on the response, with
// Cache-Control: no-store, when one of them is missing, expires within a
// fifth of its scope's TTL (the answer's refreshAfter), was signed by a key
// pair other than the signer's, or grants a resource other than the one the
// scope expands to for this caller (a cookie left by another user of the
// browser); otherwise it adds nothing. It reads the policy back from the
// CloudFront-Policy cookie, the one thing CloudFront itself reads; the
// signature is not checked, since cookies only the client could have
// altered harm only that client.
//
// Nothing is refreshed when Identify fails, when no key is loaded, or when
// the request's host is not under the cookie Domain (the browser would
// refuse the cookies there); a refresh that fails is reported to
// Hooks.RefreshFailed and the request goes on without it. Do not wrap the
// Handler's own routes with it.
func (h *Handler[ID]) Refresh(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.refresh(w, r)
		next.ServeHTTP(w, r)
	})
}

func (h *Handler[ID]) refresh(w http.ResponseWriter, r *http.Request) {
	if !h.hostTakesCookies(r.Host) {
		return
	}
	sg := h.signer()
	if sg == nil {
		return
	}
	id, err := h.cfg.Identify(r)
	if err != nil {
		return
	}
	var j jar
	j.read(r.Header)
	now := h.now()
	var buf [4]*scope[ID]
	stale, reason := buf[:0], ""
	for _, sc := range h.scopes {
		if !signer.PathMatch(r.URL.Path, sc.CookiePath) || !sc.allows(id) {
			continue
		}
		if why := h.stale(r, sc, id, sg, &j, now); why != "" {
			stale, reason = append(stale, sc), why
		}
	}
	if len(stale) == 0 {
		return
	}
	var gbuf [4]issuedGrant[ID]
	grants, err := h.grant(r, sg, id, stale, gbuf[:0])
	if err == nil {
		err = h.setCookies(w.Header(), grants)
	}
	if err != nil {
		if h.cfg.Hooks.RefreshFailed != nil {
			h.cfg.Hooks.RefreshFailed(r, AsError(err))
		}
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if h.cfg.Hooks.Refreshed != nil {
		a := answer(grants)
		h.cfg.Hooks.Refreshed(r, id, reason, &a)
	}
}

// hostTakesCookies reports whether a browser stores cookies with the
// Handler's Domain from host (a Host header, port included or not).
func (h *Handler[ID]) hostTakesCookies(host string) bool {
	d := h.cfg.Cookie.Domain
	if d == "" {
		return true // host-only: they come back to whoever set them
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return signer.DomainMatch(host, strings.TrimPrefix(d, "."))
}

// stale says why sc's cookies on the request need replacing, or "".
func (h *Handler[ID]) stale(r *http.Request, sc *scope[ID], id ID, sg *signer.Signer, j *jar, now time.Time) string {
	path, err := sc.Path.Expand(id.Claim)
	if err != nil {
		return "" // nothing can be granted; ServeIssue says why
	}
	ipRange, err := h.bindIP(r)
	if err != nil {
		return "" // likewise
	}
	want := signer.Grant{Resource: h.base + path, IPRange: ipRange}
	i, expires := j.find(want)
	switch {
	case i < 0 && j.n[cookiePolicy] == 0:
		return RefreshMissing
	case i < 0:
		return RefreshIdentity
	case i >= j.n[cookieSignature] || i >= j.n[cookieKeyPairID]:
		return RefreshMissing
	case j.v[cookieKeyPairID][i] != sg.KeyPairID():
		return RefreshKey
	case !now.Before(expires.Add(-sc.TTL / 5).Truncate(time.Second)):
		return RefreshExpiring
	case !j.hashIs(sg.HashAlgorithm()):
		return RefreshHash
	}
	return ""
}

// The CloudFront cookies a jar keeps, and at most how many of each: a
// request carries one set per cookie Path that covers it.
const (
	cookiePolicy = iota
	cookieSignature
	cookieKeyPairID
	cookieHash
	jarNames
	jarDepth = 4
)

var jarName = [jarNames]string{signer.CookiePolicy, signer.CookieSignature, signer.CookieKeyPairID, signer.CookieHashAlgorithm}

// jar holds the values of a request's CloudFront cookies, in the order
// sent: browsers send longer Paths first, so the i-th value of each name
// belongs to one set.
type jar struct {
	v [jarNames][jarDepth]string
	n [jarNames]int
}

// read collects the CloudFront cookies of a request's Cookie headers,
// without copying them.
func (j *jar) read(h http.Header) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || len(name) < len("CloudFront-") || name[:len("CloudFront-")] != "CloudFront-" {
				continue
			}
			for k, want := range jarName {
				if name == want && j.n[k] < jarDepth {
					j.v[k][j.n[k]] = value
					j.n[k]++
				}
			}
		}
	}
}

// find returns the index of the CloudFront-Policy value that is the
// policy of want with some expiry, and that expiry; or -1. It takes the
// expiry from the policy's first "AWS:EpochTime" and compares the whole
// policy with the one the signer package writes for want with it, byte for
// byte: any other policy, however CloudFront would read it, is not one
// this handler issued for want.
func (j *jar) find(want signer.Grant) (int, time.Time) {
	var enc, dec [maxPolicyCookie]byte
	for i, v := range j.v[cookiePolicy][:j.n[cookiePolicy]] {
		policy, ok := decodePolicy(v, &enc, &dec)
		if !ok {
			continue
		}
		k := bytes.Index(policy, []byte(`"DateLessThan":{"AWS:EpochTime":`))
		if k < 0 {
			continue
		}
		epoch, ok := leadingInt(policy[k+len(`"DateLessThan":{"AWS:EpochTime":`):])
		if !ok {
			continue
		}
		want.Expires = time.Unix(epoch, 0)
		if ours, err := want.Policy(); err == nil && bytes.Equal(policy, ours) {
			return i, want.Expires
		}
	}
	return -1, time.Time{}
}

// maxPolicyCookie bounds the CloudFront-Policy values find decodes: a
// Grant's resource is at most 2048 bytes, so its policy fits.
const maxPolicyCookie = 3 << 10

// decodePolicy decodes a CloudFront base64 value into dec, through enc,
// or refuses it; the arrays spare the no-op path of Refresh two
// allocations (BenchmarkRefreshNoop).
func decodePolicy(v string, enc, dec *[maxPolicyCookie]byte) ([]byte, bool) {
	if len(v) > len(enc) || len(v)%4 != 0 {
		return nil, false
	}
	src := enc[:len(v)]
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '-':
			src[i] = '+'
		case '_':
			src[i] = '='
		case '~':
			src[i] = '/'
		case '+', '=', '/':
			return nil, false // not CloudFront's alphabet
		default:
			src[i] = c
		}
	}
	n, err := base64.StdEncoding.Decode(dec[:], src)
	if err != nil {
		return nil, false
	}
	return dec[:n], true
}

// leadingInt parses the decimal digits at the start of b (at most 12:
// past the year 30000).
func leadingInt(b []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(b) && i < 12 && '0' <= b[i] && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, i > 0
}

// hashIs reports whether the CloudFront-Hash-Algorithm cookies agree with
// h: one saying SHA256 per set for SHA256, none for SHA1 (CloudFront's
// default when the cookie is absent).
func (j *jar) hashIs(h signer.HashAlgorithm) bool {
	if h != signer.SHA256 {
		return j.n[cookieHash] == 0
	}
	if j.n[cookieHash] < j.n[cookiePolicy] {
		return false
	}
	for _, v := range j.v[cookieHash][:j.n[cookieHash]] {
		if v != string(signer.SHA256) {
			return false
		}
	}
	return true
}
