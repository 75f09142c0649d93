package signer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Errors for grants CloudFront would reject or that would widen access.
var (
	ErrInvalidGrant = errors.New("signer: invalid grant")
	ErrExpired      = errors.New("signer: grant has already expired")
)

// A Grant is what one custom policy allows: one resource (CloudFront accepts
// a single statement per policy) until Expires, optionally from NotBefore and
// only from IPRange.
type Grant struct {
	// Resource is the URL pattern the cookies unlock, scheme and host
	// included, for example "https://media.example.com/media/alice/*".
	// "*" and "?" are CloudFront wildcards and are taken as written: build
	// the parts that come from a user with PathTemplate.Expand. It must be
	// printable ASCII without '"', '\\', '#' or spaces, and start with
	// "https://", "http://" or "http*://".
	Resource string

	// Expires is required: CloudFront's DateLessThan, whole seconds (any
	// fraction is dropped).
	Expires time.Time

	// NotBefore is optional (zero: none): DateGreaterThan. It must be before
	// Expires.
	NotBefore time.Time

	// IPRange is optional (zero value: none): IpAddress.AWS:SourceIp.
	// CloudFront accepts only IPv4 ranges.
	IPRange netip.Prefix
}

// ParseIPRange parses an IPv4 address ("192.0.2.7", taken as /32) or CIDR
// range ("192.0.2.0/24") for Grant.IPRange.
func ParseIPRange(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, fmt.Errorf("%w: ip range %q is neither an IPv4 address nor a CIDR range", ErrInvalidGrant, s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%w: ip range %q is not IPv4; CloudFront's IpAddress condition takes only IPv4", ErrInvalidGrant, s)
	}
	return p.Masked(), nil
}

// Policy returns the custom policy JSON for g exactly as it is signed: one
// compact statement, integer epoch seconds, no HTML escaping. It refuses
// what CloudFront would reject (no expiry, start not before expiry, an IPv6
// range, a resource that is not printable ASCII) and what would let the
// resource break out of its JSON string.
func (g Grant) Policy() ([]byte, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	return g.appendPolicy(make([]byte, 0, 160+len(g.Resource))), nil
}

func (g Grant) validate() error {
	if err := checkResource(g.Resource); err != nil {
		return err
	}
	if g.Expires.IsZero() {
		return fmt.Errorf("%w: an expiration (DateLessThan) is required", ErrInvalidGrant)
	}
	if g.Expires.Unix() <= 0 {
		return fmt.Errorf("%w: expiration %s is before 1970", ErrInvalidGrant, g.Expires.UTC().Format(time.RFC3339))
	}
	if !g.NotBefore.IsZero() && g.NotBefore.Unix() >= g.Expires.Unix() {
		return fmt.Errorf("%w: the active date (DateGreaterThan %d) must be before the expiration (DateLessThan %d)",
			ErrInvalidGrant, g.NotBefore.Unix(), g.Expires.Unix())
	}
	if g.IPRange.IsValid() && !g.IPRange.Addr().Is4() {
		return fmt.Errorf("%w: ip range %s is not IPv4; CloudFront's IpAddress condition takes only IPv4", ErrInvalidGrant, g.IPRange)
	}
	return nil
}

// checkResource refuses resources that CloudFront rejects or that could
// change the policy's JSON structure.
func checkResource(r string) error {
	if r == "" {
		return fmt.Errorf("%w: resource is empty", ErrInvalidGrant)
	}
	if len(r) > maxResourceLen {
		return fmt.Errorf("%w: resource is %d bytes, over %d", ErrInvalidGrant, len(r), maxResourceLen)
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c <= ' ' || c >= 0x7f:
			return fmt.Errorf("%w: resource has a space, control or non-ASCII byte at offset %d (CloudFront takes printable ASCII; encode hosts as punycode)", ErrInvalidGrant, i)
		case c == '"' || c == '\\':
			return fmt.Errorf("%w: resource has %q at offset %d", ErrInvalidGrant, c, i)
		case c == '#':
			return fmt.Errorf("%w: resource has a fragment (#), which browsers never send", ErrInvalidGrant)
		}
	}
	scheme, rest, ok := strings.Cut(r, "://")
	if !ok || (scheme != "https" && scheme != "http" && scheme != "http*") {
		return fmt.Errorf("%w: resource must start with https://, http:// or http*://", ErrInvalidGrant)
	}
	if rest == "" || rest[0] == '/' {
		return fmt.Errorf("%w: resource has no host", ErrInvalidGrant)
	}
	return nil
}

const maxResourceLen = 2048

// appendPolicy writes the policy JSON. Every string in it was validated to
// need no JSON escaping.
func (g Grant) appendPolicy(b []byte) []byte {
	b = append(b, `{"Statement":[{"Resource":"`...)
	b = append(b, g.Resource...)
	b = append(b, `","Condition":{"DateLessThan":{"AWS:EpochTime":`...)
	b = strconv.AppendInt(b, g.Expires.Unix(), 10)
	b = append(b, '}')
	if !g.NotBefore.IsZero() {
		b = append(b, `,"DateGreaterThan":{"AWS:EpochTime":`...)
		b = strconv.AppendInt(b, g.NotBefore.Unix(), 10)
		b = append(b, '}')
	}
	if g.IPRange.IsValid() {
		b = append(b, `,"IpAddress":{"AWS:SourceIp":"`...)
		b = g.IPRange.Masked().AppendTo(b)
		b = append(b, `"}`...)
	}
	return append(b, `}}]}`...)
}

// cfReplacer and cfUnreplacer map to and from CloudFront's URL-safe base64: standard base64 with '+', '='
// and '/' replaced by '-', '_' and '~'.
var cfReplacer = strings.NewReplacer("+", "-", "=", "_", "/", "~")
var cfUnreplacer = strings.NewReplacer("-", "+", "_", "=", "~", "/")

// EncodeBase64 encodes b the way CloudFront expects policies and signatures:
// standard base64, then '+' → '-', '=' → '_', '/' → '~'.
func EncodeBase64(b []byte) string {
	return cfReplacer.Replace(base64.StdEncoding.EncodeToString(b))
}

// DecodeBase64 reverses EncodeBase64.
func DecodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(cfUnreplacer.Replace(s))
	if err != nil {
		return nil, fmt.Errorf("signer: not CloudFront base64: %w", err)
	}
	return b, nil
}
