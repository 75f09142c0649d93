package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

// Scope is one named grant as configured: which path pattern, under which
// cookie Path, for how long, and who may have it, written as rules (Allow).
// It is plain data, which logs, compares and marshals; the handler serves
// a handlers.Scope, the same grant with a predicate, auth.AnyRule(Allow),
// for who may have it (cmd/server turns one into the other).
type Scope struct {
	Name       string
	Path       *signer.PathTemplate
	CookiePath string
	TTL        time.Duration
	// Allow lists the rules of which any one entitles a caller; empty means
	// every authenticated caller. A rule's claim Equals a value (a string,
	// integer or boolean claim) or Contains it (an element of a list claim,
	// or a word of a space-separated string claim such as OAuth's "scope").
	// A claim is compared as auth.Identity.ClaimEquals has it: an integer
	// by its exact decimal digits, a boolean as true or false; so a value
	// the file writes as a number is an integer in plain decimal, kept
	// digit for digit, and one it writes as a boolean is true or false (see
	// ruleValue).
	Allow []auth.Rule
}

// DefaultScope is the name of the scope built from MEDIA_PATH.
const DefaultScope = "default"

// scopesFile is the SCOPES_FILE document (YAML, or JSON, which is YAML).
type scopesFile struct {
	// Claims lists the claims, besides sub, that templates and rules may
	// name: a typo then fails at startup instead of refusing every caller.
	Claims []string    `yaml:"claims"`
	Scopes []yaml.Node `yaml:"scopes"`
}

type scopeDoc struct {
	Name       string `yaml:"name"`
	Path       string `yaml:"path"`
	CookiePath string `yaml:"cookiePath"`
	TTL        string `yaml:"ttl"`
	Allow      []struct {
		Claim string `yaml:"claim"`
		// Nodes, not strings: how the value is written (a number, a
		// boolean, a quoted string) decides what it can match.
		Equals   yaml.Node `yaml:"equals"`
		Contains yaml.Node `yaml:"contains"`
	} `yaml:"allow"`
}

var scopeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// maxScopesFile bounds the file read at startup.
const maxScopesFile = 1 << 20

// readScopesFile reads at most maxScopesFile bytes and one more, to tell a
// larger file, so that a path naming a device or a log is refused without
// being read whole.
func readScopesFile(path string) ([]byte, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator names this file
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxScopesFile+1))
}

// loadScopes reads and checks a scopes file. Every problem is reported as
// "FILE:LINE: problem"; cookiePath and ttl default to COOKIE_PATH and
// COOKIE_TTL.
func loadScopes(path string, defaults Cookie) ([]Scope, []string) {
	b, err := readScopesFile(path)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: %v", path, unwrapPathError(err))}
	}
	if len(b) > maxScopesFile {
		return nil, []string{fmt.Sprintf("%s: over %d bytes", path, maxScopesFile)}
	}
	var doc scopesFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, []string{syntaxProblem(path, b, err)}
	}
	var problems []string
	at := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	known := map[string]bool{"sub": true}
	for _, c := range doc.Claims {
		known[c] = true
	}
	if len(doc.Scopes) == 0 {
		at(1, "no scopes: list at least one under scopes:")
	}
	var scopes []Scope
	names := map[string]int{}
	byCookiePath := map[string]Scope{}
	for i := range doc.Scopes {
		node := &doc.Scopes[i]
		for _, k := range unknownKeys(node, "name", "path", "cookiePath", "ttl", "allow") {
			at(k.Line, "field %s not found in scope (fields: name, path, cookiePath, ttl, allow)", k.Value)
		}
		var sd scopeDoc
		if err := node.Decode(&sd); err != nil {
			at(node.Line, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			continue
		}
		sc := Scope{Name: sd.Name, CookiePath: sd.CookiePath, TTL: defaults.TTL}
		if !scopeName.MatchString(sd.Name) {
			at(node.Line, "scope name %q must be 1-64 of a-z, 0-9, _ and -, starting with a letter or digit", sd.Name)
		} else if first, dup := names[sd.Name]; dup {
			at(node.Line, "scope %q is defined twice (first on line %d)", sd.Name, first)
		}
		names[sd.Name] = node.Line
		tmpl, err := signer.ParsePathTemplate(sd.Path)
		if err != nil {
			at(node.Line, "scope %q: path: %v", sd.Name, err)
		} else {
			sc.Path = tmpl
			for _, n := range tmpl.Names() {
				if !known[n] {
					at(node.Line, "scope %q: path uses unknown claim {%s}; declare it under claims:", sd.Name, n)
				}
			}
		}
		if sc.CookiePath == "" {
			sc.CookiePath = defaults.Path
		}
		if err := validateCookiePath(sc.CookiePath); err != nil {
			at(node.Line, "scope %q: cookiePath %q %v", sd.Name, sc.CookiePath, err)
		} else if sc.Path != nil && !sc.Path.CoveredBy(sc.CookiePath) {
			at(node.Line, "scope %q: cookiePath %q does not cover path %s: the browser would not send the cookies with media requests", sd.Name, sc.CookiePath, sd.Path)
		}
		if sd.TTL != "" {
			if sc.TTL, err = parseTTL(sd.TTL); err != nil {
				at(node.Line, "scope %q: ttl %q %v", sd.Name, sd.TTL, err)
			}
		}
		for _, r := range sd.Allow {
			equals, eqErr := ruleValue(&r.Equals)
			contains, coErr := ruleValue(&r.Contains)
			switch {
			case !known[r.Claim]:
				at(node.Line, "scope %q: allow names unknown claim %q; declare it under claims:", sd.Name, r.Claim)
			case eqErr != nil:
				at(r.Equals.Line, "scope %q: allow rule on claim %q: equals %v", sd.Name, r.Claim, eqErr)
			case coErr != nil:
				at(r.Contains.Line, "scope %q: allow rule on claim %q: contains %v", sd.Name, r.Claim, coErr)
			case (equals == "") == (contains == ""):
				at(node.Line, "scope %q: each allow rule needs exactly one of equals or contains", sd.Name)
			}
			sc.Allow = append(sc.Allow, auth.Rule{Claim: r.Claim, Equals: equals, Contains: contains})
		}
		if other, clash := byCookiePath[sc.CookiePath]; clash && sc.Path != nil && other.Path != nil && other.Path.String() != sc.Path.String() {
			at(node.Line, "scope %q: cookiePath %q is also scope %q's, with another path: their cookies would overwrite each other (CloudFront's cookie names are fixed)",
				sd.Name, sc.CookiePath, other.Name)
		}
		byCookiePath[sc.CookiePath] = sc
		for _, other := range scopes {
			outer, inner := sc, other
			if !shadows(inner, outer) {
				outer, inner = other, sc
			}
			if shadows(inner, outer) {
				at(node.Line, "scope %q: cookiePath %q lies inside scope %q's cookiePath %q, whose path %s reaches below it: there the browser sends both scopes' cookies, %q's first, and CloudFront denies %q's media",
					sd.Name, inner.CookiePath, outer.Name, outer.CookiePath, outer.Path, inner.Name, outer.Name)
			}
		}
		scopes = append(scopes, sc)
	}
	return scopes, problems
}

// ruleValue reads the value of an equals or contains: "" when absent or
// null. A quoted or plain string is taken as written. A number must be an
// integer in plain decimal (auth.IsDecimalInteger: no exponent, fraction,
// sign, leading zero, underscore or "-0"), kept digit for digit however
// large, since a number claim matches nothing else; a boolean must be true
// or false, in lower case. Anything else (1e6, 1.0, 0x10, .inf, True, a
// list) could never match as meant, and is an error that says how to write
// it.
func ruleValue(n *yaml.Node) (string, error) {
	if n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("must be a single value, not a list or a mapping")
	}
	switch n.ShortTag() {
	case "!!str", "!!timestamp": // a date is compared as the string it is
		return n.Value, nil
	case "!!int", "!!float":
		if auth.IsDecimalInteger(n.Value) {
			return n.Value, nil
		}
		return "", fmt.Errorf("%s is a number but not an integer in plain decimal digits (no exponent, fraction, sign, leading zero or -0): a number claim never matches it; write the integer's digits, or quote the value to compare it with a string claim", n.Value)
	case "!!bool":
		if n.Value == "true" || n.Value == "false" {
			return n.Value, nil
		}
		return "", fmt.Errorf("%s: write a boolean as true or false, or quote the value to compare it with a string claim", n.Value)
	}
	return "", fmt.Errorf("%s (%s) is not a string, an integer or a boolean: quote it to compare it with a string claim", n.Value, n.ShortTag())
}

// shadows reports whether inner's cookies would hide outer's for some of
// outer's media. When outer's cookie Path covers inner's, a request below
// inner's cookie Path carries both sets of CloudFront cookies, inner's first
// (the browser puts longer Paths first), and CloudFront checks only one:
// outer's media there is denied. That is so when outer's path can name a
// resource below inner's cookie Path: its literal part before the first
// placeholder or wildcard starts below it, or stops short of it with the
// rest still open.
func shadows(inner, outer Scope) bool {
	if inner.Path == nil || outer.Path == nil || inner.CookiePath == outer.CookiePath ||
		!signer.PathMatch(inner.CookiePath, outer.CookiePath) {
		return false
	}
	if outer.Path.CoveredBy(inner.CookiePath) {
		return true
	}
	template := outer.Path.String()
	i := strings.IndexAny(template, "{*?")
	return i >= 0 && strings.HasPrefix(inner.CookiePath, template[:i])
}

// syntaxProblem reports a document that does not decode. yaml.v3 puts a
// syntax error on the line where the enclosing block or list starts, often
// lines before the mistake; a document that starts as JSON does, with "{",
// gets the exact line from encoding/json instead.
func syntaxProblem(path string, b []byte, yamlErr error) string {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var v any
		if se, ok := errors.AsType[*json.SyntaxError](json.Unmarshal(b, &v)); ok {
			end := min(max(int(se.Offset)-1, 0), len(b))
			return fmt.Sprintf("%s:%d: %v", path, 1+bytes.Count(b[:end], []byte("\n")), se)
		}
	}
	return fmt.Sprintf("%s: %s", path, strings.TrimPrefix(yamlErr.Error(), "yaml: "))
}

// parseTTL parses a cookie lifetime, COOKIE_TTL or a scope's ttl: whole
// seconds, from minTTL to maxTTL.
func parseTTL(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, errors.New(`must be a duration such as "10m" or "1h30m"`)
	case d%time.Second != 0:
		return 0, errors.New("must be whole seconds: CloudFront policies expire on a second")
	case d < minTTL || d > maxTTL:
		return 0, errors.New("must be between 1m and 168h") // minTTL and maxTTL
	}
	return d, nil
}

// unknownKeys returns the keys of a mapping node, and of the mappings in its
// "allow" list, that are not expected: yaml.Node.Decode ignores them.
func unknownKeys(node *yaml.Node, allowed ...string) []*yaml.Node {
	if node.Kind != yaml.MappingNode {
		return nil
	}
	var bad []*yaml.Node
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			bad = append(bad, k)
		case k.Value == "allow" && v.Kind == yaml.SequenceNode:
			for _, rule := range v.Content {
				bad = append(bad, unknownKeys(rule, "claim", "equals", "contains")...)
			}
		}
	}
	return bad
}
