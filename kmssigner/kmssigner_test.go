package kmssigner_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- a SHA-1 digest that must be refused
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/cfcookies/cfcookies/kmssigner"
	"github.com/cfcookies/cfcookies/kmssigner/kmstest"
)

// policy is a CloudFront custom policy as the signer package writes it.
var policy = []byte(`{"Statement":[{"Resource":"https://media.example.com/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}`)

// countingAPI counts the calls a Signer makes to KMS.
type countingAPI struct {
	kmssigner.API
	getPublicKey, sign atomic.Int32
}

func (c *countingAPI) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	c.getPublicKey.Add(1)
	return c.API.GetPublicKey(ctx, in, optFns...)
}

func (c *countingAPI) Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error) {
	c.sign.Add(1)
	return c.API.Sign(ctx, in, optFns...)
}

// apiCode returns the AWS error code err wraps, "" if none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var specs = []types.KeySpec{types.KeySpecRsa2048, types.KeySpecEccNistP256}

// A signature KMS makes over a policy's SHA-256 digest verifies with the
// public key KMS gives, in Go as CloudFront verifies it and with openssl.
func TestSignatureVerifies(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	client := srv.Client(t)
	for _, spec := range specs {
		t.Run(string(spec), func(t *testing.T) {
			keyID := srv.CreateKey(t, spec, types.KeyUsageTypeSignVerify)
			s, err := kmssigner.New(t.Context(), client, keyID, kmssigner.Options{})
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256(policy)
			sig, err := s.SignContext(t.Context(), digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			switch pub := s.Public().(type) {
			case *rsa.PublicKey:
				if spec != types.KeySpecRsa2048 || pub.N.BitLen() != 2048 {
					t.Fatalf("public key RSA %d bits for %s", pub.N.BitLen(), spec)
				}
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
					t.Errorf("rsa.VerifyPKCS1v15: %v", err)
				}
			case *ecdsa.PublicKey:
				if spec != types.KeySpecEccNistP256 || pub.Curve.Params().Name != "P-256" {
					t.Fatalf("public key ECDSA %s for %s", pub.Curve.Params().Name, spec)
				}
				if !ecdsa.VerifyASN1(pub, digest[:], sig) {
					t.Error("ecdsa.VerifyASN1: signature does not verify")
				}
			default:
				t.Fatalf("public key %T", pub)
			}
			// Sign, the crypto.Signer method, signs the same way.
			sig2, err := s.Sign(nil, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			opensslVerify(t, s.Public(), policy, sig, sig2)
		})
	}
}

// opensslVerify checks each signature of msg with openssl, and that
// openssl refuses it for another message.
func opensslVerify(t *testing.T, pub crypto.PublicKey, msg []byte, sigs ...[]byte) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl: %v (CI=true: install openssl)", err)
		}
		t.Logf("openssl check SKIPPED: %v", err)
		return
	}
	dir := t.TempDir()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pubFile := write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	msgFile := write("policy.json", msg)
	other := write("other.json", append([]byte(nil), strings.Replace(string(msg), "alice", "bobby", 1)...))
	for i, sig := range sigs {
		sigFile := write("sig", sig)
		out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile, msgFile).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verified OK") {
			t.Errorf("signature %d: openssl dgst -verify: %v: %s", i, err, out)
		}
		out, err = exec.Command("openssl", "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile, other).CombinedOutput()
		if err == nil || strings.Contains(string(out), "Verified OK") {
			t.Errorf("signature %d: openssl verified it for another policy: %s", i, out)
		}
	}
}

// A key may be named by id, ARN, alias name or alias ARN; the Signer
// reports the key's ARN whatever the name.
func TestNewKeyNames(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	client := srv.Client(t)
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	arn := srv.KeyARN(t, keyID)
	aliasARN := srv.CreateAlias(t, "alias/cloudfront-cookies", keyID)
	var first crypto.PublicKey
	for _, name := range []string{keyID, arn, "alias/cloudfront-cookies", aliasARN} {
		s, err := kmssigner.New(t.Context(), client, name, kmssigner.Options{})
		if err != nil {
			t.Errorf("New(%s): %v", name, err)
			continue
		}
		if s.KeyID() != arn {
			t.Errorf("New(%s).KeyID() = %s, want %s", name, s.KeyID(), arn)
		}
		if first == nil {
			first = s.Public()
		} else if !first.(*ecdsa.PublicKey).Equal(s.Public()) {
			t.Errorf("New(%s): another public key", name)
		}
	}
}

// Keys CloudFront cannot verify, or that cannot sign, are refused by
// New, naming the key and what it is.
func TestNewRefusesKeys(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	client := srv.Client(t)
	for _, tc := range []struct {
		spec  types.KeySpec
		usage types.KeyUsageType
		want  error
		words []string
	}{
		{types.KeySpecRsa4096, types.KeyUsageTypeSignVerify, kmssigner.ErrKeySpec, []string{"RSA_4096"}},
		{types.KeySpecRsa3072, types.KeyUsageTypeSignVerify, kmssigner.ErrKeySpec, []string{"RSA_3072"}},
		{types.KeySpecEccNistP384, types.KeyUsageTypeSignVerify, kmssigner.ErrKeySpec, []string{"ECC_NIST_P384"}},
		{types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt, kmssigner.ErrKeyUsage, []string{"ENCRYPT_DECRYPT", "RSA_2048"}},
	} {
		t.Run(string(tc.spec)+" "+string(tc.usage), func(t *testing.T) {
			api := &countingAPI{API: client}
			keyID := srv.CreateKey(t, tc.spec, tc.usage)
			s, err := kmssigner.New(t.Context(), api, keyID, kmssigner.Options{})
			if !errors.Is(err, tc.want) || s != nil {
				t.Fatalf("New: %v, %v; want %v", s, err, tc.want)
			}
			for _, w := range append(tc.words, keyID) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if n := api.sign.Load(); n != 0 {
				t.Errorf("%d Sign calls for a refused key", n)
			}
		})
	}
}

// A disabled key, one pending deletion and one that does not exist are
// refused with KMS's code, naming the key.
func TestNewKeyStates(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	client := srv.Client(t)
	disabled := srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	srv.DisableKey(t, disabled)
	deleted := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	srv.ScheduleKeyDeletion(t, deleted)
	for _, tc := range []struct{ name, keyID, code string }{
		{"disabled", disabled, "DisabledException"},
		{"pending deletion", deleted, "KMSInvalidStateException"},
		{"no such key", "4f2b9c3e-0d51-4b8e-9a57-6a0c2f1d8e73", "NotFoundException"},
		{"no such alias", "alias/missing", "NotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kmssigner.New(t.Context(), client, tc.keyID, kmssigner.Options{})
			if code := apiCode(err); code != tc.code {
				t.Errorf("New: %v (code %q), want code %s", err, code, tc.code)
			}
			if err != nil && !strings.Contains(err.Error(), tc.keyID) {
				t.Errorf("error %q does not name the key", err)
			}
		})
	}

	// A key disabled after New: each signature fails with KMS's code.
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	var got []error
	var mu sync.Mutex
	s, err := kmssigner.New(t.Context(), client, keyID, kmssigner.Options{OnSign: func(_ time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, err)
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv.DisableKey(t, keyID)
	digest := sha256.Sum256(policy)
	_, err = s.SignContext(t.Context(), digest[:], crypto.SHA256)
	if code := apiCode(err); code != "DisabledException" || !strings.Contains(err.Error(), s.KeyID()) {
		t.Errorf("Sign with a disabled key: %v (code %q), want DisabledException naming %s", err, code, s.KeyID())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != nil || apiCode(got[1]) != "DisabledException" {
		t.Errorf("OnSign saw %v, want the start-up check's success, then DisabledException", got)
	}
}

// New makes one GetPublicKey and one Sign call (its start-up check);
// each signature then is one Sign call, and what KMS cannot sign for
// CloudFront is refused without calling it.
func TestCalls(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	for _, spec := range specs {
		t.Run(string(spec), func(t *testing.T) {
			api := &countingAPI{API: srv.Client(t)}
			var onSign atomic.Int32
			s, err := kmssigner.New(t.Context(), api, srv.CreateKey(t, spec, types.KeyUsageTypeSignVerify),
				kmssigner.Options{OnSign: func(time.Duration, error) { onSign.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			if g, n, o := api.getPublicKey.Load(), api.sign.Load(), onSign.Load(); g != 1 || n != 1 || o != 1 {
				t.Fatalf("New: %d GetPublicKey, %d Sign calls, OnSign %d times; want 1, 1, 1", g, n, o)
			}
			sha1Digest := sha1.Sum(policy) // #nosec G401 -- must be refused
			sha256Digest := sha256.Sum256(policy)
			for _, tc := range []struct {
				name   string
				digest []byte
				opts   crypto.SignerOpts
				words  []string
			}{
				{"SHA-1", sha1Digest[:], crypto.SHA1, []string{"SHA-1", "SHA-256", "CloudFront-Hash-Algorithm=SHA256"}},
				{"SHA-256 options, SHA-1 digest", sha1Digest[:], crypto.SHA256, []string{"32 bytes"}},
				{"no hash", policy, crypto.Hash(0), []string{"SHA-256"}},
				{"nil options", sha256Digest[:], nil, []string{"crypto.SHA256"}},
				{"RSA-PSS", sha256Digest[:], &rsa.PSSOptions{Hash: crypto.SHA256}, []string{"PKCS#1 v1.5"}},
			} {
				_, err := s.SignContext(t.Context(), tc.digest, tc.opts)
				if !errors.Is(err, kmssigner.ErrUnsupported) {
					t.Errorf("%s: err = %v, want ErrUnsupported", tc.name, err)
					continue
				}
				for _, w := range append(tc.words, s.KeyID()) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q does not say %s", tc.name, err, w)
					}
				}
			}
			if n := api.sign.Load(); n != 1 {
				t.Errorf("%d Sign calls after refused requests, want still 1", n)
			}
			if _, err := s.Sign(nil, sha256Digest[:], crypto.SHA256); err != nil {
				t.Fatal(err)
			}
			if n, o := api.sign.Load(), onSign.Load(); n != 2 || o != 2 {
				t.Errorf("one signature: %d Sign calls, OnSign %d times; want 2, 2", n, o)
			}
		})
	}
}

// throttlingKMS stands between the client and local-kms: it passes
// requests through until told to answer every Sign with a
// ThrottlingException (awsJson1_1), or to answer the first with one and
// hold the others until the client gives up.
type throttlingKMS struct {
	proxy    *httputil.ReverseProxy
	mode     atomic.Int32 // 0 pass, 1 throttle, 2 throttle once then hang
	throttle atomic.Int32 // Sign requests throttled
	done     chan struct{}
}

func (k *throttlingKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := k.mode.Load()
	if mode == 0 || r.Header.Get("X-Amz-Target") != "TrentService.Sign" {
		k.proxy.ServeHTTP(w, r)
		return
	}
	if mode == 2 && k.throttle.Load() > 0 {
		select { // a KMS that does not answer
		case <-r.Context().Done():
		case <-k.done:
		}
		return
	}
	k.throttle.Add(1)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
}

// A throttled Sign fails with the code ThrottlingException, after the
// SDK's own retries; SignContext gives up at its context's deadline when
// KMS keeps it waiting.
func TestThrottling(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tk := &throttlingKMS{proxy: httputil.NewSingleHostReverseProxy(target), done: make(chan struct{})}
	proxy := httptest.NewServer(tk)
	t.Cleanup(proxy.Close)
	t.Cleanup(func() { close(tk.done) })
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	client := kms.New(srv.Client(t).Options(), func(o *kms.Options) { o.BaseEndpoint = aws.String(proxy.URL) })
	var onSign []error
	var mu sync.Mutex
	s, err := kmssigner.New(t.Context(), client, keyID, kmssigner.Options{OnSign: func(_ time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		onSign = append(onSign, err)
	}})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(policy)

	tk.mode.Store(1)
	_, err = s.SignContext(t.Context(), digest[:], crypto.SHA256)
	if code := apiCode(err); code != "ThrottlingException" || !strings.Contains(err.Error(), s.KeyID()) {
		t.Errorf("throttled: %v (code %q), want ThrottlingException naming the key", err, code)
	}
	t.Logf("throttled: %d Sign requests for one signature", tk.throttle.Load())
	mu.Lock()
	if len(onSign) != 2 || apiCode(onSign[1]) != "ThrottlingException" {
		t.Errorf("OnSign saw %v, want the start-up check, then ThrottlingException", onSign)
	}
	mu.Unlock()

	tk.throttle.Store(0)
	tk.mode.Store(2)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = s.SignContext(ctx, digest[:], crypto.SHA256)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), s.KeyID()) {
		t.Errorf("throttled, then no answer: err = %v, want the deadline's error naming the key", err)
	}
	if n := tk.throttle.Load(); n != 1 {
		t.Errorf("%d throttled Sign requests, want 1 before the one KMS held", n)
	}
}

// otherKeyAPI has KMS sign with another key than the one asked for: a
// real KMS signature that does not match the public key.
type otherKeyAPI struct {
	kmssigner.API
	keyID string
}

func (o *otherKeyAPI) Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error) {
	in2 := *in
	in2.KeyId = &o.keyID
	return o.API.Sign(ctx, &in2, optFns...)
}

// New checks one signature with the public key, and refuses a key whose
// signatures do not verify with it.
func TestNewChecksASignature(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	for _, spec := range specs {
		t.Run(string(spec), func(t *testing.T) {
			keyID := srv.CreateKey(t, spec, types.KeyUsageTypeSignVerify)
			other := srv.CreateKey(t, spec, types.KeyUsageTypeSignVerify)
			_, err := kmssigner.New(t.Context(), &otherKeyAPI{API: srv.Client(t), keyID: other}, keyID, kmssigner.Options{})
			if !errors.Is(err, kmssigner.ErrBadSignature) || !strings.Contains(err.Error(), keyID) {
				t.Errorf("New: %v, want ErrBadSignature naming %s", err, keyID)
			}
		})
	}
}

// The zero Signer, and a nil one, sign nothing and do not panic.
func TestZeroSigner(t *testing.T) {
	t.Parallel()
	digest := sha256.Sum256(policy)
	for name, s := range map[string]*kmssigner.Signer{"zero": {}, "nil": nil} {
		if s.Public() != nil || s.KeyID() != "" {
			t.Errorf("%s: Public %v, KeyID %q", name, s.Public(), s.KeyID())
		}
		if _, err := s.Sign(nil, digest[:], crypto.SHA256); !errors.Is(err, kmssigner.ErrZeroValue) {
			t.Errorf("%s: Sign: %v, want ErrZeroValue", name, err)
		}
		if _, err := s.SignContext(t.Context(), digest[:], crypto.SHA256); !errors.Is(err, kmssigner.ErrZeroValue) {
			t.Errorf("%s: SignContext: %v, want ErrZeroValue", name, err)
		}
	}
	if _, err := kmssigner.New(t.Context(), nil, "alias/x", kmssigner.Options{}); err == nil {
		t.Error("New with a nil client: no error")
	}
	if _, err := kmssigner.New(t.Context(), &countingAPI{}, "", kmssigner.Options{}); err == nil {
		t.Error("New with an empty key id: no error")
	}
}
