package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vector is one case of the public cross-SDK signing vectors in
// testdata/vectors (a copy of shared/vectors).
type vector struct {
	ID    string `json:"id"`
	Input struct {
		Resource       string `json:"resource"`
		KeyPairID      string `json:"keyPairId"`
		PrivateKeyFile string `json:"privateKeyFile"`
		ExpirationDate int64  `json:"expirationDate"`
		ActiveDate     int64  `json:"activeDate"`
		IPRange        string `json:"ipRange"`
		HashAlgorithm  string `json:"hashAlgorithm"`
	} `json:"input"`
	Expected struct {
		Error                   bool              `json:"error"`
		PolicyJSON              string            `json:"policyJson"`
		Cookies                 map[string]string `json:"cookies"`
		QueryParams             map[string]string `json:"queryParams"`
		Signature               string            `json:"signature"`
		VerifyCryptographically bool              `json:"verifyCryptographically"`
	} `json:"expected"`
}

func loadVectors(t *testing.T, name string) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatalf("%s: no vectors", name)
	}
	return vs
}

// signVector runs one vector through the public API the way a caller would:
// parse the key, build the grant, sign. The clock is set before the
// vectors' fixed expiry.
func signVector(v vector) (Signed, []byte, error) {
	pemBytes, err := os.ReadFile(filepath.Join("testdata", "vectors", v.Input.PrivateKeyFile))
	if err != nil {
		return Signed{}, nil, err
	}
	key, err := ParsePrivateKeyPEM(pemBytes, KeyOptions{AllowAnyRSASize: true})
	if err != nil {
		return Signed{}, nil, err
	}
	hash, err := vectorHash(v)
	if err != nil {
		return Signed{}, nil, err
	}
	s, err := New(v.Input.KeyPairID, key, Options{
		HashAlgorithm: hash,
		Now:           func() time.Time { return time.Unix(1767000000, 0) },
		Key:           KeyOptions{AllowAnyRSASize: true},
	})
	if err != nil {
		return Signed{}, nil, err
	}
	g := Grant{Resource: v.Input.Resource}
	if v.Input.ExpirationDate != 0 {
		g.Expires = time.Unix(v.Input.ExpirationDate, 0)
	}
	if v.Input.ActiveDate != 0 {
		g.NotBefore = time.Unix(v.Input.ActiveDate, 0)
	}
	if v.Input.IPRange != "" {
		if g.IPRange, err = ParseIPRange(v.Input.IPRange); err != nil {
			return Signed{}, nil, err
		}
	}
	policy, err := g.Policy()
	if err != nil {
		return Signed{}, nil, err
	}
	signed, err := s.Sign(g)
	return signed, policy, err
}

// vectorHash is the hash a vector states, passed to New explicitly: the
// vectors without one are "RSA-SHA1 (default hash)", CloudFront's reading
// of an absent Hash-Algorithm, while New's default is SHA256.
// Under fips140=only, where New refuses SHA1, an error case without a hash
// is signed with SHA256: it is about the grant or the key, and must fail
// for that reason.
func vectorHash(v vector) (HashAlgorithm, error) {
	switch {
	case v.Input.HashAlgorithm != "":
		return ParseHashAlgorithm(v.Input.HashAlgorithm)
	case v.Expected.Error && fips140Only():
		return SHA256, nil
	}
	return SHA1, nil
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"sign-cookies-test-cases.json", "sign-test-cases.json"} {
		for _, v := range loadVectors(t, file) {
			t.Run(strings.TrimSuffix(file, ".json")+"/"+v.ID, func(t *testing.T) {
				t.Parallel()
				if fips140Only() && !v.Expected.Error && strings.HasPrefix(v.Input.PrivateKeyFile, "test-rsa-") {
					t.Skip("the vectors' RSA key is 1024 bits, which GODEBUG=fips140=only refuses to sign with (as it refuses SHA-1)")
				}
				signed, policy, err := signVector(v)
				if v.Expected.Error {
					if err == nil {
						t.Fatalf("signed %s, want an error", signed)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(policy) != v.Expected.PolicyJSON {
					t.Fatalf("policy\n got %s\nwant %s", policy, v.Expected.PolicyJSON)
				}
				wantSig := v.Expected.Signature
				if c := v.Expected.Cookies; c != nil {
					wantSig = c[CookieSignature]
					checkCookieVector(t, c, signed)
				}
				if q := v.Expected.QueryParams; q != nil {
					if q["Key-Pair-Id"] != signed.KeyPairID {
						t.Errorf("key pair id %q, want %q", signed.KeyPairID, q["Key-Pair-Id"])
					}
					if h := q["Hash-Algorithm"]; h != "" && h != string(signed.HashAlgorithm) {
						t.Errorf("hash algorithm %q, want %q", signed.HashAlgorithm, h)
					}
				}
				if v.Expected.VerifyCryptographically {
					pubPEM, err := os.ReadFile(filepath.Join("testdata", "vectors", "test-ecdsa-key-public.pem"))
					if err != nil {
						t.Fatal(err)
					}
					if err := Verify(mustParsePublic(t, pubPEM), signed.HashAlgorithm, policy, signed.Signature); err != nil {
						t.Fatalf("signature does not verify with the published public key: %v", err)
					}
					return
				}
				if signed.Signature != wantSig {
					t.Fatalf("signature\n got %s\nwant %s", signed.Signature, wantSig)
				}
			})
		}
	}
}

// checkCookieVector compares the cookie values a vector lists. Canned-policy
// vectors carry CloudFront-Expires instead of CloudFront-Policy: this package
// always issues custom policies, whose signature over the same policy bytes
// is the same, so for those the policy cookie is checked to hold exactly the
// canned policy instead.
func checkCookieVector(t *testing.T, want map[string]string, got Signed) {
	t.Helper()
	cookies, err := got.Cookies(CookieOptions{}, time.Unix(1767000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, c := range cookies {
		if c.MaxAge >= 0 {
			values[c.Name] = c.Value
		}
	}
	for name, w := range want {
		if name == CookieExpires {
			if got.Expires.Unix() != mustAtoi(t, w) {
				t.Errorf("expiry %d, want %s", got.Expires.Unix(), w)
			}
			continue
		}
		if name == CookieSignature && values[name] == "" {
			t.Errorf("no %s cookie", name)
			continue
		}
		if name != CookieSignature && values[name] != w {
			t.Errorf("cookie %s = %q, want %q", name, values[name], w)
		}
	}
	if _, ok := want[CookieHashAlgorithm]; !ok && values[CookieHashAlgorithm] != "" {
		t.Errorf("unexpected %s=%s", CookieHashAlgorithm, values[CookieHashAlgorithm])
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVectorErrorsAreTheRightOnes checks the error cases of both files fail
// for the reason the vector names, not incidentally.
func TestVectorErrorsAreTheRightOnes(t *testing.T) {
	t.Parallel()
	want := map[string]error{
		"error-missing-expiration":           ErrInvalidGrant,
		"error-active-after-expiration":      ErrInvalidGrant,
		"error-unsupported-key-type":         ErrUnsupportedKey,
		"json-injection-resource-url-reject": ErrInvalidGrant,
		"json-injection-ip-range-reject":     ErrInvalidGrant,
	}
	seen := 0
	for _, file := range []string{"sign-cookies-test-cases.json", "sign-test-cases.json"} {
		for _, v := range loadVectors(t, file) {
			if !v.Expected.Error {
				continue
			}
			seen++
			_, _, err := signVector(v)
			if v.ID == "ecdsa-canned-policy-url-sha1-reject" {
				if err == nil || !strings.Contains(err.Error(), "SHA") {
					t.Errorf("%s/%s: err = %v, want one naming SHA", file, v.ID, err)
				}
				continue
			}
			if w := want[v.ID]; w == nil || !errors.Is(err, w) {
				t.Errorf("%s/%s: err = %v, want %v", file, v.ID, err, w)
			}
		}
	}
	if seen != 12 {
		t.Fatalf("saw %d error vectors, want 12", seen)
	}
}

// TestVectorsMatchShared guards the copy in testdata against drift from
// shared/vectors when that folder sits beside the repository.
func TestVectorsMatchShared(t *testing.T) {
	t.Parallel()
	shared := filepath.Join("..", "..", "shared", "vectors")
	entries, err := os.ReadDir(shared)
	if err != nil {
		t.Skipf("no shared vectors beside the repository: %v", err)
	}
	for _, e := range entries {
		want, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("testdata", "vectors", e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/vectors/%s differs from shared/vectors (%v): copy it again", e.Name(), err)
		}
	}
}

// TestVectorCoverageIsDocumented counts what TestVectors holds the package
// to and checks that doc.go states the same numbers: the RSA cases
// reproduced byte for byte, the ECDSA cases verified with the published
// key, and the error cases refused.
func TestVectorCoverageIsDocumented(t *testing.T) {
	t.Parallel()
	var rsa, ecdsa, errs int
	for _, file := range []string{"sign-cookies-test-cases.json", "sign-test-cases.json"} {
		for _, v := range loadVectors(t, file) {
			switch key := v.Input.PrivateKeyFile; {
			case v.Expected.Error:
				errs++
			case strings.HasPrefix(key, "test-ecdsa-"):
				ecdsa++
			case strings.HasPrefix(key, "test-rsa-"):
				rsa++
			default:
				t.Fatalf("%s: key %s is neither RSA nor ECDSA", v.ID, key)
			}
		}
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(strings.ReplaceAll(string(doc), "//", "")), " ")
	for _, want := range []string{
		fmt.Sprintf("all %d RSA cases", rsa),
		fmt.Sprintf("%d ECDSA cases", ecdsa),
		fmt.Sprintf("%d error cases", errs),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("doc.go does not say %q", want)
		}
	}
}
