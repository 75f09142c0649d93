//go:build openssl

package keys

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/opensslkey"
	"github.com/cfcookies/cfcookies/signer"
)

// Built with the openssl tag, a loaded RSA key signs through libcrypto,
// and the signatures verify with the key's public half; ECDSA keys stay
// with Go.
func TestOpenSSLBackend(t *testing.T) {
	t.Parallel()
	store, err := Open(context.Background(), config.CloudFront{KeyPairID: "K1"}, config.Key{PEM: config.Secret(readKey(t, rsaKey))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(Backend(), "OpenSSL") {
		t.Errorf("Backend() = %q", Backend())
	}
	if got := store.Status().Key.KeyType; got != "RSA 2048" {
		t.Errorf("key type %q", got)
	}
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Hour)}
	s, err := store.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := g.Policy()
	if err := signer.Verify(store.Signer().Public(), s.HashAlgorithm, policy, s.Signature); err != nil {
		t.Error(err)
	}

	rsaSigner, err := signer.ParsePrivateKeyPEM([]byte(readKey(t, rsaKey)), signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fast, err := fastKey(rsaSigner); err != nil {
		t.Error(err)
	} else if _, ok := fast.(*opensslkey.RSAKey); !ok {
		t.Errorf("fastKey(RSA) = %T, want *opensslkey.RSAKey", fast)
	}
	ecSigner, err := signer.ParsePrivateKeyPEM([]byte(readKey(t, "vectors/test-ecdsa-key-sec1.pem")), signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if same, err := fastKey(ecSigner); err != nil || same != ecSigner {
		t.Errorf("fastKey(ECDSA) = %T, %v; want the key itself", same, err)
	}
}
