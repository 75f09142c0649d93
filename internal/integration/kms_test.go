package integration_test

import (
	"context"
	"crypto"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/cfcookies/cfcookies/kmssigner"
	"github.com/cfcookies/cfcookies/kmssigner/kmstest"
	"github.com/cfcookies/cfcookies/signer"
)

var _ signer.ContextSigner = (*kmssigner.Signer)(nil)

// Cookies signed by a key in KMS, through the signer package with
// SHA-256, are what CloudFront accepts: the verifier of the signer package
// lets the request through with the key's public key, and only that
// request.
func TestKMSCookiesPassTheVerifier(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	client := srv.Client(t)
	for _, spec := range []types.KeySpec{types.KeySpecRsa2048, types.KeySpecEccNistP256} {
		t.Run(string(spec), func(t *testing.T) {
			key, err := kmssigner.New(t.Context(), client, srv.CreateKey(t, spec, types.KeyUsageTypeSignVerify), kmssigner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{HashAlgorithm: signer.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: now.Add(10 * time.Minute)}
			cookies, err := s.Cookies(g, signer.CookieOptions{Domain: "example.com", Path: "/media/"})
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]string{}
			for _, c := range cookies {
				names[c.Name] = c.Value
			}
			if names[signer.CookieHashAlgorithm] != "SHA256" {
				t.Errorf("cookie %s = %q, want SHA256", signer.CookieHashAlgorithm, names[signer.CookieHashAlgorithm])
			}

			v, err := signer.NewVerifier(map[string]crypto.PublicKey{"K2JCJMDEHXQW5F": key.Public()}, signer.VerifierOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d := v.Check(cookies, "https://media.example.com/media/alice/clip.mp4", netip.Addr{}, now); !d.Allowed {
				t.Errorf("verifier denies the KMS-signed cookies: %s: %s", d.Code, d.Reason)
			}
			if d := v.Check(cookies, "https://media.example.com/media/bob/clip.mp4", netip.Addr{}, now); d.Allowed {
				t.Error("verifier allows another user's path")
			}
			otherKey, err := kmssigner.New(t.Context(), client, srv.CreateKey(t, spec, types.KeyUsageTypeSignVerify), kmssigner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			other, err := signer.NewVerifier(map[string]crypto.PublicKey{"K2JCJMDEHXQW5F": otherKey.Public()}, signer.VerifierOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d := other.Check(cookies, "https://media.example.com/media/alice/clip.mp4", netip.Addr{}, now); d.Allowed {
				t.Error("verifier trusting another KMS key allows the cookies")
			}
		})
	}
}

// The signer package passes SignContext's context to the KMS key, and a
// KMS key refuses SHA-1 with kmssigner.ErrUnsupported through the signer
// package's error.
func TestKMSKeyThroughSigner(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	key, err := kmssigner.New(t.Context(), srv.Client(t), srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify), kmssigner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(10 * time.Minute)}

	sha1Signer, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{HashAlgorithm: signer.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sha1Signer.Sign(g); !errors.Is(err, kmssigner.ErrUnsupported) {
		t.Errorf("SHA-1 with a KMS key: err = %v, want kmssigner.ErrUnsupported", err)
	}

	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{HashAlgorithm: signer.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.SignContext(ctx, g); !errors.Is(err, context.Canceled) {
		t.Errorf("SignContext with a cancelled context: err = %v, want context.Canceled", err)
	}
	if _, err := s.SignContext(t.Context(), g); err != nil {
		t.Errorf("SignContext: %v", err)
	}
}
