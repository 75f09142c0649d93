package explain

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cfcookies/cfcookies/signer"
)

// A Report is one signed-cookie check, as a person reads it: what was
// asked, what the browser sent, and what CloudFront would answer.
type Report struct {
	// URL is the request URL, as signer.RequestURL gives it. Its query
	// is never shown.
	URL string
	// Cookies are the cookies the browser sent, in the order of its
	// Cookie header. Their values are never shown.
	Cookies []*http.Cookie
	// Now is the time of the request.
	Now time.Time
	// KeyGroup describes the trusted keys, such as "K2ABC (RSA 2048)".
	KeyGroup []string
	// ClientIP is the viewer's address; the zero Addr when not given.
	ClientIP netip.Addr
	// Decision is signer.Verifier.Check's for the above.
	Decision signer.Decision
}

// Print writes r to w: the request, each CloudFront cookie described
// (never its value), the first policy decoded with how each of its
// conditions fared, and the verdict with its reason and, where one
// helps, a hint.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "URL        %s\n", stripQuery(r.URL))
	fmt.Fprintf(w, "now        %s\n", r.Now.UTC().Format(time.RFC3339))
	if r.ClientIP.IsValid() {
		fmt.Fprintf(w, "client IP  %s\n", r.ClientIP)
	} else {
		fmt.Fprintln(w, "client IP  none given (--client-ip)")
	}
	fmt.Fprintf(w, "key group  %s\n", strings.Join(r.KeyGroup, ", "))
	r.printCookies(w)
	r.printPolicy(w)

	d := r.Decision
	fmt.Fprintln(w)
	if d.Allowed {
		fmt.Fprintln(w, "ACCEPTED: CloudFront would pass this request to the origin.")
		fmt.Fprintf(w, "  %s\n", d.Reason)
		return
	}
	fmt.Fprintf(w, "DENIED: CloudFront would answer 403 %s (%q).\n", d.Code, d.Message())
	fmt.Fprintf(w, "  %s\n", d.Reason)
	switch {
	case len(r.Cookies) == 0 || d.Code == signer.CodeMissingKey && len(r.named(signer.CookiePolicy)) == 0 && len(r.named(signer.CookieSignature)) == 0:
		fmt.Fprintln(w, "  The browser sent no signed cookies: `server check` tells whether their Domain, Path, SameSite and Secure let it send them to this host.")
	case d.Condition == "IpAddress" && d.Policy != nil && !r.ClientIP.IsValid():
		fmt.Fprintf(w, "  The policy is bound to %s: give the viewer's address with --client-ip.\n", d.Policy.IPRange)
	}
}

// named returns the cookies called name, in the order sent.
func (r Report) named(name string) []*http.Cookie {
	var cs []*http.Cookie
	for _, c := range r.Cookies {
		if c.Name == name {
			cs = append(cs, c)
		}
	}
	return cs
}

// printCookies describes each CloudFront cookie: a key pair ID and a hash
// algorithm by their value when they are well formed, anything else by its
// length.
func (r Report) printCookies(w io.Writer) {
	fmt.Fprintln(w, "cookies")
	for _, name := range []string{signer.CookieKeyPairID, signer.CookiePolicy, signer.CookieSignature, signer.CookieHashAlgorithm, signer.CookieExpires} {
		cs := r.named(name)
		var desc string
		switch {
		case len(cs) == 0 && name == signer.CookieHashAlgorithm:
			desc = "not sent: SHA1"
		case len(cs) == 0 && name == signer.CookieExpires:
			continue
		case len(cs) == 0:
			desc = "MISSING"
		case name == signer.CookieKeyPairID && signer.CheckKeyPairID(cs[0].Value) == nil: // a key ID is shown, anything else is not
			desc = cs[0].Value
		case name == signer.CookieHashAlgorithm && (cs[0].Value == string(signer.SHA1) || cs[0].Value == string(signer.SHA256)):
			desc = cs[0].Value
		case name == signer.CookieHashAlgorithm && cs[0].Value == "":
			desc = "empty: SHA1"
		case name == signer.CookieHashAlgorithm:
			desc = fmt.Sprintf("%d bytes, neither SHA1 nor SHA256", len(cs[0].Value))
		default:
			desc = fmt.Sprintf("%d bytes", len(cs[0].Value)) // a credential: never shown
		}
		if len(cs) > 1 {
			desc += fmt.Sprintf(" (%d sent; CloudFront uses the first)", len(cs))
		}
		fmt.Fprintf(w, "  %-26s %s\n", name, desc)
	}
	var others []string
	for _, c := range r.Cookies {
		if !strings.HasPrefix(c.Name, "CloudFront-") && !slices.Contains(others, c.Name) {
			others = append(others, c.Name)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(w, "  %-26s %s (not part of the check)\n", "other cookies", strings.Join(others, ", "))
	}
}

// conditions are a policy's conditions in the order Check tests them.
var conditions = []string{"Resource", "DateLessThan", "DateGreaterThan", "IpAddress"}

// printPolicy shows the first CloudFront-Policy, decoded, and how each of
// its conditions fared in the Decision: a policy is described only once
// its signature verified.
func (r Report) printPolicy(w io.Writer) {
	cs := r.named(signer.CookiePolicy)
	if len(cs) == 0 || cs[0].Value == "" {
		return
	}
	raw, err := signer.DecodeBase64(cs[0].Value)
	if err != nil {
		fmt.Fprintln(w, "policy     not CloudFront base64")
		return
	}
	fmt.Fprintf(w, "policy     %s\n", terminalSafe(raw))
	d := r.Decision
	p := d.Policy
	switch {
	case p == nil && d.Code == signer.CodeMalformedPolicy:
		fmt.Fprintln(w, "  not a policy CloudFront can read: see below")
		return
	case p == nil:
		fmt.Fprintln(w, "  conditions not checked: CloudFront reads a policy only once its signature verifies")
		return
	}
	// held is 1 when the condition held, 0 when it denied the request,
	// -1 when it was not checked.
	held := func(cond string) int {
		switch i, j := slices.Index(conditions, cond), slices.Index(conditions, d.Condition); {
		case d.Allowed || j < 0 || i < j:
			return 1
		case i == j:
			return 0
		}
		return -1
	}
	notChecked := func(name, value string) {
		fmt.Fprintf(w, "  %-16s %s: not checked, as %s denied the request\n", name, value, d.Condition)
	}

	switch held("Resource") {
	case 1:
		fmt.Fprintf(w, "  %-16s %s: matches the URL\n", "Resource", p.Resource)
	default:
		fmt.Fprintf(w, "  %-16s %s: does not match %s\n", "Resource", p.Resource, stripQuery(r.URL))
	}

	now, expires := r.Now.Unix(), p.Expires.Format(time.RFC3339)
	switch held("DateLessThan") {
	case 1:
		fmt.Fprintf(w, "  %-16s %s: %s from now\n", "DateLessThan", expires, secs(p.Expires.Unix()-now))
	case 0:
		fmt.Fprintf(w, "  %-16s %s: expired %s ago\n", "DateLessThan", expires, secs(now-p.Expires.Unix()))
	default:
		notChecked("DateLessThan", expires)
	}

	notBefore := p.NotBefore.Format(time.RFC3339)
	switch {
	case p.NotBefore.IsZero():
		fmt.Fprintf(w, "  %-16s none\n", "DateGreaterThan")
	case held("DateGreaterThan") == 1:
		fmt.Fprintf(w, "  %-16s %s: valid since %s\n", "DateGreaterThan", notBefore, secs(now-p.NotBefore.Unix()))
	case held("DateGreaterThan") == 0:
		fmt.Fprintf(w, "  %-16s %s: valid only after it, %s from now\n", "DateGreaterThan", notBefore, secs(p.NotBefore.Unix()-now))
	default:
		notChecked("DateGreaterThan", notBefore)
	}

	switch ip := r.ClientIP; {
	case !p.IPRange.IsValid():
		fmt.Fprintf(w, "  %-16s none\n", "IpAddress")
	case held("IpAddress") == 1:
		fmt.Fprintf(w, "  %-16s %s: contains %s\n", "IpAddress", p.IPRange, ip)
	case held("IpAddress") == 0 && !ip.IsValid():
		fmt.Fprintf(w, "  %-16s %s: no --client-ip to compare\n", "IpAddress", p.IPRange)
	case held("IpAddress") == 0:
		fmt.Fprintf(w, "  %-16s %s: does not contain %s\n", "IpAddress", p.IPRange, ip)
	default:
		notChecked("IpAddress", p.IPRange.String())
	}
}

// secs renders a whole number of seconds as a duration, "3m12s".
func secs(n int64) string { return (time.Duration(n) * time.Second).String() }

// stripQuery drops the query of a URL, saying so.
func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + " (query not shown)"
	}
	return u
}

// terminalSafe returns b as text when it is printable UTF-8, else quoted,
// so a forged policy cannot send control sequences to the terminal. (It
// renders text for people, Unicode included; the printable-ASCII checks of
// signer and internal/config refuse values.)
func terminalSafe(b []byte) string {
	s := string(b)
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	return strconv.Quote(s)
}
