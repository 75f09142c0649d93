package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawResponse is one answer read off a raw connection.
type rawResponse struct {
	status int
	line   string      // the status line after the version: "431 Request Header Fields Too Large"
	header http.Header // without Connection: http.ReadResponse moves it to close
	close  bool        // Connection: close
	body   string
}

// rawExchange writes raw on a new connection to addr and reads until the
// server closes it or nothing more comes for quiet. It returns every
// response read, in order, and whether the server closed the connection.
func rawExchange(t *testing.T, addr, raw string, quiet time.Duration) (resps []rawResponse, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(quiet))
		n, err := conn.Read(buf)
		got.Write(buf[:n])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			break // still open, nothing more to say
		}
		if err != nil {
			closed = true // EOF, or a reset after the answer
			break
		}
	}
	br := bufio.NewReader(&got)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if rest, _ := io.ReadAll(br); len(rest) > 0 {
				t.Fatalf("%d bytes after %d responses are no response: %q", len(rest), len(resps), rest)
			}
			return resps, closed
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d body: %v", len(resps)+1, err)
		}
		resps = append(resps, rawResponse{status: resp.StatusCode, line: resp.Status, header: resp.Header, close: resp.Close, body: string(b)})
	}
}

// chunk frames body as one chunk and the last chunk.
func chunk(body string) string {
	if body == "" {
		return "0\r\n\r\n"
	}
	return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
}

// TestRequestSmuggling sends, over raw TCP to a real server, a request whose
// framing a proxy in front may read otherwise (Content-Length and
// Transfer-Encoding: chunked together, in either order of trust; HTTP/1.0
// with Transfer-Encoding), with a second request hidden where the proxy sees
// body. net/http reads the chunked body, drops the Content-Length and would
// read the hidden request next on the same connection: the server answers
// the first request only, and closes the connection.
func TestRequestSmuggling(t *testing.T) {
	t.Parallel()
	base, logs, _ := startDev(t, map[string]string{"METRICS_ADDR": ""})
	addr := strings.TrimPrefix(base, "http://")
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\nX-Dev-User: mallory\r\n\r\n"
	head := func(method, target, proto, headers string) string {
		return method + " " + target + " " + proto + "\r\nHost: " + addr + "\r\nX-Dev-User: alice\r\n" + headers
	}
	tests := []struct {
		name string
		raw  string
		// pipelined is a control: plain framing keeps the connection,
		// so the second request is answered; it proves the test sees one.
		pipelined bool
	}{
		{"CL.TE: Content-Length covers the hidden request", head("POST", "/auth/media-cookies", "HTTP/1.1",
			fmt.Sprintf("Content-Type: application/json\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", len("0\r\n\r\n"+smuggled))) +
			"0\r\n\r\n" + smuggled, false},
		{"TE.CL: a short Content-Length inside the chunks", head("POST", "/auth/media-cookies", "HTTP/1.1",
			"Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n") +
			chunk(`{}`) + smuggled, false},
		{"Content-Length first, Transfer-Encoding Chunked", head("POST", "/auth/media-cookies", "HTTP/1.1",
			"Content-Length: 0\r\nContent-Type: application/json\r\nTransfer-Encoding: Chunked\r\n\r\n") +
			chunk(`{"scopes":["default"]}`) + smuggled, false},
		{"CL.TE without a content type", head("POST", "/auth/media-cookies", "HTTP/1.1",
			fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", len(chunk(`{}`)+smuggled))) +
			chunk(`{}`) + smuggled, false},
		{"CL.TE on a route that reads no body", head("GET", "/healthz", "HTTP/1.1",
			fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", len("0\r\n\r\n"+smuggled))) +
			"0\r\n\r\n" + smuggled, false},
		{"CL.TE on an unknown route", head("POST", "/nope", "HTTP/1.1",
			fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", len("0\r\n\r\n"+smuggled))) +
			"0\r\n\r\n" + smuggled, false},
		{"CL.TE on DELETE", head("DELETE", "/auth/media-cookies", "HTTP/1.1",
			fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", len("0\r\n\r\n"+smuggled))) +
			"0\r\n\r\n" + smuggled, false},
		{"HTTP/1.0 keep-alive with Transfer-Encoding and Content-Length", head("POST", "/auth/media-cookies", "HTTP/1.0",
			"Connection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n") +
			"{}" + smuggled, false},
		{"control: Content-Length only, pipelined", head("POST", "/auth/media-cookies", "HTTP/1.1",
			"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n") + "{}" + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resps, closed := rawExchange(t, addr, tt.raw, 2*time.Second)
			if tt.pipelined {
				if len(resps) != 2 {
					t.Fatalf("%d responses to two pipelined requests, want 2", len(resps))
				}
				return
			}
			if len(resps) != 1 {
				var statuses []int
				for _, r := range resps {
					statuses = append(statuses, r.status)
				}
				t.Fatalf("%d responses (statuses %v), want 1: the hidden request was answered", len(resps), statuses)
			}
			r := resps[0]
			if r.status >= 500 {
				t.Errorf("status %d", r.status)
			}
			if !closed {
				t.Errorf("status %d, the connection stays open after it", r.status)
			}
			if !r.close {
				t.Errorf("status %d without Connection: close", r.status)
			}
			if r.status >= 400 && len(r.header.Values("Set-Cookie")) > 0 {
				t.Errorf("status %d set cookies", r.status)
			}
		})
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), "/smuggled") || strings.Contains(logs.String(), "mallory") {
			t.Errorf("the hidden request was served:\n%s", grepLog(logs.String(), "smuggled"))
		}
		if strings.Contains(logs.String(), `"level":"error"`) {
			t.Errorf("an error-level log line:\n%s", grepLog(logs.String(), `"level":"error"`))
		}
	})
}

// TestBodyFramingOverTheWire: the body rules of POST /auth/media-cookies
// hold over a real connection, whatever framing carries the body: the
// answer is a problem, no cookie is set, and the server keeps serving.
func TestBodyFramingOverTheWire(t *testing.T) {
	t.Parallel()
	base, logs, _ := startDev(t, map[string]string{"METRICS_ADDR": ""})
	addr := strings.TrimPrefix(base, "http://")
	valid := `{"scopes":["default"]}`
	padded := valid + strings.Repeat(" ", 5000)
	post := func(headers, body string) string {
		return "POST /auth/media-cookies HTTP/1.1\r\nHost: " + addr + "\r\nX-Dev-User: alice\r\nConnection: close\r\n" + headers + "\r\n" + body
	}
	withLength := func(body string) string { return fmt.Sprintf("Content-Length: %d\r\n", len(body)) }
	tests := []struct {
		name   string
		raw    string
		status int
		typ    string
	}{
		{"chunked JSON without a content type", post("Transfer-Encoding: chunked\r\n", chunk(valid)), 415, "unsupported-media-type"},
		{"empty chunked body without a content type", post("Transfer-Encoding: chunked\r\n", chunk("")), 415, "unsupported-media-type"},
		{"valid object padded past 4 KiB", post("Content-Type: application/json\r\n"+withLength(padded), padded), 413, "body-too-large"},
		{"valid object padded past 4 KiB, chunked", post("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunk(padded)), 413, "body-too-large"},
		{"duplicate key", post("Content-Type: application/json\r\n"+withLength(`{"scopes":["nope"],"scopes":["default"]}`), `{"scopes":["nope"],"scopes":["default"]}`), 400, "bad-request"},
		{"long s in the name", post("Content-Type: application/json\r\n"+withLength("{\"\u017fcopes\":[\"nope\"]}"), "{\"\u017fcopes\":[\"nope\"]}"), 400, "bad-request"},
		{"null body", post("Content-Type: application/json\r\n"+withLength("null"), "null"), 400, "bad-request"},
		{"two content types", post("Content-Type: application/json\r\nContent-Type: application/json\r\n"+withLength(valid), valid), 400, "bad-request"},
		{"content type with a boundary", post("Content-Type: application/json; boundary=x\r\n"+withLength(valid), valid), 415, "unsupported-media-type"},
		{"malformed chunk", post("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "zz\r\n"+valid+"\r\n0\r\n\r\n"), 400, "bad-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resps, _ := rawExchange(t, addr, tt.raw, 2*time.Second)
			if len(resps) != 1 {
				t.Fatalf("%d responses, want 1", len(resps))
			}
			r := resps[0]
			if r.status != tt.status || r.header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(r.body, `"type":"urn:cfcookies:problem:`+tt.typ+`"`) {
				t.Fatalf("%d %s %s, want %d %s problem", r.status, r.header.Get("Content-Type"), r.body, tt.status, tt.typ)
			}
			if sc := r.header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("cookies set: %d", len(sc))
			}
		})
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), `"level":"error"`) {
			t.Errorf("an error-level log line:\n%s", grepLog(logs.String(), `"level":"error"`))
		}
		resp, err := http.Post(base+"/auth/media-cookies", "application/json", strings.NewReader(valid))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(resp.Cookies()) == 0 {
			t.Errorf("an honest request after the suite: %d, %d cookies", resp.StatusCode, len(resp.Cookies()))
		}
	})
}

// grepLog returns the lines of logs holding substr.
func grepLog(logs, substr string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
