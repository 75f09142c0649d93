package handlers

import (
	"errors"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/rs/cors"
	"github.com/rs/zerolog/hlog"
)

// accessLog logs one line per request: method, path (never the query), status,
// size, duration and client address.
func accessLog(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		ev := hlog.FromRequest(r).Info()
		if status >= 500 {
			ev = hlog.FromRequest(r).Warn()
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).Int("size", size).
			Dur("duration_ms", d).Stringer("client_ip", clientIP(r, trusted)).Msg("request")
	})
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
			respondError(w, r, &httpError{Code: http.StatusInternalServerError, Type: "internal", Msg: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// corsFor allows exactly the configured origins, with credentials, on every
// response (errors included), so the browser shows the SPA the real status.
// With no origins it adds nothing: the same-origin topology needs no CORS.
func corsFor(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler
}
