package edge

import (
	"crypto"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

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

// A Verifier checks the signed cookies of HTTP requests with a
// signer.Verifier: it finds the URL the browser requested and the client
// address. It is immutable and safe for concurrent use.
type Verifier struct {
	v       *signer.Verifier
	baseURL *url.URL // scheme and host, or nil
}

// NewVerifier returns a Verifier trusting keys: key pair ID → public key,
// as signer.NewVerifier takes them.
func NewVerifier(keys map[string]crypto.PublicKey, opts VerifierOptions) (*Verifier, error) {
	sv, err := signer.NewVerifier(keys, signer.VerifierOptions{Key: opts.Key})
	if err != nil {
		return nil, err
	}
	v := &Verifier{v: sv}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("edge: base URL %q must be scheme://host[:port] with scheme http or https and nothing after", opts.BaseURL)
		}
		v.baseURL = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	return v, nil
}

// RequestURL is the URL the policy Resource is matched against (see
// signer.RequestURL). See VerifierOptions.BaseURL for where scheme and
// host come from.
func (v *Verifier) RequestURL(r *http.Request) string {
	u := *r.URL
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	switch {
	case v.baseURL != nil:
		u.Scheme, u.Host = v.baseURL.Scheme, v.baseURL.Host
	case r.URL.IsAbs() && r.URL.Host != "":
	default:
		u.Scheme, u.Host = "http", r.Host
		if r.TLS != nil {
			u.Scheme = "https"
		}
	}
	return signer.RequestURL(&u)
}

// Check decides, as CloudFront would at now, whether r's signed cookies
// allow it, with the client address taken from r.RemoteAddr. The steps and
// their order are signer.Verifier.Check's.
func (v *Verifier) Check(r *http.Request, now time.Time) signer.Decision {
	ip, _ := remoteIP(r)
	return v.v.Check(r.Cookies(), v.RequestURL(r), ip, now)
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
