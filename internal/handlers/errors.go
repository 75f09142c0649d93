package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// Problem types of the server's own answers, besides the public
// handler's (mediacookies.Problem*). The suffixes are stable and listed
// in docs/http-api.md.
const (
	problemNotFound    = "not-found"
	problemRateLimited = "rate-limited"
)

// respondError is the one way a handler reports failure: err, made a
// *mediacookies.Error (anything else is an internal error the client
// learns nothing about), is logged with the request's logger and written
// as problem+json.
func respondError(w http.ResponseWriter, r *http.Request, err error) {
	e := mediacookies.AsError(err)
	logProblem(r, e)
	mediacookies.WriteProblem(w, e, requestID(r))
}

// logProblem logs a problem answer: client errors at info, server errors
// at error, with the cause the client never sees.
func logProblem(r *http.Request, e *mediacookies.Error) {
	var ev *zerolog.Event
	log := hlog.FromRequest(r)
	if e.Status >= 500 {
		ev = log.Error()
	} else {
		ev = log.Info()
	}
	ev.Int("status", e.Status).Str("problem", e.Type).AnErr("error", e.Err).Msg(e.Detail)
}

// requestID is the request's id, for problem answers.
func requestID(r *http.Request) string {
	if id, ok := hlog.IDFromRequest(r); ok {
		return id.String()
	}
	return ""
}

// respondJSON writes v with status code.
func respondJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		respondError(w, r, err)
		return
	}
	mediacookies.WriteJSON(w, code, append(body, '\n'))
}

func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondError(w, r, &mediacookies.Error{Status: http.StatusNotFound, Type: problemNotFound, Detail: "no such route"})
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
		respondError(w, r, &mediacookies.Error{Status: http.StatusMethodNotAllowed, Type: mediacookies.ProblemMethodNotAllowed,
			Detail: "this route does not take this method; Allow lists those it takes"})
	})
}
