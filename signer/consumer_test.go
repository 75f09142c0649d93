package signer_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// consumerServer is a Go service of its own that mounts the public
// handler and the refresh middleware on net/http's ServeMux, the way
// docs/library.md shows, and serves on 127.0.0.1:0. Its
// scope lives 4 seconds, so that the test can reach its refresh window.
const consumerServer = `package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

func main() {
	pemBytes, err := os.ReadFile("key.pem")
	if err != nil {
		log.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{})
	if err != nil {
		log.Fatal(err)
	}
	private, err := signer.ParsePathTemplate("/media/{sub}/*")
	if err != nil {
		log.Fatal(err)
	}
	h, err := mediacookies.New(mediacookies.Config[mediacookies.Claims]{
		Signer:  s,
		BaseURL: "https://media.example.test",
		Scopes: []mediacookies.Scope[mediacookies.Claims]{
			{Name: "private", Path: private, CookiePath: "/media/", TTL: 4 * time.Second},
		},
		Cookie: signer.CookieOptions{Domain: "example.test"},
		Identify: func(r *http.Request) (mediacookies.Claims, error) {
			if u := r.Header.Get("X-User"); u != "" {
				return mediacookies.Claims{"sub": u}, nil
			}
			return nil, errors.New("no user")
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/media-cookies", h.ServeIssue)
	mux.HandleFunc("DELETE /auth/media-cookies", h.ServeClear)
	mux.Handle("GET /media/{user}/player", h.Refresh(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "player\n")
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.Serve(ln))
}
`

// TestConsumerServesCookies builds consumerServer in a module outside the
// repository, runs it, and talks to it over real HTTP: an issuance sets
// cookies with the configured attributes whose signature verifies with the
// public key; through the middleware, fresh cookies get nothing added and
// cookies inside their refresh window are issued anew.
func TestConsumerServesCookies(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, consumerModule{Library: true, Files: map[string][]byte{
		"main.go": []byte(consumerServer),
		"key.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
	}})
	bin := filepath.Join(t.TempDir(), "consumer")
	c.Go("build", "-o", bin, ".")
	base := startConsumer(t, c.dir, bin)

	// do sends a request as alice with cookies and returns the answer,
	// its body read and closed.
	do := func(method, path string, cookies []*http.Cookie) answer {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "app.example.test" // under the cookie Domain, as the browser's page would be
		req.Header.Set("X-User", "alice")
		for _, ck := range cookies {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return answer{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies()}
	}

	resp := do("POST", "/auth/media-cookies", nil)
	if resp.status != http.StatusOK || resp.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("issue: %d, Cache-Control %q", resp.status, resp.header.Get("Cache-Control"))
	}
	issued := checkConsumerCookies(t, resp, key)

	// The refreshAfter of a 4 s policy is a second before its expiry, at
	// least two after issuance: a request now has fresh cookies.
	if resp := do("GET", "/media/alice/player", issued); resp.status != http.StatusOK || len(resp.cookies) != 0 {
		t.Fatalf("fresh cookies: %d, %d cookies set", resp.status, len(resp.cookies))
	}
	var expires time.Time
	for _, ck := range issued {
		if ck.Name == signer.CookiePolicy {
			expires = ck.Expires
		}
	}
	time.Sleep(time.Until(expires.Add(-time.Second)))
	resp = do("GET", "/media/alice/player", issued)
	if resp.status != http.StatusOK {
		t.Fatalf("near expiry: %d", resp.status)
	}
	refreshed := checkConsumerCookies(t, resp, key)
	for _, ck := range refreshed {
		if ck.Name == signer.CookiePolicy && !ck.Expires.After(expires) {
			t.Errorf("refreshed policy expires %s, not after %s", ck.Expires, expires)
		}
	}
}

// answer is what the test keeps of a response.
type answer struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
}

// startConsumer runs the consumer's binary in dir and returns its base
// URL, read from the first line it prints.
func startConsumer(t *testing.T, dir, bin string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.Fatal("the consumer printed no address")
		}
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("the consumer did not start")
	}
	return ""
}

// checkConsumerCookies checks the four cookies of an issuance (attributes,
// and a signature that verifies with key's public half) and returns them.
func checkConsumerCookies(t *testing.T, resp answer, key *ecdsa.PrivateKey) []*http.Cookie {
	t.Helper()
	byName := map[string]*http.Cookie{}
	for _, ck := range resp.cookies {
		if ck.Domain != "example.test" || ck.Path != "/media/" || !ck.Secure || !ck.HttpOnly ||
			ck.SameSite != http.SameSiteLaxMode || ck.MaxAge <= 0 || ck.MaxAge > 4 {
			t.Errorf("cookie attributes: %s", strings.TrimPrefix(ck.String(), ck.Name+"="+ck.Value))
		}
		byName[ck.Name] = ck
	}
	if len(byName) != 4 || byName[signer.CookieHashAlgorithm] == nil || byName[signer.CookieHashAlgorithm].Value != "SHA256" ||
		byName[signer.CookieKeyPairID] == nil || byName[signer.CookieKeyPairID].Value != "K2JCJMDEHXQW5F" ||
		byName[signer.CookiePolicy] == nil || byName[signer.CookieSignature] == nil {
		t.Fatalf("%d cookies", len(resp.cookies))
	}
	policy, err := signer.DecodeBase64(byName[signer.CookiePolicy].Value)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Statement []struct{ Resource string }
	}
	if err := json.Unmarshal(policy, &p); err != nil || len(p.Statement) != 1 || p.Statement[0].Resource != "https://media.example.test/media/alice/*" {
		t.Errorf("policy resource: %+v, %v", p, err)
	}
	if err := signer.Verify(&key.PublicKey, signer.SHA256, policy, byName[signer.CookieSignature].Value); err != nil {
		t.Errorf("signature: %v", err)
	}
	return resp.cookies
}
