package edge

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/testlog"
	"github.com/cfcookies/cfcookies/signer"
)

const (
	cdnBase = "http://localhost:8081"
	spa     = "http://localhost:8080"
)

func newTestCDN(t *testing.T, files fs.FS) (http.Handler, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	h := NewCDN(CDNOptions{
		Verifier:           newTestVerifier(t, VerifierOptions{}),
		Files:              files,
		CORSAllowedOrigins: []string{spa},
		Logger:             zerolog.New(logs),
		Now:                func() time.Time { return t0.Add(time.Minute) },
	})
	return h, logs
}

// devCookies are what cfcookies issues the dev identity in --dev.
func devCookies(t *testing.T) []*http.Cookie {
	t.Helper()
	return signCookies(t, idRSA, keys(t).rsa, signer.SHA1, signer.Grant{
		Resource: cdnBase + "/media/dev/*", Expires: t0.Add(10 * time.Minute),
	})
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func withOrigin(r *http.Request, origin string) *http.Request {
	r.Header.Set("Origin", origin)
	return r
}

func TestCDNServesSampleMediaWithCORS(t *testing.T) {
	t.Parallel()
	h, logs := newTestCDN(t, nil)
	cookies := devCookies(t)
	files := map[string]string{
		"/media/dev/image.svg":         "image/svg+xml",
		"/media/dev/image.png":         "image/png",
		"/media/dev/hls/index.m3u8":    "application/vnd.apple.mpegurl",
		"/media/dev/hls/segment0.ts":   "video/mp2t",
		"/media/dev/hls/segment1.ts":   "video/mp2t",
		"/media/dev/image.svg?v=2&x=y": "image/svg+xml",
	}
	for path, ctype := range files {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			w := serve(h, withOrigin(get(cdnBase+path, cookies...), spa))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			want, err := fs.ReadFile(SampleMedia(), strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], "/"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Error("body differs from the sample file")
			}
			for name, value := range map[string]string{
				"Content-Type":                     ctype,
				"Access-Control-Allow-Origin":      spa,
				"Access-Control-Allow-Credentials": "true",
				"Vary":                             "Origin",
			} {
				if got := w.Header().Get(name); got != value {
					t.Errorf("%s: %q, want %q", name, got, value)
				}
			}
		})
	}
	t.Cleanup(func() {
		if out := logs.String(); strings.Contains(out, cookieValue(cookies, signer.CookiePolicy)) ||
			strings.Contains(out, cookieValue(cookies, signer.CookieSignature)) {
			t.Error("log holds a cookie value")
		}
	})
}

func TestCDNDenial(t *testing.T) {
	t.Parallel()
	h, logs := newTestCDN(t, nil)
	cookies := devCookies(t)
	cases := []struct {
		name string
		req  *http.Request
		code string
	}{
		{"another user's media", withOrigin(get(cdnBase+"/media/alice/image.svg", cookies...), spa), signer.CodeAccessDenied},
		{"no cookies", withOrigin(get(cdnBase+"/media/dev/image.svg"), spa), signer.CodeMissingKey},
		{"unknown key", withOrigin(get(cdnBase+"/media/dev/image.svg", replace(cookies, signer.CookieKeyPairID, "KNOPE")...), spa), signer.CodeInvalidKey},
		{"host the policy does not name", withOrigin(get("http://127.0.0.1:8081/media/dev/image.svg", cookies...), spa), signer.CodeAccessDenied},
		{"head", withOrigin(httptest.NewRequest(http.MethodHead, cdnBase+"/media/alice/image.svg", nil), spa), signer.CodeMissingKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := serve(h, tc.req)
			if w.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type %q, want text/xml", ct)
			}
			for name := range w.Header() {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("denial carries %s", name)
				}
			}
			if tc.req.Method == http.MethodHead {
				return
			}
			var body struct {
				Code, Message string
			}
			if err := xml.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not XML: %v\n%s", err, w.Body)
			}
			if body.Code != tc.code || body.Message != (signer.Decision{Code: tc.code}).Message() {
				t.Errorf("body %+v, want code %s", body, tc.code)
			}
		})
	}
	t.Cleanup(func() {
		out := logs.String()
		for _, want := range []string{`"code":"AccessDenied"`, `"reason":"policy Resource does not match the request URL http://localhost:8081/media/alice/image.svg"`, `"path":"/media/alice/image.svg"`} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %s:\n%s", want, out)
			}
		}
	})
}

func TestCDNOrigins(t *testing.T) {
	t.Parallel()
	h, _ := newTestCDN(t, nil)
	cookies := devCookies(t)
	for _, origin := range []string{"", "http://evil.test", "http://localhost:8080/", "HTTP://LOCALHOST:8080"} {
		w := serve(h, withOrigin(get(cdnBase+"/media/dev/image.svg", cookies...), origin))
		if w.Code != http.StatusOK {
			t.Fatalf("origin %q: status %d", origin, w.Code)
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("origin %q: Access-Control-Allow-Origin %q", origin, got)
		}
		if got := w.Header().Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("origin %q: Access-Control-Allow-Credentials %q", origin, got)
		}
	}
}

func TestCDNObjects(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"media/dev/movie.mp4":  {Data: []byte("0123456789abcdefghij")},
		"media/dev/photo.jpg":  {Data: []byte{0xff, 0xd8, 0xff}},
		"media/dev/sub/x.bin":  {Data: []byte("x")},
		"media/dev/UPPER.PNG":  {Data: []byte("p")},
		"media/dev/notes.m3u8": {Data: []byte("#EXTM3U\n")},
	}
	h, _ := newTestCDN(t, files)
	cookies := devCookies(t)

	t.Run("content types", func(t *testing.T) {
		t.Parallel()
		for path, want := range map[string]string{
			"/media/dev/movie.mp4":  "video/mp4",
			"/media/dev/photo.jpg":  "image/jpeg",
			"/media/dev/sub/x.bin":  "binary/octet-stream",
			"/media/dev/UPPER.PNG":  "image/png",
			"/media/dev/notes.m3u8": "application/vnd.apple.mpegurl",
		} {
			w := serve(h, get(cdnBase+path, cookies...))
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != want {
				t.Errorf("%s: status %d, Content-Type %q, want 200 %q", path, w.Code, w.Header().Get("Content-Type"), want)
			}
		}
	})
	t.Run("range", func(t *testing.T) {
		t.Parallel()
		r := get(cdnBase+"/media/dev/movie.mp4", cookies...)
		r.Header.Set("Range", "bytes=10-13")
		w := serve(h, r)
		if w.Code != http.StatusPartialContent || w.Body.String() != "abcd" || w.Header().Get("Content-Range") != "bytes 10-13/20" {
			t.Errorf("status %d, body %q, Content-Range %q", w.Code, w.Body, w.Header().Get("Content-Range"))
		}
	})
	t.Run("head", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodHead, cdnBase+"/media/dev/movie.mp4", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := serve(h, r)
		if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "20" {
			t.Errorf("status %d, body %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
		}
	})
	t.Run("missing objects", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/media/dev/nope.ts", "/media/dev/sub", "/media/dev/sub/", "/media/dev/", "/media/dev//movie.mp4", "/media/dev/sub/../movie.mp4"} {
			w := serve(h, withOrigin(get(cdnBase+path, cookies...), spa))
			if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "<Code>NoSuchKey</Code>") {
				t.Errorf("%s: status %d, body %s", path, w.Code, w.Body)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != spa {
				t.Errorf("%s: the origin's 404 lacks its CORS headers", path)
			}
		}
	})
	t.Run("other methods", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodPost, cdnBase+"/media/dev/movie.mp4", strings.NewReader("x"))
		w := serve(h, r)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("status %d, Allow %q", w.Code, w.Header().Get("Allow"))
		}
	})
}

func TestCDNPreflight(t *testing.T) {
	t.Parallel()
	h, _ := newTestCDN(t, nil)
	preflight := func(origin, method, headers string) *http.Request {
		r := httptest.NewRequest(http.MethodOptions, cdnBase+"/media/dev/hls/index.m3u8", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if method != "" {
			r.Header.Set("Access-Control-Request-Method", method)
		}
		if headers != "" {
			r.Header.Set("Access-Control-Request-Headers", headers)
		}
		return r
	}

	t.Run("allowed without cookies", func(t *testing.T) {
		t.Parallel()
		w := serve(h, preflight(spa, http.MethodGet, "range,x-player"))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		for name, value := range map[string]string{
			"Access-Control-Allow-Origin":      spa,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, HEAD",
			"Access-Control-Allow-Headers":     "range,x-player",
			"Access-Control-Max-Age":           "3000",
		} {
			if got := w.Header().Get(name); got != value {
				t.Errorf("%s: %q, want %q", name, got, value)
			}
		}
		if !strings.Contains(w.Header().Get("Vary"), "Origin") {
			t.Errorf("Vary %q lacks Origin", w.Header().Get("Vary"))
		}
	})
	for _, tc := range []struct {
		name, origin, method string
		status               int
	}{
		{"origin not allowed", "http://evil.test", http.MethodGet, http.StatusForbidden},
		{"method not allowed", spa, http.MethodPut, http.StatusForbidden},
		{"no origin", "", http.MethodGet, http.StatusBadRequest},
		{"not a preflight", spa, "", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := serve(h, preflight(tc.origin, tc.method, ""))
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin %q on a refused preflight", got)
			}
		})
	}
}

func TestNewCDNNeedsVerifier(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewCDN without a Verifier did not panic")
		}
	}()
	NewCDN(CDNOptions{})
}

func TestSampleMedia(t *testing.T) {
	t.Parallel()
	files := SampleMedia()
	for _, user := range []string{"dev", "alice"} {
		dir := "media/" + user + "/"
		svg, err := fs.ReadFile(files, dir+"image.svg")
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(svg, new(struct{ XMLName xml.Name })); err != nil {
			t.Errorf("%simage.svg is not XML: %v", dir, err)
		}
		if !bytes.Contains(svg, []byte("media/"+user)) {
			t.Errorf("%simage.svg does not name its owner", dir)
		}
		pngFile, err := files.Open(dir + "image.png")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(pngFile); err != nil {
			t.Errorf("%simage.png: %v", dir, err)
		}
		pngFile.Close()
		playlist, err := fs.ReadFile(files, dir+"hls/index.m3u8")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(playlist, []byte("#EXTM3U\n")) || !bytes.Contains(playlist, []byte("#EXT-X-ENDLIST")) {
			t.Errorf("%shls/index.m3u8 is not a complete playlist", dir)
		}
		for _, line := range strings.Split(string(playlist), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			seg, err := fs.ReadFile(files, dir+"hls/"+line)
			if err != nil {
				t.Errorf("playlist names %s: %v", line, err)
				continue
			}
			if len(seg)%188 != 0 || seg[0] != 0x47 {
				t.Errorf("%s is not MPEG-TS packets", line)
			}
		}
	}
	total := 0
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			total += int(info.Size())
		}
		return err
	})
	if total > 300_000 {
		t.Errorf("sample media is %d bytes; keep it under 300 KB (scripts/sample-media)", total)
	}
}
