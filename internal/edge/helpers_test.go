package edge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// Test keys are generated once per test binary: RSA 2048 generation is slow
// under -race.
type testKeys struct {
	rsa, rsaOther *rsa.PrivateKey
	ec, ecOther   *ecdsa.PrivateKey
}

var generateKeys = sync.OnceValues(func() (testKeys, error) {
	var k testKeys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	if k.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return k, err
	}
	k.ecOther, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k, err
})

func keys(t testing.TB) testKeys {
	t.Helper()
	k, err := generateKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Key pair IDs of the trusted key group in tests.
const (
	idRSA = "K2RSATESTKEY"
	idEC  = "K3ECDSATESTKEY"
)

// t0 is the tests' "now" at signing time.
var t0 = time.Unix(1_800_000_000, 0).UTC()

func newTestVerifier(t testing.TB, opts VerifierOptions) *Verifier {
	t.Helper()
	k := keys(t)
	v, err := NewVerifier(map[string]crypto.PublicKey{idRSA: k.rsa.Public(), idEC: k.ec.Public()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signCookies signs g with key as keyPairID and returns the cookies a
// browser would send back: the expired CloudFront-Hash-Algorithm that
// signer sets for SHA1 is deleted by browsers, not sent.
func signCookies(t testing.TB, keyPairID string, key crypto.Signer, h signer.HashAlgorithm, g signer.Grant) []*http.Cookie {
	t.Helper()
	s, err := signer.New(keyPairID, key, signer.Options{HashAlgorithm: h, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	cookies, err := s.Cookies(g, signer.CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sent []*http.Cookie
	for _, c := range cookies {
		if c.MaxAge >= 0 {
			sent = append(sent, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return sent
}

// signRaw signs arbitrary policy bytes, for policies signer refuses to
// write.
func signRaw(t testing.TB, key crypto.Signer, h signer.HashAlgorithm, policy []byte) string {
	t.Helper()
	hash := crypto.SHA1
	if h == signer.SHA256 {
		hash = crypto.SHA256
	}
	d := hash.New()
	d.Write(policy)
	sig, err := key.Sign(rand.Reader, d.Sum(nil), hash)
	if err != nil {
		t.Fatal(err)
	}
	return signer.EncodeBase64(sig)
}

// rawCookies builds the cookies for a hand-made policy; empty values are
// left out.
func rawCookies(keyPairID, policyB64, sigB64, hash string) []*http.Cookie {
	var cs []*http.Cookie
	for _, c := range []*http.Cookie{
		{Name: signer.CookiePolicy, Value: policyB64},
		{Name: signer.CookieSignature, Value: sigB64},
		{Name: signer.CookieKeyPairID, Value: keyPairID},
		{Name: signer.CookieHashAlgorithm, Value: hash},
	} {
		if c.Value != "" {
			cs = append(cs, c)
		}
	}
	return cs
}

func get(url string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, url, nil)
	r.RemoteAddr = "192.0.2.10:54321"
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func without(cookies []*http.Cookie, name string) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range cookies {
		if c.Name != name {
			out = append(out, c)
		}
	}
	return out
}

func replace(cookies []*http.Cookie, name, value string) []*http.Cookie {
	out := without(cookies, name)
	return append(out, &http.Cookie{Name: name, Value: value})
}

func cookieValue(cookies []*http.Cookie, name string) string {
	for _, c := range cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
