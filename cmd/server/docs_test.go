package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/cfcookies/cfcookies/internal/config"
)

// markdownFiles lists the documents whose links TestDocsLinks checks:
// README.md, docs/*.md, web/README.md and every README.md under deploy/,
// as paths relative to the repository's root.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md", "web/README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		files = append(files, "docs/"+filepath.Base(d))
	}
	err = filepath.WalkDir(filepath.Join(root, "deploy"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .terraform and the like
		}
		if !d.IsDir() && d.Name() == "README.md" {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var present []string
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			present = append(present, f)
		}
	}
	return present
}

var (
	// mdLink is an inline link or image, [text](target "title"), once
	// code spans are blanked out.
	mdLink = regexp.MustCompile(`\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	// mdRefDef is a reference definition, [label]: target.
	mdRefDef = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)`)
	// codeSpan is an inline code span.
	codeSpan = regexp.MustCompile("`+[^`]*`+")
	// urlScheme starts an absolute URL (https:, mailto:).
	urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

// docLink is one relative link of a Markdown document.
type docLink struct {
	line   int
	target string
}

// relativeLinks returns the links of a Markdown document that are not
// absolute URLs, outside code blocks and code spans.
func relativeLinks(doc string) []docLink {
	var links []docLink
	fence := false
	for i, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		line = codeSpan.ReplaceAllStringFunc(line, func(s string) string { return strings.Repeat("x", len(s)) })
		var targets []string
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
		if m := mdRefDef.FindStringSubmatch(line); m != nil {
			targets = append(targets, m[1])
		}
		for _, target := range targets {
			if !urlScheme.MatchString(target) {
				links = append(links, docLink{i + 1, target})
			}
		}
	}
	return links
}

// headingAnchors returns the anchors GitHub gives a document's headings:
// the heading's text as rendered (no code marks, links reduced to their
// text), lower case, every character but letters, digits, spaces, "-"
// and "_" dropped, spaces made "-"; a repeated anchor gets "-1", "-2"...
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	count := map[string]int{}
	fence := false
	link := regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fence = !fence
			continue
		}
		hashes := len(line) - len(strings.TrimLeft(line, "#"))
		if fence || hashes == 0 || hashes > 6 || !strings.HasPrefix(line[hashes:], " ") {
			continue
		}
		text := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[hashes:]), "#"))
		text = link.ReplaceAllString(text, "$1")
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		anchor := b.String()
		if n := count[anchor]; n > 0 {
			count[anchor]++
			anchor += "-" + strconv.Itoa(n)
		} else {
			count[anchor] = 1
		}
		anchors[anchor] = true
	}
	return anchors
}

// brokenLinks checks every relative link of the documents (paths relative
// to root) and returns one "file:line: problem" per link that does not
// resolve to a file or directory inside root, or whose #anchor names no
// heading of the Markdown file it points to.
func brokenLinks(t *testing.T, root string, files []string) []string {
	t.Helper()
	var problems []string
	anchorsOf := map[string]map[string]bool{}
	anchors := func(path string) map[string]bool {
		if a, ok := anchorsOf[path]; ok {
			return a
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		anchorsOf[path] = headingAnchors(string(b))
		return anchorsOf[path]
	}
	for _, file := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range relativeLinks(string(b)) {
			where := fmt.Sprintf("%s:%d: %s", file, l.line, l.target)
			path, anchor, _ := strings.Cut(l.target, "#")
			if path == "" && anchor == "" {
				problems = append(problems, where+": empty link")
				continue
			}
			target := file
			if path != "" {
				if strings.HasPrefix(path, "/") {
					problems = append(problems, where+": absolute path; write it relative to "+file)
					continue
				}
				target = filepath.ToSlash(filepath.Join(filepath.Dir(file), path))
				if target == ".." || strings.HasPrefix(target, "../") {
					problems = append(problems, where+": outside the repository")
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
					problems = append(problems, where+": no such file or directory")
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				problems = append(problems, where+": an anchor into a file that is not Markdown")
				continue
			}
			if !anchors(target)[anchor] {
				problems = append(problems, fmt.Sprintf("%s: %s has no heading with the anchor #%s", where, target, anchor))
			}
		}
	}
	return problems
}

// TestDocsLinks checks that every relative link of README.md, docs/*.md,
// web/README.md and deploy/**/README.md resolves: the file or directory
// exists in the repository, and an #anchor names a heading of the
// Markdown file, as GitHub computes anchors.
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	files := markdownFiles(t, repoRoot)
	if !slices.Contains(files, "README.md") || len(files) < 10 {
		t.Fatalf("found only %v", files)
	}
	for _, p := range brokenLinks(t, repoRoot, files) {
		t.Error(p)
	}
}

// TestDocsLinkChecker feeds the checker broken links of each kind, and
// good ones, so that TestDocsLinks passing means something.
func TestDocsLinkChecker(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(path, body string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/b.md", "# B\n\n## `check`: will it pass CORS?\n\n## Twice\n\n## Twice\n\n## A [link](x.md) and FIPS 140-3\n\n```\n# not a heading\n```\n")
	write("src/a.go", "package a\n")
	write("README.md", strings.Join([]string{
		"# Top", // 1
		"[ok](docs/b.md) [ok](docs/b.md#b) [ok](src/)", // 2
		"[ok](docs/b.md#check-will-it-pass-cors)",      // 3
		"[ok](docs/b.md#twice-1) [ok](#top)",           // 4
		"[ok](docs/b.md#a-link-and-fips-140-3)",        // 5
		"[gone](docs/c.md)",                            // 6
		"[anchor](docs/b.md#twice-2)",                  // 7
		"[anchor](#nope) ![img](pic.svg)",              // 8
		"`[code](nowhere.md)` [web](https://x.test/y)", // 9
		"```",                                   // 10
		"[fenced](nowhere.md)",                  // 11
		"```",                                   // 12
		"[up](../outside.md) [abs](/docs/b.md)", // 13
		"[go](src/a.go#L1) [not](docs/b.md#not-a-heading)", // 14
		"[ref]: docs/missing.md",                           // 15
	}, "\n"))
	got := brokenLinks(t, root, []string{"README.md", "docs/b.md"})
	want := []string{
		"README.md:6: docs/c.md: no such file or directory",
		"README.md:7: docs/b.md#twice-2: docs/b.md has no heading with the anchor #twice-2",
		"README.md:8: #nope: README.md has no heading with the anchor #nope",
		"README.md:8: pic.svg: no such file or directory",
		"README.md:13: ../outside.md: outside the repository",
		"README.md:13: /docs/b.md: absolute path; write it relative to README.md",
		"README.md:14: src/a.go#L1: an anchor into a file that is not Markdown",
		"README.md:14: docs/b.md#not-a-heading: docs/b.md has no heading with the anchor #not-a-heading",
		"README.md:15: docs/missing.md: no such file or directory",
		"docs/b.md:9: x.md: no such file or directory",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDocsConfigurationTable checks that docs/configuration.md's table
// lists exactly the variables internal/config reads.
func TestDocsConfigurationTable(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	for _, tc := range []struct {
		dev bool
		env map[string]string
	}{
		{true, nil},
		{false, map[string]string{"AUTH_MODE": "oidc"}},
		{false, map[string]string{"AUTH_MODE": "alb"}},
		{false, map[string]string{"BIND_CLIENT_IP": "true", "TRUSTED_PROXIES": "0.0.0.0/0"}},
		{false, map[string]string{"CLOUDFRONT_PRIVATE_KEY_SECRET": "cfcookies/key"}},
		{false, map[string]string{"SCOPES_FILE": filepath.Join(t.TempDir(), "none.yaml")}},
	} {
		// The problems an incomplete environment has do not matter here,
		// only the names read.
		_, _ = config.Read(func(name string) (string, bool) {
			read[name] = true
			v, ok := tc.env[name]
			return v, ok
		}, tc.dev)
	}
	documented := tableNames(docSection(t, "docs/configuration.md", "## Variables"), regexp.MustCompile("`([A-Z][A-Z0-9_]+)`"))
	compareNames(t, "docs/configuration.md", "the variables internal/config reads", documented, read)
}

// TestDocsMetricsTable checks that docs/operations.md's table of series
// lists exactly the cfcookies_* metrics the server's code names.
func TestDocsMetricsTable(t *testing.T) {
	t.Parallel()
	inCode := map[string]bool{}
	name := regexp.MustCompile(`"(cfcookies_[a-z_]+)"`)
	for _, dir := range []string{"internal", "cmd", "signer", "kmssigner"} {
		root, err := os.OpenRoot(filepath.Join(repoRoot, dir))
		if err != nil {
			t.Fatal(err)
		}
		fsys := root.FS()
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			for _, m := range name.FindAllStringSubmatch(string(b), -1) {
				inCode[m[1]] = true
			}
			return err
		})
		_ = root.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	section := docSection(t, "docs/operations.md", "## Metrics")
	documented := tableNames(section, regexp.MustCompile("`(cfcookies_[a-z_]+)`"))
	compareNames(t, "docs/operations.md", "the metrics the code names", documented, inCode)
}

// TestDocsProblemTypes checks that docs/http-api.md's table of problem
// types lists exactly the types the code defines.
func TestDocsProblemTypes(t *testing.T) {
	t.Parallel()
	inCode := map[string]bool{}
	for _, file := range []string{"signer/mediacookies/problem.go", "internal/handlers/errors.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, file), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				spec := spec.(*ast.ValueSpec)
				for i, id := range spec.Names {
					if i >= len(spec.Values) || !strings.HasPrefix(strings.ToLower(id.Name), "problem") || id.Name == "ProblemTypePrefix" {
						continue
					}
					lit, ok := spec.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					inCode["urn:cfcookies:problem:"+v] = true
				}
			}
		}
	}
	if len(inCode) < 10 {
		t.Fatalf("found only %d problem types in the code", len(inCode))
	}
	section := docSection(t, "docs/http-api.md", "## Errors")
	documented := tableNames(section, regexp.MustCompile("^ `(urn:cfcookies:problem:[a-z-]+)` $"))
	compareNames(t, "docs/http-api.md", "the problem types the code defines", documented, inCode)
}

// tableNames returns the names in the first cell of each table row of a
// section, as re's first group finds them.
func tableNames(section string, re *regexp.Regexp) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.TrimSpace(cells[0]) != "" {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(cells[1], -1) {
			names[m[1]] = true
		}
	}
	return names
}

// compareNames reports every name the document lists that is not in the
// code, and every name in the code that it does not list.
func compareNames(t *testing.T, doc, what string, documented, inCode map[string]bool) {
	t.Helper()
	if len(documented) == 0 {
		t.Fatalf("%s lists none of %s", doc, what)
	}
	for n := range documented {
		if !inCode[n] {
			t.Errorf("%s lists %s, which is not one of %s", doc, n, what)
		}
	}
	for n := range inCode {
		if !documented[n] {
			t.Errorf("%s does not list %s, one of %s", doc, n, what)
		}
	}
}

// retiredTests are tests the documents name on purpose although they are
// gone, with the reason.
var retiredTests = map[string]string{
	"BenchmarkHit": "internal/sigcache's, removed; docs/performance.md compares the cache with it",
}

// TestDocsNameRealTests checks that every test, fuzz target and benchmark
// README.md and docs/ name (in code marks, such as the "tested by" column
// of docs/security.md) is defined in a _test.go file of the repository.
func TestDocsNameRealTests(t *testing.T) {
	t.Parallel()
	defined := map[string]bool{}
	fn := regexp.MustCompile(`(?m)^func (?:\([^)]*\) )?((?:Test|Fuzz|Benchmark|Example)\w*)\(`)
	root, err := os.OpenRoot(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fsys := root.FS()
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "vendor" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		for _, m := range fn.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Z][A-Za-z0-9_]*)")
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		files = append(files, "docs/"+filepath.Base(d))
	}
	count := 0
	for _, file := range files {
		for i, line := range strings.Split(readDoc(t, file), "\n") {
			for _, m := range named.FindAllStringSubmatch(line, -1) {
				count++
				if !defined[m[1]] && retiredTests[m[1]] == "" {
					t.Errorf("%s:%d: %s is not a test, fuzz target or benchmark of the repository", file, i+1, m[1])
				}
			}
		}
	}
	if count < 20 {
		t.Errorf("the documents name only %d tests", count)
	}
}
