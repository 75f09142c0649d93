package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/config"
)

// repoRoot is the repository's root, seen from this package's directory.
const repoRoot = "../.."

// readDoc returns a file of the repository, path relative to its root.
func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docSection returns the body of the section a heading line (such as
// "## Errors") starts: up to the next heading of the same level or
// higher, headings inside code blocks aside.
func docSection(t *testing.T, path, heading string) string {
	t.Helper()
	level := strings.IndexByte(heading, ' ')
	var b strings.Builder
	in, fence := false, false
	for _, line := range strings.SplitAfter(readDoc(t, path), "\n") {
		bare := strings.TrimRight(line, "\n")
		if strings.HasPrefix(bare, "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(bare, "#") {
			if bare == heading {
				in = true
				continue
			}
			if n := strings.IndexByte(bare, ' '); in && n > 0 && n <= level && strings.Trim(bare[:n], "#") == "" {
				break
			}
		}
		if in {
			b.WriteString(line)
		}
	}
	if !in {
		t.Fatalf("%s has no %q section", path, heading)
	}
	return b.String()
}

// docCurl is a "$ curl -i" line of a documented example.
var docCurl = regexp.MustCompile(`^\$ curl -i -X (\S+)(?: -H '([^']*)')? http://127\.0\.0\.1:8080(/\S*)$`)

// TestCurlExamplesAreRealOutput replays each "$ curl -i" of README's "Try
// it" section and of docs/http-api.md's "Examples" against the dev server
// and compares the answer line by line with the one the document shows as
// real output: status, every header in order, each cookie's attributes
// and the body. Values that change from run to run (dates, request ids,
// cookie values, counters, Max-Age) are compared by shape only. The access
// line docs/operations.md's "Logs" shows must have the fields of the real
// one, in order.
func TestCurlExamplesAreRealOutput(t *testing.T) {
	t.Parallel()
	// The CloudFront domain of a developer's `server --dev`, whose emulated
	// CloudFront is on DEV_CDN_ADDR's default port; the test's is the
	// kernel's.
	base, logs, _ := startDev(t, map[string]string{"CLOUDFRONT_DOMAIN": config.DevCloudFrontDomain})
	addr := strings.TrimPrefix(base, "http://")
	for _, doc := range []struct {
		path, heading string
		examples      int
	}{
		{"README.md", "## Try it", 1},
		{"docs/http-api.md", "## Examples", 3},
	} {
		section := docSection(t, doc.path, doc.heading)
		examples := 0
		for i, block := range strings.Split(section, "```") {
			lines := strings.Split(strings.Trim(block, "\n"), "\n")
			m := docCurl.FindStringSubmatch(lines[0])
			if i%2 == 0 || m == nil {
				continue
			}
			examples++
			t.Run(doc.path+": "+strings.TrimPrefix(lines[0], "$ curl -i "), func(t *testing.T) {
				got := curlLines(t, addr, m[1], m[3], m[2])
				for j := range got {
					got[j] = normalizeExample(got[j]) // never print a cookie value
				}
				want := lines[1:]
				for len(want) > 0 && want[len(want)-1] == "" {
					want = want[:len(want)-1]
				}
				for j := 0; j < max(len(got), len(want)); j++ {
					var g, w string
					if j < len(got) {
						g = got[j]
					}
					if j < len(want) {
						w = normalizeExample(want[j])
					}
					if g != w {
						t.Errorf("line %d differs from %s:\n got %s\nwant %s\nreal output, values replaced:\n%s", j+1, doc.path, g, w, strings.Join(got, "\n"))
						return
					}
				}
			})
		}
		if examples != doc.examples {
			t.Errorf(`found %d "$ curl -i" examples in %s's %q, want %d`, examples, doc.path, doc.heading, doc.examples)
		}
	}

	// docs/operations.md's "Logs" shows the access line of a POST as alice.
	_, example, _ := strings.Cut(docSection(t, "docs/operations.md", "## Logs"), "one access line:\n\n```json\n")
	example, _, _ = strings.Cut(example, "\n```")
	var real string
	for deadline := time.Now().Add(5 * time.Second); real == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"message":"request"`) && strings.Contains(line, `"status":200`) && strings.Contains(line, `"method":"POST"`) {
				real = line
				break
			}
		}
	}
	if got, want := jsonKeys(t, real), jsonKeys(t, example); got != want {
		t.Errorf("docs/operations.md's access line has the fields\n%s\nthe server logs\n%s", want, got)
	}
}

// jsonKeys lists the keys of a JSON object in order, with the values of
// those that do not change between runs.
func jsonKeys(t *testing.T, line string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %q", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		key := tok.(string)
		switch key {
		case "request_id", "time", "duration_ms", "expires_at":
		default:
			key += "=" + fmt.Sprint(v)
		}
		keys = append(keys, key)
	}
	return strings.Join(keys, " ")
}

// curlLines sends the request curl would and returns the response as curl -i
// prints it: status line, headers in the order received, a blank line, the
// body.
func curlLines(t *testing.T, addr, method, path, header string) []string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
	if header != "" {
		req += header + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	var lines []string
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			if length, err = strconv.Atoi(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	if length > 0 {
		lines = append(lines, strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")...)
	}
	return lines
}

var exampleValues = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`^(Date|X-Request-Id|X-Ratelimit-Remaining|X-Ratelimit-Reset): .*`), "$1: <value>"},
	{regexp.MustCompile(`^(Set-Cookie: CloudFront-(?:Policy|Signature)=)[^;]+`), "$1<value>"},
	{regexp.MustCompile(`Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT; Max-Age=[1-9]\d*`), "Expires=<date>; Max-Age=<seconds>"},
	{regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"`), `"<time>"`},
	{regexp.MustCompile(`"requestId":"[^"]*"`), `"requestId":"<id>"`},
}

// normalizeExample replaces the values that differ between runs.
func normalizeExample(line string) string {
	for _, v := range exampleValues {
		line = v.re.ReplaceAllString(line, v.repl)
	}
	return line
}
