//go:build openssl

package keys

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/signer"
)

// Built with the openssl tag, a loaded RSA or ECDSA P-256 key signs
// through libcrypto, and the signatures verify with the key's public half.
func TestOpenSSLBackend(t *testing.T) {
	t.Parallel()
	if b := Backend(); !strings.Contains(b, "RSA and ECDSA: OpenSSL") {
		t.Errorf("Backend() = %q", b)
	}
	for _, tc := range []struct {
		file, keyType, fastType string
	}{
		{rsaKey, "RSA 2048", "*opensslkey.RSAKey"},
		{ecKey, "ECDSA P-256", "*opensslkey.ECDSAKey"},
	} {
		t.Run(tc.keyType, func(t *testing.T) {
			t.Parallel()
			store, err := Open(context.Background(), config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(readKey(t, tc.file))}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := store.Status().Key.KeyType; got != tc.keyType {
				t.Errorf("key type %q", got)
			}
			signWith(t, store)

			key, err := signer.ParsePrivateKeyPEM([]byte(readKey(t, tc.file)), signer.KeyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if fast, err := fastKey(key); err != nil {
				t.Error(err)
			} else if got := fmt.Sprintf("%T", fast); got != tc.fastType {
				t.Errorf("fastKey = %s, want %s", got, tc.fastType)
			}
		})
	}

	// Other curves stay as they are, for signer.New to refuse by name.
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if same, err := fastKey(p384); err != nil || same != p384 {
		t.Errorf("fastKey(P-384) = %T, %v; want the key itself", same, err)
	}
}
