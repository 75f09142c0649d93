// Package web holds the demo page of `server --dev`, cfcookies.js, the
// small JavaScript helper a single-page app uses to get, refresh and drop the
// CloudFront signed cookies, and the hls.js build the demo plays video with.
// All are plain files, embedded as they are: there is no build step, and the
// demo needs no network.
//
// The demo page trusts the X-Dev-User header of dev mode, so the server
// serves it only with --dev.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// vendorDir holds third-party files, each with its licence and a README
// naming its version and how to refresh it.
const vendorDir = "vendor"

//go:embed index.html cfcookies.js cfcookies.d.ts vendor/hls.js/hls.light.mjs vendor/hls.js/LICENSE vendor/hls.js/README.md
var files embed.FS

// FS returns the files: index.html (the demo page), cfcookies.js (the
// helper, an ES module an SPA can copy or serve as it is) and its
// declarations cfcookies.d.ts, and vendor/hls.js/ (hls.js 1.6's light ES
// module build, with its licence).
func FS() fs.FS { return files }

// Handler serves GET and HEAD of / (the demo page) and of each file of FS;
// every other request goes to next. Every file has a strong ETag (its
// SHA-256), so a browser revalidates cheaply; the page and cfcookies.js are
// revalidated every time (no-cache), vendored files after a day.
func Handler(next http.Handler) http.Handler {
	fileServer := http.FileServerFS(files)
	etags := make(map[string]string)
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags[name] = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := fileName(r.URL.Path)
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !ok {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		if strings.HasPrefix(name, vendorDir+"/") {
			h.Set("Cache-Control", "public, max-age=86400")
		}
		if t := contentType(name); t != "" {
			h.Set("Content-Type", t)
		}
		if etag, ok := etags[name]; ok {
			h.Set("ETag", etag)
		}
		fileServer.ServeHTTP(w, r)
	})
}

// fileName returns the embedded file a request path names (index.html for
// /), and whether there is one.
func fileName(p string) (string, bool) {
	if p == "/" {
		return "index.html", true
	}
	name := strings.TrimPrefix(p, "/")
	if !fs.ValidPath(name) || name == "." {
		return "", false
	}
	fi, err := fs.Stat(files, name)
	return name, err == nil && !fi.IsDir()
}

// contentType is the media type of the files whose type must not depend
// on the system's MIME table: module scripts need a JavaScript type, or the
// browser refuses them. Others are left to http.FileServer.
func contentType(name string) string {
	switch ext := path.Ext(name); {
	case ext == ".js" || ext == ".mjs":
		return "text/javascript; charset=utf-8"
	case ext == ".ts" || ext == ".md" || path.Base(name) == "LICENSE":
		return "text/plain; charset=utf-8"
	}
	return ""
}
