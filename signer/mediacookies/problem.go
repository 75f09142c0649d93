package mediacookies

import (
	"encoding/json"
	"errors"
	"net/http"
)

// ProblemTypePrefix starts the type of every problem+json answer; the
// suffixes are the Problem* constants.
const ProblemTypePrefix = "urn:cfcookies:problem:"

// Problem type suffixes of the answers a Handler writes. They are stable:
// clients branch on them.
const (
	ProblemBadRequest       = "bad-request"            // 400: a malformed body, a scope named twice
	ProblemUnauthenticated  = "unauthenticated"        // 401: Identify failed
	ProblemForbiddenScope   = "forbidden-scope"        // 403: a scope unknown or not allowed, or none allowed
	ProblemNotGrantable     = "identity-not-grantable" // 403: a claim cannot fill a path template safely
	ProblemIPNotBindable    = "client-ip-not-bindable" // 403: IP binding on, and the client uses IPv6
	ProblemBodyTooLarge     = "body-too-large"         // 413: a body over 4 KiB
	ProblemUnsupportedMedia = "unsupported-media-type" // 415: a body that is not application/json
	ProblemMethodNotAllowed = "method-not-allowed"     // 405: from Handler.ServeHTTP
	ProblemNotReady         = "not-ready"              // 503: no signing key yet
	ProblemKeyUnavailable   = "key-unavailable"        // 503: the key cannot sign for now (see ErrKeyUnavailable)
	ProblemInternal         = "internal"               // 500: anything else; the client learns nothing more
)

// ErrKeyUnavailable is wrapped by the error of a key's Sign method to say
// that the key cannot sign for now but may soon: a key held in a remote
// service (AWS KMS, an HSM) that throttles, fails or cannot be reached.
// The issuance is then answered 503 [ProblemKeyUnavailable] with
// Retry-After, instead of 500, and sets no cookie. Any other signing
// error is a 500 [ProblemInternal].
var ErrKeyUnavailable = errors.New("mediacookies: signing key unavailable")

// An Error is an answer that refuses or fails a request: Status, Type
// and Detail go to the client as problem+json, Err (the cause) only to
// [Hooks.Refused], for the log. Detail never holds a token, cookie
// value, policy, signature or key.
type Error struct {
	Status int
	Type   string // one of the Problem* suffixes, or the caller's own
	Detail string
	// Scope is the scope being granted when the error happened, or "".
	Scope string
	Err   error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "mediacookies: " + e.Detail + ": " + e.Err.Error()
	}
	return "mediacookies: " + e.Detail
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// AsError returns err as an *Error: itself when it is one (or wraps
// one), otherwise a 500 [ProblemInternal] error whose Detail says
// nothing and whose Err is err.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Type: ProblemInternal, Detail: "internal error", Err: err}
}

// problem is the application/problem+json body.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// WriteProblem writes err, made an *Error by [AsError], as an RFC 9457
// problem: its status, Content-Type application/problem+json,
// Cache-Control no-store and X-Content-Type-Options nosniff, and a body
// with type, title, status, detail and, when requestID is not empty,
// requestId. Err is never written.
func WriteProblem(w http.ResponseWriter, err error, requestID string) {
	e := AsError(err)
	setBodyHeaders(w.Header(), "application/problem+json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(problem{ // a failed write is the client gone
		Type:      ProblemTypePrefix + e.Type,
		Title:     http.StatusText(e.Status),
		Status:    e.Status,
		Detail:    e.Detail,
		RequestID: requestID,
	})
}

// WriteJSON writes body, JSON already encoded, with status code and the
// headers every JSON answer carries (see [WriteProblem]).
func WriteJSON(w http.ResponseWriter, code int, body []byte) {
	setBodyHeaders(w.Header(), "application/json")
	w.WriteHeader(code)
	// A failed write is the client gone: nothing to tell it.
	_, _ = w.Write(body) // #nosec G705 -- JSON this package encoded, sent as application/json with nosniff
}

// setBodyHeaders sets what every JSON answer carries: its content type,
// never cached, never sniffed.
func setBodyHeaders(h http.Header, contentType string) {
	h["Content-Type"] = []string{contentType}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
}
