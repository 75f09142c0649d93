package keys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/signer"
)

func readTestKey(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "signer", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	rsaPEM := readTestKey(t, "keys/rsa2048-pkcs8.pem")
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, []byte(readTestKey(t, "vectors/test-ecdsa-key-sec1.pem")), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		cf         config.CloudFront
		key        config.Key
		wantSource string
		wantHash   signer.HashAlgorithm
		wantErr    string
	}{
		{"env PEM", config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(rsaPEM)}, "env", signer.SHA1, ""},
		{"env PEM with SHA256", config.CloudFront{KeyPairID: "K1", HashAlgorithm: "SHA256"}, config.Key{PEM: config.Secret(rsaPEM)}, "env", signer.SHA256, ""},
		{"ECDSA file", config.CloudFront{KeyPairID: "K2"}, config.Key{File: keyFile}, "file", signer.SHA256, ""},
		{"ephemeral", config.CloudFront{KeyPairID: "KDEV"}, config.Key{}, "ephemeral", signer.SHA1, ""},
		{"ECDSA with SHA1", config.CloudFront{KeyPairID: "K2", HashAlgorithm: "SHA1"}, config.Key{File: keyFile}, "", "", "SHA1"},
		{"1024-bit key", config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(readTestKey(t, "vectors/test-rsa-key.pem"))}, "", "", "1024 bits"},
		{"certificate", config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(readTestKey(t, "keys/cert.pem"))}, "", "", "certificate"},
		{"missing file", config.CloudFront{KeyPairID: "K1"}, config.Key{File: filepath.Join(t.TempDir(), "nope.pem")}, "", "", "CLOUDFRONT_PRIVATE_KEY_FILE"},
		{"secrets manager", config.CloudFront{KeyPairID: "K1"}, config.Key{SecretID: "cfcookies/key"}, "", "", "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, info, err := Load(tt.cf, tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "BEGIN") {
					t.Errorf("error quotes key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Source != tt.wantSource || info.HashAlgorithm != tt.wantHash || info.KeyPairID != tt.cf.KeyPairID ||
				!strings.HasPrefix(info.PublicKeyPEM, "-----BEGIN PUBLIC KEY-----") || len(info.Fingerprint) != 64 {
				t.Errorf("info %+v", info)
			}
			if strings.Contains(info.PublicKeyPEM, "PRIVATE") {
				t.Error("info carries the private key")
			}
			if !store.Ready() {
				t.Fatal("store not ready after Load")
			}
			g := signer.Grant{Resource: "https://m.example.com/*", Expires: time.Now().Add(time.Minute)}
			signed, err := store.Sign(g)
			if err != nil {
				t.Fatal(err)
			}
			policy, _ := g.Policy()
			if err := signer.Verify(store.Signer().Public(), signed.HashAlgorithm, policy, signed.Signature); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEmptyStore(t *testing.T) {
	t.Parallel()
	var s Store
	if s.Ready() {
		t.Fatal("empty store is ready")
	}
	if _, err := s.Sign(signer.Grant{}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
}
