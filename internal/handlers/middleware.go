package handlers

import (
	"errors"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/cors"
	"github.com/rs/zerolog/hlog"

	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// observe writes each request's access line (method, path but never the
// query, status, size, duration, client address) and counts it in m by
// route pattern among routes (never the raw path, so user ids do not
// become label values), around one response-writer wrapper. The line is
// written even if a panic goes through (http.ErrAbortHandler, which drops
// the connection), with status 0: nothing was written. Such a request is
// not counted.
func observe(m *Metrics, routes routeSet, trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			returned := false
			defer func() {
				d := time.Since(start)
				status := ww.Status()
				log := hlog.FromRequest(r)
				ev := log.Info()
				if status >= 500 {
					ev = log.Warn()
				}
				ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).Int("size", ww.BytesWritten()).
					Dur("duration_ms", d).Stringer("client_ip", clientIP(r, trusted)).Msg("request")
				if !returned {
					return // a panic the recoverer passed on: the connection is dropped
				}
				if status == 0 {
					status = http.StatusOK // what net/http sends for a handler that wrote nothing
				}
				m.observe(r, routes, status, d)
			}()
			next.ServeHTTP(ww, r)
			returned = true
		})
	}
}

// recoverer turns a panic into a logged 500 problem instead of a dropped
// connection. http.ErrAbortHandler is re-panicked, as net/http expects.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec)
			}
			hlog.FromRequest(r).Error().Interface("panic", rec).Bytes("stack", debug.Stack()).Msg("handler panicked")
			respondError(w, r, &mediacookies.Error{Status: http.StatusInternalServerError, Type: mediacookies.ProblemInternal, Detail: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// closeAmbiguousFraming answers a request whose framing a proxy in front
// may have read differently with Connection: close, so that nothing sent
// after it on the connection is read as another request (request
// smuggling). net/http reads a chunked body even when Content-Length is
// also sent, and then deletes both headers, so a handler cannot tell
// "chunked" from "chunked and Content-Length": every chunked request
// closes its connection, as RFC 9112 section 6.1 requires of the latter.
// HTTP/1.0 requests close too: net/http ignores (and deletes) a
// Transfer-Encoding sent with HTTP/1.0, which RFC 9112 says to treat as
// faulty framing.
func closeAmbiguousFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && (r.ProtoMinor == 0 || len(r.TransferEncoding) > 0) {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// corsFor allows exactly the configured origins, with credentials, on every
// response (errors included), so the browser shows the SPA the real status.
// With no origins it adds nothing: the same-origin topology needs no CORS.
//
// An origin is allowed only when the request has exactly one Origin header
// equal byte for byte to a configured origin (rs/cors would lower-case it
// first and echo what was sent), and a preflight only with exactly one
// Access-Control-Request-Method (rs/cors checks the first and echoes all).
func corsFor(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	allowed := func(r *http.Request, _ string) (bool, []string) {
		o := r.Header.Values("Origin")
		if len(o) != 1 || !slices.Contains(origins, o[0]) {
			return false, nil
		}
		if r.Method == http.MethodOptions && len(r.Header.Values("Access-Control-Request-Method")) > 1 {
			return false, nil
		}
		return true, nil
	}
	return cors.New(cors.Options{
		AllowOriginVaryRequestFunc: allowed,
		AllowedMethods:             []string{http.MethodGet, http.MethodPost, http.MethodDelete},
		AllowedHeaders:             []string{"Content-Type", "Authorization"},
		ExposedHeaders:             []string{"X-Request-Id"},
		AllowCredentials:           true,
		MaxAge:                     600,
	}).Handler
}
