package edge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// TestRotatingCDN: the distribution answers 503 until a key is loaded,
// then trusts every key loaded since, as a key group does during a
// rotation.
func TestRotatingCDN(t *testing.T) {
	t.Parallel()
	k := keys(t)
	newSigner := func(id string, key crypto.Signer, h signer.HashAlgorithm) *signer.Signer {
		s, err := signer.New(id, key, signer.Options{HashAlgorithm: h})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var current atomic.Pointer[signer.Signer]
	h, err := NewRotatingCDN(current.Load, CDNOptions{Now: func() time.Time { return t0.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	grant := signer.Grant{Resource: cdnBase + "/media/dev/*", Expires: t0.Add(10 * time.Minute)}
	rsaCookies := signCookies(t, idRSA, k.rsa, signer.SHA1, grant)
	ecCookies := signCookies(t, idEC, k.ec, signer.SHA256, grant)
	url := cdnBase + "/media/dev/image.svg"

	if w := serve(h, get(url, rsaCookies...)); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("before any key: %d, want 503", w.Code)
	}
	current.Store(newSigner(idRSA, k.rsa, signer.SHA1))
	if w := serve(h, get(url, rsaCookies...)); w.Code != http.StatusOK {
		t.Fatalf("first key: %d, want 200: %s", w.Code, w.Body)
	}
	if w := serve(h, get(url, ecCookies...)); w.Code != http.StatusForbidden {
		t.Fatalf("a key not loaded yet: %d, want 403", w.Code)
	}
	current.Store(newSigner(idEC, k.ec, signer.SHA256))
	for name, cookies := range map[string][]*http.Cookie{"new key": ecCookies, "old key": rsaCookies} {
		if w := serve(h, get(url, cookies...)); w.Code != http.StatusOK {
			t.Errorf("after the rotation, cookies of the %s: %d, want 200: %s", name, w.Code, w.Body)
		}
	}
}

// A key group holds signer.MaxKeys keys: the oldest leaves it when
// another is loaded.
func TestRotatingCDNKeepsTheNewestKeys(t *testing.T) {
	t.Parallel()
	var current atomic.Pointer[signer.Signer]
	h, err := NewRotatingCDN(current.Load, CDNOptions{Now: func() time.Time { return t0.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	grant := signer.Grant{Resource: cdnBase + "/media/dev/*", Expires: t0.Add(10 * time.Minute)}
	url := cdnBase + "/media/dev/image.svg"
	var cookies [][]*http.Cookie
	for i := range signer.MaxKeys + 1 {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("K%dROTATED", i)
		s, err := signer.New(id, key, signer.Options{HashAlgorithm: signer.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		current.Store(s)
		cookies = append(cookies, signCookies(t, id, key, signer.SHA256, grant))
		if w := serve(h, get(url, cookies[i]...)); w.Code != http.StatusOK {
			t.Fatalf("key %d of %d: %d, want 200: %s", i+1, signer.MaxKeys+1, w.Code, w.Body)
		}
	}
	if w := serve(h, get(url, cookies[0]...)); w.Code != http.StatusForbidden {
		t.Errorf("the oldest key, after %d newer ones: %d, want 403", signer.MaxKeys, w.Code)
	}
	if w := serve(h, get(url, cookies[1]...)); w.Code != http.StatusOK {
		t.Errorf("the second key: %d, want 200", w.Code)
	}
}

func TestNewRotatingCDNRefuses(t *testing.T) {
	t.Parallel()
	if _, err := NewRotatingCDN(nil, CDNOptions{}); err == nil {
		t.Error("no key source: no error")
	}
	none := func() *signer.Signer { return nil }
	if _, err := NewRotatingCDN(none, CDNOptions{Verifier: newTestVerifier(t, VerifierOptions{})}); err == nil {
		t.Error("a Verifier given: no error")
	}
}
