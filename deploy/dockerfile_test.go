package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	dfparser "github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = ".."

// dockerfile is the parsed Dockerfile at the repository root.
type dockerfile struct {
	stages   []instructions.Stage
	metaArgs map[string]string // ARG defaults before the first FROM
	warnings []string          // buildkit's parser and linter warnings
}

func parseDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := dfparser.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	df := &dockerfile{metaArgs: map[string]string{}}
	for _, w := range res.Warnings {
		df.warnings = append(df.warnings, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, _ []dfparser.Range) {
		df.warnings = append(df.warnings, rule+": "+msg)
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	df.stages = stages
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			df.metaArgs[kv.Key] = kv.ValueString()
		}
	}
	if len(df.stages) == 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	return df
}

// final is the stage the image is made of.
func (df *dockerfile) final() instructions.Stage { return df.stages[len(df.stages)-1] }

// commands returns the stage's commands of type T.
func commands[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// env is the stage's ENV, last value wins.
func env(s instructions.Stage) map[string]string {
	m := map[string]string{}
	for _, e := range commands[*instructions.EnvCommand](s) {
		for _, kv := range e.Env {
			m[kv.Key] = kv.Value
		}
	}
	return m
}

var (
	digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	// releaseTag is a tag naming an exact release, such as 1.26.8-bookworm.
	releaseTag = regexp.MustCompile(`:[^/:@]*\d+\.\d+\.\d+[^/:@]*$`)
	// secretName is a variable name that suggests a credential.
	secretName = regexp.MustCompile(`(?i)KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL`)
	// secretValue is key material or an AWS access key id.
	secretValue = regexp.MustCompile(`-----BEGIN|\b(AKIA|ASIA)[0-9A-Z]{16}\b`)
)

// TestDockerfile lints the Dockerfile for what makes the image unsafe or
// unbuildable where the usual registry is unreachable.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := parseDockerfile(t)
	final := df.final()

	t.Run("buildkit reports nothing", func(t *testing.T) {
		for _, w := range df.warnings {
			t.Error(w)
		}
	})

	t.Run("every base image is a build argument pinned by digest or release tag", func(t *testing.T) {
		var names []string
		for _, s := range df.stages {
			if slices.Contains(names, s.BaseName) {
				names = append(names, s.Name)
				continue // FROM an earlier stage
			}
			names = append(names, s.Name)
			arg, ok := strings.CutPrefix(s.BaseName, "${")
			arg, ok2 := strings.CutSuffix(arg, "}")
			if !ok || !ok2 {
				t.Errorf("FROM %s: name the image with a build argument (FROM ${NAME}) so it can be replaced where its registry is unreachable", s.BaseName)
				continue
			}
			ref, ok := df.metaArgs[arg]
			switch {
			case !ok || ref == "":
				t.Errorf("FROM %s: ARG %s before the first FROM needs a default", s.BaseName, arg)
			case !digestRef.MatchString(ref) && !releaseTag.MatchString(ref):
				t.Errorf("ARG %s=%s: pin the image by @sha256 digest or by a tag naming an exact release (x.y.z)", arg, ref)
			}
		}
		for _, want := range []string{"GO_IMAGE", "RUNTIME_IMAGE"} {
			if _, ok := df.metaArgs[want]; !ok {
				t.Errorf("no ARG %s: docs/deploying.md and deploy/image_test.go pass it", want)
			}
		}
		if ref := df.metaArgs["RUNTIME_IMAGE"]; !strings.Contains(ref, "distroless/static") || !strings.Contains(ref, "nonroot") {
			t.Errorf("RUNTIME_IMAGE=%s: want distroless static :nonroot (no shell, no package manager)", ref)
		}
	})

	t.Run("the image runs as a numeric non-root user", func(t *testing.T) {
		users := commands[*instructions.UserCommand](final)
		if len(users) == 0 {
			t.Fatal("final stage has no USER: the image would run as its base's user, root on most bases")
		}
		// Numeric, so Kubernetes' runAsNonRoot and ECS can tell without an /etc/passwd.
		u := users[len(users)-1].User
		if u != "65532:65532" {
			t.Errorf("USER %s, want 65532:65532 (distroless nonroot, numeric so runAsNonRoot can check it)", u)
		}
	})

	t.Run("no secret in ARG or ENV", func(t *testing.T) {
		check := func(where, name, value string, isArg bool) {
			switch {
			case secretValue.MatchString(value):
				t.Errorf("%s %s holds key material: it would stay in the image's history", where, name)
			case isArg && secretName.MatchString(name):
				t.Errorf("%s %s: a build argument's value is recorded in the image's history; use RUN --mount=type=secret", where, name)
			case secretName.MatchString(name) && value != "":
				t.Errorf("%s %s=...: a credential baked into the image; pass it at run time (ECS secrets)", where, name)
			}
		}
		for k, v := range df.metaArgs {
			check("ARG", k, v, true)
		}
		for _, s := range df.stages {
			for _, a := range commands[*instructions.ArgCommand](s) {
				for _, kv := range a.Args {
					check("ARG", kv.Key, kv.ValueString(), true)
				}
			}
			for k, v := range env(s) {
				check("ENV", k, v, false)
			}
		}
	})

	t.Run("HEALTHCHECK runs the binary's healthcheck without a shell", func(t *testing.T) {
		hcs := commands[*instructions.HealthCheckCommand](final)
		if len(hcs) == 0 {
			t.Fatal("final stage has no HEALTHCHECK")
		}
		test := hcs[len(hcs)-1].Health.Test
		eps := commands[*instructions.EntrypointCommand](final)
		if len(eps) == 0 {
			t.Fatal("final stage has no ENTRYPOINT")
		}
		bin := eps[len(eps)-1].CmdLine[0]
		if want := []string{"CMD", bin, "healthcheck"}; !slices.Equal(test, want) {
			t.Errorf("HEALTHCHECK %q, want %q: exec form, since the image has no shell", test, want)
		}
	})

	t.Run("ENTRYPOINT is exec form", func(t *testing.T) {
		for _, ep := range commands[*instructions.EntrypointCommand](final) {
			if ep.PrependShell {
				t.Errorf("ENTRYPOINT %s: shell form needs /bin/sh, which the image lacks, and would keep SIGTERM from the server", ep.CmdLine)
			}
		}
		for _, c := range commands[*instructions.CmdCommand](final) {
			if c.PrependShell {
				t.Errorf("CMD %s: use exec form", c.CmdLine)
			}
		}
	})

	t.Run("the listeners are on all interfaces and exposed", func(t *testing.T) {
		var exposed []string
		for _, e := range commands[*instructions.ExposeCommand](final) {
			exposed = append(exposed, e.Ports...)
		}
		e := env(final)
		for _, name := range []string{"LISTEN_ADDR", "METRICS_ADDR"} {
			host, port, err := net.SplitHostPort(e[name])
			switch {
			case err != nil:
				t.Errorf("ENV %s=%q: want host:port: %v", name, e[name], err)
			case host != "":
				t.Errorf("ENV %s=%s: listen on all interfaces inside a container, or nothing outside reaches it", name, e[name])
			case !slices.Contains(exposed, port):
				t.Errorf("ENV %s=%s but EXPOSE %v", name, e[name], exposed)
			}
		}
	})

	// docs/keys.md's FIPS image: --build-arg GOFIPS140=v1.0.0 must reach go build,
	// and the default build must stay the standard one.
	t.Run("GOFIPS140 is a build argument, off by default, given to go build", func(t *testing.T) {
		build := df.stages[0]
		def, declared := "", false
		for _, a := range commands[*instructions.ArgCommand](build) {
			for _, kv := range a.Args {
				if kv.Key == "GOFIPS140" && kv.Value != nil {
					def, declared = *kv.Value, true
				}
			}
		}
		if !declared || def != "off" {
			t.Errorf("build stage: ARG GOFIPS140=%q (declared %v), want off", def, declared)
		}
		passed := false
		for _, r := range commands[*instructions.RunCommand](build) {
			line := strings.Join(r.CmdLine, " ")
			passed = passed || strings.Contains(line, "go build") && strings.Contains(line, "GOFIPS140=${GOFIPS140}")
		}
		if !passed {
			t.Error("the go build does not set GOFIPS140=${GOFIPS140}")
		}
	})

	t.Run("the build is static, trimmed, versioned and caches modules", func(t *testing.T) {
		build := df.stages[0]
		runs := commands[*instructions.RunCommand](build)
		var download, compile = -1, -1
		for i, r := range runs {
			line := strings.Join(r.CmdLine, " ")
			if strings.Contains(line, "go mod download") {
				download = i
			}
			if strings.Contains(line, "go build") {
				compile = i
				for _, want := range []string{"-trimpath", "-X main.version=${VERSION}"} {
					if !strings.Contains(line, want) {
						t.Errorf("RUN %s: missing %s", line, want)
					}
				}
			}
		}
		if compile < 0 {
			t.Fatal("first stage runs no go build")
		}
		if e := env(build); e["CGO_ENABLED"] != "0" && !strings.Contains(strings.Join(runs[compile].CmdLine, " "), "CGO_ENABLED=0") {
			t.Error("the go build does not set CGO_ENABLED=0: the binary would need a libc that distroless static lacks")
		}
		// go mod download must run after copying only go.mod and go.sum
		// files, and before the sources, or every edit downloads every
		// module again. Those files are the server's and those of each
		// module go.mod replaces with a directory (the library), without
		// which go mod download fails.
		const modFiles = "COPY go.mod and go.sum files"
		var order, copied []string
		for _, c := range build.Commands {
			switch c := c.(type) {
			case *instructions.CopyCommand:
				onlyModFiles := true
				for _, p := range c.SourcePaths {
					onlyModFiles = onlyModFiles && (path.Base(p) == "go.mod" || path.Base(p) == "go.sum")
				}
				switch {
				case !onlyModFiles:
					order = append(order, "COPY "+strings.Join(c.SourcePaths, " "))
				case len(order) == 0 || order[len(order)-1] != modFiles:
					order = append(order, modFiles)
				}
				if onlyModFiles && !slices.Contains(order, "RUN go mod download") {
					for _, p := range c.SourcePaths {
						copied = append(copied, path.Clean(p))
					}
				}
			case *instructions.RunCommand:
				if strings.Contains(strings.Join(c.CmdLine, " "), "go mod download") {
					order = append(order, "RUN go mod download")
				}
			}
		}
		if want := []string{modFiles, "RUN go mod download", "COPY ."}; download < 0 || !slices.Equal(order, want) {
			t.Errorf("first stage copies and downloads in the order %q, want %q", order, want)
		}
		for _, f := range moduleFiles(t) {
			if !slices.Contains(copied, f) {
				t.Errorf("first stage does not copy %s before go mod download (copies %q)", f, copied)
			}
		}
		if !hasStringVar(t, filepath.Join(repoRoot, "cmd", "server"), "version") {
			t.Error("cmd/server has no package-level string var version: -X main.version would be ignored silently")
		}
	})
}

// hasStringVar reports whether the Go package in dir declares a package-level
// var name of type string or with a string literal value.
func hasStringVar(t *testing.T, dir, name string) bool {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != name {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						return true
					}
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// TestDockerignore checks that the build context keeps everything the binary
// is built from and leaves out VCS data, state and key material.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(p string) bool {
		ok, err := pm.MatchesOrParentMatches(filepath.ToSlash(p))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// Every file go build ./cmd/server reads from this module and from the
	// modules go.mod replaces with a directory of the repository (the
	// library), embedded files included, as the go command itself lists them.
	needed := moduleFiles(t)
	out, err := goCmd(t, "list", "-deps", "-f",
		`{{with .Module}}{{if or .Main (and .Replace (eq .Replace.Version ""))}}`+
			`{{range $.GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{range $.EmbedFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		"./cmd/server")
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Fields(out) {
		rel, err := filepath.Rel(root, line)
		if err != nil {
			t.Fatal(err)
		}
		needed = append(needed, rel)
	}
	if len(needed) < 10 {
		t.Fatalf("go list found only %v", needed)
	}
	for _, p := range needed {
		if excluded(p) {
			t.Errorf(".dockerignore excludes %s, which go build ./cmd/server needs", p)
		}
	}

	// Files that must never reach a build layer: the tracked key fixtures
	// and what an operator's checkout may hold.
	secrets := []string{".git/config", ".env", "deploy/terraform/terraform.tfstate",
		"deploy/terraform/terraform.tfstate.backup", "deploy/terraform/prod.tfvars",
		"deploy/terraform/.terraform/providers/x", "cloudfront-private.pem", ".cache/staticcheck"}
	tracked, err := exec.Command("git", "-C", repoRoot, "ls-files", "*.pem", "*.key").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	secrets = append(secrets, strings.Fields(string(tracked))...)
	for _, p := range secrets {
		if !excluded(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
}

// moduleFiles returns go.mod and go.sum, and the go.mod and go.sum of each
// module that go.mod replaces with a directory, relative to the repository
// root: what go mod download reads.
func moduleFiles(t *testing.T) []string {
	t.Helper()
	out, err := goCmd(t, "mod", "edit", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var mod struct {
		Replace []struct {
			New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal([]byte(out), &mod); err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	files := []string{"go.mod", "go.sum"}
	for _, r := range mod.Replace {
		if r.New.Version != "" {
			continue // a module version, not a directory
		}
		dir := path.Clean(r.New.Path)
		if path.IsAbs(dir) || dir == ".." || strings.HasPrefix(dir, "../") {
			t.Errorf("go.mod replaces a module with %s, outside the repository: the image cannot be built from it", r.New.Path)
			continue
		}
		files = append(files, path.Join(dir, "go.mod"))
		if _, err := os.Stat(filepath.Join(repoRoot, dir, "go.sum")); err == nil {
			files = append(files, path.Join(dir, "go.sum"))
		}
	}
	return files
}

// goCmd runs the go command in the repository root.
func goCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}
