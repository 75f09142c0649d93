package config

// Pure checks of single values. Each returns the normalised value or an error whose
// text is the rule, in lower-case prose; Load attaches the variable and the value.

import (
	"crypto/fips140"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

var errASCII = errors.New("must be printable ASCII without spaces (write an internationalised name in its xn-- form)")

// parseCloudFrontDomain turns "media.example.com" or "https://media.example.com/" into
// ("https", "media.example.com"). With dev, http, IP addresses and ports are allowed.
func parseCloudFrontDomain(v string, dev bool) (scheme, host string, err error) {
	if !isPrintableASCII(v) {
		return "", "", errASCII
	}
	scheme, rest := "https", v
	if s, r, ok := strings.Cut(v, "://"); ok {
		scheme, rest = strings.ToLower(s), r
	}
	switch {
	case scheme == "https":
	case scheme == "http" && dev:
	case scheme == "http":
		return "", "", errors.New("must use https (http only with --dev)")
	default:
		return "", "", fmt.Errorf("scheme must be https, not %q", scheme)
	}
	rest = strings.TrimSuffix(rest, "/")
	if err := checkBareHost(rest); err != nil {
		return "", "", err
	}
	hostname, port, err := splitHostPort(rest)
	if err != nil {
		return "", "", err
	}
	if port != "" && !dev {
		return "", "", errors.New("must not include a port (only with --dev): CloudFront serves https on 443")
	}
	if addr, err := netip.ParseAddr(hostname); err == nil {
		if !dev {
			return "", "", errors.New("must be the distribution's domain name, not an IP address")
		}
		if addr.Zone() != "" {
			return "", "", errors.New("must not contain an IPv6 zone")
		}
	} else {
		hostname = strings.ToLower(hostname)
		if !IsDNSName(hostname) {
			return "", "", errors.New("must be a valid DNS name (labels of a-z, 0-9 and '-', at most 63 characters each)")
		}
	}
	if port != "" {
		return scheme, net.JoinHostPort(hostname, port), nil
	}
	if strings.Contains(hostname, ":") {
		return scheme, "[" + hostname + "]", nil
	}
	return scheme, hostname, nil
}

// checkBareHost rejects everything a URL may carry besides scheme, host and port.
func checkBareHost(s string) error {
	switch {
	case s == "":
		return errors.New("has no host")
	case strings.Contains(s, "@"):
		return errors.New("must not contain userinfo (user@)")
	case strings.ContainsAny(s, `/\`):
		return errors.New("must not contain a path")
	case strings.Contains(s, "?"):
		return errors.New("must not contain a query")
	case strings.Contains(s, "#"):
		return errors.New("must not contain a fragment")
	case strings.Contains(s, "*"):
		return errors.New("must not contain a wildcard: name exactly one host")
	}
	return nil
}

// splitHostPort splits "host" or "host:port"; the port, when present, must be 1-65535.
func splitHostPort(s string) (host, port string, err error) {
	if !strings.Contains(s, ":") {
		return s, "", nil
	}
	host, port, err = net.SplitHostPort(s)
	if err != nil {
		return "", "", errors.New("must be host or host:port (IPv6 in brackets)")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", "", errors.New("port must be a number from 1 to 65535")
	}
	return host, port, nil
}

// IsDNSName reports whether s (lower case) is a host name: labels of 1-63 characters
// from [a-z0-9-] not starting or ending with '-', 253 characters at most, and a
// top-level label that is not all digits (browsers would read it as an IPv4 address).
func IsDNSName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	_, err := strconv.ParseUint(labels[len(labels)-1], 10, 64)
	return err != nil
}

//go:generate go run gen_pslparents.go -psl public_suffix_list.dat

// ParseCookieDomain normalises a cookie Domain, as COOKIE_DOMAIN: one leading
// dot stripped, lower case. It must be a DNS name a browser accepts as a Domain that no one
// else's site lies under: not an IP address, not a public suffix of the
// ICANN or the private section of the Public Suffix List (com, co.uk,
// cloudfront.net, github.io), and not a parent of one (amazonaws.com, above
// s3.amazonaws.com).
func ParseCookieDomain(v string) (string, error) {
	d := strings.ToLower(strings.TrimPrefix(v, "."))
	switch {
	case !isPrintableASCII(d):
		return "", errASCII
	case strings.Contains(d, "://"):
		return "", errors.New("must be a bare domain name, without a scheme")
	case strings.ContainsAny(d, `/\?#@`):
		return "", errors.New("must be a bare domain name, without a path")
	case strings.Contains(d, "*"):
		return "", errors.New("must not contain a wildcard: a cookie Domain already covers every subdomain")
	case strings.HasPrefix(d, "."):
		return "", errors.New("must have one leading dot at most, which browsers ignore")
	}
	host := d
	if h, _, err := net.SplitHostPort(d); err == nil {
		host = h
	}
	if _, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		return "", errors.New("must be a domain name, not an IP address: a cookie for an IP address is host-only, so leave COOKIE_DOMAIN empty")
	}
	if strings.Contains(d, ":") {
		return "", errors.New("must not include a port: cookies ignore ports")
	}
	if strings.HasSuffix(d, ".") {
		return "", fmt.Errorf(`must not end in ".": browsers compare it with host names written without one, so no host would match; write %s`, strings.TrimRight(d, "."))
	}
	if !IsDNSName(d) {
		return "", errors.New("must be a valid DNS name (labels of a-z, 0-9 and '-', at most 63 characters each)")
	}
	const instead = "use a domain of your own that CLOUDFRONT_DOMAIN is under, or leave it empty for host-only cookies"
	if ps, icann := publicsuffix.PublicSuffix(d); ps == d {
		switch {
		case icann:
			return "", errors.New("is a public suffix; browsers refuse cookies for it: " + instead)
		case strings.Contains(d, "."):
			return "", errors.New("is a public suffix; browsers refuse cookies for it: it is on the private section of the Public Suffix List, " +
				"where a hosting service lists the domain its customers' sites share; " + instead)
		default:
			return "", errors.New("is a public suffix; browsers refuse cookies for it: they treat a name of one label as a top-level domain; leave it empty for host-only cookies")
		}
	}
	if w, ok := publicSuffixUnder(d); ok {
		return "", errPublicSuffixParent(w)
	}
	return d, nil
}

// publicSuffixUnder returns a public suffix strictly under the domain d, if
// it has one: s3.amazonaws.com for amazonaws.com. publicsuffix cannot list
// what lies under a name, so the parents come from the same list, generated.
func publicSuffixUnder(d string) (string, bool) {
	w, ok := publicSuffixParents[d]
	if !ok {
		return "", false
	}
	probe := strings.Replace(w, "*", "x", 1) // "*." stands for any label
	ps, _ := publicsuffix.PublicSuffix(probe)
	return w, ps == probe
}

// errPublicSuffixParent is the rule a cookie Domain above the public suffix
// ps breaks.
func errPublicSuffixParent(ps string) error {
	return fmt.Errorf("is a parent of the public suffix %s: browsers would send the cookies to every site under it, other customers' sites included; "+
		"use a domain of your own that CLOUDFRONT_DOMAIN is under, or leave it empty for host-only cookies", ps)
}

// validateCookiePath checks a cookie Path attribute value: one the signer
// package sets (see signer.CookieOptions.Check), never empty, and no
// pattern.
func validateCookiePath(p string) error {
	switch {
	case p == "" || (signer.CookieOptions{Path: p}).Check() != nil:
		return errors.New(`must start with "/" and be printable ASCII without spaces, ';' or ','`)
	case strings.ContainsAny(p, "*?"):
		return errors.New("must not contain '*' or '?': a cookie Path is a literal prefix, not a pattern")
	}
	return nil
}

// parseHashAlgorithm normalises "sha-256" and friends to signer.SHA1 or
// signer.SHA256, as signer.ParseHashAlgorithm does. It refuses SHA1 in
// Go's FIPS 140-3 mode with enforcement (GODEBUG=fips140=only), where
// crypto/sha1 refuses to hash, so the server says so at start-up instead
// of failing on its first signature.
func parseHashAlgorithm(v string) (signer.HashAlgorithm, error) {
	alg, err := signer.ParseHashAlgorithm(v)
	switch {
	case err != nil || alg == "":
		return "", errors.New("must be SHA256 or SHA1 (unset, it is SHA256)")
	case alg == signer.SHA1 && fips140.Enforced():
		return "", errors.New("SHA1 is refused in FIPS 140-3 mode (GODEBUG=fips140=only): SHA-1 is not FIPS-approved for signatures; set SHA256 or unset it")
	}
	return alg, nil
}

// parseListenAddr checks a listener address: host:port with a numeric port (0 = any).
func parseListenAddr(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New(`must be host:port, e.g. ":8080"`)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return errors.New("port must be a number from 0 to 65535")
	}
	return nil
}

// sameListener reports whether two valid listen addresses would collide.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return false
	}
	return ha == hb || isWildcardHost(ha) || isWildcardHost(hb)
}

func isWildcardHost(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }

func isLoopbackName(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

// validateIssuer checks an OIDC issuer URL: absolute https, http only for localhost.
func validateIssuer(v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return errors.New("must be an absolute URL such as https://login.example.com/")
	case u.User != nil:
		return errors.New("must not contain userinfo (user@)")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("must not contain a query or fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopbackName(u.Hostname()):
		return nil
	}
	return errors.New("must use https (http only for localhost)")
}

// validateALBArn checks an Application Load Balancer ARN as the ALB
// authenticator will, and returns its partition.
func validateALBArn(v string) (partition string, err error) {
	partition, _, err = auth.ParseALBARN(v)
	if err != nil {
		return "", fmt.Errorf("must be an application load balancer ARN: %w", err)
	}
	return partition, nil
}

// validateCookieName checks an RFC 6265 cookie-name (an RFC 2616 token),
// as net/http does.
func validateCookieName(v string) error {
	if (&http.Cookie{Name: v}).Valid() != nil { // #nosec G124 -- a probe of the name; never sent
		return errors.New("must be a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)")
	}
	if strings.HasPrefix(strings.ToLower(v), "cloudfront-") {
		return errors.New("must not be a CloudFront-* name: those cookies are the ones this service sets")
	}
	return nil
}

// parseOrigin checks one CORS origin, which must equal byte for byte what a browser
// sends in the Origin header: scheme://host[:port], lower case, nothing else.
func parseOrigin(o string, dev bool) error {
	switch {
	case o == "*":
		return errors.New("never *: browsers refuse a wildcard origin with credentials")
	case strings.EqualFold(o, "null"):
		return errors.New("never null: sandboxed frames and file:// pages send it, so anyone can")
	case !isPrintableASCII(o):
		return errASCII
	}
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || scheme == "" {
		return errors.New("must be scheme://host[:port], e.g. https://app.example.com")
	}
	if o != strings.ToLower(o) {
		return fmt.Errorf("must be lower case, as browsers send it: %s", strings.ToLower(o))
	}
	if strings.HasSuffix(rest, "/") && !strings.Contains(rest[:len(rest)-1], "/") {
		return fmt.Errorf(`must not end in "/": browsers send %s`, strings.TrimSuffix(o, "/"))
	}
	if err := checkBareHost(rest); err != nil {
		return err
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return err
	}
	if _, err := netip.ParseAddr(host); err != nil && !IsDNSName(host) {
		return errors.New("host must be a valid DNS name or IP address")
	}
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return fmt.Errorf("must omit the default port :%s, as browsers do", port)
	}
	switch {
	case scheme == "https":
	case scheme == "http" && (dev || isLoopbackName(host)):
	case scheme == "http":
		return errors.New("must use https (http only with --dev or for localhost)")
	default:
		return errors.New("scheme must be https or http")
	}
	return nil
}

// parseProxy parses a CIDR or a bare IP (as a /32 or /128), masked. An
// IPv4-mapped range (::ffff:10.0.0.0/104) becomes the IPv4 range it maps
// (10.0.0.0/8): client addresses are compared unmapped.
func parseProxy(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, errors.New("must be a CIDR (10.0.0.0/8) or an IP address")
		}
		return unmapPrefix(p.Masked()), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errors.New("must be a CIDR (10.0.0.0/8) or an IP address")
	}
	return unmapPrefix(netip.PrefixFrom(a, a.BitLen())), nil
}

// unmapPrefix turns an IPv4-mapped prefix of /96 or longer into IPv4.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// Coverage is how much of each address family some prefixes hold together.
type Coverage struct {
	Share4, Share6 float64 // from 0 to 1, approximately
	All4, All6     bool    // every address, exactly
}

// Every names what c holds all of: "every IPv4 address", "every IPv6
// address", both, or "" for neither.
func (c Coverage) Every() string {
	switch {
	case c.All4 && c.All6:
		return "every IPv4 and every IPv6 address"
	case c.All4:
		return "every IPv4 address"
	case c.All6:
		return "every IPv6 address"
	}
	return ""
}

var mappedIPv4 = netip.MustParsePrefix("::ffff:0.0.0.0/96")

// AddressCoverage merges the prefixes and measures what they hold. An IPv6
// prefix holds the IPv4 addresses whose IPv4-mapped form it holds: ::/80
// holds every IPv4 address.
func AddressCoverage(prefixes []netip.Prefix) Coverage {
	var r4, r6 []addrRange
	for _, p := range prefixes {
		p = p.Masked()
		switch {
		case p.Addr().Is4():
			r4 = append(r4, rangeOf(p))
		default:
			r6 = append(r6, rangeOf(p))
			if m := unmapPrefix(p); m.Addr().Is4() {
				r4 = append(r4, rangeOf(m))
			} else if p.Bits() <= mappedIPv4.Bits() && p.Contains(mappedIPv4.Addr()) {
				r4 = append(r4, rangeOf(netip.PrefixFrom(netip.IPv4Unspecified(), 0)))
			}
		}
	}
	var c Coverage
	c.Share4, c.All4 = merge(r4, 32)
	c.Share6, c.All6 = merge(r6, 128)
	return c
}

// addrRange is the addresses from first to last, inclusive.
type addrRange struct{ first, last netip.Addr }

func rangeOf(p netip.Prefix) addrRange {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	last, _ := netip.AddrFromSlice(b)
	return addrRange{p.Addr(), last}
}

// merge returns the share of the bits-bit address space that the ranges
// hold together, and whether they hold all of it.
func merge(ranges []addrRange, bits int) (share float64, all bool) {
	if len(ranges) == 0 {
		return 0, false
	}
	slices.SortFunc(ranges, func(a, b addrRange) int { return a.first.Compare(b.first) })
	total := math.Ldexp(1, bits)
	cur := ranges[0]
	all = !cur.first.Prev().IsValid() // the first range starts at the lowest address
	gapless := true
	for _, r := range ranges[1:] {
		if r.first.Compare(cur.last) <= 0 || r.first == cur.last.Next() {
			if r.last.Compare(cur.last) > 0 {
				cur.last = r.last
			}
			continue
		}
		share += size(cur)
		cur, gapless = r, false
	}
	share += size(cur)
	all = all && gapless && !cur.last.Next().IsValid() // ... and it reaches the highest
	return min(share/total, 1), all
}

// size is the number of addresses in r, approximately.
func size(r addrRange) float64 { return addrValue(r.last) - addrValue(r.first) + 1 }

func addrValue(a netip.Addr) float64 {
	v := 0.0
	for _, b := range a.AsSlice() {
		v = v*256 + float64(b)
	}
	return v
}

// isPrintableASCII reports whether s holds only ASCII from '!' to '~': the
// first check of a host name or an origin, before a rule that would say
// less about a space or an internationalised name (errASCII).
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
