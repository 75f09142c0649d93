package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cfcookies/cfcookies/signer"
)

// maxCookieHeader bounds the Cookie header read from stdin.
const maxCookieHeader = 64 << 10

// verify says whether CloudFront would accept the signed cookies for a URL
// and, if not, exactly why, with signer.Verifier (the emulated CDN's check). It
// returns nil when CloudFront would accept (exit status 0), an error when it
// would deny (1), and a usage error (2) for bad flags or key files. Cookie
// values and signatures are never printed; the decoded policy is. stdin is
// read only for --cookie -.
func verify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	rawURL := fs.String("url", "", "the URL the browser requests, e.g. https://media.example.com/media/alice/a.png (required)")
	cookieHeader := fs.String("cookie", "", `the Cookie header the browser sends; "-" reads it from stdin, keeping it out of the process list and shell history`)
	policy := fs.String("policy", "", "the CloudFront-Policy value, instead of --cookie")
	signature := fs.String("signature", "", "the CloudFront-Signature value, instead of --cookie")
	keyPairID := fs.String("key-pair-id", "", "the CloudFront-Key-Pair-Id value, instead of --cookie")
	hashAlgorithm := fs.String("hash-algorithm", "", "the CloudFront-Hash-Algorithm value (SHA256), with --policy; default: not sent, which means SHA1")
	var keyArgs publicKeyFlags
	fs.Var(&keyArgs, "public-key", fmt.Sprintf("KEYID=FILE: a public key of the trusted key group, in PEM (a private key file works too); repeat for up to %d", signer.MaxKeys))
	clientIP := fs.String("client-ip", "", "the viewer's IP address, for a policy with IpAddress")
	nowFlag := fs.String("now", "", "the time of the request, RFC 3339 (default: now)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: server verify --url URL (--cookie HEADER|- | --policy P --signature S --key-pair-id ID [--hash-algorithm SHA256])")
		fmt.Fprintln(fs.Output(), "                     --public-key KEYID=FILE... [--client-ip IP] [--now RFC3339]")
		fmt.Fprintln(fs.Output(), "Say whether CloudFront would accept the signed cookies for the URL and, if not, exactly why.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	usage := func(format string, a ...any) error {
		return fmt.Errorf("%w: verify: "+format, append([]any{errUsage}, a...)...)
	}

	if *rawURL == "" {
		fs.Usage()
		return usage("--url is required")
	}
	if err := checkURL(*rawURL); err != nil {
		return usage("--url: %v", err)
	}

	valueFlags := map[string]string{"--policy": *policy, "--signature": *signature, "--key-pair-id": *keyPairID, "--hash-algorithm": *hashAlgorithm}
	var header string
	switch {
	case *cookieHeader != "" && (*policy != "" || *signature != "" || *keyPairID != "" || *hashAlgorithm != ""):
		return usage("give the cookies either as --cookie or as --policy, --signature and --key-pair-id, not both")
	case *cookieHeader == "-":
		h, err := readCookieHeader(stdin)
		if err != nil {
			return usage("--cookie -: %v", err)
		}
		header = h
	case *cookieHeader != "":
		header = normaliseCookieHeader(*cookieHeader)
	case *policy == "" && *signature == "" && *keyPairID == "" && *hashAlgorithm == "":
		fs.Usage()
		return usage("give the cookies: --cookie, or --policy, --signature and --key-pair-id")
	default:
		var missing []string
		for _, name := range []string{"--policy", "--signature", "--key-pair-id"} {
			if valueFlags[name] == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return usage("--policy, --signature and --key-pair-id go together: %s missing", strings.Join(missing, ", "))
		}
		h, err := cookieHeaderOf(valueFlags)
		if err != nil {
			return usage("%v", err)
		}
		header = h
	}

	keys, described, err := keyArgs.load()
	if err != nil {
		return usage("%v", err)
	}
	v, err := signer.NewVerifier(keys, signer.VerifierOptions{})
	if err != nil {
		return usage("--public-key: %s", strings.TrimPrefix(err.Error(), "signer: invalid key group: "))
	}

	var ip netip.Addr
	if *clientIP != "" {
		if ip, err = netip.ParseAddr(*clientIP); err != nil || ip.Zone() != "" {
			return usage("--client-ip %q is not an IP address", *clientIP)
		}
		ip = ip.Unmap()
	}
	now := time.Now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usage("--now %q is not an RFC 3339 time such as 2026-11-21T14:45:00Z", *nowFlag)
		}
	}

	u, err := url.Parse(*rawURL)
	if err != nil {
		return usage("--url: %v", err)
	}
	// A Cookie header parsed as net/http's server parses it.
	cookies := (&http.Request{Header: http.Header{"Cookie": {header}}}).Cookies()
	reqURL := signer.RequestURL(u)
	d := v.Check(cookies, reqURL, ip, now)
	printVerification(stdout, verification{
		url: reqURL, cookies: cookies, now: now, keys: described, clientIP: ip, decision: d,
	})
	if !d.Allowed {
		return fmt.Errorf("verify: CloudFront would deny the request (%s)", d.Code)
	}
	return nil
}

// checkURL requires an absolute http or https URL without user info or
// fragment, which browsers never send.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.Opaque != "":
		return errors.New("must be an absolute https:// or http:// URL, e.g. https://media.example.com/media/alice/a.png")
	case u.User != nil:
		return errors.New("must not contain userinfo (user@)")
	case u.Fragment != "":
		return errors.New("must not contain a #fragment: browsers do not send it")
	}
	return nil
}

// readCookieHeader reads a Cookie header from r: one or more lines, each
// perhaps starting with "Cookie:", joined with "; ".
func readCookieHeader(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCookieHeader+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxCookieHeader {
		return "", fmt.Errorf("over %d bytes on stdin", maxCookieHeader)
	}
	h := normaliseCookieHeader(string(b))
	if h == "" {
		return "", errors.New("no Cookie header on stdin")
	}
	return h, nil
}

// normaliseCookieHeader drops a leading "Cookie:" from each line, as copied
// from a browser's developer tools, and joins the lines with "; ".
func normaliseCookieHeader(s string) string {
	var parts []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 4096), maxCookieHeader+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if len(line) >= 7 && strings.EqualFold(line[:7], "cookie:") {
			line = strings.TrimSpace(line[7:])
		}
		if line = strings.Trim(line, "; "); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// cookieHeaderOf builds the Cookie header from the value flags.
func cookieHeaderOf(values map[string]string) (string, error) {
	names := map[string]string{
		"--key-pair-id": signer.CookieKeyPairID, "--policy": signer.CookiePolicy,
		"--signature": signer.CookieSignature, "--hash-algorithm": signer.CookieHashAlgorithm,
	}
	var parts []string
	for _, f := range []string{"--key-pair-id", "--policy", "--signature", "--hash-algorithm"} {
		v := values[f]
		if v == "" {
			continue
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`";,\`, r) }) {
			return "", fmt.Errorf("%s must be the cookie's value alone (no spaces, quotes, ';', ',' or '\\')", f)
		}
		parts = append(parts, names[f]+"="+v)
	}
	return strings.Join(parts, "; "), nil
}

// publicKeyFlags collects --public-key KEYID=FILE.
type publicKeyFlags []struct{ id, path string }

func (p *publicKeyFlags) String() string { return "" }

func (p *publicKeyFlags) Set(v string) error {
	id, path, ok := strings.Cut(v, "=")
	if !ok || id == "" || path == "" {
		return errors.New("must be KEYID=FILE, e.g. K2JCJMDEHXQW5F=public.pem")
	}
	*p = append(*p, struct{ id, path string }{id, path})
	return nil
}

// load reads every key, and describes each for the report: "K2ABC (RSA
// 2048)". Errors name the flag and the file, never what it holds.
func (p publicKeyFlags) load() (map[string]crypto.PublicKey, []string, error) {
	switch {
	case len(p) == 0:
		return nil, nil, errors.New("--public-key KEYID=FILE is required: the public key(s) of the distribution's trusted key group")
	case len(p) > signer.MaxKeys:
		return nil, nil, fmt.Errorf("%d --public-key flags: a CloudFront key group holds at most %d keys", len(p), signer.MaxKeys)
	}
	keys := make(map[string]crypto.PublicKey, len(p))
	var described []string
	for _, k := range p {
		if _, dup := keys[k.id]; dup {
			return nil, nil, fmt.Errorf("--public-key %s given twice", k.id)
		}
		b, err := os.ReadFile(k.path) // #nosec G304 -- the user names the key file
		if err != nil {
			return nil, nil, fmt.Errorf("--public-key %s: %w", k.id, err)
		}
		pub, err := signer.ParsePublicKeyPEM(b)
		if err != nil {
			return nil, nil, fmt.Errorf("--public-key %s=%s: %s", k.id, k.path, strings.TrimPrefix(err.Error(), "signer: "))
		}
		keys[k.id] = pub
		described = append(described, k.id+" ("+describeKey(pub)+")")
	}
	slices.Sort(described)
	return keys, described, nil
}

func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA " + strconv.Itoa(k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", pub)
}

// verification is what printVerification shows.
type verification struct {
	url      string // as signer.RequestURL gives it
	cookies  []*http.Cookie
	now      time.Time
	keys     []string
	clientIP netip.Addr // the zero Addr when not given
	decision signer.Decision
}

// named returns the cookies called name, in the order sent.
func (vf verification) named(name string) []*http.Cookie {
	var cs []*http.Cookie
	for _, c := range vf.cookies {
		if c.Name == name {
			cs = append(cs, c)
		}
	}
	return cs
}

func printVerification(w io.Writer, vf verification) {
	reqURL := vf.url
	shownURL := reqURL
	if i := strings.IndexByte(reqURL, '?'); i >= 0 {
		shownURL = reqURL[:i] + " (query not shown)"
	}
	fmt.Fprintf(w, "URL        %s\n", shownURL)
	fmt.Fprintf(w, "now        %s\n", vf.now.UTC().Format(time.RFC3339))
	if vf.clientIP.IsValid() {
		fmt.Fprintf(w, "client IP  %s\n", vf.clientIP)
	} else {
		fmt.Fprintln(w, "client IP  none given (--client-ip)")
	}
	fmt.Fprintf(w, "key group  %s\n", strings.Join(vf.keys, ", "))

	fmt.Fprintln(w, "cookies")
	for _, name := range []string{signer.CookieKeyPairID, signer.CookiePolicy, signer.CookieSignature, signer.CookieHashAlgorithm, signer.CookieExpires} {
		cs := vf.named(name)
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
		case name == signer.CookieHashAlgorithm && (cs[0].Value == "SHA1" || cs[0].Value == "SHA256"):
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
	for _, c := range vf.cookies {
		if !strings.HasPrefix(c.Name, "CloudFront-") && !slices.Contains(others, c.Name) {
			others = append(others, c.Name)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(w, "  %-26s %s (not part of the check)\n", "other cookies", strings.Join(others, ", "))
	}

	p, policyOK := printPolicy(w, vf, reqURL)

	d := vf.decision
	fmt.Fprintln(w)
	if d.Allowed {
		fmt.Fprintln(w, "ACCEPTED: CloudFront would pass this request to the origin.")
		fmt.Fprintf(w, "  %s\n", d.Reason)
		return
	}
	fmt.Fprintf(w, "DENIED: CloudFront would answer 403 %s (%q).\n", d.Code, d.Message())
	fmt.Fprintf(w, "  %s\n", d.Reason)
	switch {
	case len(vf.cookies) == 0 || d.Code == signer.CodeMissingKey && len(vf.named(signer.CookiePolicy)) == 0 && len(vf.named(signer.CookieSignature)) == 0:
		fmt.Fprintln(w, "  The browser sent no signed cookies: `server check` tells whether their Domain, Path, SameSite and Secure let it send them to this host.")
	case policyOK && p.IPRange.IsValid() && !vf.clientIP.IsValid():
		fmt.Fprintf(w, "  The policy is bound to %s: give the viewer's address with --client-ip.\n", p.IPRange)
	}
}

// printPolicy shows the first CloudFront-Policy, decoded (a policy is not a
// secret), and how each of its conditions compares with the request.
func printPolicy(w io.Writer, vf verification, reqURL string) (signer.Policy, bool) {
	cs := vf.named(signer.CookiePolicy)
	if len(cs) == 0 || cs[0].Value == "" {
		return signer.Policy{}, false
	}
	raw, err := signer.DecodeBase64(cs[0].Value)
	if err != nil {
		fmt.Fprintln(w, "policy     not CloudFront base64")
		return signer.Policy{}, false
	}
	fmt.Fprintf(w, "policy     %s\n", printable(raw))
	p, err := signer.ParsePolicy(raw)
	if err != nil {
		fmt.Fprintf(w, "  %s\n", strings.TrimPrefix(err.Error(), "signer: "))
		return signer.Policy{}, false
	}
	if signer.MatchResource(p.Resource, reqURL) {
		fmt.Fprintf(w, "  %-16s %s: matches the URL\n", "Resource", p.Resource)
	} else {
		fmt.Fprintf(w, "  %-16s %s: does not match %s\n", "Resource", p.Resource, stripQuery(reqURL))
	}
	now := vf.now.Unix()
	if left := p.Expires.Unix() - now; left > 0 {
		fmt.Fprintf(w, "  %-16s %s: %s from now\n", "DateLessThan", p.Expires.Format(time.RFC3339), secs(left))
	} else {
		fmt.Fprintf(w, "  %-16s %s: expired %s ago\n", "DateLessThan", p.Expires.Format(time.RFC3339), secs(-left))
	}
	switch {
	case p.NotBefore.IsZero():
		fmt.Fprintf(w, "  %-16s none\n", "DateGreaterThan")
	case now > p.NotBefore.Unix():
		fmt.Fprintf(w, "  %-16s %s: valid since %s\n", "DateGreaterThan", p.NotBefore.Format(time.RFC3339), secs(now-p.NotBefore.Unix()))
	default:
		fmt.Fprintf(w, "  %-16s %s: valid only after it, %s from now\n", "DateGreaterThan", p.NotBefore.Format(time.RFC3339), secs(p.NotBefore.Unix()-now))
	}
	ip := vf.clientIP
	switch {
	case !p.IPRange.IsValid():
		fmt.Fprintf(w, "  %-16s none\n", "IpAddress")
	case !ip.IsValid():
		fmt.Fprintf(w, "  %-16s %s: no --client-ip to compare\n", "IpAddress", p.IPRange)
	case p.IPRange.Contains(ip):
		fmt.Fprintf(w, "  %-16s %s: contains %s\n", "IpAddress", p.IPRange, ip)
	default:
		fmt.Fprintf(w, "  %-16s %s: does not contain %s\n", "IpAddress", p.IPRange, ip)
	}
	return p, true
}

func secs(n int64) string { return (time.Duration(n) * time.Second).String() }

func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + " (query not shown)"
	}
	return u
}

// printable returns b as text when it is printable UTF-8, else quoted, so a
// forged policy cannot send control sequences to the terminal.
func printable(b []byte) string {
	s := string(b)
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	return strconv.Quote(s)
}
