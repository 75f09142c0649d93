package edge

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/testlog"
)

// newHTTPCDN serves the emulated distribution over real HTTP on loopback,
// with its policies matched as if the browser had used cdnBase.
func newHTTPCDN(t *testing.T, files fs.FS) (*httptest.Server, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	srv := httptest.NewServer(NewCDN(CDNOptions{
		Verifier:           newTestVerifier(t, VerifierOptions{BaseURL: cdnBase}),
		Files:              files,
		CORSAllowedOrigins: []string{spa},
		Logger:             zerolog.New(logs),
		Now:                func() time.Time { return t0.Add(time.Minute) },
	}))
	t.Cleanup(srv.Close)
	return srv, logs
}

type httpAnswer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the dev cookies, the SPA's Origin and headers
// (a name may repeat: "Range", "a", "Range", "b" sends two Range fields).
func do(t *testing.T, srv *httptest.Server, method, rawPath string, headers ...string) httpAnswer {
	t.Helper()
	return doWith(t, srv, devCookies(t), method, rawPath, headers...)
}

// doWith is do with other cookies. rawPath is sent as written (as curl
// --path-as-is sends it): no dot segment removed, no escape changed.
func doWith(t *testing.T, srv *httptest.Server, cookies []*http.Cookie, method, rawPath string, headers ...string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = rawPath // the request line's target, in origin form
	if strings.HasPrefix(rawPath, "//") {
		req.URL.Opaque = "//" + req.URL.Host + rawPath // absolute form: origin form would read as a host
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	req.Header.Set("Origin", spa)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpAnswer{resp.StatusCode, resp.Header, body}
}

// TestCDNRanges checks the Range answers over HTTP against a real segment:
// one byte range is served as S3 serves it, a range past the end is 416
// with the size, and anything S3 does not serve as a range (another unit,
// a malformed range, several ranges) gets the whole object, never a
// multipart answer or a panic.
func TestCDNRanges(t *testing.T) {
	t.Parallel()
	srv, _ := newHTTPCDN(t, nil)
	const path = "/media/dev/hls/segment0.ts"
	data, err := fs.ReadFile(SampleMedia(), strings.TrimPrefix(path, "/"))
	if err != nil {
		t.Fatal(err)
	}
	size := len(data)
	n := strconv.Itoa
	whole := func(from int) string { return "bytes " + n(from) + "-" + n(size-1) + "/" + n(size) }

	cases := []struct {
		name     string
		method   string
		headers  []string
		status   int
		crange   string // Content-Range
		from, to int    // the body is data[from:to] on 200 and 206
	}{
		{"first 100 bytes", "GET", []string{"Range", "bytes=0-99"}, 206, "bytes 0-99/" + n(size), 0, 100},
		{"open end", "GET", []string{"Range", "bytes=100-"}, 206, whole(100), 100, size},
		{"suffix", "GET", []string{"Range", "bytes=-188"}, 206, whole(size - 188), size - 188, size},
		{"suffix longer than the object", "GET", []string{"Range", "bytes=-99999999"}, 206, whole(0), 0, size},
		{"last past the end", "GET", []string{"Range", "bytes=188-99999999999999999999"}, 206, whole(188), 188, size},
		{"unit in capitals, spaces", "GET", []string{"Range", "BYTES= 1-2 "}, 206, "bytes 1-2/" + n(size), 1, 3},
		{"HEAD with a range", "HEAD", []string{"Range", "bytes=0-99"}, 206, "bytes 0-99/" + n(size), 0, 0},
		{"no range", "GET", nil, 200, "", 0, size},
		{"HEAD", "HEAD", nil, 200, "", 0, 0},

		{"start past the end", "GET", []string{"Range", "bytes=999999999-"}, 416, "bytes */" + n(size), 0, 0},
		{"start at the end", "GET", []string{"Range", "bytes=" + n(size) + "-" + n(size+10)}, 416, "bytes */" + n(size), 0, 0},
		{"start beyond int64", "GET", []string{"Range", "bytes=99999999999999999999-"}, 416, "bytes */" + n(size), 0, 0},
		{"empty suffix", "GET", []string{"Range", "bytes=-0"}, 416, "bytes */" + n(size), 0, 0},

		{"not a number", "GET", []string{"Range", "bytes=abc"}, 200, "", 0, size},
		{"last before first", "GET", []string{"Range", "bytes=5-1"}, 200, "", 0, size},
		{"another unit", "GET", []string{"Range", "items=0-1"}, 200, "", 0, size},
		{"no unit", "GET", []string{"Range", "0-1"}, 200, "", 0, size},
		{"empty set", "GET", []string{"Range", "bytes="}, 200, "", 0, size},
		{"bare dash", "GET", []string{"Range", "bytes=-"}, 200, "", 0, size},
		{"negative suffix", "GET", []string{"Range", "bytes=--1"}, 200, "", 0, size},
		{"three numbers", "GET", []string{"Range", "bytes=1-2-3"}, 200, "", 0, size},
		{"signed number", "GET", []string{"Range", "bytes=+1-2"}, 200, "", 0, size},
		{"two ranges", "GET", []string{"Range", "bytes=0-1,3-4"}, 200, "", 0, size},
		{"many ranges", "GET", []string{"Range", "bytes=" + strings.Repeat("0-1,", 200) + "5-6"}, 200, "", 0, size},
		{"two Range fields", "GET", []string{"Range", "bytes=0-1", "Range", "bytes=3-4"}, 200, "", 0, size},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, srv, tc.method, path, tc.headers...)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			if got := a.header.Get("Content-Range"); got != tc.crange {
				t.Errorf("Content-Range %q, want %q", got, tc.crange)
			}
			if a.status == 416 {
				return
			}
			if got := a.header.Get("Content-Type"); got != "video/mp2t" {
				t.Errorf("Content-Type %q", got)
			}
			if got, want := a.header.Get("Content-Length"), n(tc.to-tc.from); tc.method == "GET" && got != want {
				t.Errorf("Content-Length %s, want %s", got, want)
			}
			if !bytes.Equal(a.body, data[tc.from:tc.to]) {
				t.Errorf("body is %d bytes, not bytes %d to %d of the segment", len(a.body), tc.from, tc.to)
			}
		})
	}
}

// TestCDNConditional checks the validators: the ETag makes If-Range,
// If-None-Match and If-Match work on the embedded samples, which have no
// modification time.
func TestCDNConditional(t *testing.T) {
	t.Parallel()
	srv, _ := newHTTPCDN(t, nil)
	const path = "/media/dev/hls/segment3.ts"
	first := do(t, srv, "GET", path)
	etag := first.header.Get("ETag")
	if first.status != 200 || len(etag) != 34 || etag[0] != '"' {
		t.Fatalf("status %d, ETag %q: want 200 and a strong quoted ETag", first.status, etag)
	}
	if other := do(t, srv, "GET", "/media/dev/hls/segment4.ts").header.Get("ETag"); other == etag {
		t.Fatal("two segments have the same ETag")
	}
	for _, tc := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"If-Range with the ETag", []string{"Range", "bytes=0-9", "If-Range", etag}, 206},
		{"If-Range with another ETag", []string{"Range", "bytes=0-9", "If-Range", `"0123"`}, 200},
		{"If-Range with a date", []string{"Range", "bytes=0-9", "If-Range", "Sat, 05 Dec 2026 20:00:00 GMT"}, 200},
		{"If-Range with the ETag, unsatisfiable", []string{"Range", "bytes=99999999-", "If-Range", etag}, 416},
		{"If-Range with another ETag, unsatisfiable", []string{"Range", "bytes=99999999-", "If-Range", `"0123"`}, 200},
		{"If-None-Match", []string{"If-None-Match", etag}, 304},
		{"If-None-Match, another ETag", []string{"If-None-Match", `"0123"`}, 200},
		{"If-Match, another ETag", []string{"If-Match", `"0123"`}, 412},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, srv, "GET", path, tc.headers...)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d", a.status, tc.status)
			}
			if a.status == 200 && !bytes.Equal(a.body, first.body) {
				t.Error("200 without the whole segment")
			}
			if a.status == 304 && a.header.Get("Access-Control-Allow-Origin") != spa {
				t.Error("304 without the origin's CORS headers")
			}
		})
	}
}

// TestCDNCORSOverHTTP checks that the origin's answers a media player
// reads cross-origin (a playlist, a 206 segment range, a 416, a 404) carry
// credentialed CORS for the SPA, and a 403 denial at the edge carries none.
func TestCDNCORSOverHTTP(t *testing.T) {
	t.Parallel()
	srv, _ := newHTTPCDN(t, nil)
	for _, tc := range []struct {
		name, path string
		headers    []string
		status     int
	}{
		{"playlist", "/media/dev/hls/index.m3u8", nil, 200},
		{"segment range", "/media/dev/hls/segment1.ts", []string{"Range", "bytes=0-187"}, 206},
		{"range past the end", "/media/dev/hls/segment1.ts", []string{"Range", "bytes=99999999-"}, 416},
		{"missing segment", "/media/dev/hls/segment99.ts", nil, 404},
		{"another user's playlist", "/media/alice/hls/index.m3u8", nil, 403},
		{"another user's segment range", "/media/alice/hls/segment1.ts", []string{"Range", "bytes=0-187"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, srv, "GET", tc.path, tc.headers...)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			acao, acac := a.header.Get("Access-Control-Allow-Origin"), a.header.Get("Access-Control-Allow-Credentials")
			if tc.status == 403 {
				if acao != "" || acac != "" {
					t.Errorf("a denial carries CORS headers: %q, %q", acao, acac)
				}
				return
			}
			if acao != spa || acac != "true" || !strings.Contains(strings.Join(a.header.Values("Vary"), ","), "Origin") {
				t.Errorf("Access-Control-Allow-Origin %q, -Credentials %q, Vary %q; want %s, true, Origin", acao, acac, a.header.Values("Vary"), spa)
			}
		})
	}
}

func TestS3Range(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fields []string
		size   int64
		spec   string
	}{
		{[]string{"bytes=0-0"}, 10, "bytes=0-0"},
		{[]string{"bytes=9-"}, 10, "bytes=9-9"},
		{[]string{"bytes=-3"}, 10, "bytes=7-9"},
		{[]string{"bytes=-3"}, 0, "bytes=0-"},
		{[]string{"bytes=0-"}, 0, "bytes=0-"},
		{[]string{"bytes=10-"}, 10, "bytes=10-"},
		{[]string{"bytes=99999999999999999999-99999999999999999999"}, 10, "bytes=10-"},
		{[]string{"bytes=99999999999999999999-5"}, 10, ""},
		{[]string{"bytes=1-2, 4-5"}, 10, ""},
		{[]string{"bytes=\t1-2"}, 10, "bytes=1-2"},
		{[]string{"bytes=１-2"}, 10, ""},
		{nil, 10, ""},
	} {
		spec, ok := s3Range(tc.fields, tc.size)
		if spec != tc.spec || ok != (tc.spec != "") {
			t.Errorf("s3Range(%q, %d) = %q, %v; want %q", tc.fields, tc.size, spec, ok, tc.spec)
		}
	}
}

// FuzzS3Range checks that any Range value gives either "serve whole" or
// one range inside the object (or the unsatisfiable "bytes=size-").
func FuzzS3Range(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-5", "bytes=5-", "bytes=abc", "items=0-1", "bytes=0-1,2-3", "bytes=-0", "bytes=99999999999999999999-"} {
		f.Add(s, int64(188))
	}
	f.Fuzz(func(t *testing.T, field string, size int64) {
		if len(field) > 256 || size < 0 {
			return
		}
		spec, ok := s3Range([]string{field}, size)
		if !ok {
			return
		}
		if spec == "bytes="+strconv.FormatInt(size, 10)+"-" {
			return
		}
		a, b, found := strings.Cut(strings.TrimPrefix(spec, "bytes="), "-")
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		if !found || err1 != nil || err2 != nil || first < 0 || first > last || last >= size {
			t.Fatalf("s3Range(%q, %d) = %q: not one range inside the object", field, size, spec)
		}
	})
}
