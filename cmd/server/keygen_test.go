package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/signer"
)

func runKeygen(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"server", "keygen"}, args...), envOf(nil), nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestKeygen(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"rsa", "ecdsa"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "private.pem")
			stdout, stderr, err := runKeygen(t, "--type", typ, "--out", path)
			if err != nil {
				t.Fatalf("keygen: %v\n%s", err, stderr)
			}

			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			written, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if block, _ := pem.Decode(written); block == nil || block.Type != "PRIVATE KEY" {
				t.Fatalf("private key file is not PKCS#8 PEM:\n%s", written)
			}
			key, err := signer.ParsePrivateKeyPEM(written, signer.KeyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			switch k := key.(type) {
			case *rsa.PrivateKey:
				if typ != "rsa" || k.N.BitLen() != 2048 {
					t.Errorf("--type %s wrote RSA %d", typ, k.N.BitLen())
				}
			case *ecdsa.PrivateKey:
				if typ != "ecdsa" || k.Curve.Params().Name != "P-256" {
					t.Errorf("--type %s wrote ECDSA %s", typ, k.Curve.Params().Name)
				}
			}

			// stdout is the public key PEM and nothing else, so that
			// "> public.pem" gives what CloudFront and Terraform take.
			block, rest := pem.Decode([]byte(stdout))
			if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 || !strings.HasPrefix(stdout, "-----BEGIN PUBLIC KEY-----\n") {
				t.Fatalf("stdout is not one PUBLIC KEY PEM:\n%s", stdout)
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal("the printed public key does not match the written private key")
			}

			sum := sha256.Sum256(block.Bytes)
			fingerprint := hex.EncodeToString(sum[:])
			for _, want := range []string{fingerprint, path, "0600", "Next steps", "trusted key group", "aws_cloudfront_public_key", "keyPairId"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "PRIVATE KEY") || strings.Contains(stdout, "PRIVATE KEY") {
				t.Error("the private key was printed")
			}

			// The server loads the file, and logs the fingerprint printed.
			store, err := keys.Open(context.Background(), config.CloudFront{KeyPairID: "KNEW"},
				config.Key{File: path, RefreshInterval: time.Minute}, keys.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := store.Status().Key.Fingerprint; got != fingerprint {
				t.Errorf("the server's fingerprint %s differs from the printed %s", got, fingerprint)
			}
		})
	}
}

func TestKeygenRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.pem")
	if err := os.WriteFile(existing, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(filepath.Join(dir, "nowhere.pem"), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		errHas   string
	}{
		{"existing file", []string{"--type", "rsa", "--out", existing}, 1, "already exists: refusing to overwrite"},
		{"dangling symlink", []string{"--type", "ecdsa", "--out", link}, 1, "already exists"},
		{"missing directory", []string{"--type", "ecdsa", "--out", filepath.Join(dir, "no", "key.pem")}, 1, "no such file"},
		{"no --out", []string{"--type", "rsa"}, 2, "--out is required"},
		{"no --type", []string{"--out", filepath.Join(dir, "a.pem")}, 2, "--type must be rsa or ecdsa"},
		{"DSA", []string{"--type", "dsa", "--out", filepath.Join(dir, "b.pem")}, 2, `not "dsa"`},
		{"extra argument", []string{"--type", "rsa", "--out", filepath.Join(dir, "c.pem"), "extra"}, 2, `unexpected argument "extra"`},
		{"unknown flag", []string{"--bits", "4096"}, 2, "bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, _, err := runKeygen(t, tt.args...)
			if err == nil || exitCode(err) != tt.wantCode || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v (exit %d), want exit %d mentioning %q", err, exitCode(err), tt.wantCode, tt.errHas)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "precious" {
		t.Errorf("existing file now holds %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere.pem")); err == nil {
		t.Error("keygen wrote through a dangling symlink")
	}
	for _, name := range []string{"a.pem", "b.pem", "c.pem"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a refused keygen wrote %s", name)
		}
	}
}
