package edge

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/signer"
)

// aliceCookies allow /media/alice/* on cdnBase.
func aliceCookies(t *testing.T) []*http.Cookie {
	t.Helper()
	return signCookies(t, idRSA, keys(t).rsa, signer.SHA1, signer.Grant{
		Resource: cdnBase + "/media/alice/*", Expires: t0.Add(10 * time.Minute),
	})
}

// TestCDNPathsStayInTheUsersPrefix sends, with alice's cookies, every
// spelling of a path out of /media/alice/ into dev's media, raw as curl
// --path-as-is would: none may answer dev's bytes. Each is either denied at
// the edge (the raw path is not under /media/alice/) or passed to the
// origin, whose key then holds the "..", ".", "//" or encoded character
// literally and names no object (404 NoSuchKey). Alice's own files, with a
// query or an escaped character, are served.
func TestCDNPathsStayInTheUsersPrefix(t *testing.T) {
	t.Parallel()
	srv, logs := newHTTPCDN(t, nil)
	cookies := aliceCookies(t)
	media := SampleMedia()
	read := func(name string) []byte {
		b, err := fs.ReadFile(media, name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	alicePlaylist := read("media/alice/hls/index.m3u8")
	devSegment, aliceSegment := read("media/dev/hls/segment0.ts"), read("media/alice/hls/segment0.ts")
	if bytes.Equal(devSegment, aliceSegment) {
		t.Fatal("dev's and alice's segments are the same bytes")
	}

	for _, tc := range []struct {
		path   string
		status int
		body   []byte // on 200
	}{
		{"/media/alice/hls/index.m3u8", 200, alicePlaylist},
		{"/media/alice/hls/segment0.ts?x=1", 200, aliceSegment},
		{"/media/alice/hls/segment0.ts?", 200, aliceSegment},
		{"/media/alice/hls/segment%30.ts", 200, aliceSegment},
		{"/media/alice%2Fhls%2Fsegment0.ts", 403, nil}, // the raw path is not under /media/alice/

		{"/media/alice/../dev/hls/index.m3u8", 404, nil},
		{"/media/alice/%2e%2e/dev/hls/index.m3u8", 404, nil},
		{"/media/alice/../dev/hls/segment0.ts", 404, nil},
		{"/media/alice/%2e%2e/dev/hls/segment0.ts", 404, nil},
		{"/media/alice/%2E%2e/dev/hls/segment0.ts", 404, nil},
		{"/media/alice/.%2e/dev/hls/segment0.ts", 404, nil},
		{"/media/alice/%2e./dev/hls/segment0.ts", 404, nil},
		{"/media/alice/..%2fdev%2fhls%2fsegment0.ts", 404, nil},
		{"/media/alice/%2e%2e%2Fdev/hls/segment0.ts", 404, nil},
		{"/media/alice/hls/../../dev/hls/segment0.ts", 404, nil},
		{"/media/alice/./../dev/hls/segment0.ts", 404, nil},
		{"/media/alice//../dev/hls/segment0.ts", 404, nil},
		{"/media/alice/%252e%252e/dev/hls/segment0.ts", 404, nil},
		{"/media/alice/..\\dev\\hls\\segment0.ts", 404, nil},
		{"/media/alice/..%5cdev%5chls%5csegment0.ts", 404, nil},
		{"/media/alice/hls/index.m3u8%23/../../../dev/hls/segment0.ts", 404, nil},
		{"/media/alice/%00/../../dev/hls/segment0.ts", 404, nil},
		{"/media/alice%2f..%2fdev/hls/index.m3u8", 403, nil},
		{"/media/alice/../dev/hls/segment0.ts?x=1", 404, nil},
		{"/media/dev/hls/index.m3u8", 403, nil},
		{"/media/dev/hls/index.m3u8?/media/alice/x", 403, nil},
		{"/media/dev/../alice/hls/index.m3u8", 403, nil},

		{"/media/alice/./hls/index.m3u8", 404, nil},
		{"/media/alice//hls/index.m3u8", 404, nil},
		{"/media/alice/hls//index.m3u8", 404, nil},
		{"/media/alice/hls/index.m3u8/", 404, nil},
		{"/media/alice/hls/index.m3u8/.", 404, nil},
		{"/media/alice/hls/index.m3u8%3Fx=1", 404, nil},
		{"/media/alice/hls/index.m3u8%23t=1", 404, nil},
		{"/media/alice/hls/INDEX.m3u8", 404, nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			a := doWith(t, srv, cookies, "GET", tc.path)
			if len(a.body) > 0 && bytes.Contains(devSegment, a.body) {
				t.Fatalf("status %d with dev's segment", a.status)
			}
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %.200s", a.status, tc.status, a.body)
			}
			switch tc.status {
			case 200:
				if !bytes.Equal(a.body, tc.body) {
					t.Errorf("body is not alice's file")
				}
			case 404:
				if !bytes.Contains(a.body, []byte("<Code>NoSuchKey</Code>")) {
					t.Errorf("404 without S3's NoSuchKey: %s", a.body)
				}
			case 403:
				if !bytes.Contains(a.body, []byte("<Code>AccessDenied</Code>")) {
					t.Errorf("403 without CloudFront's AccessDenied: %s", a.body)
				}
			}
		})
	}
	t.Cleanup(func() {
		// The log names the raw path, never the query.
		if out := logs.String(); strings.Contains(out, "?x=1") || !strings.Contains(out, `"path":"/media/alice/%2e%2e/dev/hls/index.m3u8"`) {
			t.Errorf("log holds a query string, or a decoded path:\n%s", out)
		}
	})
}

// secretTree makes dir/root/media/dev/ok.txt and, beside root,
// dir/secret/secret.txt and dir/rootsecret.txt, returning root.
func secretTree(t testing.TB) (root string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	for name, data := range map[string]string{
		filepath.Join(root, "media", "dev", "ok.txt"): "ok",
		filepath.Join(dir, "secret", "secret.txt"):    "TOP SECRET",
		filepath.Join(dir, "rootsecret.txt"):          "TOP SECRET",
		filepath.Join(dir, "root.txt"):                "TOP SECRET",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// escapes are raw paths that try to leave a media root, under a policy
// that allows every path, so that only the origin stands in the way.
var escapes = []string{
	"/../secret/secret.txt",
	"/media/dev/../../../secret/secret.txt",
	"/media/dev/%2e%2e/%2e%2e/%2e%2e/secret/secret.txt",
	"/media/dev/%2E%2E/%2e%2E/%2E%2e/secret/secret.txt",
	"/media/dev/..%2f..%2f..%2fsecret%2fsecret.txt",
	"/media/dev/..%2F..%2F..%2Fsecret%2Fsecret.txt",
	"/%2e%2e/secret/secret.txt",
	"/%2e%2e%2fsecret%2fsecret.txt",
	"/..%2fsecret/secret.txt",
	"/.%2e/secret/secret.txt",
	"/./../secret/secret.txt",
	"//../secret/secret.txt",
	"/%2f..%2fsecret/secret.txt",
	"/..%5csecret%5csecret.txt",
	"/..\\secret\\secret.txt",
	"/%2e%2e/rootsecret.txt",
	"/../root.txt",
	"/../root/../secret/secret.txt",
	"/media/dev/ok.txt/../../../../secret/secret.txt",
	"/media/dev/ok.txt%00/../../../../secret/secret.txt",
	"/%252e%252e/secret/secret.txt",
	"/media/dev/%2e%2e/%2e%2e/%2e%2e/secret/secret.txt?x=1",
}

// TestCDNNeverLeavesItsRoot serves an os.DirFS whose parent holds secrets
// and tries every encoding of a way out: none reaches a file outside the
// root, though every path passes the cookie check.
func TestCDNNeverLeavesItsRoot(t *testing.T) {
	t.Parallel()
	root := secretTree(t)
	srv, _ := newHTTPCDN(t, os.DirFS(root))
	cookies := signCookies(t, idRSA, keys(t).rsa, signer.SHA1, signer.Grant{Resource: cdnBase + "/*", Expires: t0.Add(10 * time.Minute)})
	if a := doWith(t, srv, cookies, "GET", "/media/dev/ok.txt"); a.status != 200 || string(a.body) != "ok" {
		t.Fatalf("the root's own file: status %d, body %q", a.status, a.body)
	}
	for _, path := range escapes {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			a := doWith(t, srv, cookies, "GET", path)
			if bytes.Contains(a.body, []byte("SECRET")) {
				t.Fatalf("status %d served a file outside the root", a.status)
			}
			if a.status != http.StatusNotFound && a.status != http.StatusBadRequest {
				t.Errorf("status %d, want 404 (or 400 from net/http)", a.status)
			}
		})
	}
}

// TestCDNRootFSRefusesLinksOut shows the FS that CDNOptions.Files
// recommends for a directory: an os.Root's does not follow a symbolic link
// out of the root.
func TestCDNRootFSRefusesLinksOut(t *testing.T) {
	t.Parallel()
	root := secretTree(t)
	if err := os.Symlink(filepath.Join("..", "..", "..", "secret", "secret.txt"), filepath.Join(root, "media", "dev", "link.txt")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	srv, _ := newHTTPCDN(t, r.FS())
	a := do(t, srv, "GET", "/media/dev/link.txt")
	if bytes.Contains(a.body, []byte("SECRET")) || a.status != http.StatusNotFound {
		t.Errorf("a link out of the root: status %d, body %q; want 404", a.status, a.body)
	}
	if a := do(t, srv, "GET", "/media/dev/ok.txt"); a.status != 200 || string(a.body) != "ok" {
		t.Errorf("the root's own file: status %d, body %q", a.status, a.body)
	}
}

// FuzzCDNPath sends any request path, under a policy allowing every path,
// to an os.DirFS root whose parent holds a secret: nothing outside the root
// is ever served.
func FuzzCDNPath(f *testing.F) {
	for _, p := range escapes {
		f.Add(p)
	}
	h := NewCDN(CDNOptions{
		Verifier: newTestVerifier(f, VerifierOptions{BaseURL: cdnBase}),
		Files:    os.DirFS(secretTree(f)),
		Logger:   zerolog.Nop(),
		Now:      func() time.Time { return t0.Add(time.Minute) },
	})
	cookies := signCookies(f, idRSA, keys(f).rsa, signer.SHA1, signer.Grant{Resource: cdnBase + "/*", Expires: t0.Add(10 * time.Minute)})
	f.Fuzz(func(t *testing.T, rawPath string) {
		if len(rawPath) > 256 {
			return
		}
		u, err := url.ParseRequestURI(rawPath)
		if err != nil {
			return
		}
		r := &http.Request{Method: http.MethodGet, URL: u, Host: "localhost:8081", Header: http.Header{}, RemoteAddr: "192.0.2.10:54321"}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if bytes.Contains(w.Body.Bytes(), []byte("SECRET")) {
			t.Fatalf("%q: status %d served a file outside the root", rawPath, w.Code)
		}
	})
}
