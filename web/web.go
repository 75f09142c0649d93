// Package web holds the demo page of `server --dev` and cfcookies.js, the
// small JavaScript helper a single-page app uses to get, refresh and drop the
// CloudFront signed cookies. Both are plain files, embedded as they are:
// there is no build step.
//
// The demo page trusts the X-Dev-User header of dev mode, so the server
// serves it only with --dev.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed index.html cfcookies.js
var files embed.FS

// FS returns the files: index.html (the demo page) and cfcookies.js (the
// helper, an ES module an SPA can copy or serve as it is).
func FS() fs.FS { return files }

// Handler serves GET and HEAD of / (the demo page) and of each file of FS;
// every other request goes to next.
func Handler(next http.Handler) http.Handler {
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !isPage(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r)
	})
}

// isPage reports whether path is / or names one of the embedded files.
func isPage(path string) bool {
	if path == "/" {
		return true
	}
	name := strings.TrimPrefix(path, "/")
	if !fs.ValidPath(name) || name == "." {
		return false
	}
	fi, err := fs.Stat(files, name)
	return err == nil && !fi.IsDir()
}
