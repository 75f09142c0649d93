package signer

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePathTemplate(t *testing.T) {
	t.Parallel()
	valid := map[string][]string{
		"/media/{sub}/*":                     {"sub"},
		"/tenants/{tenant_id}/users/{sub}/*": {"tenant_id", "sub"},
		"/media/*":                           nil,
		"/u-{custom:tenant}/v?/*.m3u8":       {"custom:tenant"},
		"/a/b.c/{sub}":                       {"sub"},
	}
	for tmpl, names := range valid {
		pt, err := ParsePathTemplate(tmpl)
		if err != nil {
			t.Errorf("ParsePathTemplate(%q): %v", tmpl, err)
			continue
		}
		if got := strings.Join(pt.Names(), ","); got != strings.Join(names, ",") {
			t.Errorf("%q names = %q, want %q", tmpl, got, names)
		}
		if pt.String() != tmpl {
			t.Errorf("String() = %q", pt.String())
		}
	}
	for _, tmpl := range []string{"", "media/{sub}/*", "/media/{sub", "/media/{}/*", "/media/sub}/*", "/media//{sub}",
		"/media/../{sub}", "/./{sub}", "/media/{sub}/%2a", "/media/{sub} /*", "/media/\"{sub}", `/media\{sub}`,
		"/media/{sub}#x", "/mé/{sub}", "/a/{b{c}}/", "/{https://example.com/roles}/x/"} {
		if _, err := ParsePathTemplate(tmpl); err == nil {
			t.Errorf("ParsePathTemplate(%q) accepted it", tmpl)
		}
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	pt, err := ParsePathTemplate("/tenants/{tenant}/users/{sub}/*")
	if err != nil {
		t.Fatal(err)
	}
	claims := func(sub string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			switch name {
			case "tenant":
				return "acme", true
			case "sub":
				return sub, true
			}
			return "", false
		}
	}
	for sub, want := range map[string]string{
		"alice":                                "/tenants/acme/users/alice/*",
		"auth0|5f7c8ec7c33c6c004bbafe82":       "/tenants/acme/users/auth0|5f7c8ec7c33c6c004bbafe82/*",
		"3f1e0b9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b": "/tenants/acme/users/3f1e0b9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b/*",
		"a.b_c-d~e@f+g=h,i:j":                  "/tenants/acme/users/a.b_c-d~e@f+g=h,i:j/*",
	} {
		got, err := pt.Expand(claims(sub))
		if err != nil || got != want {
			t.Errorf("Expand(sub=%q) = %q, %v; want %q", sub, got, err, want)
		}
	}
	unsafe := []string{"", "*", "a*", "?", "a?b", "/", "a/b", "..", "a..b", ".", "%2a", "%2e%2e", "a b", "a\tb", "\x00",
		"a\nb", "\x7f", "é", "＊", "\xc0\xaf", `a"b`, `a\b`, "a#b", "<script>", "a`b", "{x}", strings.Repeat("a", 257)}
	for _, sub := range unsafe {
		got, err := pt.Expand(claims(sub))
		if !errors.Is(err, ErrUnsafeValue) {
			t.Errorf("Expand(sub=%q) = %q, %v; want ErrUnsafeValue", sub, got, err)
		}
	}
	if _, err := pt.Expand(func(string) (string, bool) { return "", false }); !errors.Is(err, ErrUnsafeValue) {
		t.Errorf("missing value: err = %v", err)
	}
}

// FuzzExpand checks that whatever an identity carries, an expansion that
// succeeds adds no wildcard, separator, traversal, escape or byte outside
// printable ASCII to the template's literal text.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"alice", "*", "..", "a/b", "%2a", "＊", "\xc0\xae", "auth0|123", "a?", "a b", ""} {
		f.Add("/media/{sub}/*", s)
		f.Add("/t/{tenant}/u/{sub}/v?.m3u8", s)
	}
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		if len(tmpl) > maxFuzzField || len(value) > maxFuzzText {
			return
		}
		pt, err := ParsePathTemplate(tmpl)
		if err != nil {
			return
		}
		got, err := pt.Expand(func(string) (string, bool) { return value, true })
		if err != nil {
			if !errors.Is(err, ErrUnsafeValue) {
				t.Fatalf("error %v does not wrap ErrUnsafeValue", err)
			}
			return
		}
		if prefix := pt.parts[0].literal; !strings.HasPrefix(got, prefix) {
			t.Fatalf("expansion %q left the template's prefix %q", got, prefix)
		}
		literal := pt.expandWith(func(string) string { return "" })
		for _, bad := range []string{"*", "?", "/"} {
			if strings.Count(got, bad) != strings.Count(literal, bad) {
				t.Fatalf("expansion %q has more %q than the template %q", got, bad, tmpl)
			}
		}
		if err := checkSegments(got); err != nil {
			t.Fatalf("expansion %q: %v", got, err)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`%"\#`, c) >= 0 {
				t.Fatalf("expansion %q has %q", got, c)
			}
		}
		if _, err := (Grant{Resource: "https://m.example.com" + got, Expires: testExpires}).Policy(); err != nil {
			t.Fatalf("expansion %q makes an invalid grant: %v", got, err)
		}
	})
}

// TestPathTemplateCoveredBy: a cookie Path covers a template when the
// browser sends the cookies with every path it expands to.
func TestPathTemplateCoveredBy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		template, cookiePath string
		want                 bool
	}{
		{"/media/{sub}/*", "/", true},
		{"/media/{sub}/*", "/media", true},
		{"/media/{sub}/*", "/media/", true},
		{"/media/{sub}/*", "/med", false},       // not on a segment boundary
		{"/media/{sub}/*", "/media/bob", false}, // only some expansions
		{"/media/{sub}/*", "/auth", false},
		{"/media{sub}/*", "/media", false}, // "/mediax/..." is not under /media
		{"/media/*", "/media/", true},
		{"/media*", "/media", false},
		{"/media/v?/*", "/media/v", false},
		{"/a/b.mp4", "/a", true},
		{"/a/b.mp4", "/a/b", false},
	}
	for _, tt := range tests {
		tmpl, err := ParsePathTemplate(tt.template)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.CoveredBy(tt.cookiePath); got != tt.want {
			t.Errorf("%s.CoveredBy(%q) = %v, want %v", tt.template, tt.cookiePath, got, tt.want)
		}
	}
	if (*PathTemplate)(nil).CoveredBy("/") {
		t.Error("a nil template is covered")
	}
}
