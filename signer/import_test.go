package signer_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// importProgram is a Go service of its own, in a module of its own, that
// imports the public signer package the way README's "Use the library from
// Go" tells users to.
const importProgram = `package main

import (
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/signer"
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
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	cookies, err := s.Cookies(signer.Grant{
		Resource: "https://media.example.com/media/alice/*",
		Expires:  now.Add(10 * time.Minute),
	}, signer.CookieOptions{Domain: "example.com"})
	if err != nil {
		log.Fatal(err)
	}
	var policy []byte
	for _, c := range cookies {
		fmt.Println(c.Name + strings.TrimPrefix(c.String(), c.Name+"="+c.Value))
		switch c.Name {
		case signer.CookiePolicy:
			policy, err = signer.DecodeBase64(c.Value)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println("policy " + string(policy))
		case signer.CookieSignature:
			fmt.Println("verify", signer.Verify(s.Public(), s.HashAlgorithm(), policy, c.Value))
		case signer.CookieKeyPairID:
			fmt.Println("key pair id " + c.Value)
		}
	}
}
`

// TestImportFromAnotherModule builds and runs a program in a fresh module
// that imports signer through a replace directive: it proves the package is
// importable from outside this module (not internal, no test-only
// dependencies) and that its documented usage works there.
func TestImportFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module with the go command")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s: %v", root, err)
	}
	dir := t.TempDir()
	key, err := os.ReadFile(filepath.Join("testdata", "keys", "rsa2048-pkcs8.pem"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	goMod := "module example.test/importcheck\n\ngo 1.26\n\n" +
		"require github.com/cfcookies/cfcookies v0.0.0\n\n" +
		"replace github.com/cfcookies/cfcookies => " + filepath.ToSlash(root) + "\n"
	for name, data := range map[string][]byte{
		"go.mod":  []byte(goMod),
		"go.sum":  sum,
		"main.go": []byte(importProgram),
		"key.pem": key,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	// The go command that built this test, not whichever is first on PATH.
	// go test builds and runs the test binary in place, so the root it was
	// built with is still the right one.
	//nolint:staticcheck // SA1019: the deprecation concerns binaries copied elsewhere
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	goRun := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, goCmd, args...)
		cmd.Dir = dir
		// GOFLAGS is replaced, not extended: -mod=mod lets tidy fill in the
		// requirements; GOWORK=off keeps a go.work elsewhere out of it;
		// GOTOOLCHAIN=local forbids fetching another toolchain.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("go %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	goRun("mod", "tidy")
	got := goRun("run", ".")

	const attrs = "; Path=/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax"
	want := []string{
		"CloudFront-Policy" + attrs,
		`policy {"Statement":[{"Resource":"https://media.example.com/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1795263000}}}]}`,
		"CloudFront-Signature" + attrs,
		"verify <nil>",
		"CloudFront-Key-Pair-Id" + attrs,
		"key pair id K2JCJMDEHXQW5F",
		// SHA-1 signatures clear a CloudFront-Hash-Algorithm cookie left by
		// an earlier SHA-256 key.
		"CloudFront-Hash-Algorithm; Path=/; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
	}
	gotLines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(gotLines) != len(want) {
		t.Fatalf("program printed %d lines, want %d:\n%s", len(gotLines), len(want), got)
	}
	for i := range want {
		if gotLines[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, gotLines[i], want[i])
		}
	}
}
