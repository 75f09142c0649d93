package signer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// This file builds Go modules outside the repository that use the library
// the way another service does: a module of their own, their own go line and
// requirements, and a replace directive pointing at this module's directory.
// newConsumer is the reusable part; the tests below use it.

// Consumer module settings that mirror the user: an older go line and
// an older prometheus than the server's, both of which must survive go mod
// tidy once the library is required.
const (
	consumerGo         = "1.25"
	prometheusModule   = "github.com/prometheus/client_golang"
	prometheusVersion  = "v1.23.2"
	maxAddedModules    = 3 // besides the library itself
	consumerGoTimeout  = 3 * time.Minute
	consumerModulePath = "example.test/consumer"
)

// consumerModule is what newConsumer writes into a fresh directory.
type consumerModule struct {
	// Go is the go line; consumerGo when empty.
	Go string
	// Require lists requirements besides the library, as module path to
	// version.
	Require map[string]string
	// Library requires this module, replaced by its directory (with its
	// go.sum lines seeded, so the library's own requirements need no
	// checksum lookup).
	Library bool
	// Files maps slash-separated file names to their contents: main.go,
	// fixtures the program reads.
	Files map[string][]byte
}

// consumer is a module written by newConsumer, already tidied.
type consumer struct {
	t   *testing.T
	ctx context.Context
	dir string
}

// newConsumer writes m into a new temporary directory and runs go mod tidy
// there. It skips the test under -short, since it runs the go command and
// may download the consumer's requirements.
func newConsumer(t *testing.T, m consumerModule) *consumer {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a separate module with the go command")
	}
	ctx, cancel := context.WithTimeout(t.Context(), consumerGoTimeout)
	t.Cleanup(cancel)
	c := &consumer{t: t, ctx: ctx, dir: t.TempDir()}

	goLine := m.Go
	if goLine == "" {
		goLine = consumerGo
	}
	var mod strings.Builder
	mod.WriteString("module " + consumerModulePath + "\n\ngo " + goLine + "\n")
	paths := make([]string, 0, len(m.Require))
	for p := range m.Require {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		mod.WriteString("\nrequire " + p + " " + m.Require[p] + "\n")
	}
	files := map[string][]byte{}
	if m.Library {
		lib := libraryModule(t)
		mod.WriteString("\nrequire " + lib.Path + " v0.0.0\n\nreplace " + lib.Path + " => " + filepath.ToSlash(lib.Dir) + "\n")
		sum, err := os.ReadFile(filepath.Join(lib.Dir, "go.sum"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		files["go.sum"] = sum
	}
	files["go.mod"] = []byte(mod.String())
	for name, data := range m.Files {
		files[name] = data
	}
	for name, data := range files {
		p := filepath.Join(c.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.Go("mod", "tidy")
	return c
}

// Go runs the go command in the consumer's directory and returns its
// standard output; it fails the test if the command fails.
func (c *consumer) Go(args ...string) string {
	c.t.Helper()
	return runGo(c.t, c.ctx, c.dir, args...)
}

// goModJSON is the part of `go mod edit -json` the tests read.
type goModJSON struct {
	Go      string
	Require []struct {
		Path, Version string
		Indirect      bool
	}
}

// Mod returns the consumer's go.mod as go mod edit -json reads it.
func (c *consumer) Mod() goModJSON {
	c.t.Helper()
	var m goModJSON
	if err := json.Unmarshal([]byte(c.Go("mod", "edit", "-json")), &m); err != nil {
		c.t.Fatalf("go mod edit -json: %v", err)
	}
	return m
}

// Requirements returns the consumer's go.mod requirements, path to version.
func (c *consumer) Requirements() map[string]string {
	c.t.Helper()
	req := map[string]string{}
	for _, r := range c.Mod().Require {
		req[r.Path] = r.Version
	}
	return req
}

// Graph returns every module in the consumer's build list (go list -m all)
// but the consumer itself, path to version.
func (c *consumer) Graph() map[string]string {
	c.t.Helper()
	graph := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(c.Go("list", "-m", "all")), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			graph[f[0]] = f[1]
		}
	}
	return graph
}

// goCommand is the go command that built this test, not whichever is first
// on PATH. go test builds and runs the test binary in place, so the root it
// was built with is still the right one.
func goCommand() string {
	//nolint:staticcheck // SA1019: the deprecation concerns binaries copied elsewhere
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// runGo runs the go command in dir. GOFLAGS is replaced, not extended:
// -mod=mod lets tidy fill in the requirements; GOWORK=off keeps a go.work
// elsewhere out of it; GOTOOLCHAIN=local forbids fetching another toolchain.
func runGo(t *testing.T, ctx context.Context, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, goCommand(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s%s", strings.Join(args, " "), dir, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// library is the module this test belongs to.
type library struct {
	Path, Dir string
	// Packages are its importable packages, found by go list so that
	// packages added later are covered: no main package, nothing under a
	// directory named internal (go list already leaves out testdata).
	Packages []string
}

func libraryModule(t *testing.T) library {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), consumerGoTimeout)
	defer cancel()
	var lib library
	f := strings.Fields(runGo(t, ctx, ".", "list", "-m", "-f", "{{.Path}} {{.Dir}}"))
	if len(f) != 2 {
		t.Fatalf("go list -m: %q", f)
	}
	lib.Path, lib.Dir = f[0], f[1]
	out := runGo(t, ctx, lib.Dir, "list", "-f", `{{if and .GoFiles (ne .Name "main")}}{{.ImportPath}}{{end}}`, "./...")
	for _, p := range strings.Fields(out) {
		if slices.Contains(strings.Split(p, "/"), "internal") {
			continue
		}
		lib.Packages = append(lib.Packages, p)
	}
	if !slices.Contains(lib.Packages, lib.Path) {
		t.Fatalf("go list found %q, without %s", lib.Packages, lib.Path)
	}
	return lib
}

// importProgram is a Go service of its own, in a module of its own, that
// imports the public signer package the way docs/library.md
// tells users to. It also imports prometheus, as the consumer whose
// requirements must not move, and every other public package of the library
// (the line "\t// more imports\n" is replaced by them).
const importProgram = `package main

import (
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/signer"
	"github.com/prometheus/client_golang/prometheus"
	// more imports
)

func main() {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "consumer_starts_total"}))
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

// baselineProgram is the same consumer before it uses the library.
const baselineProgram = `package main

import "github.com/prometheus/client_golang/prometheus"

func main() {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "consumer_starts_total"}))
}
`

// TestImportFromAnotherModule builds and runs a program in a module of its
// own, on go 1.25 with prometheus v1.23.2, that imports every public package
// of the library through a replace directive. It proves the packages are
// importable from outside (not internal, no test-only dependencies), that
// the library is lean (after go mod tidy the consumer keeps its go line and
// its requirements and gains at most maxAddedModules modules besides the
// library, compared with the same consumer without it), and that the
// documented usage works there.
func TestImportFromAnotherModule(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds separate modules with the go command")
	}
	lib := libraryModule(t)
	key, err := os.ReadFile(filepath.Join("testdata", "keys", "rsa2048-pkcs8.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var more strings.Builder
	for _, p := range lib.Packages {
		if p != lib.Path {
			more.WriteString("\t_ \"" + p + "\"\n")
		}
	}
	program := strings.Replace(importProgram, "\t// more imports\n", more.String(), 1)
	t.Logf("the consumer imports %q", lib.Packages)
	require := map[string]string{prometheusModule: prometheusVersion}

	base := newConsumer(t, consumerModule{Require: require, Files: map[string][]byte{"main.go": []byte(baselineProgram)}})
	c := newConsumer(t, consumerModule{Require: require, Library: true, Files: map[string][]byte{"main.go": []byte(program), "key.pem": key}})

	baseMod, mod := base.Mod(), c.Mod()
	for _, m := range []goModJSON{baseMod, mod} {
		if m.Go != consumerGo {
			t.Errorf("after go mod tidy the consumer's go line is %s, want %s kept", m.Go, consumerGo)
		}
	}
	baseReq, req := base.Requirements(), c.Requirements()
	if v := req[prometheusModule]; v != prometheusVersion {
		t.Errorf("after go mod tidy the consumer requires %s %s, want %s kept", prometheusModule, v, prometheusVersion)
	}
	for _, graphs := range []struct {
		what       string
		base, with map[string]string
	}{
		{"go.mod requirements", baseReq, req},
		{"modules in the build list", base.Graph(), c.Graph()},
	} {
		var added []string
		for p, v := range graphs.with {
			bv, ok := graphs.base[p]
			switch {
			case p == lib.Path:
			case !ok:
				added = append(added, p+" "+v)
			case bv != v:
				t.Errorf("%s: the library moves %s from %s to %s", graphs.what, p, bv, v)
			}
		}
		slices.Sort(added)
		t.Logf("%s: the library adds %d besides itself: %q", graphs.what, len(added), added)
		if len(added) > maxAddedModules {
			t.Errorf("%s: the library adds %d modules besides itself, want at most %d: %q", graphs.what, len(added), maxAddedModules, added)
		}
	}

	got := c.Go("run", ".")
	const attrs = "; Path=/; Domain=example.com; Expires=Sat, 21 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax"
	want := []string{
		"CloudFront-Policy" + attrs,
		`policy {"Statement":[{"Resource":"https://media.example.com/media/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1795263000}}}]}`,
		"CloudFront-Signature" + attrs,
		"verify <nil>",
		"CloudFront-Key-Pair-Id" + attrs,
		"key pair id K2JCJMDEHXQW5F",
		// The zero Options sign with SHA-256, and the fourth cookie says so.
		"CloudFront-Hash-Algorithm" + attrs,
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

// TestLibraryRequirements keeps the library's go.mod lean: the AWS sign
// module and what it brings (aws-sdk-go-v2, smithy-go), nothing else, tests
// included, since go mod tidy lists test dependencies too.
func TestLibraryRequirements(t *testing.T) {
	t.Parallel()
	lib := libraryModule(t)
	var m goModJSON
	if err := json.Unmarshal([]byte(runGo(t, t.Context(), lib.Dir, "mod", "edit", "-json")), &m); err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	const sign = "github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
	allowed := []string{sign, "github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}
	var direct []string
	for _, r := range m.Require {
		if !slices.Contains(allowed, r.Path) {
			t.Errorf("go.mod requires %s %s: the library may require only %s (and its indirect %q)", r.Path, r.Version, sign, allowed[1:])
		}
		if !r.Indirect {
			direct = append(direct, r.Path)
		}
	}
	if !slices.Equal(direct, []string{sign}) {
		t.Errorf("go.mod's direct requirements are %q, want only %s", direct, sign)
	}
}
