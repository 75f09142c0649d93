package keys

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/testlog"
	"github.com/cfcookies/cfcookies/signer"
)

// Test keys from signer/testdata: three distinct usable keys, and one of
// each kind CloudFront refuses.
const (
	rsaKey      = "keys/rsa2048-pkcs8.pem"
	rsaKeyPKCS1 = "keys/rsa2048-pkcs1.pem" // the same key as rsaKey
	ecKey       = "vectors/test-ecdsa-key.pem"
	ecKey2      = "keys/p256-with-params.pem"
)

// badKeys are the refused kinds of key material of the issue, by the
// words their error must contain.
var badKeys = []struct {
	name, file, errHas string
}{
	{"certificate", "keys/cert.pem", "certificate"},
	{"encrypted PKCS#8", "keys/rsa2048-encrypted.pem", "encrypted"},
	{"encrypted PKCS#1", "keys/rsa2048-encrypted-legacy.pem", "encrypted"},
	{"DSA", "vectors/test-dsa-key.pem", "DSA key"},
	{"Ed25519", "keys/ed25519.pem", "ed25519"},
	{"RSA 1024", "vectors/test-rsa-key.pem", "1024 bits"},
	{"RSA 3072", "keys/rsa3072.pem", "3072 bits"},
	{"P-384", "keys/p384-pkcs8.pem", "P-384"},
	{"public key", "keys/rsa2048-public.pem", "public key"},
}

// readKey returns a PEM file of signer/testdata.
func readKey(t *testing.T, name string) string {
	t.Helper()
	s, err := readKeyFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readKeyFile(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "..", "signer", "testdata", name))
	return string(b), err
}

// jsonKey is the JSON form of key material.
func jsonKey(t *testing.T, keyPairID, name string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"keyPairId": keyPairID, "privateKey": readKey(t, name)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// privateLines are the base64 lines of the private keys used here: none
// may ever appear in an error or a log. Lines that a key's public PEM
// shares (an RSA private key holds its modulus) are left out, since the
// public key is logged on purpose.
func privateLines(t *testing.T) []string {
	t.Helper()
	var lines []string
	for _, name := range []string{rsaKey, rsaKeyPKCS1, ecKey, ecKey2} {
		pemText := readKey(t, name)
		key, err := signer.ParsePrivateKeyPEM([]byte(pemText), signer.KeyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := signer.PublicKeyPEM(key)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bodyLines(pemText) {
			if !strings.Contains(string(pub), l) {
				lines = append(lines, l)
			}
		}
	}
	for _, k := range badKeys {
		if !strings.Contains(k.file, "public") && !strings.Contains(k.file, "cert") {
			lines = append(lines, bodyLines(readKey(t, k.file))...)
		}
	}
	return lines
}

func bodyLines(pemText string) []string {
	var out []string
	for _, l := range strings.Split(pemText, "\n") {
		if len(l) >= 40 && !strings.HasPrefix(l, "-----") && !strings.Contains(l, ":") {
			out = append(out, l)
		}
	}
	return out
}

// assertNoKeyMaterial fails when s quotes a private key.
func assertNoKeyMaterial(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, "PRIVATE KEY") {
		t.Errorf("%s names a PEM private key block: %s", what, s)
		return
	}
	for _, l := range privateLines(t) {
		if strings.Contains(s, l) {
			t.Errorf("%s quotes key material: %s", what, s)
			return
		}
	}
}

// logLines returns the lines of l with the given message, decoded.
func logLines(l *testlog.Buffer, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func newLogger() (zerolog.Logger, *testlog.Buffer) {
	buf := &testlog.Buffer{}
	return zerolog.New(buf), buf
}

// signWith signs a grant with s and checks the signature against the key
// the store reports, returning the key pair id it signed for.
func signWith(t *testing.T, s *Store) string {
	t.Helper()
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Minute)}
	signed, err := s.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := g.Policy()
	if err := signer.Verify(s.Signer().Public(), signed.HashAlgorithm, policy, signed.Signature); err != nil {
		t.Fatal(err)
	}
	return signed.KeyPairID
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
