package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/edge"
	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/internal/testlog"
	"github.com/cfcookies/cfcookies/kmssigner/kmstest"
	"github.com/cfcookies/cfcookies/signer"
)

// useKMS points the AWS SDK of this process at a KMS endpoint, with
// static placeholder credentials, as ECS would with its endpoint, role
// and region. Not for parallel tests: it sets the process environment.
func useKMS(t *testing.T, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_KMS":        endpoint,
		"AWS_ACCESS_KEY_ID":           "AKIDCFCOOKIESTEST",
		"AWS_SECRET_ACCESS_KEY":       "test-secret-access-key",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  kmstest.Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

// issued is an answer of /auth/media-cookies, read.
type issued struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    string
}

// issueAs POSTs /auth/media-cookies as a dev user.
func issueAs(t *testing.T, base, user string) issued {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/auth/media-cookies", nil)
	req.Header.Set("X-Dev-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return issued{resp.StatusCode, resp.Header, resp.Cookies(), string(body)}
}

// getStatus answers the status of GET url.
func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scrape returns the server's metrics.
func scrape(t *testing.T, logs *testlog.Buffer) string {
	t.Helper()
	resp, err := http.Get("http://" + listenAddr(t, logs, "metrics") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue reads one sample of a metrics exposition, -1 if absent.
func metricValue(exposition, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(exposition)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// publicKeyCommand runs `server public-key` with env and returns its
// stdout and stderr.
func publicKeyCommand(t *testing.T, env map[string]string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"server", "public-key"}, envOf(env), nil, &out, &errOut); err != nil {
		t.Fatalf("public-key: %v (stderr %s)", err, errOut.String())
	}
	return out.String(), errOut.String()
}

// opensslVerify checks sig over message with the PEM public key, as
// `openssl dgst -sha256 -verify` does, and reports whether it verified.
func opensslVerify(t *testing.T, pubPEM string, message, sig []byte) bool {
	t.Helper()
	dir := t.TempDir()
	for name, b := range map[string][]byte{"pub.pem": []byte(pubPEM), "policy.json": message, "sig.bin": sig} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), "openssl", "dgst", "-sha256", "-verify", filepath.Join(dir, "pub.pem"),
		"-signature", filepath.Join(dir, "sig.bin"), filepath.Join(dir, "policy.json"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil && strings.Contains(string(out), "Verified OK"):
		return true
	case errors.As(err, &exit) && strings.Contains(string(out), "Verification failure"):
		return false
	}
	t.Fatalf("openssl: %v: %s", err, out)
	return false
}

// TestRunKMSIssuesCookies runs the server on a KMS key of each kind,
// reached through the SDK's own AWS_ENDPOINT_URL_KMS: `server public-key`
// prints the key KMS holds, and the cookies the server issues carry
// CloudFront-Hash-Algorithm=SHA256, verify with openssl against that
// public key, and open the media to internal/edge trusting only it.
func TestRunKMSIssuesCookies(t *testing.T) {
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	useKMS(t, srv.URL)
	client := srv.Client(t)
	for _, spec := range []types.KeySpec{types.KeySpecRsa2048, types.KeySpecEccNistP256} {
		t.Run(string(spec), func(t *testing.T) {
			keyID := srv.CreateKey(t, spec, types.KeyUsageTypeSignVerify)
			alias := "alias/cfcookies-" + strings.ToLower(string(spec))
			srv.CreateAlias(t, alias, keyID)
			out, err := client.GetPublicKey(t.Context(), &kms.GetPublicKeyInput{KeyId: &keyID})
			if err != nil {
				t.Fatal(err)
			}
			kmsPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: out.PublicKey}))

			pubPEM, notes := publicKeyCommand(t, map[string]string{"CLOUDFRONT_KMS_KEY_ID": alias})
			if pubPEM != kmsPEM {
				t.Fatalf("public-key printed\n%s\nKMS holds\n%s", pubPEM, kmsPEM)
			}
			pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			fingerprint, _ := keys.Fingerprint(pub)
			if !strings.Contains(notes, fingerprint) || !strings.Contains(notes, srv.KeyARN(t, keyID)) || !strings.Contains(notes, "aws_cloudfront_public_key") {
				t.Errorf("public-key stderr:\n%s", notes)
			}

			base, logs, stop := startDev(t, map[string]string{"CLOUDFRONT_KMS_KEY_ID": alias, "CLOUDFRONT_KEY_PAIR_ID": "KKMSTEST"})
			devHost := localhostAt(t, listenAddr(t, logs, "cdn")) // the dev CLOUDFRONT_DOMAIN the policy names
			resp := issueAs(t, base, "alice")
			if resp.status != http.StatusOK {
				t.Fatalf("issue: %d %s\n%s", resp.status, resp.body, logs)
			}
			cookies := map[string]*http.Cookie{}
			for _, c := range resp.cookies {
				cookies[c.Name] = c
			}
			if cookies[signer.CookieHashAlgorithm] == nil || cookies[signer.CookieHashAlgorithm].Value != "SHA256" || cookies[signer.CookieKeyPairID].Value != "KKMSTEST" {
				t.Fatalf("cookies %v", resp.cookies)
			}
			policy, err := signer.DecodeBase64(cookies[signer.CookiePolicy].Value)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := signer.DecodeBase64(cookies[signer.CookieSignature].Value)
			if err != nil {
				t.Fatal(err)
			}
			if !opensslVerify(t, pubPEM, policy, sig) {
				t.Error("openssl does not verify the signature with the KMS public key")
			}
			if opensslVerify(t, pubPEM, bytes.Replace(policy, []byte("alice"), []byte("bobby"), 1), sig) {
				t.Error("openssl verifies the signature over another policy")
			}

			// CloudFront, emulated, trusting the printed key alone.
			key, err := signer.ParsePublicKeyPEM([]byte(pubPEM))
			if err != nil {
				t.Fatal(err)
			}
			v, err := edge.NewVerifier(map[string]crypto.PublicKey{"KKMSTEST": key}, edge.VerifierOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cdn := httptest.NewServer(edge.NewCDN(edge.CDNOptions{Verifier: v}))
			defer cdn.Close()
			for path, want := range map[string]int{"/media/alice/image.svg": 200, "/media/dev/image.svg": 403} {
				req, _ := http.NewRequest(http.MethodGet, cdn.URL+path, nil)
				req.Host = devHost
				for _, c := range resp.cookies {
					req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
				}
				if got := doStatus(t, req); got != want {
					t.Errorf("edge %s: %d, want %d", path, got, want)
				}
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"key_source":"kms"`, `"kms_key_arn":"` + srv.KeyARN(t, keyID) + `"`, `"hash_algorithm":"SHA256"`} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %s", want)
				}
			}
			if strings.Contains(logs.String(), cookies[signer.CookieSignature].Value) {
				t.Error("logs hold the signature")
			}
		})
	}
}

func doStatus(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// prodKMSEnv is a production environment (no --dev) whose key is in KMS.
func prodKMSEnv(keyID string) map[string]string {
	return map[string]string{
		"CLOUDFRONT_DOMAIN":      "media.example.com",
		"CLOUDFRONT_KEY_PAIR_ID": "KKMSTEST",
		"CLOUDFRONT_KMS_KEY_ID":  keyID,
		"OIDC_ISSUER":            "https://login.example.com/",
		"OIDC_AUDIENCE":          "spa",
		"LISTEN_ADDR":            "127.0.0.1:0",
		"METRICS_ADDR":           "",
	}
}

// TestRunKMSBadKeyFailsStart: a KMS key of the wrong spec, or disabled,
// fails the start with exit status 1 and an error naming the key and
// what was found, before anything listens.
func TestRunKMSBadKeyFailsStart(t *testing.T) {
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	useKMS(t, srv.URL)
	disabled := srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	srv.DisableKey(t, disabled)
	for _, tc := range []struct {
		name, keyID string
		want        []string
	}{
		{"P-384", srv.CreateKey(t, types.KeySpecEccNistP384, types.KeyUsageTypeSignVerify), []string{"has spec ECC_NIST_P384", "RSA_2048 or ECC_NIST_P256"}},
		{"encryption key", srv.CreateKey(t, types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt), []string{"has usage ENCRYPT_DECRYPT"}},
		{"disabled", disabled, []string{"DisabledException", "the key is disabled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := run(ctx, []string{"server"}, envOf(prodKMSEnv(tc.keyID)), nil, &out, io.Discard)
			if err == nil || exitCode(err) != 1 {
				t.Fatalf("run = %v (exit %d), want exit 1", err, exitCode(err))
			}
			for _, want := range append(tc.want, `CLOUDFRONT_KMS_KEY_ID "`+tc.keyID+`"`) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			if strings.Contains(out.String(), `"message":"listening"`) {
				t.Error("the server listened")
			}
		})
	}
}

// throttlingKMS is a KMS endpoint on loopback that answers
// ThrottlingException to GetPublicKey, or Sign, while told to, and
// passes every other request to a real KMS.
type throttlingKMS struct {
	proxy         *httputil.ReverseProxy
	throttleGet   atomic.Bool
	throttleSign  atomic.Bool
	throttledGets atomic.Int32
}

func newThrottlingKMS(t *testing.T, upstream string) (*throttlingKMS, string) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	k := &throttlingKMS{proxy: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return k, srv.URL
}

func (k *throttlingKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if target == "TrentService.GetPublicKey" && k.throttleGet.Load() || target == "TrentService.Sign" && k.throttleSign.Load() {
		if target == "TrentService.GetPublicKey" {
			k.throttledGets.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ThrottlingException", "message": "Rate exceeded"})
		return
	}
	k.proxy.ServeHTTP(w, r)
}

// TestRunKMSThrottled: KMS throttling at start keeps the server up and
// not ready (503 on /readyz and on issuance) until KMS answers, without a
// restart; then a throttled Sign, retried within the request, ends in a
// 503 key-unavailable with Retry-After and no cookie, counted by code.
func TestRunKMSThrottled(t *testing.T) {
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	throttle, endpoint := newThrottlingKMS(t, srv.URL)
	throttle.throttleGet.Store(true)
	useKMS(t, endpoint)

	base, logs, stop := startDev(t, map[string]string{"CLOUDFRONT_KMS_KEY_ID": keyID, "CLOUDFRONT_KEY_PAIR_ID": "KKMSTEST"})
	if code := getStatus(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d while KMS throttles, want 503", code)
	}
	if resp := issueAs(t, base, "alice"); resp.status != http.StatusServiceUnavailable || len(resp.cookies) != 0 || !strings.Contains(resp.body, "not-ready") {
		t.Fatalf("issue while KMS throttles: %d %s", resp.status, resp.body)
	}
	if m := scrape(t, logs); metricValue(m, `cfcookies_key_ready{source="kms"}`) != 0 {
		t.Errorf("metrics while throttled:\n%s", m)
	}
	throttle.throttleGet.Store(false)
	deadline := time.Now().Add(60 * time.Second)
	for getStatus(t, base+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("never ready once KMS answered:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := throttle.throttledGets.Load(); n < 2 {
		t.Errorf("%d throttled GetPublicKey calls, want the SDK's retries at least", n)
	}
	if resp := issueAs(t, base, "alice"); resp.status != http.StatusOK {
		t.Fatalf("issue once ready: %d %s", resp.status, resp.body)
	}

	throttle.throttleSign.Store(true)
	resp := issueAs(t, base, "bob") // another policy: not in the signature cache
	if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") != "1" ||
		resp.header.Get("Content-Type") != "application/problem+json" || len(resp.header.Values("Set-Cookie")) != 0 ||
		!strings.Contains(resp.body, "urn:cfcookies:problem:key-unavailable") {
		t.Fatalf("issue while Sign throttles: %d %v %s", resp.status, resp.header, resp.body)
	}
	m := scrape(t, logs)
	for series, want := range map[string]float64{
		`cfcookies_kms_sign_errors_total{code="ThrottlingException"}`: 4, // the attempts of one request
		`cfcookies_issuances_total{result="key_unavailable"}`:         1,
		`cfcookies_issuances_total{result="not_ready"}`:               1,
		`cfcookies_key_ready{source="kms"}`:                           1,
	} {
		if got := metricValue(m, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	throttle.throttleSign.Store(false)
	if resp := issueAs(t, base, "bob"); resp.status != http.StatusOK {
		t.Fatalf("issue once Sign answers again: %d %s", resp.status, resp.body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ThrottlingException", "no signing key loaded yet", "signing key loaded", "key-unavailable"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

// TestRunKMSSignCalls counts the KMS Sign calls of many issuances of the
// same grant, from concurrent clients: with the signature cache and
// expiry rounding (the defaults) one per rounding window, single-flight
// included; without them, one per issuance.
func TestRunKMSSignCalls(t *testing.T) {
	if !kmstest.Isolated(t) {
		return
	}
	srv := kmstest.Start(t)
	useKMS(t, srv.URL)
	keyID := srv.CreateKey(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	const issuances, clients = 200, 8
	for _, tc := range []struct {
		name string
		env  map[string]string
		max  float64 // Sign calls, the start-up check left out
	}{
		{"cache and rounding", nil, 2}, // two windows if the run crosses a minute
		{"neither", map[string]string{"SIGNATURE_CACHE_SIZE": "0", "EXPIRY_GRANULARITY": "0"}, issuances},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"CLOUDFRONT_KMS_KEY_ID": keyID, "CLOUDFRONT_KEY_PAIR_ID": "KKMSTEST", "RATE_LIMIT_PER_IP": "off", "RATE_LIMIT_PER_IDENTITY": "off"}
			for k, v := range tc.env {
				env[k] = v
			}
			base, logs, stop := startDev(t, env)
			var wg sync.WaitGroup
			var failed atomic.Int32
			start := time.Now()
			for range clients {
				wg.Go(func() {
					for range issuances / clients {
						req, _ := http.NewRequest(http.MethodPost, base+"/auth/media-cookies", nil)
						req.Header.Set("X-Dev-User", "alice")
						resp, err := http.DefaultClient.Do(req)
						if err != nil || resp.StatusCode != http.StatusOK {
							failed.Add(1)
						}
						if err == nil {
							resp.Body.Close()
						}
					}
				})
			}
			wg.Wait()
			took := time.Since(start)
			if n := failed.Load(); n != 0 {
				t.Fatalf("%d issuances failed", n)
			}
			m := scrape(t, logs)
			calls := metricValue(m, "cfcookies_kms_sign_duration_seconds_count") - 1 // the start-up check
			sum := metricValue(m, "cfcookies_kms_sign_duration_seconds_sum")
			t.Logf("%s: %d issuances by %d clients: %.0f KMS Sign calls (after the start-up check), mean Sign latency %.2f ms, %s in all",
				tc.name, issuances, clients, calls, 1000*sum/(calls+1), took.Round(time.Millisecond))
			if calls < 1 || calls > tc.max || tc.env != nil && calls != issuances {
				t.Errorf("%.0f Sign calls for %d issuances, want at most %.0f", calls, issuances, tc.max)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRunKMSWithSHA1: SHA1 with a KMS key is a configuration error, exit
// status 2, saying why; KMS is never called.
func TestRunKMSWithSHA1(t *testing.T) {
	t.Parallel()
	env := prodKMSEnv("alias/cfcookies")
	env["CLOUDFRONT_HASH_ALGORITHM"] = "SHA1"
	err := run(t.Context(), []string{"server"}, envOf(env), nil, io.Discard, io.Discard)
	var cfgErr config.Errors
	if !errors.As(err, &cfgErr) || exitCode(err) != 2 {
		t.Fatalf("run = %v, want a configuration error (exit 2)", err)
	}
	if !strings.Contains(err.Error(), "CLOUDFRONT_HASH_ALGORITHM") || !strings.Contains(err.Error(), "KMS signs only SHA-256 digests") {
		t.Errorf("error does not say why: %v", err)
	}
}

// TestPublicKeyCommand prints the public key of a key held in a file or
// inline, needing no CLOUDFRONT_KEY_PAIR_ID, and refuses no or two key
// sources as configuration errors.
func TestPublicKeyCommand(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "signer", "testdata", "vectors", "test-ecdsa-key.pem")
	pemText, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(pemText, signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := signer.PublicKeyPEM(key)
	fingerprint, _ := keys.Fingerprint(key.Public())
	for name, env := range map[string]map[string]string{
		"file":   {"CLOUDFRONT_PRIVATE_KEY_FILE": file},
		"inline": {"CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(string(pemText), "\n", `\n`)},
	} {
		out, notes := publicKeyCommand(t, env)
		if out != string(want) {
			t.Errorf("%s: stdout\n%s\nwant\n%s", name, out, want)
		}
		if !strings.Contains(notes, fingerprint) || !strings.Contains(notes, "ECDSA P-256") || strings.Contains(notes+out, "PRIVATE KEY") {
			t.Errorf("%s: stderr\n%s", name, notes)
		}
	}
	for name, env := range map[string]map[string]string{
		"no source":   {"CLOUDFRONT_KEY_PAIR_ID": "K1"},
		"two sources": {"CLOUDFRONT_PRIVATE_KEY_FILE": file, "CLOUDFRONT_KMS_KEY_ID": "alias/cf"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), []string{"server", "public-key"}, envOf(env), nil, &out, io.Discard)
		if exitCode(err) != 2 || out.Len() != 0 {
			t.Errorf("%s: %v (exit %d), stdout %q", name, err, exitCode(err), out.String())
		}
	}
	err = run(t.Context(), []string{"server", "public-key"}, envOf(map[string]string{"CLOUDFRONT_PRIVATE_KEY_FILE": filepath.Join("..", "..", "signer", "testdata", "keys", "p384-pkcs8.pem")}), nil, io.Discard, io.Discard)
	if exitCode(err) != 1 || !strings.Contains(fmt.Sprint(err), "P-384") {
		t.Errorf("a P-384 key: %v", err)
	}
}
