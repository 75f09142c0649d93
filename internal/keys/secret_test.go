package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cfcookies/cfcookies/internal/config"
)

const testSecretID = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cfcookies/key-AbCdEf"

// answer is one scripted Secrets Manager answer.
type answer struct {
	status int
	body   string
}

// ok answers GetSecretValue with a SecretString.
func ok(secret string) answer {
	b, _ := json.Marshal(map[string]any{
		"ARN": testSecretID, "Name": "cfcookies/key", "VersionId": "v1",
		"SecretString": secret, "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 1.7e9,
	})
	return answer{http.StatusOK, string(b)}
}

// okBinary answers GetSecretValue with a SecretBinary.
func okBinary(secret string) answer {
	b, _ := json.Marshal(map[string]any{
		"ARN": testSecretID, "Name": "cfcookies/key", "VersionId": "v1",
		"SecretBinary": base64.StdEncoding.EncodeToString([]byte(secret)), "VersionStages": []string{"AWSCURRENT"},
	})
	return answer{http.StatusOK, string(b)}
}

// awsError is an error in the awsJson1_1 protocol.
func awsError(status int, code, msg string) answer {
	b, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
	return answer{status, string(b)}
}

var (
	accessDenied = awsError(400, "AccessDeniedException",
		"User: arn:aws:sts::123456789012:assumed-role/cfcookies-task/0123 is not authorized to perform: secretsmanager:GetSecretValue on resource: cfcookies/key because no identity-based policy allows the secretsmanager:GetSecretValue action")
	throttled   = awsError(400, "ThrottlingException", "Rate exceeded")
	unavailable = awsError(503, "ServiceUnavailable", "Service Unavailable")
	internal    = awsError(500, "InternalServiceError", "An error occurred on the server side.")
	notFound    = awsError(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	decryption  = awsError(400, "DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
)

// fakeSecretsManager speaks the part of Secrets Manager's JSON protocol
// (awsJson1_1) that GetSecretValue uses. It plays its script in order,
// repeating the last answer, and checks each request as AWS would.
type fakeSecretsManager struct {
	t      *testing.T
	server *httptest.Server

	mu       sync.Mutex
	script   []answer
	requests int
	attempts []string // amz-sdk-request headers, e.g. "attempt=2; max=3"
	regions  []string // the region of each request's SigV4 credential scope
}

func newFakeSecretsManager(t *testing.T, script ...answer) *fakeSecretsManager {
	f := &fakeSecretsManager{t: t, script: script}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeSecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct {
		SecretID string `json:"SecretId"`
	}
	auth := r.Header.Get("Authorization")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
	case r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue":
		f.t.Errorf("X-Amz-Target %q", r.Header.Get("X-Amz-Target"))
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		f.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	case !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDCFCOOKIESTEST/") || !strings.Contains(auth, "/secretsmanager/aws4_request"):
		f.t.Errorf("Authorization %q", auth)
	case json.Unmarshal(body, &in) != nil || in.SecretID != testSecretID:
		f.t.Errorf("body %s", body)
	}
	f.mu.Lock()
	f.requests++
	f.attempts = append(f.attempts, r.Header.Get("Amz-Sdk-Request"))
	if parts := strings.Split(auth, "/"); len(parts) > 2 {
		f.regions = append(f.regions, parts[2])
	}
	a := f.script[0]
	if len(f.script) > 1 {
		f.script = f.script[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("req-%d", f.count()))
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// then replaces the script.
func (f *fakeSecretsManager) then(script ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = script
}

func (f *fakeSecretsManager) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// client is the real SDK client pointed at the fake, with static
// credentials and the SDK's standard retryer, its backoff capped so that
// tests do not wait seconds.
func (f *fakeSecretsManager) client() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCFCOOKIESTEST", "test-secret-access-key", ""),
		BaseEndpoint: aws.String(f.server.URL),
	}, func(o *secretsmanager.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 5*time.Millisecond)
	})
}

func secretKey() config.Key {
	return config.Key{SecretID: testSecretID, RefreshInterval: time.Minute}
}

// TestSecretsManagerOpen is every startup outcome of a secret: usable
// forms, AWS errors that stop the process, AWS errors it waits out, and
// each kind of bad key material.
func TestSecretsManagerOpen(t *testing.T) {
	t.Parallel()
	pemOnly := readKey(t, ecKey)
	tests := []struct {
		name         string
		envID        string // CLOUDFRONT_KEY_PAIR_ID
		script       []answer
		wantRequests int
		wantID       string   // the key loaded; "" when none
		wantErr      []string // Open fails, its error containing each
		wantLog      string   // Open succeeds not ready, having logged this error
	}{
		{name: "JSON", script: []answer{ok(jsonKey(t, "KSECRET", rsaKey))}, wantRequests: 1, wantID: "KSECRET"},
		{name: "PEM with CLOUDFRONT_KEY_PAIR_ID", envID: "KENV", script: []answer{ok(pemOnly)}, wantRequests: 1, wantID: "KENV"},
		{name: "binary PEM", envID: "KENV", script: []answer{okBinary(pemOnly)}, wantRequests: 1, wantID: "KENV"},
		{name: "JSON with literal \\n", script: []answer{ok(`{"keyPairId":"KSECRET","privateKey":"` + strings.ReplaceAll(pemOnly, "\n", `\\n`) + `"}`)}, wantRequests: 1, wantID: "KSECRET"},
		{name: "throttled then 503 then JSON", script: []answer{throttled, unavailable, ok(jsonKey(t, "KSECRET", ecKey))}, wantRequests: 3, wantID: "KSECRET"},
		{name: "500 then JSON", script: []answer{internal, ok(jsonKey(t, "KSECRET", ecKey))}, wantRequests: 2, wantID: "KSECRET"},

		{name: "access denied", script: []answer{accessDenied}, wantRequests: 1,
			wantErr: []string{`CLOUDFRONT_PRIVATE_KEY_SECRET "` + testSecretID + `"`, "AccessDeniedException", "secretsmanager:GetSecretValue", "task role"}},
		{name: "decryption failure", script: []answer{decryption}, wantRequests: 1,
			wantErr: []string{testSecretID, "DecryptionFailure", "kms:Decrypt"}},
		{name: "PEM without CLOUDFRONT_KEY_PAIR_ID", script: []answer{ok(pemOnly)}, wantRequests: 1,
			wantErr: []string{testSecretID, "set CLOUDFRONT_KEY_PAIR_ID", `"keyPairId"`}},
		{name: "empty", envID: "KENV", script: []answer{ok("")}, wantRequests: 1, wantErr: []string{testSecretID, "is empty"}},
		{name: "blank", envID: "KENV", script: []answer{ok(" \n")}, wantRequests: 1, wantErr: []string{testSecretID, "is empty"}},
		{name: "no value", envID: "KENV", script: []answer{{200, `{"ARN":"` + testSecretID + `"}`}}, wantRequests: 1, wantErr: []string{testSecretID, "is empty"}},
		{name: "JSON missing keyPairId", envID: "KENV", script: []answer{ok(`{"privateKey": "x"}`)}, wantRequests: 1, wantErr: []string{testSecretID, `no "keyPairId"`}},
		{name: "JSON missing privateKey", script: []answer{ok(`{"keyPairId": "K1"}`)}, wantRequests: 1, wantErr: []string{testSecretID, `no "privateKey"`}},
		{name: "JSON with a number id", script: []answer{ok(`{"keyPairId": 7, "privateKey": "x"}`)}, wantRequests: 1, wantErr: []string{testSecretID, `"keyPairId" must be a string`}},
		{name: "truncated JSON", script: []answer{ok(jsonKey(t, "K1", rsaKey)[:200])}, wantRequests: 1, wantErr: []string{testSecretID, "not valid JSON"}},

		{name: "not found yet", envID: "KENV", script: []answer{notFound}, wantRequests: 1, wantLog: "ResourceNotFoundException"},
		{name: "throttled throughout", envID: "KENV", script: []answer{throttled}, wantRequests: 3, wantLog: "ThrottlingException"},
		{name: "503 throughout", envID: "KENV", script: []answer{unavailable}, wantRequests: 3, wantLog: "StatusCode: 503"},
	}
	for _, b := range badKeys {
		tests = append(tests, struct {
			name         string
			envID        string
			script       []answer
			wantRequests int
			wantID       string
			wantErr      []string
			wantLog      string
		}{name: b.name, script: []answer{ok(jsonKey(t, "K1", b.file))}, wantRequests: 1, wantErr: []string{testSecretID, b.errHas}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sm := newFakeSecretsManager(t, tt.script...)
			logger, logs := newLogger()
			store, err := Open(context.Background(), config.CloudFront{KeyPairID: tt.envID}, secretKey(),
				Options{Logger: logger, Secrets: sm.client()})
			if got := sm.count(); got != tt.wantRequests {
				t.Errorf("Secrets Manager saw %d requests, want %d", got, tt.wantRequests)
			}
			switch {
			case tt.wantErr != nil:
				if err == nil {
					t.Fatalf("Open succeeded with %+v", store.Status())
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %q, want it to mention %q", err, want)
					}
				}
				assertNoKeyMaterial(t, "error", err.Error())
			case err != nil:
				t.Fatal(err)
			case tt.wantID != "":
				if got := signWith(t, store); got != tt.wantID {
					t.Errorf("signed for %s, want %s", got, tt.wantID)
				}
				if st := store.Status(); st.Key.Source != "secret" || st.LastSuccess.IsZero() || st.LastError != nil {
					t.Errorf("status %+v", st)
				}
			default:
				st := store.Status()
				if store.Ready() || st.Ready || st.Source != "secret" || st.ConsecutiveFailures != 1 || !strings.Contains(fmt.Sprint(st.LastError), tt.wantLog) {
					t.Errorf("status %+v", st)
				}
				lines := logLines(logs, "no signing key loaded yet; /readyz answers 503 until one loads; retrying")
				if len(lines) != 1 || lines[0]["level"] != "error" || !strings.Contains(lines[0]["error"].(string), tt.wantLog) ||
					!strings.Contains(lines[0]["error"].(string), testSecretID) {
					t.Errorf("log %s", logs)
				}
			}
			assertNoKeyMaterial(t, "log", logs.String())
		})
	}
}

// TestSecretsManagerStartsNotReady starts while the secret does not exist
// yet: the store is not ready, Run retries, and it becomes ready when the
// secret appears.
func TestSecretsManagerStartsNotReady(t *testing.T) {
	t.Parallel()
	sm := newFakeSecretsManager(t, notFound)
	logger, logs := newLogger()
	store, err := Open(context.Background(), config.CloudFront{}, secretKey(), Options{Logger: logger, Secrets: sm.client()})
	if err != nil {
		t.Fatal(err)
	}
	if store.Ready() {
		t.Fatal("ready without a key")
	}
	store.retry = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { store.Run(ctx); close(done) }()
	waitFor(t, "a few retries", func() bool { return sm.count() >= 3 })
	if store.Ready() {
		t.Fatal("ready without a key")
	}
	sm.then(ok(jsonKey(t, "KLATE", ecKey)))
	waitFor(t, "the key", store.Ready)
	cancel()
	<-done
	if got := signWith(t, store); got != "KLATE" {
		t.Errorf("signed for %s", got)
	}
	if n := len(logLines(logs, "no signing key loaded yet; /readyz answers 503 until one loads; retrying")); n < 3 {
		t.Errorf("%d error lines while waiting, want one per attempt:\n%s", n, logs)
	}
	if len(logLines(logs, "signing key loaded")) != 1 {
		t.Errorf("log %s", logs)
	}
}

// TestSecretsManagerRefresh rotates through the secret and checks that
// failed refreshes of every kind keep the key in use.
func TestSecretsManagerRefresh(t *testing.T) {
	t.Parallel()
	sm := newFakeSecretsManager(t, ok(jsonKey(t, "K1", rsaKey)))
	logger, logs := newLogger()
	ctx := context.Background()
	store, err := Open(ctx, config.CloudFront{}, secretKey(), Options{Logger: logger, Secrets: sm.client()})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		script  []answer
		wantErr string
		wantID  string
	}{
		{"unchanged", []answer{ok(jsonKey(t, "K1", rsaKey))}, "", "K1"},
		{"access denied", []answer{accessDenied}, "AccessDeniedException", "K1"},
		{"throttled throughout", []answer{throttled}, "ThrottlingException", "K1"},
		{"5xx throughout", []answer{internal}, "InternalServiceError", "K1"},
		{"P-384", []answer{ok(jsonKey(t, "K2", "keys/p384-pkcs8.pem"))}, "P-384", "K1"},
		{"certificate", []answer{ok(jsonKey(t, "K2", "keys/cert.pem"))}, "certificate", "K1"},
		{"empty", []answer{ok("")}, "is empty", "K1"},
		{"JSON missing privateKey", []answer{ok(`{"keyPairId": "K2"}`)}, `no "privateKey"`, "K1"},
		{"rotation", []answer{ok(jsonKey(t, "K2", ecKey))}, "", "K2"},
		{"rotation after a throttle", []answer{throttled, ok(jsonKey(t, "K3", ecKey2))}, "", "K3"},
	}
	for _, step := range steps {
		sm.then(step.script...)
		err := store.Refresh(ctx)
		if step.wantErr == "" && err != nil || step.wantErr != "" && (err == nil || !strings.Contains(err.Error(), step.wantErr)) {
			t.Fatalf("%s: Refresh = %v, want an error with %q", step.name, err, step.wantErr)
		}
		if !store.Ready() {
			t.Fatalf("%s: not ready after a failed refresh", step.name)
		}
		if got := signWith(t, store); got != step.wantID {
			t.Fatalf("%s: signed for %s, want %s", step.name, got, step.wantID)
		}
	}
	warnings := logLines(logs, "key refresh failed; still signing with the current key")
	if len(warnings) != 7 {
		t.Errorf("%d warnings, want 7:\n%s", len(warnings), logs)
	}
	for _, w := range warnings {
		if w["level"] != "warn" || w["key_source"] != "secret" || w["key_pair_id"] != "K1" || !strings.Contains(w["error"].(string), testSecretID) {
			t.Errorf("warning %v", w)
		}
	}
	rotated := logLines(logs, "signing key rotated")
	if len(rotated) != 2 || rotated[0]["old_key_pair_id"] != "K1" || rotated[0]["key_pair_id"] != "K2" || rotated[1]["key_pair_id"] != "K3" {
		t.Errorf("rotations %v", rotated)
	}
	if st := store.Status(); st.Rotations != 2 || st.LastError != nil || st.ConsecutiveFailures != 0 {
		t.Errorf("status %+v", st)
	}
	assertNoKeyMaterial(t, "log", logs.String())
}

// TestSecretsManagerProductionClient builds the client the server uses,
// from the environment as on ECS, with the SDK's own retry policy and
// backoff untouched: a throttle and a 503 are retried before the key loads.
// Not parallel: it sets process environment variables for the SDK.
func TestSecretsManagerProductionClient(t *testing.T) {
	sm := newFakeSecretsManager(t, throttled, unavailable, ok(jsonKey(t, "KPROD", ecKey)))
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.server.URL,
		"AWS_ACCESS_KEY_ID":                "AKIDCFCOOKIESTEST",
		"AWS_SECRET_ACCESS_KEY":            "test-secret-access-key",
		"AWS_SESSION_TOKEN":                "",
		"AWS_REGION":                       "", // the region comes from the secret's ARN
		"AWS_DEFAULT_REGION":               "",
		"AWS_PROFILE":                      "",
		"AWS_CONFIG_FILE":                  t.TempDir() + "/config",
		"AWS_SHARED_CREDENTIALS_FILE":      t.TempDir() + "/credentials",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_MAX_ATTEMPTS":                 "",
		"AWS_RETRY_MODE":                   "",
	} {
		t.Setenv(k, v)
	}
	start := time.Now()
	store, err := Open(context.Background(), config.CloudFront{}, secretKey(), Options{})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if got := signWith(t, store); got != "KPROD" {
		t.Fatalf("signed for %s", got)
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	want := []string{"attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"}
	if fmt.Sprint(sm.attempts) != fmt.Sprint(want) {
		t.Errorf("attempts %q, want %q", sm.attempts, want)
	}
	for _, r := range sm.regions {
		if r != "eu-west-1" {
			t.Errorf("signed for region %q, want the ARN's eu-west-1", r)
		}
	}
	t.Logf("%d attempts (throttle, 503, success) in %v", sm.requests, elapsed.Round(time.Millisecond))
}
