package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// hostileScopes is the SCOPES_FILE of the hostile suite: a path built from
// two claims, and a scope only some callers may have.
const hostileScopes = `claims: [tenant_id, groups]
scopes:
  - name: private
    path: /tenants/{tenant_id}/users/{sub}/*
    cookiePath: /tenants/
  - name: premium
    path: /premium/*
    cookiePath: /premium/
    allow:
      - claim: groups
        contains: premium
`

// hostileCase is one request an attacker would send. Unless held says
// otherwise, it holds when it gets a 4xx (or the server closes the
// connection) and no Set-Cookie.
type hostileCase struct {
	name string
	// Exactly one of req (sent with net/http) and raw (bytes written to a
	// TCP connection, for what net/http refuses to send) is set.
	req  func() *http.Request
	raw  string
	slow bool // raw is dribbled a byte at a time
	// held overrides the default verdict, for input the server is right to
	// ignore rather than refuse.
	held func(r hostileResult) error
}

type hostileResult struct {
	status  int // 0 when the connection closed without an answer
	cookies []*http.Cookie
	header  http.Header
}

// TestHostileRequests sends requests an attacker would try at a server
// configured as in production (OIDC, claim-built paths, an entitlement rule,
// IP binding behind an untrusted peer, CORS for one origin) and checks that
// none widens a grant or sets a cookie, nothing panics, and nothing secret
// is logged.
func TestHostileRequests(t *testing.T) {
	is := newTestIssuer(t)
	pemBytes, err := os.ReadFile(testKeyFile) // to look for in the log
	if err != nil {
		t.Fatal(err)
	}
	base, logs, _ := startServer(t, []string{"server"}, oidcEnv(t, is, hostileScopes, map[string]string{
		"AUTH_COOKIE":          "session",
		"BIND_CLIENT_IP":       "true",
		"TRUSTED_PROXIES":      "10.0.0.0/8",
		"CORS_ALLOWED_ORIGINS": "https://app.example.com",
		// Every hostile request comes from one address and a few
		// identities: limits high enough never to answer 429 here.
		"RATE_LIMIT_PER_IP":       "100000/1m",
		"RATE_LIMIT_PER_IDENTITY": "100000/1m",
	}))
	endpoint := base + "/auth/media-cookies"
	addr := strings.TrimPrefix(base, "http://")

	good := is.token(t, is.key, map[string]any{"tenant_id": "acme"})
	claims := func(edits map[string]any) string {
		e := map[string]any{"tenant_id": "acme"}
		for k, v := range edits {
			e[k] = v
		}
		return is.token(t, is.key, e)
	}
	post := func(token, contentType, body string, headers ...string) func() *http.Request {
		return func() *http.Request {
			var rd io.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			r, _ := http.NewRequest(http.MethodPost, endpoint, rd)
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Add(headers[i], headers[i+1])
			}
			return r
		}
	}
	as := func(sub string) func() *http.Request { return post(claims(map[string]any{"sub": sub}), "", "") }
	tenant := func(v any) func() *http.Request { return post(claims(map[string]any{"tenant_id": v}), "", "") }
	scopes := func(body string) func() *http.Request { return post(good, "application/json", body) }
	method := func(m string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(m, endpoint, nil)
			r.Header.Set("Authorization", "Bearer "+good)
			return r
		}
	}
	target := func(path string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, base, nil)
			r.URL = &url.URL{Scheme: "http", Host: addr, Opaque: path}
			r.Header.Set("Authorization", "Bearer "+good)
			return r
		}
	}
	// boundToPeer holds when forged forwarding headers were ignored: the
	// cookies bind the real peer, 127.0.0.1, and nothing else.
	boundToPeer := func(r hostileResult) error {
		if r.status != http.StatusOK {
			return fmt.Errorf("status %d, want 200 bound to the peer", r.status)
		}
		for _, c := range r.cookies {
			if c.Name != signer.CookiePolicy {
				continue
			}
			p, err := signer.DecodeBase64(c.Value)
			if err != nil {
				return err
			}
			if !strings.Contains(string(p), `"AWS:SourceIp":"127.0.0.1/32"`) {
				return errors.New("policy does not bind 127.0.0.1/32")
			}
		}
		return nil
	}
	preflight := func(origins ...string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodOptions, endpoint, nil)
			for _, o := range origins {
				r.Header.Add("Origin", o)
			}
			r.Header.Set("Access-Control-Request-Method", http.MethodPost)
			return r
		}
	}
	rawPost := func(headers, body string) string {
		return "POST /auth/media-cookies HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + good + "\r\n" + headers + "\r\n" + body
	}

	cases := []hostileCase{
		// Wildcards, traversal and encodings through the token's claims.
		{name: "sub *", req: as("*")},
		{name: "sub with a * inside", req: as("alice*")},
		{name: "sub ?", req: as("?")},
		{name: "sub with a ? inside", req: as("al?ce")},
		{name: "sub ..", req: as("..")},
		{name: "sub ../bob", req: as("../bob")},
		{name: "sub alice/../bob", req: as("alice/../bob")},
		{name: "sub with a slash", req: as("alice/bob")},
		{name: "sub with a backslash", req: as(`alice\..\bob`)},
		{name: "sub %2a", req: as("%2a")},
		{name: "sub %2A", req: as("%2A")},
		{name: "sub %2e%2e", req: as("%2e%2e")},
		{name: "sub alice%2f..%2fbob", req: as("alice%2f..%2fbob")},
		{name: "sub %00", req: as("%00")},
		{name: "sub fullwidth asterisk", req: as("\uff0a")},
		{name: "sub fullwidth question mark", req: as("\uff1f")},
		{name: "sub fullwidth full stops", req: as("\uff0e\uff0e")},
		{name: "sub division slash", req: as("alice\u2215..\u2215bob")},
		{name: "sub right-to-left override", req: as("alice\u202e")},
		{name: "sub NUL", req: as("alice\x00")},
		{name: "sub newline", req: as("alice\nbob")},
		{name: "sub tab", req: as("alice\tbob")},
		{name: "sub with a query", req: as("alice?x=1")},
		{name: "sub with a fragment", req: as("alice#x")},
		{name: "sub //", req: as("alice//bob")},
		{name: "sub empty", req: as("")},
		{name: "sub 5000 bytes", req: as(strings.Repeat("a", 5000))},
		{name: "sub overlong UTF-8 *", req: post(is.tokenPayload(t, `{"iss":"`+is.srv.URL+`","aud":"media-app","exp":`+fmt.Sprint(time.Now().Add(time.Hour).Unix())+`,"tenant_id":"acme","sub":"`+"\xc0\xaa"+`"}`), "", "")},
		{name: "sub overlong UTF-8 ..", req: post(is.tokenPayload(t, `{"iss":"`+is.srv.URL+`","aud":"media-app","exp":`+fmt.Sprint(time.Now().Add(time.Hour).Unix())+`,"tenant_id":"acme","sub":"`+"\xc0\xae\xc0\xae"+`"}`), "", "")},
		{name: "sub a number", req: post(claims(map[string]any{"sub": 42}), "", "")},
		{name: "tenant_id *", req: tenant("*")},
		{name: "tenant_id ..", req: tenant("..")},
		{name: "tenant_id acme/*", req: tenant("acme/*")},
		{name: "tenant_id %2a", req: tenant("%2a")},
		{name: "tenant_id missing", req: post(is.token(t, is.key, nil), "", "")},
		{name: "tenant_id an object", req: tenant(map[string]any{"a": "*"})},
		{name: "tenant_id a list", req: tenant([]any{"*"})},
		{name: "tenant_id null", req: tenant(nil)},
		{name: "tenant_id true", req: tenant(true)},
		{name: "groups premium* for the premium rule", req: post(claims(map[string]any{"groups": []any{"premium*"}}), "application/json", `{"scopes":["premium"]}`)},

		// Scope requests.
		{name: "scope *", req: scopes(`{"scopes":["*"]}`)},
		{name: "scope not entitled", req: scopes(`{"scopes":["premium"]}`)},
		{name: "scope private*", req: scopes(`{"scopes":["private*"]}`)},
		{name: "scope ../private", req: scopes(`{"scopes":["../private"]}`)},
		{name: "scope in capitals", req: scopes(`{"scopes":["PRIVATE"]}`)},
		{name: "scope fullwidth", req: scopes(`{"scopes":["\uff50rivate"]}`)},
		{name: "scopes a string", req: scopes(`{"scopes":"premium"}`)},
		{name: "scopes a number", req: scopes(`{"scopes":[1]}`)},
		{name: "scopes null element", req: scopes(`{"scopes":[null]}`)},
		{name: "scope NUL", req: scopes(`{"scopes":["private\u0000"]}`)},
		{name: "unknown field naming a resource", req: scopes(`{"scopes":["private"],"resource":"https://media.example.com/*"}`)},
		{name: "unknown field naming a path", req: scopes(`{"path":"/*"}`)},
		{name: "second JSON value", req: scopes(`{"scopes":["private"]} {"scopes":["premium"]}`)},
		{name: "duplicate scopes key", req: scopes(`{"scopes":["private"],"scopes":["premium"]}`)},
		{name: "body not JSON", req: scopes(`scopes=premium`)},
		{name: "body a JSON list", req: scopes(`["premium"]`)},
		{name: "body 5 KB", req: scopes(`{"scopes":["private"],"x":"` + strings.Repeat("a", 5000) + `"}`)},
		{name: "body 1 MB", req: scopes(`{"scopes":["` + strings.Repeat("a", 1<<20) + `"]}`)},
		{name: "1000 unknown scopes", req: scopes(`{"scopes":[` + strings.TrimSuffix(strings.Repeat(`"x",`, 1000), ",") + `]}`)},
		{name: "content type text/plain", req: post(good, "text/plain", `{"scopes":["private"]}`)},
		{name: "content type form", req: post(good, "application/x-www-form-urlencoded", "scopes=premium")},
		{name: "content type multipart", req: post(good, "multipart/form-data; boundary=x", "--x--")},
		{name: "content type malformed", req: post(good, "application/json; charset", `{}`)},
		{name: "body without a content type", req: post(good, "", `{"scopes":["premium"]}`)},

		// Bodies read one way only: what a lenient parser (or a proxy)
		// would read otherwise is refused.
		{name: "duplicate scopes key, the entitled one last", req: scopes(`{"scopes":["premium"],"scopes":["private"]}`)},
		{name: "duplicate scopes key, escaped", req: scopes(`{"scopes":["premium"],"\u0073copes":["private"]}`)},
		{name: "scopes in capitals", req: scopes(`{"SCOPES":["private"]}`)},
		{name: "scopes in title case", req: scopes(`{"Scopes":["private"]}`)},
		{name: "scopes with a long s first", req: scopes("{\"\u017fcopes\":[\"private\"]}")},
		{name: "scopes with a long s last", req: scopes("{\"scope\u017f\":[\"private\"]}")},
		{name: "body null", req: scopes(`null`)},
		{name: "body a string", req: scopes(`"private"`)},
		{name: "body a number", req: scopes(`1`)},
		{name: "scopes null", req: scopes(`{"scopes":null}`)},
		{name: "data after the object", req: scopes(`{"scopes":["private"]}x`)},
		{name: "two JSON content types", req: post(good, "application/json", `{"scopes":["private"]}`, "Content-Type", "application/json")},
		{name: "content type with a boundary", req: post(good, "application/json; boundary=x", `{"scopes":["private"]}`)},
		{name: "content type with an unknown parameter", req: post(good, "application/json; v=1", `{"scopes":["private"]}`)},
		{name: "gzip content encoding", req: post(good, "application/json", `{"scopes":["private"]}`, "Content-Encoding", "gzip")},
		{name: "chunked body without a content type", raw: rawPost("Transfer-Encoding: chunked\r\n", "16\r\n{\"scopes\":[\"private\"]}\r\n0\r\n\r\n")},
		{name: "valid object padded past 4 KiB", req: scopes(`{"scopes":["private"]}` + strings.Repeat(" ", 5000)), held: statusIs(http.StatusRequestEntityTooLarge)},

		// Origins compared byte for byte, one Origin header only.
		{name: "origin in capitals without a token", req: post("", "", "", "Origin", "HTTPS://APP.EXAMPLE.COM"), held: noCORS},
		{name: "origin host in capitals with a token", req: post(good, "", "", "Origin", "https://APP.example.com"), held: noCORS},
		{name: "two Origin headers", req: post("", "", "", "Origin", "https://app.example.com", "Origin", "https://evil.net"), held: noCORS},
		{name: "two identical Origin headers", req: post("", "", "", "Origin", "https://app.example.com", "Origin", "https://app.example.com"), held: noCORS},
		{name: "preflight with an origin in capitals", req: preflight("HTTPS://APP.EXAMPLE.COM"), held: noCORS},
		{name: "preflight with two Origin headers", req: preflight("https://app.example.com", "https://evil.net"), held: noCORS},

		// Credentials and headers.
		{name: "no token", req: post("", "", "")},
		{name: "two Authorization headers", req: post(good, "", "", "Authorization", "Bearer "+claims(map[string]any{"sub": "bob"}))},
		{name: "Authorization with trailing junk", req: post(good+" x", "", "")},
		{name: "Authorization Basic", req: post("", "", "", "Authorization", "Basic YWxpY2U6cHc=")},
		{name: "X-Dev-User outside dev mode", req: post("", "", "", "X-Dev-User", "alice")},
		{name: "token in a cookie that is not AUTH_COOKIE", req: post("", "", "", "Cookie", "sess="+good)},
		{name: "two session cookies", req: post("", "", "", "Cookie", "session="+good+"; session="+claims(map[string]any{"sub": "bob"}))},
		{name: "Authorization 40 KB", req: post(strings.Repeat("a", 40<<10), "", "")},
		{name: "session cookie 40 KB", req: post("", "", "", "Cookie", "session="+strings.Repeat("a", 40<<10))},
		{name: "junk header 40 KB", req: post(good, "", "", "X-Junk", strings.Repeat("a", 40<<10))},
		{name: "4000 headers", req: func() *http.Request {
			r := post(good, "", "")()
			for i := range 4000 {
				r.Header.Set(fmt.Sprintf("X-H%d", i), "v")
			}
			return r
		}},
		{name: "look-alike origin without a token", req: post("", "", "", "Origin", "https://app.example.com.evil.net")},
		{name: "null origin without a token", req: post("", "", "", "Origin", "null")},
		{name: "forged X-Forwarded-For", req: post(good, "", "", "X-Forwarded-For", "203.0.113.7"), held: boundToPeer},
		{name: "forged X-Forwarded-For chain", req: post(good, "", "", "X-Forwarded-For", "203.0.113.7, 10.0.0.1"), held: boundToPeer},
		{name: "forged X-Forwarded-For CIDR", req: post(good, "", "", "X-Forwarded-For", "0.0.0.0/0"), held: boundToPeer},
		{name: "two X-Forwarded-For headers", req: post(good, "", "", "X-Forwarded-For", "10.0.0.1", "X-Forwarded-For", "203.0.113.7"), held: boundToPeer},
		{name: "forged X-Real-IP", req: post(good, "", "", "X-Real-IP", "203.0.113.7"), held: boundToPeer},
		{name: "forged Forwarded", req: post(good, "", "", "Forwarded", "for=203.0.113.7"), held: boundToPeer},

		// Methods and targets the route does not take.
		{name: "PUT", req: method(http.MethodPut)},
		{name: "PATCH", req: method(http.MethodPatch)},
		{name: "GET without ALLOW_GET", req: method(http.MethodGet)},
		{name: "TRACE", req: method(http.MethodTrace)},
		{name: "trailing slash", req: target("/auth/media-cookies/")},
		{name: "encoded slash", req: target("/auth%2fmedia-cookies")},
		{name: "dot segment", req: target("/auth/./media-cookies/..")},
		{name: "metrics on the API port", req: target("/metrics")},

		// What net/http would refuse to send.
		{name: "CR LF in a header value", raw: rawPost("X-A: a\rSet-Cookie: x=y\r\n", "")},
		{name: "space in a header name", raw: rawPost("X A: b\r\n", "")},
		{name: "two different Content-Lengths", raw: rawPost("Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n", "{}")},
		{name: "bad method token", raw: "PO(ST /auth/media-cookies HTTP/1.1\r\nHost: x\r\n\r\n"},
		{name: "HTTP/2 preface on HTTP/1", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{name: "headers dribbled byte by byte", raw: rawPost("X-Slow: "+strings.Repeat("a", 100)+"\r\n", ""), slow: true},
	}

	var tried, held atomic.Int64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tried.Add(1)
			var res hostileResult
			if tc.req != nil {
				res = sendHostile(t, tc.req())
			} else {
				res = sendRaw(t, addr, tc.raw, tc.slow)
			}
			verdict := tc.held
			if verdict == nil {
				verdict = refused
			}
			if err := verdict(res); err != nil {
				t.Error(err)
				return
			}
			held.Add(1)
		})
	}
	t.Cleanup(func() {
		t.Logf("hostile requests: tried %d, held %d", tried.Load(), held.Load())
		fmt.Printf("hostile requests: tried %d, held %d\n", tried.Load(), held.Load())
		if len(cases) < 60 {
			t.Errorf("only %d hostile requests", len(cases))
		}
		// The server still serves an honest caller.
		res := sendHostile(t, post(good, "", "")())
		if res.status != http.StatusOK || len(res.cookies) == 0 {
			t.Errorf("honest caller after the suite: status %d, %d cookies", res.status, len(res.cookies))
		}
		out := logs.String()
		if strings.Contains(out, "panic") {
			t.Error("a request panicked")
		}
		secrets := []string{strings.Split(good, ".")[2], strings.Split(good, ".")[1]}
		for _, c := range res.cookies {
			if c.Name != signer.CookieKeyPairID { // an ID, not a secret
				secrets = append(secrets, c.Value)
			}
		}
		secrets = append(secrets, strings.Split(strings.TrimSpace(string(pemBytes)), "\n")[1:3]...)
		for _, s := range secrets {
			if len(s) > 8 && strings.Contains(out, s) {
				t.Errorf("the log holds a secret (%d bytes)", len(s))
			}
		}
		var lines, accessLines int
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines++
			var l struct{ Status int }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Status >= 400 {
				accessLines++
			}
		}
		t.Logf("%d log lines, %d access lines with a 4xx", lines, accessLines)
		if tried.Load() == int64(len(cases)) && accessLines < 50 {
			t.Errorf("%d access log lines with a 4xx, want one per refused request that reached the router", accessLines)
		}
	})
}

// refused is the default verdict: a 4xx or a closed connection, and no cookie.
func refused(r hostileResult) error {
	if len(r.cookies) > 0 {
		return fmt.Errorf("status %d set %d cookies", r.status, len(r.cookies))
	}
	if r.status != 0 && (r.status < 400 || r.status > 499) {
		return fmt.Errorf("status %d, want a 4xx", r.status)
	}
	if r.status != 0 && r.header.Get("Access-Control-Allow-Origin") != "" && r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		return fmt.Errorf("Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	return nil
}

// statusIs holds when the answer is exactly status, with no cookie.
func statusIs(status int) func(hostileResult) error {
	return func(r hostileResult) error {
		if r.status != status || len(r.cookies) > 0 {
			return fmt.Errorf("status %d with %d cookies, want %d and none", r.status, len(r.cookies), status)
		}
		return nil
	}
}

// noCORS holds when the answer has no Access-Control-Allow-* header at
// all, and is a refusal unless it is a preflight's 204 or a success (CORS
// leaves the decision to the browser, which sees no grant for its origin).
func noCORS(r hostileResult) error {
	if r.status != http.StatusNoContent && r.status != http.StatusOK {
		if err := refused(r); err != nil {
			return err
		}
	}
	for k, v := range r.header {
		if strings.HasPrefix(k, "Access-Control-Allow-") {
			return fmt.Errorf("status %d with %s %q", r.status, k, v)
		}
	}
	return nil
}

func sendHostile(t *testing.T, r *http.Request) hostileResult {
	t.Helper()
	client := &http.Client{
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(r)
	if err != nil {
		// The server may close on a body it refuses before reading it all.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("request timed out: %v", err)
		}
		return hostileResult{}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return hostileResult{status: resp.StatusCode, cookies: resp.Cookies(), header: resp.Header}
}

// sendRaw writes raw to a new connection, a byte every 100 ms when slow,
// and reads one response, or none if the server closes first.
func sendRaw(t *testing.T, addr, raw string, slow bool) hostileResult {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if slow {
		for i := 0; i < len(raw); i++ {
			if _, err := conn.Write([]byte{raw[i]}); err != nil {
				return hostileResult{} // closed on us: what slowloris should get
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the server read %d bytes dribbled over %s without closing", len(raw), time.Duration(len(raw))*100*time.Millisecond)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		return hostileResult{}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return hostileResult{}
	}
	defer resp.Body.Close()
	return hostileResult{status: resp.StatusCode, cookies: resp.Cookies(), header: resp.Header}
}

// tokenPayload signs payload as it is, bytes json.Marshal would not write
// (invalid UTF-8) included.
func (is *testIssuer) tokenPayload(t *testing.T, payload string) string {
	t.Helper()
	return signToken(t, is.key, "k1", []byte(payload))
}
