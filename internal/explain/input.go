package explain

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// MaxCookieHeader bounds the Cookie header ReadCookieHeader reads.
const MaxCookieHeader = 64 << 10

// CheckURL reports whether raw is a URL a browser requests: absolute http
// or https, without user info or a fragment, which browsers never send.
// Its errors say which rule raw broke.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.Opaque != "":
		return errors.New("must be an absolute https:// or http:// URL, e.g. https://media.example.com/media/alice/a.png")
	case u.User != nil:
		return errors.New("must not contain userinfo (user@)")
	case u.Fragment != "":
		return errors.New("must not contain a #fragment: browsers do not send it")
	}
	return nil
}

// ReadCookieHeader reads a Cookie header from r, at most MaxCookieHeader
// bytes: one or more lines, each perhaps starting with "Cookie:", joined as
// NormaliseCookieHeader joins them. Nothing but blank lines is an error.
// The errors do not name r: the caller says where it read from.
func ReadCookieHeader(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxCookieHeader+1))
	if err != nil {
		return "", err
	}
	if len(b) > MaxCookieHeader {
		return "", fmt.Errorf("over %d bytes", MaxCookieHeader)
	}
	h := NormaliseCookieHeader(string(b))
	if h == "" {
		return "", errors.New("no Cookie header")
	}
	return h, nil
}

// NormaliseCookieHeader drops a leading "Cookie:" from each line of s, as
// copied from a browser's developer tools, and joins the lines with "; ".
func NormaliseCookieHeader(s string) string {
	var parts []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 4096), MaxCookieHeader+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if len(line) >= 7 && strings.EqualFold(line[:7], "cookie:") {
			line = strings.TrimSpace(line[7:])
		}
		if line = strings.Trim(line, "; "); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}
