package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeNetHTTPRow is a row of docs/http-api.md's "Answers net/http writes itself":
// status line, body.
var readmeNetHTTPRow = regexp.MustCompile("(?m)^\\| `([1-5][0-9][0-9] [^`]+)` \\| ([^|]+) \\|")

// TestErrorContract checks docs/http-api.md's Errors section against a
// real server over raw TCP: each answer net/http writes itself (the
// table of them: 431, a missing Host and the rest) is the plain-text
// answer the document shows, every row of that table is exercised, and the
// answers it says the service writes (an unknown route or method, a `*`
// target) are problem+json.
func TestErrorContract(t *testing.T) {
	t.Parallel()
	section := docSection(t, "docs/http-api.md", "## Errors")
	problems, plain, ok := strings.Cut(section, "\n### Answers net/http writes itself\n")
	if !ok {
		t.Fatal(`docs/http-api.md's Errors section has no "### Answers net/http writes itself"`)
	}
	readmeBody := map[string]string{} // status line -> body the document shows
	for _, m := range readmeNetHTTPRow.FindAllStringSubmatch(plain, -1) {
		body := strings.TrimSpace(m[2])
		switch body {
		case "the status line":
			body = m[1]
		case "empty":
			body = ""
		default:
			body = strings.Trim(body, "`")
		}
		readmeBody[m[1]] = body
	}
	if len(readmeBody) < 2 {
		t.Fatalf("docs/http-api.md lists %d answers of net/http's own", len(readmeBody))
	}

	base, logs, _ := startDev(t, map[string]string{"METRICS_ADDR": ""})
	addr := strings.TrimPrefix(base, "http://")
	req := func(line string, headers ...string) string {
		return line + "\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n"
	}
	host := "Host: " + addr
	tests := []struct {
		name string
		raw  string
		// statusLine is net/http's own answer, "" for the service's.
		statusLine string
		// typ is the service's problem type.
		typ string
	}{
		{"headers over 36 KiB", req("GET /healthz HTTP/1.1", host, "X-Big: "+strings.Repeat("a", 40<<10)), "431 Request Header Fields Too Large", ""},
		{"request line over 36 KiB", req("GET /"+strings.Repeat("a", 40<<10)+" HTTP/1.1", host), "431 Request Header Fields Too Large", ""},
		{"HTTP/1.1 without Host", req("GET /healthz HTTP/1.1"), "400 Bad Request: missing required Host header", ""},
		{"HTTP/1.1 without Host, POST with a body", req("POST /auth/media-cookies HTTP/1.1", "Content-Type: application/json", "Content-Length: 2") + "{}", "400 Bad Request: missing required Host header", ""},
		{"malformed Host", req("GET /healthz HTTP/1.1", "Host: a b"), "400 Bad Request: malformed Host header", ""},
		{"space in a header name", req("GET /healthz HTTP/1.1", host, "X A: b"), "400 Bad Request: invalid header name", ""},
		{"method not a token", req("G(T /healthz HTTP/1.1", host), "400 Bad Request", ""},
		{"no version (HTTP/0.9 form)", req("GET /healthz"), "400 Bad Request", ""},
		{"bad escape in the target", req("GET /%zz HTTP/1.1", host), "400 Bad Request", ""},
		{"two Host headers", req("GET /healthz HTTP/1.1", host, host), "400 Bad Request", ""},
		{"control byte in a header value", req("GET /healthz HTTP/1.1", host, "X-A: a\x01b"), "400 Bad Request", ""},
		{"header line without a colon", req("GET /healthz HTTP/1.1", host, "X-A"), "400 Bad Request", ""},
		{"two different Content-Lengths", req("POST /auth/media-cookies HTTP/1.1", host, "Content-Length: 1", "Content-Length: 2") + "ab", "400 Bad Request", ""},
		{"signed Content-Length", req("POST /auth/media-cookies HTTP/1.1", host, "Content-Length: +2") + "{}", "400 Bad Request", ""},
		{"gzip, chunked", req("POST /auth/media-cookies HTTP/1.1", host, "Transfer-Encoding: gzip, chunked"), "501 Not Implemented", ""},
		{"two Transfer-Encoding headers", req("POST /auth/media-cookies HTTP/1.1", host, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), "501 Not Implemented", ""},
		{"HTTP/0.9", req("GET /healthz HTTP/0.9", host), "505 HTTP Version Not Supported: unsupported protocol version", ""},
		{"HTTP/2.0 as text", req("GET /healthz HTTP/2.0", host), "505 HTTP Version Not Supported: unsupported protocol version", ""},
		{"Expect other than 100-continue", req("GET /healthz HTTP/1.1", host, "Expect: x"), "417 Expectation Failed", ""},

		{"unknown route", req("GET /nope HTTP/1.1", host, "Connection: close"), "", "not-found"},
		{"made-up method, unknown route", req("MADEUP /nope HTTP/1.1", host, "Connection: close"), "", "not-found"},
		{"made-up method on a route", req("MADEUP /auth/media-cookies HTTP/1.1", host, "Connection: close"), "", "method-not-allowed"},
		{"method a route does not take", req("PUT /auth/media-cookies HTTP/1.1", host, "Connection: close"), "", "method-not-allowed"},
		{"OPTIONS *", req("OPTIONS * HTTP/1.1", host, "Connection: close"), "", "not-found"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "", "not-found"},
		{"body over 4 KiB", req("POST /auth/media-cookies HTTP/1.1", host, "Content-Type: application/json", "Content-Length: 5000") + strings.Repeat(" ", 5000), "", "body-too-large"},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.statusLine] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resps, closed := rawExchange(t, addr, tt.raw, 3*time.Second)
			if len(resps) != 1 {
				t.Fatalf("%d responses, want 1", len(resps))
			}
			r := resps[0]
			if !closed {
				t.Errorf("status %d: the connection stays open", r.status)
			}
			if tt.statusLine == "" {
				var p struct {
					Type   string
					Status int
				}
				if r.header.Get("Content-Type") != "application/problem+json" || json.Unmarshal([]byte(r.body), &p) != nil ||
					p.Type != "urn:cfcookies:problem:"+tt.typ || p.Status != r.status || r.header.Get("X-Request-Id") == "" {
					t.Fatalf("%d %q %s, want a %s problem with a request id", r.status, r.header.Get("Content-Type"), r.body, tt.typ)
				}
				if row := fmt.Sprintf("| `%s` | %d |", p.Type, p.Status); !strings.Contains(problems, row) {
					t.Errorf("docs/http-api.md's problem table has no row %s", row)
				}
				return
			}
			want, listed := readmeBody[tt.statusLine]
			if !listed {
				t.Fatalf("docs/http-api.md does not list net/http's %q", tt.statusLine)
			}
			wantType := "text/plain; charset=utf-8"
			if want == "" {
				wantType = ""
			}
			if r.line != tt.statusLine || r.body != want || r.header.Get("Content-Type") != wantType || !r.close {
				t.Errorf("got %q %q (Content-Type %q, Connection: close %v), docs/http-api.md says %q %q (%q, close)",
					r.line, r.body, r.header.Get("Content-Type"), r.close, tt.statusLine, want, wantType)
			}
			if r.header.Get("X-Request-Id") != "" || strings.Contains(r.body, "urn:cfcookies") {
				t.Errorf("net/http's own answer looks like the service's: %v %s", r.header, r.body)
			}
		})
	}
	for line := range readmeBody {
		if !tested[line] {
			t.Errorf("docs/http-api.md lists %q, which no request here produces", line)
		}
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), `"level":"error"`) {
			t.Errorf("an error-level log line:\n%s", grepLog(logs.String(), `"level":"error"`))
		}
	})
}
