package handlers

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
)

// problemTypePrefix starts every problem "type" (RFC 9457). The suffixes are
// stable and listed in the README.
const problemTypePrefix = "urn:cfcookies:problem:"

// httpError is the one way a handler reports failure: Code and Msg go to the
// client, Err (never shown to it) goes to the log.
type httpError struct {
	Code int
	Type string // suffix of the problem type, e.g. "unauthenticated"
	Msg  string // safe to show: no token, cookie value, key or policy
	Err  error  // detail for the log
}

func (e *httpError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *httpError) Unwrap() error { return e.Err }

// problem is the application/problem+json body.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// respondError writes err as problem+json. Anything that is not an
// *httpError is an internal error: the client learns nothing about it and
// the log gets everything. Client errors log at info, server errors at
// error.
func respondError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{Code: http.StatusInternalServerError, Type: "internal", Msg: "internal error", Err: err}
	}
	var ev *zerolog.Event
	log := hlog.FromRequest(r)
	if he.Code >= 500 {
		ev = log.Error()
	} else {
		ev = log.Info()
	}
	ev.Int("status", he.Code).Str("problem", he.Type).AnErr("error", he.Err).Msg(he.Msg)

	p := problem{
		Type:   problemTypePrefix + he.Type,
		Title:  http.StatusText(he.Code),
		Status: he.Code,
		Detail: he.Msg,
	}
	if id, ok := hlog.IDFromRequest(r); ok {
		p.RequestID = id.String()
	}
	setBodyHeaders(w.Header(), "application/problem+json")
	w.WriteHeader(he.Code)
	_ = json.NewEncoder(w).Encode(p)
}

// setBodyHeaders sets what every JSON answer carries: its content type,
// never cached, never sniffed.
func setBodyHeaders(h http.Header, contentType string) {
	h["Content-Type"] = []string{contentType}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
}

// respondJSON writes v with status code.
func respondJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	setBodyHeaders(w.Header(), "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		hlog.FromRequest(r).Warn().Err(err).Msg("write response")
	}
}

// respondJSONBytes writes body, JSON already encoded, with status code.
func respondJSONBytes(w http.ResponseWriter, code int, body []byte) {
	setBodyHeaders(w.Header(), "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body) // a failed write is the client gone; nothing to tell it
}

func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondError(w, r, &httpError{Code: http.StatusNotFound, Type: "not-found", Msg: "no such route"})
	})
}

// handleMethodNotAllowed answers 405 with the Allow header RFC 9110
// requires. chi calls it for a method it does not know before looking at
// the path: when no method has a route at the path, the answer is 404, as
// for a known method. The detail never echoes the method, which the client
// made up.
func handleMethodNotAllowed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.Routes != nil {
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
				if rctx.Routes.Match(chi.NewRouteContext(), m, r.URL.Path) {
					allow = append(allow, m)
				}
			}
		}
		if len(allow) == 0 {
			handleNotFound().ServeHTTP(w, r)
			return
		}
		w.Header()["Allow"] = allow
		respondError(w, r, &httpError{Code: http.StatusMethodNotAllowed, Type: "method-not-allowed",
			Msg: "this route does not take this method; Allow lists those it takes"})
	})
}
