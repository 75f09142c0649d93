package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/testlog"
	"github.com/cfcookies/cfcookies/signer"
)

// fipsOnlyEnv is the environment of a process in Go's FIPS 140-3 mode with
// enforcement, plus extra: GODEBUG=fips140=only added to any GODEBUG the
// test runs with.
func fipsOnlyEnv(extra ...string) []string {
	godebug := "fips140=only"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	return append(append(os.Environ(), "GODEBUG="+godebug), extra...)
}

// TestFIPS140OnlyServer runs the real binary under GODEBUG=fips140=only:
// keygen makes an RSA-2048 and a P-256 key; the server, with each of them
// and with its ephemeral dev key, issues four cookies signed with SHA-256
// that signer.Verifier accepts and that its emulated CloudFront, in the
// same mode, serves media for; verify accepts them, and refuses to check a
// SHA-1 set, saying why; and CLOUDFRONT_HASH_ALGORITHM=SHA1 stops the
// server at start-up with exit status 2 and a message naming the variable.
func TestFIPS140OnlyServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GODEBUG=") // the go command itself runs as usual
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	runBin := func(stdin string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...) // #nosec G204 -- the binary just built
		cmd.Env = fipsOnlyEnv()
		cmd.Stdin = strings.NewReader(stdin)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			t.Fatalf("%v: %v", args, err)
		}
		return o.String(), e.String(), code
	}

	type key struct {
		id, file, pubFile string
		pub               crypto.PublicKey
	}
	var keys []key
	for _, typ := range []string{"rsa", "ecdsa"} {
		k := key{id: "K" + strings.ToUpper(typ) + "FIPS", file: filepath.Join(dir, typ+".pem"), pubFile: filepath.Join(dir, typ+"-public.pem")}
		pubPEM, stderr, code := runBin("", "keygen", "--type", typ, "--out", k.file)
		if code != 0 {
			t.Fatalf("keygen --type %s under fips140=only: exit %d\n%s", typ, code, stderr)
		}
		if err := os.WriteFile(k.pubFile, []byte(pubPEM), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(k.file)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := signer.ParsePrivateKeyPEM(b, signer.KeyOptions{})
		if err != nil {
			t.Fatalf("keygen --type %s wrote a key CloudFront would refuse: %v", typ, err)
		}
		k.pub = priv.Public()
		keys = append(keys, k)
	}

	for _, k := range keys {
		env := []string{"CLOUDFRONT_PRIVATE_KEY_FILE=" + k.file, "CLOUDFRONT_KEY_PAIR_ID=" + k.id}
		cookies, cdn, logs := fipsDevServer(t, bin, env)
		want := map[string]crypto.PublicKey{k.id: k.pub}
		checkFIPSCookies(t, k.id, cookies, cdn, want, logs)

		// verify, in the same mode, accepts them, and explains why it
		// cannot check them without CloudFront-Hash-Algorithm (SHA-1).
		var header, noHash []string
		for _, c := range cookies {
			header = append(header, c.Name+"="+c.Value)
			if c.Name != signer.CookieHashAlgorithm {
				noHash = append(noHash, c.Name+"="+c.Value)
			}
		}
		args := []string{"verify", "--url", "http://" + localhostAt(t, cdn) + "/media/alice/image.png", "--cookie", "-", "--public-key", k.id + "=" + k.pubFile}
		if stdout, stderr, code := runBin(strings.Join(header, "; "), args...); code != 0 || !strings.Contains(stdout, "ACCEPTED") {
			t.Errorf("verify %s under fips140=only: exit %d\n%s%s", k.id, code, stdout, stderr)
		}
		stdout, stderr, code := runBin(strings.Join(noHash, "; "), args...)
		wantWhy := "GODEBUG=fips140=only refuses SHA-1"
		if k.id == "KECDSAFIPS" {
			wantWhy = "ECDSA, which signs with SHA256"
		}
		if code != 1 || !strings.Contains(stdout, wantWhy) {
			t.Errorf("verify %s without the hash cookie: exit %d, want 1 saying %q\n%s%s", k.id, code, wantWhy, stdout, stderr)
		}
	}

	t.Run("ephemeral dev key", func(t *testing.T) {
		t.Parallel()
		cookies, cdn, logs := fipsDevServer(t, bin, nil)
		pub := loggedPublicKey(t, logs)
		checkFIPSCookies(t, "KCFCOOKIESDEV", cookies, cdn, map[string]crypto.PublicKey{"KCFCOOKIESDEV": pub}, logs)
	})

	t.Run("SHA1 refused at start-up", func(t *testing.T) {
		t.Parallel()
		for _, hash := range []string{"SHA1", "sha-1"} {
			// A server that starts anyway is killed, and fails the test, after a while.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--dev") // #nosec G204 -- the binary just built
			cmd.Env = fipsOnlyEnv("LISTEN_ADDR=127.0.0.1:0", "DEV_CDN_ADDR=127.0.0.1:0", "METRICS_ADDR=",
				"CLOUDFRONT_PRIVATE_KEY_FILE="+keys[0].file, "CLOUDFRONT_KEY_PAIR_ID="+keys[0].id, "CLOUDFRONT_HASH_ALGORITHM="+hash)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("CLOUDFRONT_HASH_ALGORITHM=%s under fips140=only: %v, want exit status 2\n%s", hash, err, out)
			}
			for _, want := range []string{"CLOUDFRONT_HASH_ALGORITHM", "SHA1 is refused in FIPS 140-3 mode (GODEBUG=fips140=only)", "not FIPS-approved", "set SHA256"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("CLOUDFRONT_HASH_ALGORITHM=%s: the message does not say %q:\n%s", hash, want, out)
				}
			}
		}
	})
}

// fipsDevServer runs bin --dev under GODEBUG=fips140=only with env on
// loopback ports, asks it for alice's cookies, and returns them, the
// address of its emulated CloudFront and its logs. The server is stopped
// with SIGTERM, and must exit 0, when the test ends.
func fipsDevServer(t *testing.T, bin string, env []string) ([]*http.Cookie, string, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	cmd := exec.CommandContext(context.WithoutCancel(t.Context()), bin, "--dev") // #nosec G204 -- the binary just built
	cmd.Env = fipsOnlyEnv(append([]string{"LISTEN_ADDR=127.0.0.1:0", "DEV_CDN_ADDR=127.0.0.1:0", "METRICS_ADDR="}, env...)...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("server under fips140=only: exit after SIGTERM: %v\n%s", err, logs)
		}
	})
	api := "http://" + listenAddr(t, logs, "api")
	cdn := "http://" + listenAddr(t, logs, "cdn")
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, api+"/auth/media-cookies", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Dev-User", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /auth/media-cookies under fips140=only: %d %s\n%s", resp.StatusCode, body, logs)
	}
	return resp.Cookies(), cdn, logs
}

// checkFIPSCookies checks the four cookies a server under fips140=only
// issued: SHA-256, accepted by signer.Verifier with the key group, and by
// the server's emulated CloudFront for alice's media only.
func checkFIPSCookies(t *testing.T, id string, cookies []*http.Cookie, cdn string, group map[string]crypto.PublicKey, logs *testlog.Buffer) {
	t.Helper()
	byName := map[string]string{}
	var sent []*http.Cookie
	for _, c := range cookies {
		byName[c.Name] = c.Value
		sent = append(sent, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	if len(cookies) != 4 || byName[signer.CookieHashAlgorithm] != "SHA256" || byName[signer.CookieKeyPairID] != id {
		t.Fatalf("%s: %d cookies, %s=%q, %s=%q; want four, SHA256 and %s", id, len(cookies),
			signer.CookieHashAlgorithm, byName[signer.CookieHashAlgorithm], signer.CookieKeyPairID, byName[signer.CookieKeyPairID], id)
	}
	v, err := signer.NewVerifier(group, signer.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	host := localhostAt(t, cdn) // the dev CLOUDFRONT_DOMAIN, which the browser would use
	if d := v.Check(sent, "http://"+host+"/media/alice/image.png", netip.Addr{}, time.Time{}); !d.Allowed {
		t.Errorf("%s: signer.Verifier denies the cookies: %s %s", id, d.Code, d.Reason)
	}
	for path, want := range map[string]int{"/media/alice/image.png": http.StatusOK, "/media/bob/image.png": http.StatusForbidden} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, cdn+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		for _, c := range sent {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: the emulated CloudFront under fips140=only answers %s with %d, want %d\n%s", id, path, resp.StatusCode, want, logs)
		}
	}
}

// loggedPublicKey reads the public key of the "signing key loaded" line.
func loggedPublicKey(t *testing.T, logs *testlog.Buffer) crypto.PublicKey {
	t.Helper()
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, `"signing key loaded"`) {
			continue
		}
		var entry struct {
			PublicKeyPEM string `json:"public_key_pem"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(entry.PublicKeyPEM))
		if block == nil {
			t.Fatalf("public_key_pem is not PEM:\n%s", line)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	t.Fatalf("no signing key loaded line:\n%s", logs)
	return nil
}
