package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultLeeway is the clock skew tolerated on exp and nbf when a
	// config leaves Leeway zero.
	DefaultLeeway = 60 * time.Second

	// MaxTokenBytes bounds a bearer token or auth cookie: a longer one is
	// refused before it is parsed.
	MaxTokenBytes = 8 << 10

	// fetchTimeout bounds one fetch of a discovery document or a key.
	fetchTimeout = 10 * time.Second
)

// unauthenticated returns an error wrapping ErrUnauthenticated with its
// reason (one of Reasons) and a detail for logs. Callers never pass the
// token itself.
func unauthenticated(reason, format string, args ...any) error {
	return &failure{reason: reason, detail: fmt.Sprintf(format, args...)}
}

// clip shortens an attacker-controlled value (a kid, a signer) before it
// goes into an error detail.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// checkTokenChars refuses a compact JWS that is empty, too long, or holds a
// byte outside base64url and the dots: no whitespace, quotes, commas or a
// JSON serialization get to the parser.
func checkTokenChars(tok string, limit int, padding bool) error {
	switch {
	case tok == "":
		return unauthenticated(ReasonMalformed, "empty token")
	case len(tok) > limit:
		return unauthenticated(ReasonMalformed, "token is %d bytes, over the %d-byte limit", len(tok), limit)
	}
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		case padding && (c == '=' || c == '+' || c == '/'):
		default:
			return unauthenticated(ReasonMalformed, "token has a byte outside base64url at offset %d", i)
		}
	}
	return nil
}

// numericDate reads a JWT NumericDate: seconds since the epoch as a JSON
// number, or as a string holding one (ALB headers). present is false when the
// claim is absent or null.
func numericDate(raw json.RawMessage) (t time.Time, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, true, errors.New("not a NumericDate")
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	// Year 9999 at most: beyond it the value is nonsense and int64
	// conversion stops being exact.
	if err != nil || math.IsNaN(f) || f < 0 || f > 253402300799 {
		return time.Time{}, true, errors.New("not a NumericDate")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// checkTimes applies exp (required) and nbf (optional) with leeway.
func checkTimes(now time.Time, leeway time.Duration, exp, nbf json.RawMessage) error {
	e, ok, err := numericDate(exp)
	switch {
	case err != nil:
		return unauthenticated(ReasonMalformed, "exp: %v", err)
	case !ok:
		return unauthenticated(ReasonMalformed, "token has no exp")
	case !now.Before(e.Add(leeway)):
		return unauthenticated(ReasonExpired, "token expired %s ago", now.Sub(e).Round(time.Second))
	}
	n, ok, err := numericDate(nbf)
	switch {
	case err != nil:
		return unauthenticated(ReasonMalformed, "nbf: %v", err)
	case ok && now.Add(leeway).Before(n):
		return unauthenticated(ReasonExpired, "token not valid for another %s", n.Sub(now).Round(time.Second))
	}
	return nil
}

// checkFetchURL accepts an absolute https URL, or http on a loopback host
// (tests, local development), with no userinfo, query or fragment.
func checkFetchURL(v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute URL", v)
	case u.User != nil:
		return fmt.Errorf("%q must not contain userinfo", v)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%q must not contain a query or fragment", v)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q must use https (http only for a loopback host)", v)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultClient is used when a config leaves HTTPClient nil. It does not
// follow redirects: keys come from the configured place or not at all.
func defaultClient() *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// orDefaults returns client and now, or for nil ones the client that fetches
// issuer documents and keys (fetchTimeout, no redirects) and time.Now.
func orDefaults(client *http.Client, now func() time.Time) (*http.Client, func() time.Time) {
	if client == nil {
		client = defaultClient()
	}
	if now == nil {
		now = time.Now
	}
	return client, now
}

// checkLeeway validates a configured leeway and applies the default.
func checkLeeway(d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("leeway %s is negative", d)
	case d == 0:
		return DefaultLeeway, nil
	}
	return d, nil
}

// hasCookieNameChars reports whether name is a valid RFC 6265 cookie name.
func hasCookieNameChars(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
