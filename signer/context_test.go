package signer_test

import (
	"context"
	"crypto"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

type ctxMarker struct{}

// ctxKey is a key that signs with a context, as a KMS key does. It records
// the marker of the context it was given and how it was called.
type ctxKey struct {
	crypto.Signer
	marker     any
	ctxCalls   int
	plainCalls int
}

func (k *ctxKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.plainCalls++
	return k.Signer.Sign(r, digest, opts)
}

func (k *ctxKey) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.ctxCalls++
	k.marker = ctx.Value(ctxMarker{})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return k.Signer.Sign(nil, digest, opts)
}

var _ signer.ContextSigner = (*ctxKey)(nil)

func TestSignContextReachesTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		file string
		hash signer.HashAlgorithm
		ip   bool
	}{
		{"RSA SHA256", "testdata/keys/rsa2048-pkcs8.pem", signer.SHA256, false},
		{"ECDSA", "testdata/vectors/test-ecdsa-key-sec1.pem", signer.SHA256, false},
		{"RSA SHA1", "testdata/keys/rsa2048-pkcs8.pem", signer.SHA1, false},
		{"RSA SHA1 with an IP range", "testdata/keys/rsa2048-pkcs8.pem", signer.SHA1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.hash == signer.SHA1 && signer.FIPS140Only() {
				t.Skip("needs SHA-1, which GODEBUG=fips140=only refuses; TestFIPS140OnlyRefusesSHA1 checks the refusal")
			}
			key := &ctxKey{Signer: readKey(t, tc.file)}
			s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{HashAlgorithm: tc.hash})
			if err != nil {
				t.Fatal(err)
			}
			g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Hour)}
			if tc.ip {
				g.IPRange = netip.MustParsePrefix("192.0.2.1/32")
			}

			ctx := context.WithValue(t.Context(), ctxMarker{}, "request 1")
			signed, err := s.SignContext(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if key.ctxCalls != 1 || key.plainCalls != 0 || key.marker != "request 1" {
				t.Errorf("SignContext: key called %d times with a context (marker %v), %d without; want once with the caller's", key.ctxCalls, key.marker, key.plainCalls)
			}
			policy, err := signer.DecodeBase64(signed.Policy)
			if err != nil {
				t.Fatal(err)
			}
			if err := signer.Verify(key.Public(), tc.hash, policy, signed.Signature); err != nil {
				t.Errorf("signature made through SignContext: %v", err)
			}

			if _, err := s.Sign(g); err != nil {
				t.Fatal(err)
			}
			if key.ctxCalls != 2 || key.marker != nil {
				t.Errorf("Sign: key called %d times with a context, marker %v; want a second call with context.Background", key.ctxCalls, key.marker)
			}

			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.SignContext(cancelled, g); !errors.Is(err, context.Canceled) {
				t.Errorf("SignContext with a cancelled context: err = %v, want context.Canceled wrapped", err)
			}
		})
	}
}

// A key that is a plain crypto.Signer signs through SignContext as through
// Sign: the context is not its concern.
func TestSignContextPlainKey(t *testing.T) {
	t.Parallel()
	s, err := signer.New("K2JCJMDEHXQW5F", readKey(t, "testdata/vectors/test-ecdsa-key-sec1.pem"), signer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Hour)}
	if _, err := s.SignContext(ctx, g); err != nil {
		t.Errorf("plain key with a cancelled context: %v", err)
	}
	var zero signer.Signer
	if _, err := zero.SignContext(ctx, g); !errors.Is(err, signer.ErrZeroValue) {
		t.Errorf("zero Signer: err = %v, want ErrZeroValue", err)
	}
}

func readKey(t *testing.T, file string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(b, signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return key
}
