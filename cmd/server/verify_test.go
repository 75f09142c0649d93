package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/explain"
	"github.com/cfcookies/cfcookies/signer"
)

// verifyKeys are generated once per test binary: RSA generation is slow
// under -race.
type verifyKeys struct {
	rsa, rsaOther *rsa.PrivateKey
	ec            *ecdsa.PrivateKey
}

var generateVerifyKeys = sync.OnceValues(func() (verifyKeys, error) {
	var k verifyKeys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	if k.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k, err
})

const (
	idRSA    = "K2RSATESTKEY"
	idEC     = "K3ECDSATESTKEY"
	alicePNG = "https://media.example.test/media/alice/a.png"
)

// signedAt is when the test cookies are signed; they expire 10 minutes later.
var signedAt = time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC)

// keyFiles writes the test keys as a key group's files: the RSA one as a
// public key, the ECDSA one as a private key, and a 1024-bit RSA public
// key CloudFront refuses.
func keyFiles(t *testing.T) (k verifyKeys, rsaPub, ecPriv, smallPub string) {
	t.Helper()
	k, err := generateVerifyKeys()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	der, err := x509.MarshalPKIXPublicKey(k.rsa.Public())
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	return k, write("rsa-public.pem", "PUBLIC KEY", der), write("ec-private.pem", "EC PRIVATE KEY", ecDER),
		"../../signer/testdata/vectors/test-rsa-key-public.pem"
}

func sign(t *testing.T, id string, key crypto.Signer, h signer.HashAlgorithm, g signer.Grant) signer.Signed {
	t.Helper()
	s, err := signer.New(id, key, signer.Options{HashAlgorithm: h, Now: func() time.Time { return signedAt }})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// header is the Cookie header a browser sends for s.
func header(s signer.Signed) string {
	h := fmt.Sprintf("CloudFront-Policy=%s; CloudFront-Signature=%s; CloudFront-Key-Pair-Id=%s", s.Policy, s.Signature, s.KeyPairID)
	if s.HashAlgorithm == signer.SHA256 {
		h += "; CloudFront-Hash-Algorithm=SHA256"
	}
	return h
}

func TestRunVerify(t *testing.T) {
	t.Parallel()
	k, rsaPub, ecPriv, _ := keyFiles(t)
	grant := signer.Grant{Resource: "https://media.example.test/media/alice/*", Expires: signedAt.Add(10 * time.Minute)}
	rsaSHA1 := sign(t, idRSA, k.rsa, signer.SHA1, grant)
	rsaSHA256 := sign(t, idRSA, k.rsa, signer.SHA256, grant)
	ec := sign(t, idEC, k.ec, signer.SHA256, grant)
	otherKey := sign(t, idRSA, k.rsaOther, signer.SHA1, grant)
	wider := sign(t, idRSA, k.rsaOther, signer.SHA1, signer.Grant{Resource: "https://media.example.test/media/*", Expires: grant.Expires})
	bound := sign(t, idRSA, k.rsa, signer.SHA1, signer.Grant{
		Resource: grant.Resource, Expires: grant.Expires, NotBefore: signedAt.Add(-time.Minute),
		IPRange: netip.MustParsePrefix("192.0.2.0/24"),
	})
	later := sign(t, idRSA, k.rsa, signer.SHA1, signer.Grant{Resource: grant.Resource, Expires: signedAt.Add(time.Hour), NotBefore: signedAt.Add(5 * time.Minute)})
	tampered := rsaSHA1
	tampered.Policy = wider.Policy

	group := []string{"--public-key", idRSA + "=" + rsaPub, "--public-key", idEC + "=" + ecPriv}
	now := "--now=2027-01-15T08:01:00Z"
	verify := func(s signer.Signed, extra ...string) []string {
		return append(append([]string{"verify", "--url", alicePNG, "--cookie", header(s), now}, group...), extra...)
	}
	tests := []struct {
		name  string
		args  []string
		code  int
		want  []string
		creds []signer.Signed // whose policy and signature must not be printed
	}{
		{
			name: "rsa sha1 accepted", args: verify(rsaSHA1), creds: []signer.Signed{rsaSHA1},
			want: []string{
				"URL        " + alicePNG + "\n",
				"now        2027-01-15T08:01:00Z\n",
				"key group  K2RSATESTKEY (RSA 2048), K3ECDSATESTKEY (ECDSA P-256)\n",
				"  CloudFront-Key-Pair-Id     K2RSATESTKEY\n",
				"  CloudFront-Hash-Algorithm  not sent: SHA1\n",
				`policy     {"Statement":[{"Resource":"https://media.example.test/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000600}}}]}`,
				"  Resource         https://media.example.test/media/alice/*: matches the URL\n",
				"  DateLessThan     2027-01-15T08:10:00Z: 9m0s from now\n",
				"ACCEPTED: CloudFront would pass this request to the origin.\n",
				"  signature valid (key K2RSATESTKEY, SHA1)",
			},
		},
		{
			name: "rsa sha256 accepted from value flags", creds: []signer.Signed{rsaSHA256},
			args: append([]string{"verify", "--url", alicePNG, "--policy", rsaSHA256.Policy, "--signature", rsaSHA256.Signature, "--key-pair-id", idRSA, "--hash-algorithm", "SHA256", now}, group...),
			want: []string{"  CloudFront-Hash-Algorithm  SHA256\n", "ACCEPTED", "(key K2RSATESTKEY, SHA256)"},
		},
		{
			name: "ecdsa accepted with a private key file", args: verify(ec), creds: []signer.Signed{ec},
			want: []string{"ACCEPTED", "(key K3ECDSATESTKEY, SHA256)"},
		},
		{
			name: "expired", args: append(verify(rsaSHA1), "--now=2027-01-15T08:13:12Z"), code: 1, creds: []signer.Signed{rsaSHA1},
			want: []string{
				"  DateLessThan     2027-01-15T08:10:00Z: expired 3m12s ago\n",
				`DENIED: CloudFront would answer 403 AccessDenied ("Access denied").`,
				"  policy expired at 2027-01-15T08:10:00Z (DateLessThan), 3m12s before now 2027-01-15T08:13:12Z\n",
			},
		},
		{
			name: "not yet valid", args: verify(later), code: 1, creds: []signer.Signed{later},
			want: []string{
				"  DateGreaterThan  2027-01-15T08:05:00Z: valid only after it, 4m0s from now\n",
				"  policy not yet valid: valid only after 2027-01-15T08:05:00Z (DateGreaterThan), 4m0s after now",
			},
		},
		{
			name: "another user's resource", code: 1, creds: []signer.Signed{rsaSHA1},
			args: append([]string{"verify", "--url", "https://media.example.test/media/bob/a.png?v=2", "--cookie", header(rsaSHA1), now}, group...),
			want: []string{
				"URL        https://media.example.test/media/bob/a.png (query not shown)\n",
				"  Resource         https://media.example.test/media/alice/*: does not match https://media.example.test/media/bob/a.png (query not shown)\n",
				"  policy Resource does not match the request URL https://media.example.test/media/bob/a.png",
			},
		},
		{
			name: "signed with another key", args: verify(otherKey), code: 1, creds: []signer.Signed{otherKey},
			want: []string{"  signature does not verify with key K2RSATESTKEY (RSA) and SHA1"},
		},
		{
			name: "key pair id not in the group", code: 1, creds: []signer.Signed{rsaSHA1},
			args: append([]string{"verify", "--url", alicePNG, "--cookie", header(rsaSHA1), now}, "--public-key", idEC+"="+ecPriv),
			want: []string{`DENIED: CloudFront would answer 403 InvalidKey ("Unknown Key").`, "names no key of the key group (trusted: K3ECDSATESTKEY)", "  CloudFront-Key-Pair-Id     K2RSATESTKEY\n"},
		},
		{
			name: "policy widened after signing", args: verify(tampered), code: 1, creds: []signer.Signed{tampered},
			want: []string{`"Resource":"https://media.example.test/media/*"`, "signature does not verify with key K2RSATESTKEY"},
		},
		{
			name: "client inside the ip range", args: verify(bound, "--client-ip", "192.0.2.77"), creds: []signer.Signed{bound},
			want: []string{"client IP  192.0.2.77\n", "  IpAddress        192.0.2.0/24: contains 192.0.2.77\n", "  DateGreaterThan  2027-01-15T07:59:00Z: valid since 2m0s\n", "ACCEPTED"},
		},
		{
			name: "client outside the ip range", args: verify(bound, "--client-ip", "198.51.100.7"), code: 1, creds: []signer.Signed{bound},
			want: []string{"  IpAddress        192.0.2.0/24: does not contain 198.51.100.7\n", "  client IP 198.51.100.7 is outside the policy's IpAddress range"},
		},
		{
			name: "ip range without --client-ip", args: verify(bound), code: 1, creds: []signer.Signed{bound},
			want: []string{"client IP  none given (--client-ip)\n", "The policy is bound to 192.0.2.0/24: give the viewer's address with --client-ip."},
		},
		{
			name: "missing signature cookie", code: 1, creds: []signer.Signed{rsaSHA1},
			args: append([]string{"verify", "--url", alicePNG, "--cookie", "CloudFront-Policy=" + rsaSHA1.Policy + "; CloudFront-Key-Pair-Id=" + idRSA + "; theme=dark", now}, group...),
			want: []string{"  CloudFront-Signature       MISSING\n", `403 MissingKey ("Missing Key-Pair-Id query parameter or cookie value")`, "no CloudFront-Signature cookie", "  other cookies              theme (not part of the check)\n"},
		},
		{
			name: "no cookies at all", code: 1,
			args: append([]string{"verify", "--url", alicePNG, "--cookie", "session=abc", now}, group...),
			want: []string{"MissingKey", "The browser sent no signed cookies: `server check`"},
		},
		{
			name: "policy not base64", code: 1, creds: []signer.Signed{rsaSHA1},
			args: append([]string{"verify", "--url", alicePNG, "--cookie", "CloudFront-Policy=eyJ!; CloudFront-Signature=" + rsaSHA1.Signature + "; CloudFront-Key-Pair-Id=" + idRSA, now}, group...),
			want: []string{"policy     not CloudFront base64\n", `403 MalformedPolicy ("Malformed Policy")`},
		},
		{
			name: "stale duplicate shadows a fresh cookie", code: 1, creds: []signer.Signed{rsaSHA1, wider},
			args: append([]string{"verify", "--url", alicePNG, "--cookie", header(otherKey) + "; " + header(rsaSHA1), now}, group...),
			want: []string{"  CloudFront-Policy          ", "(2 sent; CloudFront uses the first)", "duplicate cookies: 2 CloudFront-Key-Pair-Id"},
		},
		{
			name: "cookie header as copied from developer tools", creds: []signer.Signed{rsaSHA1},
			args: append([]string{"verify", "--url", alicePNG, "--cookie", "Cookie: " + header(rsaSHA1) + ";", now}, group...),
			want: []string{"ACCEPTED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runCmd(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d; stderr %s", code, tt.code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if tt.code == 1 && !strings.Contains(errOut, "verify: CloudFront would deny the request") {
				t.Errorf("stderr %q", errOut)
			}
			for _, s := range tt.creds {
				if strings.Contains(out+errOut, s.Signature) || strings.Contains(out+errOut, s.Policy) {
					t.Error("output shows a cookie value")
				}
			}
			if strings.Contains(out+errOut, "PRIVATE KEY") {
				t.Error("output shows the private key")
			}
			if t.Failed() {
				t.Logf("stdout:\n%s", out)
			}
		})
	}
}

func TestVerifyReadsTheCookieFromStdin(t *testing.T) {
	t.Parallel()
	k, rsaPub, _, _ := keyFiles(t)
	s := sign(t, idRSA, k.rsa, signer.SHA1, signer.Grant{Resource: "https://media.example.test/media/alice/*", Expires: signedAt.Add(10 * time.Minute)})
	args := []string{"--url", alicePNG, "--cookie", "-", "--public-key", idRSA + "=" + rsaPub, "--now", "2027-01-15T08:01:00Z"}

	var out, errOut bytes.Buffer
	// Two lines, as pasted: the header split where a terminal wrapped it.
	stdin := "Cookie: CloudFront-Policy=" + s.Policy + ";\nCloudFront-Signature=" + s.Signature + "; CloudFront-Key-Pair-Id=" + idRSA + "\n"
	// Through run, as main wires the process's stdin.
	if err := run(context.Background(), append([]string{"server", "verify"}, args...), envOf(nil), strings.NewReader(stdin), &out, &errOut); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ACCEPTED") || strings.Contains(out.String(), s.Signature) {
		t.Errorf("output:\n%s", out.String())
	}

	err := verify(context.Background(), args, strings.NewReader("\n"), &out, &errOut)
	if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), "no Cookie header on stdin") {
		t.Errorf("empty stdin: %v (exit %d)", err, code)
	}
	err = run(context.Background(), append([]string{"server", "verify"}, args...), envOf(nil), nil, &out, &errOut)
	if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), "no Cookie header on stdin") {
		t.Errorf("run with a nil stdin: %v (exit %d)", err, code)
	}
	err = verify(context.Background(), args, strings.NewReader(strings.Repeat("a", explain.MaxCookieHeader+1)), &out, &errOut)
	if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), "over 65536 bytes") {
		t.Errorf("huge stdin: %v (exit %d)", err, code)
	}
}

func TestRunVerifyUsage(t *testing.T) {
	t.Parallel()
	_, rsaPub, ecPriv, smallPub := keyFiles(t)
	dir := t.TempDir()
	notKey := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(notKey, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := []string{"--public-key", idRSA + "=" + rsaPub}
	cookie := []string{"--cookie", "CloudFront-Policy=e30_; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id=" + idRSA}
	six := []string{}
	for i := range 6 {
		six = append(six, "--public-key", fmt.Sprintf("K%d=%s", i, rsaPub))
	}
	args := func(parts ...[]string) []string {
		out := []string{"verify"}
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	url := []string{"--url", alicePNG}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no url", args(cookie, key), "--url is required"},
		{"relative url", args([]string{"--url", "/media/alice/a.png"}, cookie, key), "absolute"},
		{"url with a fragment", args([]string{"--url", alicePNG + "#t=10"}, cookie, key), "fragment"},
		{"no cookies", args(url, key), "give the cookies"},
		{"cookie and values", args(url, cookie, key, []string{"--policy", "e30_"}), "not both"},
		{"policy without signature", args(url, key, []string{"--policy", "e30_", "--key-pair-id", idRSA}), "--signature missing"},
		{"hash algorithm alone", args(url, key, []string{"--hash-algorithm", "SHA256"}), "--policy, --signature, --key-pair-id missing"},
		{"value with a separator", args(url, key, []string{"--policy", "e30_; x=y", "--signature", "AAAA", "--key-pair-id", idRSA}), "--policy must be the cookie's value alone"},
		{"no public key", args(url, cookie), "--public-key KEYID=FILE is required"},
		{"public key without id", args(url, cookie, []string{"--public-key", rsaPub}), "must be KEYID=FILE"},
		{"missing key file", args(url, cookie, []string{"--public-key", "K1=" + filepath.Join(dir, "nope.pem")}), "no such file"},
		{"certificate instead of key", args(url, cookie, []string{"--public-key", "K1=" + notKey}), "certificate"},
		{"key CloudFront refuses", args(url, cookie, []string{"--public-key", "K1=" + smallPub}), "2048"},
		{"same id twice", args(url, cookie, key, []string{"--public-key", idRSA + "=" + ecPriv}), "given twice"},
		{"six keys", args(url, cookie, six), "at most 5"},
		{"bad client ip", args(url, cookie, key, []string{"--client-ip", "192.0.2.300"}), "--client-ip"},
		{"bad now", args(url, cookie, key, []string{"--now", "yesterday"}), "RFC 3339"},
		{"extra argument", args(url, cookie, key, []string{"now"}), "unexpected argument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runCmd(t, nil, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q lacks %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}
