package keys

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/kmssigner"
	"github.com/cfcookies/cfcookies/kmssigner/kmstest"
	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// faultyKMS is a real KMS client with faults put in front of it: the
// next calls of GetPublicKey or Sign may fail with an AWS error, and Sign
// may answer a signature of another digest. It counts the calls.
type faultyKMS struct {
	KMSClient

	mu        sync.Mutex
	getFails  int   // GetPublicKey calls left to fail with err
	signFails int   // Sign calls left to fail with err; -1: all
	err       error // the failure
	corrupt   bool  // Sign answers a signature of another digest
	gets      int
	signs     int
}

func (f *faultyKMS) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	f.mu.Lock()
	f.gets++
	fail := f.getFails > 0
	if fail {
		f.getFails--
	}
	err := f.err
	f.mu.Unlock()
	if fail {
		return nil, err
	}
	return f.KMSClient.GetPublicKey(ctx, in, optFns...)
}

func (f *faultyKMS) Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error) {
	f.mu.Lock()
	f.signs++
	fail := f.signFails != 0
	if f.signFails > 0 {
		f.signFails--
	}
	err, corrupt := f.err, f.corrupt
	f.mu.Unlock()
	if fail {
		return nil, err
	}
	if corrupt {
		other := *in
		other.Message = make([]byte, len(in.Message)) // a real signature, of zeros
		return f.KMSClient.Sign(ctx, &other, optFns...)
	}
	return f.KMSClient.Sign(ctx, in, optFns...)
}

func (f *faultyKMS) set(fn func(f *faultyKMS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *faultyKMS) counts() (gets, signs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, f.signs
}

// throttling is KMS's answer over its request quota.
var throttling = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient}

// kmsPublicKey reads a key's public key from KMS itself, to check what
// the store signs against.
func kmsPublicKey(t *testing.T, client KMSClient, keyID string) crypto.PublicKey {
	t.Helper()
	out, err := client.GetPublicKey(t.Context(), &kms.GetPublicKeyInput{KeyId: &keyID})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// signVerifies signs a grant with sg and checks the signature with pub
// over SHA-256, returning the key pair id it signed for.
func signVerifies(t *testing.T, sg *signer.Signer, pub crypto.PublicKey) string {
	t.Helper()
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Minute)}
	signed, err := sg.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := g.Policy()
	if signed.HashAlgorithm != signer.SHA256 {
		t.Errorf("hash algorithm %s, want SHA256", signed.HashAlgorithm)
	}
	if err := signer.Verify(pub, signer.SHA256, policy, signed.Signature); err != nil {
		t.Fatalf("the signature does not verify with the KMS key's public key: %v", err)
	}
	return signed.KeyPairID
}

// TestKMSOpen signs through local-kms with both kinds of key CloudFront
// takes, named each way KMS takes: the signatures verify with the public
// key KMS gives, over SHA-256 whatever the configured default.
func TestKMSOpen(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	client := srv.Client(t)
	for _, tc := range []struct {
		spec    types.KeySpec
		keyType string
	}{{types.KeySpecRsa2048, "RSA 2048"}, {types.KeySpecEccNistP256, "ECDSA P-256"}} {
		keyID := srv.CreateKey(t, tc.spec, types.KeyUsageTypeSignVerify)
		alias := "alias/cfcookies-" + strings.ToLower(strings.ReplaceAll(string(tc.spec), "_", "-"))
		aliasARN := srv.CreateAlias(t, alias, keyID)
		keyARN := srv.KeyARN(t, keyID)
		pub := kmsPublicKey(t, client, keyID)
		for _, ref := range []string{keyID, keyARN, alias, aliasARN} {
			t.Run(string(tc.spec)+" "+ref, func(t *testing.T) {
				logger, logs := newLogger()
				store, err := Open(t.Context(), config.CloudFront{KeyPairID: "KKMS"}, config.Key{KMSKeyID: ref}, Options{KMS: client, Logger: logger})
				if err != nil {
					t.Fatal(err)
				}
				st := store.Status()
				if !st.Ready || st.Source != "kms" || st.Key.KMSKeyARN != keyARN || st.Key.KeyType != tc.keyType || st.Key.HashAlgorithm != signer.SHA256 {
					t.Errorf("status %+v", st)
				}
				if fp, _ := Fingerprint(pub); st.Key.Fingerprint != fp {
					t.Errorf("fingerprint %s, want KMS's %s", st.Key.Fingerprint, fp)
				}
				if got := signVerifies(t, store.Signer(), pub); got != "KKMS" {
					t.Errorf("signed for %s", got)
				}
				loaded := logLines(logs, "signing key loaded")
				if len(loaded) != 1 || loaded[0]["kms_key_arn"] != keyARN || loaded[0]["key_source"] != "kms" {
					t.Errorf("log %v", loaded)
				}
				done := make(chan struct{})
				go func() { store.Run(t.Context()); close(done) }()
				<-done // a KMS key is never read again
			})
		}
	}
}

// TestKMSOpenRefuses is each KMS key that cannot sign cookies: the start
// fails for good, with an error naming the key and what was found.
func TestKMSOpenRefuses(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	client := srv.Client(t)
	disabled := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	srv.DisableKey(t, disabled)
	deleted := srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	srv.CreateAlias(t, "alias/cfcookies-old", deleted)
	srv.ScheduleKeyDeletion(t, deleted)
	const missing = "0b6c2b0e-8a4c-4b7e-9a55-1f0c3d2e4a5b"
	tests := []struct {
		name  string
		keyID string
		is    error
		has   []string
	}{
		{"P-384", srv.CreateKey(t, types.KeySpecEccNistP384, types.KeyUsageTypeSignVerify), kmssigner.ErrKeySpec, []string{"ECC_NIST_P384"}},
		{"RSA 4096", srv.CreateKey(t, types.KeySpecRsa4096, types.KeyUsageTypeSignVerify), kmssigner.ErrKeySpec, []string{"RSA_4096"}},
		{"encryption key", srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt), kmssigner.ErrKeyUsage, []string{"ENCRYPT_DECRYPT"}},
		{"disabled", disabled, nil, []string{"DisabledException", "the key is disabled"}},
		{"no such key", missing, nil, []string{"NotFoundException", "region " + kmstest.Region, "give the key's ARN"}},
		{"no such alias", "alias/cfcookies-nope", nil, []string{"NotFoundException"}},
		{"alias of a key pending deletion", "alias/cfcookies-old", nil, []string{"KMSInvalidStateException", "pending deletion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := Open(t.Context(), config.CloudFront{KeyPairID: "KKMS"}, config.Key{KMSKeyID: tt.keyID}, Options{KMS: client})
			if err == nil || store != nil {
				t.Fatalf("Open = %v, %v; want an error", store, err)
			}
			t.Log(err)
			if !isPermanent(err) {
				t.Errorf("not permanent: %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error is not %v: %v", tt.is, err)
			}
			for _, want := range append(tt.has, `CLOUDFRONT_KMS_KEY_ID "`+tt.keyID+`"`) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
		})
	}
}

// TestKMSStartWaitsOutThrottling: KMS throttling at start leaves the store
// not ready, without failing the start; it becomes ready by itself when
// KMS answers, and then stops reading.
func TestKMSStartWaitsOutThrottling(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	faulty := &faultyKMS{KMSClient: srv.Client(t), getFails: 3, err: throttling}
	logger, logs := newLogger()
	store, err := Open(t.Context(), config.CloudFront{KeyPairID: "KKMS"}, config.Key{KMSKeyID: keyID}, Options{KMS: faulty, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if store.Ready() || store.Signer() != nil {
		t.Fatal("ready while KMS throttles")
	}
	if st := store.Status(); st.LastError == nil || !strings.Contains(st.LastError.Error(), "ThrottlingException") {
		t.Errorf("status %+v", st)
	}
	store.retry = time.Millisecond
	done := make(chan struct{})
	go func() { store.Run(t.Context()); close(done) }()
	<-done // Run returns once the key has loaded
	if !store.Ready() {
		t.Fatal("Run returned before the key loaded")
	}
	if gets, _ := faulty.counts(); gets != 4 {
		t.Errorf("%d GetPublicKey calls, want 4 (3 throttled)", gets)
	}
	signVerifies(t, store.Signer(), kmsPublicKey(t, srv.Client(t), keyID))
	if n := len(logLines(logs, "no signing key loaded yet; /readyz answers 503 until one loads; retrying")); n != 3 {
		t.Errorf("%d not-ready lines, want 3:\n%s", n, logs)
	}
}

// TestKMSSignRetries: a throttled Sign is retried within the request and
// succeeds; one that keeps failing, or a key disabled since the start,
// is an error wrapping mediacookies.ErrKeyUnavailable (a 503), and every
// call is counted by its error code.
func TestKMSSignRetries(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	keyID := srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	faulty := &faultyKMS{KMSClient: srv.Client(t), err: throttling}
	store, err := Open(t.Context(), config.CloudFront{KeyPairID: "KKMS"}, config.Key{KMSKeyID: keyID}, Options{KMS: faulty})
	if err != nil {
		t.Fatal(err)
	}
	sg, pub := store.Signer(), kmsPublicKey(t, srv.Client(t), keyID)
	_, before := faulty.counts() // the start-up check

	faulty.set(func(f *faultyKMS) { f.signFails = 2 })
	signVerifies(t, sg, pub)
	if _, signs := faulty.counts(); signs-before != 3 {
		t.Errorf("%d Sign calls for two throttles, want 3", signs-before)
	}

	faulty.set(func(f *faultyKMS) { f.signFails = -1 })
	_, before = faulty.counts()
	g := signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Minute)}
	_, err = sg.Sign(g)
	if !errors.Is(err, mediacookies.ErrKeyUnavailable) || !strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), srv.KeyARN(t, keyID)) {
		t.Errorf("throttled throughout: %v", err)
	}
	if _, signs := faulty.counts(); signs-before != maxSignAttempts {
		t.Errorf("%d Sign calls throttled throughout, want %d", signs-before, maxSignAttempts)
	}

	faulty.set(func(f *faultyKMS) { f.signFails = 0 })
	srv.DisableKey(t, keyID)
	_, before = faulty.counts()
	_, err = sg.Sign(g)
	if !errors.Is(err, mediacookies.ErrKeyUnavailable) || !strings.Contains(err.Error(), "DisabledException") {
		t.Errorf("disabled key: %v", err)
	}
	if _, signs := faulty.counts(); signs-before != 1 {
		t.Errorf("%d Sign calls for a disabled key, want 1: it is not retried", signs-before)
	}

	got := scrapeCollector(t, store.Collector())
	for _, want := range []string{
		fmt.Sprintf("cfcookies_kms_sign_duration_seconds_count %d", 1+3+maxSignAttempts+1),
		fmt.Sprintf(`cfcookies_kms_sign_errors_total{code="ThrottlingException"} %d`, 2+maxSignAttempts),
		`cfcookies_kms_sign_errors_total{code="DisabledException"} 1`,
		`cfcookies_kms_sign_errors_total{code="other"} 0`,
		`cfcookies_key_ready{source="kms"} 1`,
	} {
		if !strings.Contains(got, "\n"+want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, got)
		}
	}
}

// TestKMSBadSignature: a KMS answer that is not a signature of the digest
// by the key fails the start, and after it fails the signing with an error
// naming the key, never a cookie CloudFront would refuse.
func TestKMSBadSignature(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	faulty := &faultyKMS{KMSClient: srv.Client(t), corrupt: true}
	_, err := Open(t.Context(), config.CloudFront{KeyPairID: "KKMS"}, config.Key{KMSKeyID: keyID}, Options{KMS: faulty})
	if !errors.Is(err, kmssigner.ErrBadSignature) || !isPermanent(err) || !strings.Contains(err.Error(), keyID) {
		t.Fatalf("Open with a KMS that signs something else: %v", err)
	}

	faulty.set(func(f *faultyKMS) { f.corrupt = false })
	store, err := Open(t.Context(), config.CloudFront{KeyPairID: "KKMS"}, config.Key{KMSKeyID: keyID}, Options{KMS: faulty})
	if err != nil {
		t.Fatal(err)
	}
	faulty.set(func(f *faultyKMS) { f.corrupt = true })
	signed, err := store.Sign(signer.Grant{Resource: "https://media.example.com/media/alice/*", Expires: time.Now().Add(time.Minute)})
	if !errors.Is(err, kmssigner.ErrBadSignature) || errors.Is(err, mediacookies.ErrKeyUnavailable) || !strings.Contains(err.Error(), srv.KeyARN(t, keyID)) {
		t.Errorf("Sign = %v", err)
	}
	if signed.Signature != "" {
		t.Error("a signature came back with the error")
	}
}

// TestKMSSecretRotation: the JSON form of a secret names a KMS key
// instead of holding one, and a new secret value rotates to another KMS
// key (or to a key held in memory) as it does between private keys, while
// a request that took the old signer finishes with the old key.
func TestKMSSecretRotation(t *testing.T) {
	t.Parallel()
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	faulty := &faultyKMS{KMSClient: srv.Client(t)}
	first := srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	second := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	srv.CreateAlias(t, "alias/cfcookies-next", second)
	kmsJSON := func(keyPairID, keyID string) string {
		return fmt.Sprintf(`{"keyPairId": %q, "kmsKeyId": %q}`, keyPairID, keyID)
	}
	sm := newFakeSecretsManager(t, ok(kmsJSON("K1", first)))
	logger, logs := newLogger()
	store, err := Open(t.Context(), config.CloudFront{}, secretKey(), Options{Logger: logger, Secrets: sm.client(), KMS: faulty})
	if err != nil {
		t.Fatal(err)
	}
	old := store.Signer()
	if got := signVerifies(t, old, kmsPublicKey(t, srv.Client(t), first)); got != "K1" {
		t.Fatalf("signed for %s", got)
	}

	gets, _ := faulty.counts()
	if err := store.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g, _ := faulty.counts(); g != gets {
		t.Errorf("an unchanged secret read the KMS key again")
	}

	sm.then(ok(kmsJSON("K2", "alias/cfcookies-next")))
	if err := store.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := signVerifies(t, store.Signer(), kmsPublicKey(t, srv.Client(t), second)); got != "K2" {
		t.Errorf("after the rotation: signed for %s", got)
	}
	if got := signVerifies(t, old, kmsPublicKey(t, srv.Client(t), first)); got != "K1" {
		t.Errorf("a request that began before the rotation signed for %s", got)
	}
	if st := store.Status(); st.Key.KMSKeyARN != srv.KeyARN(t, second) || st.Rotations != 1 {
		t.Errorf("status %+v", st)
	}

	// To a private key held in memory, and a bad KMS key in between.
	sm.then(ok(kmsJSON("K3", "alias/cfcookies-nope")))
	if err := store.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "NotFoundException") || !strings.Contains(err.Error(), testSecretID) {
		t.Errorf("a secret naming a missing key: %v", err)
	}
	sm.then(ok(jsonKey(t, "K4", ecKey)))
	if err := store.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := signWith(t, store); got != "K4" || store.Status().Key.KMSKeyARN != "" {
		t.Errorf("after the rotation to a key in memory: %s, %+v", got, store.Status().Key)
	}
	rotated := logLines(logs, "signing key rotated")
	if len(rotated) != 2 || rotated[0]["kms_key_arn"] != srv.KeyARN(t, second) || rotated[0]["old_key_pair_id"] != "K1" {
		t.Errorf("rotations %v", rotated)
	}
}

// A secret's JSON names a private key or a KMS key, never both.
func TestDecodeMaterialKMS(t *testing.T) {
	t.Parallel()
	m, err := decodeMaterial([]byte(` {"keyPairId": " K1 ", "kmsKeyId": " alias/cf "} `), true)
	if err != nil || m.keyPairID != "K1" || m.kmsKeyID != "alias/cf" || m.pem != nil {
		t.Errorf("decodeMaterial = %+v, %v", m, err)
	}
	for raw, want := range map[string]string{
		`{"keyPairId": "K1", "kmsKeyId": "alias/cf", "privateKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}`: `both "privateKey" and "kmsKeyId"`,
		`{"keyPairId": "K1", "kmsKeyId": ""}`: `no "privateKey" nor "kmsKeyId"`,
		`{"kmsKeyId": "alias/cf"}`:            `no "keyPairId"`,
		`{"keyPairId": "K1", "kmsKeyId": 12}`: `"kmsKeyId" must be a string`,
	} {
		if _, err := decodeMaterial([]byte(raw), true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
}

// TestNewKMSClientRegion builds the client the server uses from the
// environment: a key ARN's region wins over AWS_REGION, since a KMS key
// answers only in its own region, and AWS_ENDPOINT_URL_KMS is the SDK's
// own. Not parallel: it sets process environment variables for the SDK.
func TestNewKMSClientRegion(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDCFCOOKIESTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret-access-key",
		"AWS_REGION":                  "us-east-1",
		"AWS_ENDPOINT_URL_KMS":        "http://127.0.0.1:4599",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             dir + "/config",
		"AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	for keyID, region := range map[string]string{
		"1234abcd-12ab-34cd-56ef-1234567890ab": "us-east-1",
		"alias/cf":                             "us-east-1",
		"arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab": "eu-west-2",
		"arn:aws:kms:ap-southeast-2:111122223333:alias/cf":                            "ap-southeast-2",
	} {
		c, err := NewKMSClient(t.Context(), keyID)
		if err != nil {
			t.Fatal(err)
		}
		if o := c.Options(); o.Region != region || o.BaseEndpoint == nil || *o.BaseEndpoint != "http://127.0.0.1:4599" {
			t.Errorf("%s: region %s, endpoint %v; want %s and AWS_ENDPOINT_URL_KMS", keyID, o.Region, o.BaseEndpoint, region)
		}
	}
	t.Setenv("AWS_REGION", "")
	if _, err := NewKMSClient(t.Context(), "alias/cf"); err == nil || !strings.Contains(err.Error(), "no AWS region") || !strings.Contains(err.Error(), `"alias/cf"`) {
		t.Errorf("without a region: %v", err)
	}
}
