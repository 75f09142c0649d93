package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/signer"
)

const testSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies/key-AbCdEf"

// secretsManager is a Secrets Manager endpoint (awsJson1_1) whose
// GetSecretValue answer the test changes.
type secretsManager struct {
	mu     sync.Mutex
	status int
	body   string
}

func (s *secretsManager) answer(status int, body any) {
	b, _ := json.Marshal(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, string(b)
}

func (s *secretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		http.Error(w, "unexpected call", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(s.status)
	_, _ = io.WriteString(w, s.body)
}

// useSecretsManager points the AWS SDK of this process at sm, with static
// credentials, as ECS would with its endpoint, role and region.
func useSecretsManager(t *testing.T, sm *secretsManager) {
	t.Helper()
	srv := httptest.NewServer(sm)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL,
		"AWS_ACCESS_KEY_ID":                "AKIDCFCOOKIESTEST",
		"AWS_SECRET_ACCESS_KEY":            "test-secret-access-key",
		"AWS_SESSION_TOKEN":                "",
		"AWS_REGION":                       "eu-west-1",
		"AWS_PROFILE":                      "",
		"AWS_CONFIG_FILE":                  filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":      filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":        "true",
	} {
		t.Setenv(k, v)
	}
}

func secretValue(t *testing.T, keyPairID, keyFile string) map[string]any {
	t.Helper()
	pemText, err := os.ReadFile(filepath.Join("..", "..", "signer", "testdata", keyFile))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(map[string]string{"keyPairId": keyPairID, "privateKey": string(pemText)})
	return map[string]any{"ARN": testSecretARN, "Name": "cfcookies/key", "VersionId": "v1", "SecretString": string(v)}
}

// TestRunWaitsForSecret starts the server while its secret does not exist
// yet: it serves, is not ready, and becomes ready with the secret's key
// once it appears. Not parallel: it sets the AWS SDK's environment.
func TestRunWaitsForSecret(t *testing.T) {
	sm := &secretsManager{}
	sm.answer(400, map[string]string{"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."})
	useSecretsManager(t, sm)
	base, logs, stop := startDev(t, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": testSecretARN})

	get := func(path string) int {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d before the secret exists, want 503", code)
	}
	issue := func() (int, []*http.Cookie) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/auth/media-cookies", nil)
		req.Header.Set("X-Dev-User", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Cookies()
	}
	if code, cookies := issue(); code == http.StatusOK || len(cookies) != 0 {
		t.Fatalf("issued cookies without a key: %d", code)
	}

	sm.answer(200, secretValue(t, "KFROMSECRET", "vectors/test-ecdsa-key.pem"))
	deadline := time.Now().Add(10 * time.Second)
	for get("/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, cookies := issue()
	var keyPairID string
	for _, c := range cookies {
		if c.Name == signer.CookieKeyPairID {
			keyPairID = c.Value
		}
	}
	if code != http.StatusOK || keyPairID != "KFROMSECRET" {
		t.Fatalf("after the secret appeared: %d, key pair id %q", code, keyPairID)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"ResourceNotFoundException", "no signing key loaded yet", `"key_pair_id":"KFROMSECRET"`, "signing key loaded"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Error("logs contain the private key")
	}
}

// TestRunSecretAccessDenied fails the start, loudly, when the task may not
// read its secret. Not parallel: it sets the AWS SDK's environment.
func TestRunSecretAccessDenied(t *testing.T) {
	sm := &secretsManager{}
	sm.answer(400, map[string]string{"__type": "AccessDeniedException", "message": "User: arn:aws:sts::123456789012:assumed-role/task/1 is not authorized to perform: secretsmanager:GetSecretValue"})
	useSecretsManager(t, sm)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, []string{"server", "--dev"}, envOf(map[string]string{
		"CLOUDFRONT_PRIVATE_KEY_SECRET": testSecretARN,
		"LISTEN_ADDR":                   "127.0.0.1:0",
		"METRICS_ADDR":                  "",
		"DEV_CDN_ADDR":                  "127.0.0.1:0",
	}), nil, io.Discard, io.Discard)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("run = %v, want exit 1", err)
	}
	for _, want := range []string{"CLOUDFRONT_PRIVATE_KEY_SECRET", testSecretARN, "AccessDeniedException", "secretsmanager:GetSecretValue"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestDevCDNFollowsRotation checks that the emulated CloudFront, like a key
// group during a rotation, accepts cookies of the new key and still those
// of the old one.
func TestDevCDNFollowsRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "key.json")
	write := func(keyPairID, keyFile string) {
		s := secretValue(t, keyPairID, keyFile)["SecretString"].(string) // the JSON form
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("KOLD", "keys/rsa2048-pkcs8.pem")
	store, err := keys.Open(context.Background(), config.CloudFront{}, config.Key{File: path, RefreshInterval: time.Minute}, keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cdn, err := devCDN(&config.Config{}, store, zerolog.Nop(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(cookies []*http.Cookie) int {
		req := httptest.NewRequest("GET", "http://localhost:8081/media/alice/image.svg", nil)
		for _, c := range cookies {
			if c.Value != "" {
				req.AddCookie(c)
			}
		}
		w := httptest.NewRecorder()
		cdn.ServeHTTP(w, req)
		return w.Code
	}
	cookiesOf := func(sg *signer.Signer) []*http.Cookie {
		cs, err := sg.Cookies(signer.Grant{Resource: "http://localhost:8081/media/alice/*", Expires: time.Now().Add(time.Minute)}, signer.CookieOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	oldCookies := cookiesOf(store.Signer())
	if code := fetch(oldCookies); code != 200 {
		t.Fatalf("old key before rotation: %d", code)
	}

	write("KNEW", "vectors/test-ecdsa-key.pem")
	pemText, _ := os.ReadFile(filepath.Join("..", "..", "signer", "testdata", "vectors/test-ecdsa-key.pem"))
	newKey, err := signer.ParsePrivateKeyPEM(pemText, signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	early, err := signer.New("KNEW", newKey, signer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if code := fetch(cookiesOf(early)); code != 403 {
		t.Fatalf("a key the store has not loaded yet: %d, want 403", code)
	}
	if err := store.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := fetch(cookiesOf(store.Signer())); code != 200 {
		t.Errorf("new key after rotation: %d", code)
	}
	if code := fetch(oldCookies); code != 200 {
		t.Errorf("old key after rotation: %d", code)
	}
}
