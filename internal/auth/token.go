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

// maxNumericDate is the last second of year 9999: beyond it a date is
// nonsense, and its conversion to int64 nanoseconds stops being exact.
const maxNumericDate = 253402300799

// numericDate reads a JWT NumericDate (RFC 7519, section 2): seconds since
// the epoch as a JSON number. Fractions and exponents are JSON numbers too
// ("1800000000.5", "1.8e9", what Python and Jackson write), and are
// accepted; a string holding a number ("1800000000") is not a NumericDate
// and is refused, as are a negative value, one past year 9999 and one that
// overflows float64 (1e400). present is false when the claim is absent or
// null.
func numericDate(raw json.RawMessage) (t time.Time, present bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, false, nil
	}
	if raw[0] == '"' {
		return time.Time{}, true, errors.New("a string, not a JSON number (RFC 7519 NumericDate)")
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return time.Time{}, true, errors.New("not a JSON number (RFC 7519 NumericDate)")
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, true, fmt.Errorf("%s is not a NumericDate between 0 and year 9999", clip(string(raw)))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// checkExp applies exp with leeway: it must have a NumericDate not yet
// leeway past, and exist unless optional.
func checkExp(now time.Time, leeway time.Duration, exp json.RawMessage, optional bool) error {
	e, ok, err := numericDate(exp)
	switch {
	case err != nil:
		return unauthenticated(ReasonMalformed, "exp: %v", err)
	case !ok && optional:
		return nil
	case !ok:
		return unauthenticated(ReasonMalformed, "token has no exp")
	case !now.Before(e.Add(leeway)):
		return unauthenticated(ReasonExpired, "token expired %s ago", now.Sub(e).Round(time.Second))
	}
	return nil
}

// checkNotBefore applies nbf and iat, both optional, with leeway: neither
// may be later than now; iat, which RFC 7519 leaves unchecked, as a token
// issued in the future is a clock gone wrong or a forgery's.
func checkNotBefore(now time.Time, leeway time.Duration, nbf, iat json.RawMessage) error {
	for _, c := range []struct {
		name string
		raw  json.RawMessage
	}{{"nbf", nbf}, {"iat", iat}} {
		t, ok, err := numericDate(c.raw)
		switch {
		case err != nil:
			return unauthenticated(ReasonMalformed, "%s: %v", c.name, err)
		case !ok || !now.Add(leeway).Before(t):
		case c.name == "nbf":
			return unauthenticated(ReasonExpired, "token not valid for another %s", t.Sub(now).Round(time.Second))
		default:
			return unauthenticated(ReasonExpired, "token issued %s in the future", t.Sub(now).Round(time.Second))
		}
	}
	return nil
}

// checkTimes applies exp (required), nbf and iat (optional) with leeway.
func checkTimes(now time.Time, leeway time.Duration, exp, nbf, iat json.RawMessage) error {
	if err := checkExp(now, leeway, exp, false); err != nil {
		return err
	}
	return checkNotBefore(now, leeway, nbf, iat)
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

// hasCookieNameChars reports whether name is a valid RFC 6265 cookie name
// (an RFC 2616 token), as net/http does.
func hasCookieNameChars(name string) bool {
	return (&http.Cookie{Name: name}).Valid() == nil // #nosec G124 -- a probe of the name; never sent
}
