package main

import (
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/internal/explain"
	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/signer"
)

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
	if err := explain.CheckURL(*rawURL); err != nil {
		return usage("--url: %v", err)
	}

	valueFlags := map[string]string{"--policy": *policy, "--signature": *signature, "--key-pair-id": *keyPairID, "--hash-algorithm": *hashAlgorithm}
	var header string
	switch {
	case *cookieHeader != "" && (*policy != "" || *signature != "" || *keyPairID != "" || *hashAlgorithm != ""):
		return usage("give the cookies either as --cookie or as --policy, --signature and --key-pair-id, not both")
	case *cookieHeader == "-":
		h, err := explain.ReadCookieHeader(stdin)
		if err != nil {
			return usage("--cookie -: %v on stdin", err)
		}
		header = h
	case *cookieHeader != "":
		header = explain.NormaliseCookieHeader(*cookieHeader)
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

	group, described, err := keyArgs.load()
	if err != nil {
		return usage("%v", err)
	}
	v, err := signer.NewVerifier(group, signer.VerifierOptions{})
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
	explain.Report{URL: reqURL, Cookies: cookies, Now: now, KeyGroup: described, ClientIP: ip, Decision: d}.Print(stdout)
	if !d.Allowed {
		return fmt.Errorf("verify: CloudFront would deny the request (%s)", d.Code)
	}
	return nil
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
	group := make(map[string]crypto.PublicKey, len(p))
	var described []string
	for _, k := range p {
		if _, dup := group[k.id]; dup {
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
		group[k.id] = pub
		described = append(described, k.id+" ("+keys.KeyType(pub)+")")
	}
	slices.Sort(described)
	return group, described, nil
}
