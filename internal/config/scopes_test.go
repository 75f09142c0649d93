package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

func writeScopes(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var scopeDefaults = Cookie{Path: "/", TTL: 10 * time.Minute}

func TestLoadScopes(t *testing.T) {
	t.Parallel()
	yamlFile := writeScopes(t, "scopes.yaml", `
claims: [tenant_id, groups]
scopes:
  - name: private
    path: /tenants/{tenant_id}/users/{sub}/*
    cookiePath: /tenants/
  - name: premium
    path: /premium/*
    cookiePath: /premium/
    ttl: 1h
    allow:
      - claim: groups
        contains: premium
      - claim: tenant_id
        equals: acme
`)
	jsonFile := writeScopes(t, "scopes.json", `{"scopes": [{"name": "shared", "path": "/shared/*"}]}`)
	scopes, problems := loadScopes(yamlFile, scopeDefaults)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if len(scopes) != 2 || scopes[0].Name != "private" || scopes[0].CookiePath != "/tenants/" || scopes[0].TTL != 10*time.Minute ||
		scopes[1].TTL != time.Hour || len(scopes[1].Allow) != 2 || scopes[1].Allow[0] != (auth.Rule{Claim: "groups", Contains: "premium"}) {
		t.Fatalf("scopes %+v", scopes)
	}
	scopes, problems = loadScopes(jsonFile, scopeDefaults)
	if len(problems) != 0 || len(scopes) != 1 || scopes[0].CookiePath != "/" {
		t.Fatalf("json: %+v %v", scopes, problems)
	}
}

func TestLoadScopesProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content string
		want          []string // each must appear in some problem
	}{
		{"not YAML", "scopes: [\n  - name: a\n   path", []string{"scopes.yaml: line"}},
		{"JSON missing a comma", "{\"scopes\": [\n  {\"name\": \"a\",\n   \"path\": \"/a/*\"}\n  {\"name\": \"b\", \"path\": \"/b/*\"}\n]}\n",
			[]string{"scopes.yaml:4: invalid character '{' after array element"}},
		{"JSON with a stray comma", "{\"scopes\": [\n  {\"name\": \"a\",\n   \"path\": \"/a/*\",,}\n]}\n",
			[]string{"scopes.yaml:3: invalid character ','"}},
		{"JSON cut short", "{\"scopes\": [\n  {\"name\": \"a\",\n", []string{"scopes.yaml:2: unexpected end of JSON input"}},
		{"unknown field", "scopes:\n  - name: a\n    path: /a/*\n    ttl: 1m\n    cookie: /\n", []string{"scopes.yaml:5:", "field cookie not found"}},
		{"unknown rule field", "claims: [g]\nscopes:\n  - name: a\n    path: /a/*\n    allow:\n      - claim: g\n        equal: x\n", []string{"scopes.yaml:7:", "field equal not found"}},
		{"unknown top-level field", "scope:\n  - name: a\n", []string{"field scope not found"}},
		{"no scopes", "claims: []\n", []string{"no scopes"}},
		{"unknown claim in path", "scopes:\n  - name: a\n    path: /t/{tennant_id}/*\n", []string{"scopes.yaml:2:", "unknown claim {tennant_id}"}},
		{"unknown claim in rule", "scopes:\n  - name: a\n    path: /a/*\n    allow:\n      - claim: group\n        equals: x\n", []string{"unknown claim \"group\""}},
		{"rule with both", "claims: [g]\nscopes:\n  - name: a\n    path: /a/*\n    allow:\n      - claim: g\n        equals: x\n        contains: y\n", []string{"exactly one of equals or contains"}},
		{"bad template", "scopes:\n  - name: a\n    path: /a/{sub/*\n", []string{"unclosed {"}},
		{"bad name", "scopes:\n  - name: 'A B'\n    path: /a/*\n", []string{"scope name"}},
		{"duplicate name", "scopes:\n  - name: a\n    path: /a/*\n  - name: a\n    path: /b/*\n    cookiePath: /b/\n", []string{"scopes.yaml:4:", "defined twice (first on line 2)"}},
		{"cookie path clash", "scopes:\n  - name: a\n    path: /a/*\n  - name: b\n    path: /b/*\n", []string{"scopes.yaml:4:", "would overwrite each other"}},
		{"nested cookie path shadows a path below it", "scopes:\n  - name: a\n    path: /media/a/*\n    cookiePath: /media\n  - name: b\n    path: /media/b/*\n    cookiePath: /media/\n",
			[]string{"scopes.yaml:5:", `scope "b": cookiePath "/media/" lies inside scope "a"'s cookiePath "/media", whose path /media/a/* reaches below it`}},
		{"nested cookie path shadows a placeholder", "scopes:\n  - name: premium\n    path: /t/premium/*\n    cookiePath: /t/premium/\n  - name: tenant\n    path: /t/{sub}/*\n    cookiePath: /t/\n",
			[]string{"scopes.yaml:5:", `cookiePath "/t/premium/" lies inside scope "tenant"'s cookiePath "/t/"`, `CloudFront denies "tenant"'s media`}},
		{"cookie path not covering", "scopes:\n  - name: a\n    path: /media/*\n    cookiePath: /auth\n", []string{"does not cover"}},
		{"bad ttl", "scopes:\n  - name: a\n    path: /a/*\n    ttl: 5s\n", []string{"between 1m and 168h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, problems := loadScopes(writeScopes(t, "scopes.yaml", tt.content), scopeDefaults)
			all := strings.Join(problems, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems %q lack %q", all, w)
				}
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	if _, problems := loadScopes(missing, scopeDefaults); len(problems) != 1 || problems[0] != missing+": no such file or directory" {
		t.Errorf("missing file: %q, want it named", problems)
	}
	// A path naming a device that never ends is refused after the bound,
	// not read until memory runs out.
	if _, problems := loadScopes("/dev/zero", scopeDefaults); len(problems) != 1 || problems[0] != fmt.Sprintf("/dev/zero: over %d bytes", maxScopesFile) {
		t.Errorf("/dev/zero: %q, want it refused as too large", problems)
	}
}

func TestLoadWithScopesFile(t *testing.T) {
	t.Parallel()
	env := prodEnv()
	env["SCOPES_FILE"] = writeScopes(t, "s.yaml", "scopes:\n  - name: a\n    path: /a/{sub}/*\n")
	delete(env, "MEDIA_PATH")
	c, err := Load(lookup(env), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Scopes) != 1 || c.Scopes[0].Name != "a" {
		t.Fatalf("scopes %+v", c.Scopes)
	}
	env["MEDIA_PATH"] = "/m/{sub}/*"
	env["SCOPES_FILE"] = writeScopes(t, "s.yaml", "scopes:\n  - name: a\n    path: /a/{nope}/*\n")
	_, err = Load(lookup(env), false)
	if err == nil || !strings.Contains(err.Error(), "MEDIA_PATH") || !strings.Contains(err.Error(), "s.yaml:2: scope \"a\": path uses unknown claim {nope}") {
		t.Fatalf("err = %v", err)
	}
}

func TestExpiryGranularityAgainstScopeTTLs(t *testing.T) {
	t.Parallel()
	file := writeScopes(t, "s.yaml", "scopes:\n  - name: long\n    path: /a/{sub}/*\n    cookiePath: /a/\n    ttl: 1h\n  - name: short\n    path: /b/{sub}/*\n    cookiePath: /b/\n    ttl: 2m\n")

	env := prodEnv()
	env["SCOPES_FILE"] = file
	c, err := Load(lookup(env), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.ExpiryGranularity != 24*time.Second {
		t.Errorf("default granularity with a 2m scope = %s, want 24s (a fifth of it)", c.ExpiryGranularity)
	}

	env["EXPIRY_GRANULARITY"] = "2m"
	_, err = Load(lookup(env), false)
	if err == nil || !strings.Contains(err.Error(), `EXPIRY_GRANULARITY="2m": must be shorter than the TTL of scope short (2m0s)`) {
		t.Errorf("granularity equal to a scope's TTL: err = %v", err)
	}
}

// TestShadows checks when one scope's deeper cookie Path hides another's
// cookies from some of that other scope's media.
func TestShadows(t *testing.T) {
	t.Parallel()
	scope := func(path, cookiePath string) Scope {
		tmpl, err := signer.ParsePathTemplate(path)
		if err != nil {
			t.Fatal(err)
		}
		return Scope{Path: tmpl, CookiePath: cookiePath}
	}
	tests := []struct {
		name         string
		inner, outer Scope
		want         bool
	}{
		{"outer's media below the inner cookie path", scope("/media/b/*", "/media/"), scope("/media/a/*", "/media"), true},
		{"outer's placeholder can reach below it", scope("/t/premium/*", "/t/premium/"), scope("/t/{sub}/*", "/t/"), true},
		{"outer's wildcard can reach below it", scope("/media/x/*", "/media/x/"), scope("/media/*", "/"), true},
		{"side by side under /", scope("/premium/*", "/premium/"), scope("/media/{sub}/*", "/"), false},
		{"outer's literal path elsewhere", scope("/media/b/*", "/media/b/"), scope("/media/a/file.mp4", "/media/"), false},
		{"cookie paths that do not nest", scope("/b/*", "/b/"), scope("/a/*", "/a/"), false},
		{"a prefix that is not a path boundary", scope("/mediax/*", "/mediax/"), scope("/media/{sub}/*", "/media"), false},
		{"the same cookie path is the clash check's", scope("/b/*", "/"), scope("/a/*", "/"), false},
	}
	for _, tc := range tests {
		if got := shadows(tc.inner, tc.outer); got != tc.want {
			t.Errorf("%s: shadows = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLoadScopesRuleValues checks the values rules compare claims with. A
// claim that is a number matches only its exact decimal digits, a boolean
// only true or false, so a rule value written as a YAML (or JSON) number
// must be an integer in plain decimal, kept digit for digit, and a boolean
// lower-case true or false; any other number or boolean could never match
// as its author meant and is a configuration error. A quoted value is a
// string, compared as written.
func TestLoadScopesRuleValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string // after "equals: " (and "contains: ") in YAML
		want  string // the rule's value; empty: a problem
	}{
		{"integer beyond float64", "9007199254740993", "9007199254740993"},
		{"its neighbour", "9007199254740992", "9007199254740992"},
		{"beyond 64 bits", "123456789012345678901234567890", "123456789012345678901234567890"},
		{"negative", "-5", "-5"},
		{"zero", "0", "0"},
		{"true", "true", "true"},
		{"false", "false", "false"},
		{"quoted exponent is a string", `"1e6"`, "1e6"},
		{"quoted fraction is a string", `'1.0'`, "1.0"},
		{"quoted True is a string", `"True"`, "True"},
		{"a word", "acme", "acme"},
		{"yes is a string in YAML 1.2", "yes", "yes"},

		{"exponent", "1e6", ""},
		{"upper-case signed exponent", "1E+06", ""},
		{"fraction", "1.5", ""},
		{"integral fraction", "1.0", ""},
		{"leading dot", ".5", ""},
		{"negative zero", "-0", ""},
		{"leading zeros", "007", ""},
		{"plus sign", "+5", ""},
		{"hexadecimal", "0x10", ""},
		{"octal", "0o17", ""},
		{"underscores", "1_000", ""},
		{"infinity", ".inf", ""},
		{"not a number", ".nan", ""},
		{"capitalised boolean", "True", ""},
		{"upper-case boolean", "FALSE", ""},
		{"a list", "[1]", ""},
		{"a mapping", "{a: 1}", ""},
	}
	for _, tt := range tests {
		for _, op := range []string{"equals", "contains"} {
			t.Run(op+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				content := "claims: [n]\nscopes:\n  - name: a\n    path: /a/*\n    allow:\n      - claim: n\n        " + op + ": " + tt.value + "\n"
				scopes, problems := loadScopes(writeScopes(t, "scopes.yaml", content), scopeDefaults)
				if tt.want == "" {
					if len(problems) == 0 {
						t.Fatalf("%s: %s accepted as %+v", op, tt.value, scopes[0].Allow)
					}
					if all := strings.Join(problems, "\n"); !strings.Contains(all, "scopes.yaml:7:") || !strings.Contains(all, op) {
						t.Errorf("problems %q do not name line 7 and %s", all, op)
					}
					return
				}
				if len(problems) != 0 {
					t.Fatalf("%s: %s: problems %q", op, tt.value, problems)
				}
				want := auth.Rule{Claim: "n", Equals: tt.want}
				if op == "contains" {
					want = auth.Rule{Claim: "n", Contains: tt.want}
				}
				if got := scopes[0].Allow; len(got) != 1 || got[0] != want {
					t.Errorf("rule %+v, want %+v", got, want)
				}
			})
		}
	}

	// JSON is YAML: its numbers follow the same rules.
	for raw, want := range map[string]string{`9007199254740993`: "9007199254740993", `"1e6"`: "1e6", `true`: "true", `1e6`: "", `1.0`: "", `-0`: ""} {
		content := `{"claims": ["n"], "scopes": [{"name": "a", "path": "/a/*", "allow": [{"claim": "n", "equals": ` + raw + `}]}]}`
		scopes, problems := loadScopes(writeScopes(t, "scopes.json", content), scopeDefaults)
		switch {
		case want == "" && len(problems) == 0:
			t.Errorf("JSON equals %s accepted as %+v", raw, scopes[0].Allow)
		case want != "" && (len(problems) != 0 || scopes[0].Allow[0].Equals != want):
			t.Errorf("JSON equals %s: %+v, %q; want %q", raw, scopes, problems, want)
		}
	}
}
