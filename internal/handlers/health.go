package handlers

import (
	"net/http"

	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// handleHealthz serves GET /healthz: the process is up.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz serves GET /readyz: a usable signing key is loaded.
func handleReadyz(ready func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready() {
			respondError(w, r, &mediacookies.Error{Status: http.StatusServiceUnavailable, Type: mediacookies.ProblemNotReady, Detail: "no signing key is loaded"})
			return
		}
		respondJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
	})
}
