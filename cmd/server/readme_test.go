package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeCurl is a "$ curl -i" line of README's "Try it" section.
var readmeCurl = regexp.MustCompile(`^\$ curl -i -X (\S+)(?: -H '([^']*)')? http://127\.0\.0\.1:8080(/\S*)$`)

// TestREADMETryItIsRealOutput replays each "$ curl -i" of README's "Try it"
// section against the dev server and compares the answer line by line with
// the one README shows as real output: status, every header in order, each
// cookie's attributes and the body. Values that change from run to run
// (dates, request ids, cookie values, counters, Max-Age) are compared by
// shape only. The access line README's "Logs" shows must have the fields of
// the real one, in order.
func TestREADMETryItIsRealOutput(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Try it\n")
	if !ok {
		t.Fatal(`README has no "## Try it" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")

	base, logs, _ := startDev(t, nil)
	addr := strings.TrimPrefix(base, "http://")
	examples := 0
	for i, block := range strings.Split(section, "```") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		m := readmeCurl.FindStringSubmatch(lines[0])
		if i%2 == 0 || m == nil {
			continue
		}
		examples++
		t.Run(strings.TrimPrefix(lines[0], "$ curl -i "), func(t *testing.T) {
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
					t.Errorf("line %d differs from README:\n got %s\nwant %s\nreal output, values replaced:\n%s", j+1, g, w, strings.Join(got, "\n"))
					return
				}
			}
		})
	}
	if examples != 3 {
		t.Fatalf(`found %d "$ curl -i" examples in README's "Try it", want 3`, examples)
	}

	// README's "Logs" shows the access line of the first request above.
	_, logSection, _ := strings.Cut(string(readme), "\n## Logs\n")
	_, example, _ := strings.Cut(logSection, "one access line:\n\n```json\n")
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
		t.Errorf("README's access line has the fields\n%s\nthe server logs\n%s", want, got)
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
