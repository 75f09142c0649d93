package signer_test

import (
	"crypto"
	"fmt"
	"log"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// The whole flow of a Go service: load the key once, expand the caller's
// path from a trusted template, and set the cookies on the response
// (http.SetCookie(w, c) for each). The zero Options sign with SHA-256, so
// the fourth cookie is CloudFront-Hash-Algorithm=SHA256.
func Example() {
	pemBytes, err := os.ReadFile("testdata/keys/rsa2048-pkcs8.pem")
	if err != nil {
		log.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}

	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		log.Fatal(err)
	}
	path, err := tmpl.Expand(func(claim string) (string, bool) { return "alice", claim == "sub" })
	if err != nil {
		log.Fatal(err)
	}
	cookies, err := s.Cookies(signer.Grant{
		Resource: "https://media.example.com" + path,
		Expires:  now.Add(10 * time.Minute),
	}, signer.CookieOptions{Domain: "example.com"})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range cookies {
		// The values are credentials: print everything else.
		fmt.Println(c.Name + strings.TrimPrefix(c.String(), c.Name+"="+c.Value))
	}
	// Output:
	// CloudFront-Policy; Path=/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// CloudFront-Signature; Path=/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// CloudFront-Key-Pair-Id; Path=/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// CloudFront-Hash-Algorithm; Path=/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
}

// Values from a token are refused, never escaped, when they could widen the
// grant.
func ExamplePathTemplate_Expand() {
	tmpl, err := signer.ParsePathTemplate("/tenants/{tenant}/users/{sub}/*")
	if err != nil {
		log.Fatal(err)
	}
	for _, sub := range []string{"alice", "*", "../bob", "%2a"} {
		path, err := tmpl.Expand(func(claim string) (string, bool) {
			return map[string]string{"tenant": "acme", "sub": sub}[claim], true
		})
		if err != nil {
			fmt.Printf("%q: refused: %v\n", sub, err)
			continue
		}
		fmt.Printf("%q: %s\n", sub, path)
	}
	// Output:
	// "alice": /tenants/acme/users/alice/*
	// "*": refused: {sub}: signer: unsafe value for path template: '*' at offset 0
	// "../bob": refused: {sub}: signer: unsafe value for path template: value contains a dot segment (..)
	// "%2a": refused: {sub}: signer: unsafe value for path template: '%' at offset 0
}

// A cookie Path must cover every path a template expands to, or the
// browser leaves the cookies off some media requests.
func ExamplePathTemplate_CoveredBy() {
	tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		log.Fatal(err)
	}
	for _, cookiePath := range []string{"/", "/media", "/med", "/media/alice"} {
		fmt.Printf("%s: %v\n", cookiePath, tmpl.CoveredBy(cookiePath))
	}
	// Output:
	// /: true
	// /media: true
	// /med: false
	// /media/alice: false
}

// The policy JSON a grant signs: one statement, conditions in CloudFront's
// documented order.
func ExampleGrant_Policy() {
	g := signer.Grant{
		Resource:  "https://media.example.com/live/*.ts",
		Expires:   time.Unix(1767290400, 0),
		NotBefore: time.Unix(1767286800, 0),
		IPRange:   netip.MustParsePrefix("192.0.2.0/24"),
	}
	policy, err := g.Policy()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(policy))
	// Output:
	// {"Statement":[{"Resource":"https://media.example.com/live/*.ts","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400},"DateGreaterThan":{"AWS:EpochTime":1767286800},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}
}

// ECDSA P-256 keys sign with SHA-256, as RSA keys do by default, and add
// CloudFront-Hash-Algorithm; Verify checks a signature the way CloudFront
// does.
func ExampleVerify() {
	pemBytes, err := os.ReadFile("testdata/vectors/test-ecdsa-key.pem")
	if err != nil {
		log.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := signer.New("K2ECDSATEST", key, signer.Options{})
	if err != nil {
		log.Fatal(err)
	}
	g := signer.Grant{Resource: "https://media.example.com/hls/*", Expires: time.Now().Add(time.Hour)}
	signed, err := s.Sign(g)
	if err != nil {
		log.Fatal(err)
	}
	policy, err := signer.DecodeBase64(signed.Policy)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(signed.HashAlgorithm, signer.Verify(s.Public(), signed.HashAlgorithm, policy, signed.Signature))
	// Output:
	// SHA256 <nil>
}

// A Go service can answer "why would CloudFront refuse this?": Check reads
// a request's cookies as CloudFront does, against the public keys of the
// distribution's key group. DecodePolicy reads a policy back, for example
// to see when the cookies expire (a Policy is trustworthy only once its
// signature has verified).
func ExampleVerifier_Check() {
	pemBytes, err := os.ReadFile("testdata/keys/rsa2048-pkcs8.pem")
	if err != nil {
		log.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	signed, err := s.Sign(signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: now.Add(10 * time.Minute)})
	if err != nil {
		log.Fatal(err)
	}
	// The cookies a browser sends back, as r.Cookies() returns them.
	cookies := []*http.Cookie{
		{Name: signer.CookiePolicy, Value: signed.Policy},
		{Name: signer.CookieSignature, Value: signed.Signature},
		{Name: signer.CookieKeyPairID, Value: signed.KeyPairID},
		{Name: signer.CookieHashAlgorithm, Value: string(signed.HashAlgorithm)},
	}

	v, err := signer.NewVerifier(map[string]crypto.PublicKey{"K2JCJMDEHXQW5F": key.Public()}, signer.VerifierOptions{})
	if err != nil {
		log.Fatal(err)
	}
	client := netip.MustParseAddr("192.0.2.7")
	for _, req := range []struct {
		url string
		at  time.Time
	}{
		{"https://media.example.com/media/alice/a.png", now},
		{"https://media.example.com/media/bob/a.png", now},
		{"https://media.example.com/media/alice/a.png", now.Add(time.Hour)},
	} {
		d := v.Check(cookies, req.url, client, req.at)
		fmt.Printf("allowed=%v code=%q\n  %s\n", d.Allowed, d.Code, d.Reason)
	}

	p, err := signer.DecodePolicy(signed.Policy)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Resource, p.Expires)
	// Output:
	// allowed=true code=""
	//   signature valid (key K2JCJMDEHXQW5F, SHA256); policy allows this URL until 2026-11-21T12:10:00Z
	// allowed=false code="AccessDenied"
	//   policy Resource does not match the request URL https://media.example.com/media/bob/a.png
	// allowed=false code="AccessDenied"
	//   policy expired at 2026-11-21T12:10:00Z (DateLessThan), 50m0s before now 2026-11-21T13:00:00Z
	// https://media.example.com/media/alice/* 2026-11-21 12:10:00 +0000 UTC
}
