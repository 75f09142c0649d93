package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// FIPS140Only is fips140Only, for the tests of package signer_test.
var FIPS140Only = fips140Only

// skipSHA1InFIPS skips a test that signs or verifies with SHA-1, which
// GODEBUG=fips140=only refuses (TestFIPS140OnlyRefusesSHA1 checks that).
func skipSHA1InFIPS(t testing.TB) {
	t.Helper()
	if fips140Only() {
		t.Skip("needs SHA-1, which GODEBUG=fips140=only refuses; TestFIPS140OnlyRefusesSHA1 checks the refusal")
	}
}

// withFIPS140Only runs the test named name again in a new process of this
// test binary with GODEBUG=fips140=only (the mode is read at start-up and
// cannot change), and fails unless it passed there rather than skipped.
func withFIPS140Only(t *testing.T, name string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	godebug := "fips140=only"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^"+name+"$", "-test.v", "-test.count=1") // #nosec G204 -- this test binary
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s under GODEBUG=fips140=only: %v\n%s", name, err, out)
	}
}

// Under GODEBUG=fips140=only, SHA1 is refused with a clear error, never a
// panic from crypto/sha1, and everything else works: RSA 2048 and ECDSA
// P-256 keys, generated or parsed from PKCS#1, PKCS#8 and SEC1 PEM, sign
// with SHA256 by default and their cookies verify.
func TestFIPS140OnlyRefusesSHA1(t *testing.T) {
	if !fips140Only() {
		withFIPS140Only(t, "TestFIPS140OnlyRefusesSHA1")
		return
	}
	t.Parallel()
	genRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("RSA-2048 key generation: %v", err)
	}
	genEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("P-256 key generation: %v", err)
	}
	keys := map[string]crypto.Signer{"generated RSA-2048": genRSA, "generated P-256": genEC}
	for _, file := range []string{
		"keys/rsa2048-pkcs1.pem", "keys/rsa2048-pkcs8.pem", "keys/p256-with-params.pem",
		"vectors/test-ecdsa-key-sec1.pem", "vectors/test-ecdsa-key.pem",
	} {
		key, err := ParsePrivateKeyPEM(readKeyFile(t, file), KeyOptions{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		keys[file] = key
	}

	now := time.Unix(1_800_000_000, 0)
	g := Grant{Resource: "https://m.example.com/media/alice/*", Expires: now.Add(time.Hour)}
	policy, err := g.Policy()
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://m.example.com/media/alice/a.ts"
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, isRSA := key.Public().(*rsa.PublicKey)
			s, err := New("K2FIPS", key, Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if s.HashAlgorithm() != SHA256 {
				t.Fatalf("default hash %s, want SHA256", s.HashAlgorithm())
			}
			cookies, err := s.Cookies(g, CookieOptions{})
			if err != nil {
				t.Fatal(err)
			}
			v, err := NewVerifier(map[string]crypto.PublicKey{"K2FIPS": key.Public()}, VerifierOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var sent []*http.Cookie
			for _, c := range cookies {
				sent = append(sent, &http.Cookie{Name: c.Name, Value: c.Value})
			}
			if d := v.Check(sent, url, netip.Addr{}, now); !d.Allowed || !strings.Contains(d.Reason, "SHA256") {
				t.Errorf("Check: %+v", d)
			}

			// Without the hash cookie CloudFront would check SHA-1, which
			// cannot be computed here: denied, saying why.
			d := v.Check(with(sent, CookieHashAlgorithm, "-"), url, netip.Addr{}, now)
			wantWhy := "GODEBUG=fips140=only refuses SHA-1"
			if !isRSA {
				wantWhy = "ECDSA, which signs with SHA256"
			}
			if d.Allowed || d.Code != CodeAccessDenied || !strings.Contains(d.Reason, wantWhy) {
				t.Errorf("Check without the hash cookie: %+v, want AccessDenied saying %q", d, wantWhy)
			}
			if err := Verify(key.Public(), SHA1, policy, cookieValueOf(sent, CookieSignature)); isRSA && !errors.Is(err, ErrNotFIPSApproved) {
				t.Errorf("Verify with SHA1: %v, want ErrNotFIPSApproved", err)
			}

			_, err = New("K2FIPS", key, Options{HashAlgorithm: SHA1})
			switch {
			case isRSA && !errors.Is(err, ErrNotFIPSApproved):
				t.Fatalf("New with SHA1: %v, want ErrNotFIPSApproved", err)
			case !isRSA && err == nil:
				t.Fatal("New accepted ECDSA with SHA1")
			}
			if isRSA {
				for _, want := range []string{"SHA-1 is not FIPS 140-3 approved", "GODEBUG=fips140=only", "use SHA256"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("New with SHA1: %q does not say %q", err, want)
					}
				}
			}
		})
	}

	t.Run("SHA1 values made elsewhere still expire the hash cookie", func(t *testing.T) {
		t.Parallel()
		s, err := New("K2FIPS", genRSA, Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		signed, err := s.Sign(g)
		if err != nil {
			t.Fatal(err)
		}
		signed.HashAlgorithm = SHA1
		cookies, err := signed.Cookies(CookieOptions{}, now)
		if err != nil {
			t.Fatal(err)
		}
		if c := cookies[3]; c.Name != CookieHashAlgorithm || c.MaxAge != -1 {
			t.Errorf("hash cookie %s, want it expired", c)
		}
	})

	t.Run("a 1024-bit RSA key is refused when it signs", func(t *testing.T) {
		t.Parallel()
		weak, err := ParsePrivateKeyPEM(readKeyFile(t, "vectors/test-rsa-key.pem"), KeyOptions{AllowAnyRSASize: true})
		if err != nil {
			t.Fatal(err)
		}
		s, err := New("K2FIPS", weak, Options{Now: func() time.Time { return now }, Key: KeyOptions{AllowAnyRSASize: true}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(g); err == nil || !strings.Contains(err.Error(), "2048") {
			t.Errorf("Sign with a 1024-bit key: %v, want crypto/rsa's refusal", err)
		}
	})
}
