package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/testlog"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// listenAddr waits for the "listening" log line of the named server and
// returns its address.
func listenAddr(t *testing.T, logs *testlog.Buffer, server string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line struct{ Message, Server, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "listening" && line.Server == server {
				return line.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server %s never listened; logs:\n%s", server, logs)
	return ""
}

// localhostAt is "localhost:PORT" for a loopback address or URL
// "[http://]127.0.0.1:PORT": the host a browser uses for a dev server, whose
// cookies are set for localhost, not 127.0.0.1 (cookies ignore ports).
func localhostAt(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return "localhost:" + port
}

// startDev runs the server with --dev on loopback ports chosen by the
// kernel and waits until /healthz answers.
func startDev(t *testing.T, env map[string]string) (base string, logs *testlog.Buffer, stop func() error) {
	t.Helper()
	return startServer(t, []string{"server", "--dev"}, env)
}

// startServer runs the server with args on loopback ports chosen by the
// kernel (DEV_CDN_ADDR may be set: the dev CDN's port is part of
// CLOUDFRONT_DOMAIN) and waits until /healthz answers.
func startServer(t *testing.T, args []string, env map[string]string) (base string, logs *testlog.Buffer, stop func() error) {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	env["LISTEN_ADDR"] = "127.0.0.1:0"
	if _, ok := env["DEV_CDN_ADDR"]; !ok {
		env["DEV_CDN_ADDR"] = "127.0.0.1:0"
	}
	if _, ok := env["METRICS_ADDR"]; !ok {
		env["METRICS_ADDR"] = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs = &testlog.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, envOf(env), nil, logs, io.Discard) }()
	base = "http://" + listenAddr(t, logs, "api")
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i > 200 {
			t.Fatalf("/healthz never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(shutdownTimeout + 5*time.Second):
				runErr = errors.New("run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, logs, stop
}

func TestRunDevIssuesCookies(t *testing.T) {
	t.Parallel()
	base, logs, stop := startDev(t, nil)
	// Both ports are the kernel's (":0"): the cookies name the emulated
	// CloudFront at the port it is bound to, and it answers CORS for the
	// demo page at the API's.
	cdnAddr := listenAddr(t, logs, "cdn")
	cdnHost := localhostAt(t, cdnAddr)
	page := "http://" + localhostAt(t, base)

	req, _ := http.NewRequest("POST", base+"/auth/media-cookies", nil)
	req.Header.Set("X-Dev-User", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d %v: %s", resp.StatusCode, resp.Header, body)
	}
	if !strings.Contains(string(body), `"resource":"http://`+cdnHost+`/media/alice/*"`) {
		t.Errorf("body %s", body)
	}
	var values []string
	for _, c := range resp.Cookies() {
		if c.Path != "/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie attributes %s", c)
		}
		if c.Name == "CloudFront-Policy" || c.Name == "CloudFront-Signature" {
			values = append(values, c.Value)
		}
	}
	if len(values) != 2 || values[0] == "" || values[1] == "" {
		t.Fatalf("%d cookies with values", len(values))
	}

	// The emulated CloudFront accepts these cookies for alice's media only,
	// and allows the demo page's origin on what it serves.
	cdn := "http://" + cdnAddr
	for _, tc := range []struct {
		path    string
		cookies bool
		want    int
	}{
		{"/media/alice/image.svg", true, 200},
		{"/media/alice/image.svg", false, 403},
		{"/media/dev/image.svg", true, 403},
	} {
		req, _ := http.NewRequest("GET", cdn+tc.path, nil)
		req.Host = cdnHost // the CLOUDFRONT_DOMAIN the browser would use
		req.Header.Set("Origin", page)
		if tc.cookies {
			for _, c := range resp.Cookies() {
				if c.Value != "" {
					req.AddCookie(c)
				}
			}
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != tc.want {
			t.Errorf("CDN %s (cookies %v): %d, want %d", tc.path, tc.cookies, r.StatusCode, tc.want)
		}
		wantACAO := ""
		if tc.want == 200 {
			wantACAO = page
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != wantACAO {
			t.Errorf("CDN %s (cookies %v): Access-Control-Allow-Origin %q, want %q", tc.path, tc.cookies, got, wantACAO)
		}
	}

	for _, route := range []string{"/readyz", "/healthz"} {
		r, err := http.Get(base + route)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("%s: %v %v", route, r, err)
		}
		r.Body.Close()
	}
	metrics, err := http.Get("http://" + listenAddr(t, logs, "metrics") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	for _, want := range []string{
		`cfcookies_issuances_total{result="ok"} 1`,
		`cfcookies_scope_issuances_total{outcome="ok",scope="default"} 1`,
		`cfcookies_key_ready{source="ephemeral"} 1`,
		`cfcookies_key_rotations_total 0`,
		`cfcookies_signing_duration_seconds_count 1`,
		`cfcookies_auth_failures_total{reason="bad_signature"} 0`,
	} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("metrics lack %s:\n%s", want, mb)
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	out := logs.String()
	for _, want := range []string{"DEVELOPMENT MODE", `"key_pair_id":"KCFCOOKIESDEV"`, "BEGIN PUBLIC KEY", `"request_id"`, `"path":"/auth/media-cookies"`, "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q", want)
		}
	}
	for _, secret := range append(values, "PRIVATE KEY") {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain a secret (%.12s…)", secret)
		}
	}
}

func TestRunGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	base, _, stop := startDev(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The request is in flight: headers sent, body not yet.
	fmt.Fprint(conn, "POST /auth/media-cookies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Dev-User: bob\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("run returned (%v) with a request in flight", err)
	default:
	}
	if _, err := io.WriteString(conn, "{}"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) != 4 {
		t.Fatalf("in-flight request: %d with %d cookies", resp.StatusCode, len(resp.Cookies()))
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRunConfigErrorsExit2(t *testing.T) {
	t.Parallel()
	const secret = "-----BEGIN PRIVATE KEY-----\\nTOPSECRETKEYMATERIAL\\n-----END PRIVATE KEY-----"
	err := run(context.Background(), []string{"server"}, envOf(map[string]string{
		"CLOUDFRONT_DOMAIN":      "media.example.com",
		"CLOUDFRONT_PRIVATE_KEY": secret,
		"COOKIE_SAMESITE":        "none",
		"COOKIE_SECURE":          "false",
		"COOKIE_PATH":            "",
		"COOKIE_DOMAIN":          "other.org",
	}), nil, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run accepted a broken configuration")
	}
	if code := exitCode(err); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	var cfgErr config.Errors
	if !errors.As(err, &cfgErr) {
		t.Fatalf("err %T is not config.Errors", err)
	}
	for _, name := range []string{"CLOUDFRONT_KEY_PAIR_ID", "COOKIE_SAMESITE", "COOKIE_PATH", "COOKIE_DOMAIN", "OIDC_ISSUER"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%s", name, err)
		}
	}
	if strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("error leaks the key:\n%s", err)
	}
}

func TestRunRefusals(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	dir := t.TempDir()
	badScopes := filepath.Join(dir, "scopes.yaml")
	if err := os.WriteFile(badScopes, []byte("scopes:\n  - name: private\n    path: /t/{tenant_id}/*\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missingScopes := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantText string
	}{
		{"unknown command", []string{"server", "frobnicate"}, nil, 2, "unknown command"},
		{"unknown flag", []string{"server", "--nope"}, nil, 2, ""},
		{"dev auth without --dev", []string{"server"}, map[string]string{"AUTH_MODE": "dev"}, 2, "--dev"},
		{"busy port", []string{"server", "--dev"}, map[string]string{"LISTEN_ADDR": busy.Addr().String(), "METRICS_ADDR": ""}, 1, "listen api"},
		{"scopes file naming an unknown claim", []string{"server", "--dev"}, map[string]string{"SCOPES_FILE": badScopes}, 2,
			"SCOPES_FILE: " + badScopes + `:2: scope "private": path uses unknown claim {tenant_id}`},
		{"scopes file missing", []string{"server", "--dev"}, map[string]string{"SCOPES_FILE": missingScopes}, 2,
			"SCOPES_FILE: " + missingScopes + ": no such file or directory"},
		{"unparsable key", []string{"server", "--dev"}, map[string]string{"CLOUDFRONT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----", "CLOUDFRONT_KEY_PAIR_ID": "K1", "LISTEN_ADDR": "127.0.0.1:0", "METRICS_ADDR": ""}, 1, "CLOUDFRONT_PRIVATE_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, tt.args, envOf(tt.env), nil, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("run succeeded")
			}
			if code := exitCode(err); code != tt.wantCode {
				t.Errorf("exit code %d, want %d (%v)", code, tt.wantCode, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}

// TestBinarySIGTERM builds the real binary, runs it in dev mode, and checks
// that SIGTERM stops it cleanly with exit status 0.
func TestBinarySIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	logs := &testlog.Buffer{}
	cmd := exec.Command(bin, "--dev")
	cmd.Env = append(os.Environ(), "LISTEN_ADDR=127.0.0.1:0", "DEV_CDN_ADDR=127.0.0.1:0", "METRICS_ADDR=")
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + listenAddr(t, logs, "api")
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", logs)
	}
}
