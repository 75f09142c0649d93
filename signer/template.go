package signer

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsafeValue is returned when a value substituted into a path template
// could widen or redirect the grant.
var ErrUnsafeValue = errors.New("signer: unsafe value for path template")

// A PathTemplate is a resource path with {name} placeholders, such as
// "/media/{sub}/*" or "/tenants/{tenant_id}/users/{sub}/*". The template's
// author may use the CloudFront wildcards "*" and "?"; the values put in its
// placeholders may not. A PathTemplate is immutable and safe for concurrent
// use. Build it with ParsePathTemplate: the zero PathTemplate expands to
// nothing (ErrZeroValue).
type PathTemplate struct {
	raw   string
	parts []templatePart
}

type templatePart struct {
	literal string
	name    string // placeholder when non-empty
}

// ParsePathTemplate parses and checks a template: it starts with "/", is
// printable ASCII without spaces, '"', '\\', '#' or '%', has no empty, "."
// or ".." segment, and every "{" closes with a non-empty name.
func ParsePathTemplate(s string) (*PathTemplate, error) {
	if len(s) > maxPathLen {
		return nil, fmt.Errorf("signer: path template is %d bytes, over %d", len(s), maxPathLen)
	}
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("signer: path template %q must start with /", s)
	}
	t := &PathTemplate{raw: s}
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, templatePart{literal: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, templatePart{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("signer: path template %q has an unclosed {", s)
		}
		name := rest[open+1 : open+end]
		if name == "" || strings.ContainsAny(name, "{/") {
			return nil, fmt.Errorf("signer: path template %q has an invalid placeholder {%s}", s, name)
		}
		t.parts = append(t.parts, templatePart{name: name})
		rest = rest[open+end+1:]
	}
	for _, p := range t.parts {
		if strings.Contains(p.literal, "}") {
			return nil, fmt.Errorf("signer: path template %q has a } without {", s)
		}
		for i := 0; i < len(p.literal); i++ {
			if c := p.literal[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"\#%`, c) >= 0 {
				return nil, fmt.Errorf("signer: path template %q has %q, which is not allowed", s, c)
			}
		}
	}
	// Segments are checked with placeholders standing in as a safe value.
	if err := checkSegments(t.expandWith(func(string) string { return "x" })); err != nil {
		return nil, fmt.Errorf("signer: path template %q: %w", s, err)
	}
	return t, nil
}

// String returns the template as written.
func (t *PathTemplate) String() string {
	if t == nil {
		return ""
	}
	return t.raw
}

// CoveredBy reports whether a browser sends a cookie whose Path is
// cookiePath with a request for every path t expands to, judging by t's
// text before its first placeholder or wildcard: that text must
// path-match cookiePath (see PathMatch) and go on past it, unless
// cookiePath ends in "/". "/", "/media" and "/media/" cover
// "/media/{sub}/*"; "/med" and "/media/bob" do not.
// Where CookieOptions.CheckResource asks whether some request a resource
// unlocks carries the cookies, CoveredBy asks it of every expansion.
func (t *PathTemplate) CoveredBy(cookiePath string) bool {
	lit := t.String()
	if i := strings.IndexAny(lit, "{*?"); i >= 0 {
		lit = lit[:i]
	}
	return PathMatch(lit, cookiePath) && (strings.HasSuffix(cookiePath, "/") || len(lit) > len(cookiePath))
}

// Names returns the placeholder names in order of appearance.
func (t *PathTemplate) Names() []string {
	if t == nil {
		return nil
	}
	var names []string
	for _, p := range t.parts {
		if p.name != "" {
			names = append(names, p.name)
		}
	}
	return names
}

// Expand substitutes each placeholder with lookup(name). A missing value, or
// a value that fails CheckPathValue, is refused (wrapping ErrUnsafeValue),
// never escaped: the caller learns that the identity cannot be granted a
// path instead of receiving a different one.
func (t *PathTemplate) Expand(lookup func(name string) (string, bool)) (string, error) {
	if t == nil || len(t.parts) == 0 {
		return "", fmt.Errorf("%w: PathTemplate (ParsePathTemplate)", ErrZeroValue)
	}
	var b strings.Builder
	b.Grow(len(t.raw) + 32)
	for _, p := range t.parts {
		if p.name == "" {
			b.WriteString(p.literal)
			continue
		}
		v, ok := lookup(p.name)
		if !ok {
			return "", fmt.Errorf("%w: no value for {%s}", ErrUnsafeValue, p.name)
		}
		if err := CheckPathValue(v); err != nil {
			return "", fmt.Errorf("{%s}: %w", p.name, err)
		}
		b.WriteString(v)
	}
	if b.Len() > maxPathLen {
		return "", fmt.Errorf("%w: expanded path is %d bytes, over %d", ErrUnsafeValue, b.Len(), maxPathLen)
	}
	return b.String(), nil
}

func (t *PathTemplate) expandWith(f func(string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.name != "" {
			b.WriteString(f(p.name))
		} else {
			b.WriteString(p.literal)
		}
	}
	return b.String()
}

// maxValueLen bounds one substituted value, maxPathLen a template and its
// expansion, so that scheme, host and path stay within a Grant's 2048 bytes.
const (
	maxValueLen = 256
	maxPathLen  = 1024
)

// CheckPathValue reports whether v may be placed inside one path segment of
// a resource: non-empty, at most 256 bytes, printable ASCII, and none of
// "*" "?" (CloudFront wildcards), "/" "\\" (segment separators; browsers
// read "\\" as "/"), ".." (traversal), "%" (encoded forms of all of these),
// '"' (JSON), or "#", "<", ">", "`", "{", "}" (which browsers percent-encode,
// so the request would never match). A lone "." is refused too.
func CheckPathValue(v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%w: empty value", ErrUnsafeValue)
	case len(v) > maxValueLen:
		return fmt.Errorf("%w: value is %d bytes, over %d", ErrUnsafeValue, len(v), maxValueLen)
	case v == "." || strings.Contains(v, ".."):
		return fmt.Errorf("%w: value contains a dot segment (..)", ErrUnsafeValue)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < ' ' || c == 0x7f:
			return fmt.Errorf("%w: control character at offset %d", ErrUnsafeValue, i)
		case c == ' ':
			return fmt.Errorf("%w: whitespace at offset %d", ErrUnsafeValue, i)
		case c >= 0x80:
			return fmt.Errorf("%w: non-ASCII byte at offset %d", ErrUnsafeValue, i)
		case strings.IndexByte(`*?/\%"#<>{}`+"`", c) >= 0:
			return fmt.Errorf("%w: %q at offset %d", ErrUnsafeValue, c, i)
		}
	}
	return nil
}

// checkSegments refuses empty ("//"), "." and ".." segments in a path. A
// trailing "/" is fine.
func checkSegments(path string) error {
	segs := strings.Split(path[1:], "/")
	for i, seg := range segs {
		switch {
		case seg == "" && i < len(segs)-1:
			return errors.New("empty path segment (//)")
		case seg == "." || seg == "..":
			return fmt.Errorf("dot segment %q", seg)
		}
	}
	return nil
}
