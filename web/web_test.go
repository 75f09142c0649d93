package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	h := Handler(next)
	const (
		noCache = "no-cache"
		aDay    = "public, max-age=86400"
	)
	tests := []struct {
		method, path string
		wantCode     int
		wantType     string
		wantCache    string
		wantBody     string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", noCache, `import { MediaCookies, ProblemError } from "./cfcookies.js"`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", noCache, ""},
		// Module scripts need a JavaScript media type, or the browser refuses them.
		{"GET", "/cfcookies.js", 200, "text/javascript; charset=utf-8", noCache, "export class MediaCookies"},
		{"GET", "/cfcookies.d.ts", 200, "text/plain; charset=utf-8", noCache, "export declare class MediaCookies"},
		{"GET", "/vendor/hls.js/hls.light.mjs", 200, "text/javascript; charset=utf-8", aDay, "Hls as default"},
		{"HEAD", "/vendor/hls.js/hls.light.mjs", 200, "text/javascript; charset=utf-8", aDay, ""},
		{"GET", "/vendor/hls.js/LICENSE", 200, "text/plain; charset=utf-8", aDay, "Apache License"},
		{"GET", "/vendor/hls.js/README.md", 200, "text/plain; charset=utf-8", aDay, "npm pack"},
		{"GET", "/index.html", http.StatusMovedPermanently, "", "", ""},
		// Everything else is the API's.
		{"POST", "/", http.StatusTeapot, "", "", ""},
		{"POST", "/cfcookies.js", http.StatusTeapot, "", "", ""},
		{"GET", "/auth/media-cookies", http.StatusTeapot, "", "", ""},
		{"GET", "/healthz", http.StatusTeapot, "", "", ""},
		{"GET", "/web.go", http.StatusTeapot, "", "", ""},
		{"GET", "/package.json", http.StatusTeapot, "", "", ""},
		{"GET", "/test/hls.test.js", http.StatusTeapot, "", "", ""},
		{"GET", "/vendor/hls.js/hls.light.mjs.map", http.StatusTeapot, "", "", ""},
		{"GET", "/vendor/hls.js/", http.StatusTeapot, "", "", ""},
		{"GET", "/vendor", http.StatusTeapot, "", "", ""},
		{"GET", "/../index.html", http.StatusTeapot, "", "", ""},
		{"GET", "/cfcookies.js/", http.StatusTeapot, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "http://localhost:8080/", nil)
			req.URL.Path = tt.path
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantCode != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control %q, want %q", got, tt.wantCache)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", rec.Header())
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
		})
	}
}

// TestHandlerETag: a browser that has a file revalidates it with its ETag
// and gets 304, without the 870 kB of hls.js again.
func TestHandlerETag(t *testing.T) {
	t.Parallel()
	h := Handler(http.NotFoundHandler())
	etags := map[string]bool{}
	for _, p := range []string{"/", "/cfcookies.js", "/vendor/hls.js/hls.light.mjs"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		etag := rec.Header().Get("ETag")
		if rec.Code != 200 || !strings.HasPrefix(etag, `"`) || etags[etag] {
			t.Fatalf("GET %s: %d, ETag %q (seen: %v)", p, rec.Code, etag, etags)
		}
		etags[etag] = true
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("If-None-Match", etag)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("GET %s If-None-Match: %d, %d bytes, want 304 and none", p, rec.Code, rec.Body.Len())
		}
	}
}

// TestVendoredHLS: the embedded hls.js is the one its README names, byte
// for byte, so a refresh cannot half happen.
func TestVendoredHLS(t *testing.T) {
	t.Parallel()
	readme, err := fs.ReadFile(FS(), "vendor/hls.js/README.md")
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`VERSION=(\d+\.\d+\.\d+)`).FindSubmatch(readme)
	if version == nil || !strings.Contains(string(readme), "**"+string(version[1])+"**") {
		t.Fatalf("README names no version, or two: %q", version)
	}
	for _, file := range []string{"hls.light.mjs", "LICENSE"} {
		b, err := fs.ReadFile(FS(), "vendor/hls.js/"+file)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(file) + "` \\| (\\d+) \\| `([0-9a-f]{64})` \\|$").FindSubmatch(readme)
		if row == nil {
			t.Fatalf("README has no row for %s", file)
		}
		if got := hex.EncodeToString(sum[:]); got != string(row[2]) {
			t.Errorf("%s: sha256 %s, README says %s", file, got, row[2])
		}
		if got := strconv.Itoa(len(b)); string(row[1]) != got {
			t.Errorf("%s: %s bytes, README says %s", file, got, row[1])
		}
	}
	js, _ := fs.ReadFile(FS(), "vendor/hls.js/hls.light.mjs")
	if want := `hls.js version ${"` + string(version[1]) + `"}`; !strings.Contains(string(js), want) {
		t.Errorf("hls.light.mjs is not version %s (lacks %q)", version[1], want)
	}
}

// TestDemoPageOffline: every script, import, link and source of the demo
// page is an embedded file, reached by a relative or root path: the demo
// needs no network, and the browser tests none either.
func TestDemoPageOffline(t *testing.T) {
	t.Parallel()
	page, err := fs.ReadFile(FS(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:\bsrc|\bhref)="([^"]*)"|\bimport\b[^"';]*?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']`).FindAllSubmatch(page, -1)
	seen := map[string]bool{}
	for _, m := range refs {
		ref := string(m[1]) + string(m[2]) + string(m[3])
		if ref == "" || strings.HasPrefix(ref, "#") {
			continue
		}
		seen[ref] = true
		if strings.Contains(ref, "//") || strings.Contains(ref, ":") {
			t.Errorf("index.html refers to %q, not an embedded file", ref)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(ref, "."), "/")
		if _, err := fs.Stat(FS(), name); err != nil {
			t.Errorf("index.html refers to %q: %v", ref, err)
		}
	}
	for _, want := range []string{"./cfcookies.js", "./vendor/hls.js/hls.light.mjs"} {
		if !seen[want] {
			t.Errorf("index.html does not refer to %q (found %v)", want, seen)
		}
	}
}
