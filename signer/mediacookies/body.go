package mediacookies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes bounds the request body of an issuance.
const MaxBodyBytes = 4 << 10

// issueRequest is the optional body of an issuance.
type issueRequest struct {
	Scopes []string `json:"scopes"`
}

// readScopes reads the optional JSON body of an issuance one way only, so
// that a proxy or WAF in front never reads another request than this
// handler does, and returns the scopes it names:
//
//   - no body (Content-Length: 0, or neither it nor chunked) names none;
//   - a Content-Type, sent or needed because there is a body, is exactly
//     one header, application/json with at most charset=utf-8 (two
//     headers: 400; anything else: 415); a Content-Encoding is 415;
//   - at most MaxBodyBytes are read, whatever they hold (413, before any
//     JSON error); an empty chunked body names none;
//   - the body is one JSON object in valid UTF-8, nothing after it, no
//     null anywhere, no unpaired surrogate escape, each member name
//     written literally (no escape) and once, and equal byte for byte to
//     "scopes" (400 otherwise).
//
// encoding/json alone would take the last of two duplicate names, match
// names case-insensitively (with Unicode folding: "ſcopes" is "scopes"),
// take null as absent and replace invalid UTF-8: checkStrictJSON refuses
// every body it would read differently from a strict reader.
func readScopes(w http.ResponseWriter, r *http.Request) ([]string, error) {
	hasBody := r.ContentLength != 0 // -1: chunked
	if err := checkBodyHeaders(r.Header, hasBody); err != nil {
		return nil, err
	}
	if !hasBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(innermost(w), r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: ProblemBodyTooLarge,
				Detail: "the request body is over 4 KiB", Err: err}
		}
		return nil, &Error{Status: http.StatusBadRequest, Type: ProblemBadRequest, Detail: "the request body could not be read", Err: err}
	}
	if len(body) == 0 {
		return nil, nil
	}
	return decodeStrict(body)
}

// decodeStrict reads a non-empty body that checkStrictJSON accepts.
func decodeStrict(body []byte) ([]string, error) {
	bad := func(err error) error {
		return &Error{Status: http.StatusBadRequest, Type: ProblemBadRequest,
			Detail: "the request body is not one JSON object of the right shape", Err: err}
	}
	if err := checkStrictJSON(body); err != nil {
		return nil, bad(err)
	}
	var req issueRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, bad(err)
	}
	return req.Scopes, nil
}

// innermost unwraps w down to the ResponseWriter net/http made, so that
// http.MaxBytesReader reaches it: over the limit, net/http then answers
// with Connection: close and closes the connection gracefully, rather than
// reading on to the end of a body it was told is too large.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// checkBodyHeaders refuses the headers that say how to read a body unless
// they say exactly one thing: one Content-Type, application/json (needed
// when there is a body, checked whenever sent), and no Content-Encoding.
func checkBodyHeaders(h http.Header, hasBody bool) error {
	unsupported := &Error{Status: http.StatusUnsupportedMediaType, Type: ProblemUnsupportedMedia,
		Detail: "the request body must be application/json (charset utf-8 at most), without Content-Encoding"}
	cts := h.Values("Content-Type")
	switch {
	case len(cts) > 1:
		return &Error{Status: http.StatusBadRequest, Type: ProblemBadRequest, Detail: "the request has more than one Content-Type"}
	case len(cts) == 1 && !isJSONMediaType(cts[0]), len(cts) == 0 && hasBody:
		return unsupported
	case len(h.Values("Content-Encoding")) > 0:
		return unsupported
	}
	return nil
}

// isJSONMediaType reports whether a Content-Type value is application/json,
// alone or with the one parameter charset=utf-8 (RFC 8259 has no other),
// in any ASCII case. Nothing else passes: no other parameter, no
// RFC 2231 form, no empty parameter, no second media type.
func isJSONMediaType(v string) bool {
	typ, param, hasParam := strings.Cut(asciiLower(v), ";")
	if strings.TrimRight(typ, " \t") != "application/json" {
		return false
	}
	if !hasParam {
		return true
	}
	param = strings.Trim(param, " \t")
	return param == "charset=utf-8" || param == `charset="utf-8"`
}

// asciiLower lower-cases the ASCII letters of s and nothing else:
// strings.ToLower and strings.EqualFold fold "ſ" (U+017F) to "s" and "K"
// (U+212A, Kelvin) to "k", which a proxy would not.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// kindName names the JSON value a token starts, for the log.
func kindName(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case json.Delim:
		return "array"
	}
	return "value"
}

// checkStrictJSON checks that body is one JSON object and nothing more, in
// valid UTF-8, with no null at any depth, no string holding an unpaired
// surrogate escape, and at its top level only the member name "scopes",
// written literally (no escape) and once. Deeper objects are not of the
// request's shape and fail its decoding.
func checkStrictJSON(body []byte) error {
	if !utf8.Valid(body) {
		return errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// stack holds, per open container, '{' or '['; atName is whether the
	// next token of the innermost object is a member name.
	var stack []byte
	atName, seen := false, false
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if len(stack) == 0 && tok != json.Delim('{') {
			return fmt.Errorf("a JSON %s, not an object", kindName(tok))
		}
		isName := len(stack) > 0 && stack[len(stack)-1] == '{' && atName
		if len(stack) > 0 && stack[len(stack)-1] == '{' {
			atName = !atName
		}
		switch t := tok.(type) {
		case nil:
			return errors.New("a null")
		case json.Delim:
			switch t {
			case '{':
				stack, atName = append(stack, '{'), true
			case '[':
				stack = append(stack, '[')
			default:
				stack = stack[:len(stack)-1]
				atName = len(stack) > 0 && stack[len(stack)-1] == '{'
			}
		case string:
			raw := body[start:dec.InputOffset()]
			raw = raw[bytes.IndexByte(raw, '"'):]
			if !pairedSurrogates(raw) {
				return errors.New("an unpaired surrogate escape")
			}
			if isName && len(stack) == 1 {
				switch {
				case bytes.IndexByte(raw, '\\') >= 0:
					return errors.New("a member name written with an escape")
				case t != "scopes":
					return errors.New("an unknown member name")
				case seen:
					return errors.New("a member name twice")
				}
				seen = true
			}
		}
		if len(stack) == 0 {
			break
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// pairedSurrogates reports whether every \uD800-\uDFFF escape in the
// raw JSON string s is a high surrogate followed at once by a low one, as
// a strict reader requires (encoding/json reads a lone one as U+FFFD).
func pairedSurrogates(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++ // the escaped byte
		if i >= len(s) || s[i] != 'u' {
			continue
		}
		r, ok := hex4(s[i+1:])
		if !ok {
			return false
		}
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false // a low surrogate first
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 >= len(s) || s[i+1] != '\\' || s[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(s[i+3:])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 reads the four hex digits at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
