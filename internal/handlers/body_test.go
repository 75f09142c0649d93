package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// TestIssueCookiesStrictBody: the body of POST /auth/media-cookies is read
// one way only, so that a proxy or WAF in front never reads another request
// than the service does. Anything a lenient parser would read one way and a
// strict one another (duplicate or case-folded names, a null, data after the
// object, two content types, unexpected parameters, a content coding) is
// refused; the size limit holds on the bytes read, whatever they hold.
func TestIssueCookiesStrictBody(t *testing.T) {
	t.Parallel()
	const ct = "application/json"
	// A valid object padded past 4 KiB with JSON whitespace.
	padded := `{"scopes":["default"]}` + strings.Repeat(" ", mediacookies.MaxBodyBytes)
	chunked := func(r *http.Request) {
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
	}
	tests := []struct {
		name    string
		body    string
		headers []string
		mutate  func(*http.Request) // framing httptest.NewRequest cannot say
		status  int
		typ     string
	}{
		// Names: exactly "scopes", once.
		{"duplicate key, forbidden scope first", `{"scopes":["nope"],"scopes":["default"]}`, nil, nil, 400, "bad-request"},
		{"duplicate key, forbidden scope last", `{"scopes":["default"],"scopes":["nope"]}`, nil, nil, 400, "bad-request"},
		{"duplicate key, identical", `{"scopes":["default"],"scopes":["default"]}`, nil, nil, 400, "bad-request"},
		{"duplicate key, escaped", `{"scopes":["default"],"\u0073copes":["nope"]}`, nil, nil, 400, "bad-request"},
		{"upper-case name", `{"SCOPES":["default"]}`, nil, nil, 400, "bad-request"},
		{"title-case name", `{"Scopes":["default"]}`, nil, nil, 400, "bad-request"},
		{"one upper-case letter", `{"scopeS":["default"]}`, nil, nil, 400, "bad-request"},
		{"long s first", "{\"\u017fcopes\":[\"default\"]}", nil, nil, 400, "bad-request"},
		{"long s last", "{\"scope\u017f\":[\"default\"]}", nil, nil, 400, "bad-request"},
		{"long s escaped", `{"\u017fcopes":["default"]}`, nil, nil, 400, "bad-request"},
		{"name written with an escape", `{"\u0073copes":["default"]}`, nil, nil, 400, "bad-request"},
		{"name with a NUL", `{"scopes\u0000":["default"]}`, nil, nil, 400, "bad-request"},
		{"case-folded duplicate", `{"scopes":["default"],"Scopes":["nope"]}`, nil, nil, 400, "bad-request"},
		{"unknown field beside scopes", `{"scopes":["default"],"resource":"*"}`, nil, nil, 400, "bad-request"},
		{"empty name", `{"":["default"]}`, nil, nil, 400, "bad-request"},

		// One object, nothing else.
		{"null body", `null`, nil, nil, 400, "bad-request"},
		{"null body with spaces", " null \n", nil, nil, 400, "bad-request"},
		{"array body", `["default"]`, nil, nil, 400, "bad-request"},
		{"empty array body", `[]`, nil, nil, 400, "bad-request"},
		{"string body", `"default"`, nil, nil, 400, "bad-request"},
		{"number body", `1`, nil, nil, 400, "bad-request"},
		{"true body", `true`, nil, nil, 400, "bad-request"},
		{"whitespace body", "  \n", nil, nil, 400, "bad-request"},
		{"null scopes", `{"scopes":null}`, nil, nil, 400, "bad-request"},
		{"null scope", `{"scopes":[null]}`, nil, nil, 400, "bad-request"},
		{"trailing word", `{"scopes":["default"]} x`, nil, nil, 400, "bad-request"},
		{"trailing null", `{"scopes":["default"]} null`, nil, nil, 400, "bad-request"},
		{"trailing bracket", `{"scopes":["default"]}]`, nil, nil, 400, "bad-request"},
		{"trailing object", `{"scopes":["default"]}{"scopes":["nope"]}`, nil, nil, 400, "bad-request"},
		{"trailing NUL", "{\"scopes\":[\"default\"]}\x00", nil, nil, 400, "bad-request"},
		{"byte order mark", "\ufeff{\"scopes\":[\"default\"]}", nil, nil, 400, "bad-request"},
		{"invalid UTF-8 in a scope", "{\"scopes\":[\"default\xff\"]}", nil, nil, 400, "bad-request"},
		{"unpaired surrogate", `{"scopes":["\ud800"]}`, nil, nil, 400, "bad-request"},
		{"comment", `{"scopes":["default"]} // x`, nil, nil, 400, "bad-request"},
		{"single quotes", `{'scopes':['default']}`, nil, nil, 400, "bad-request"},
		{"trailing comma", `{"scopes":["default"],}`, nil, nil, 400, "bad-request"},

		// Size: on the bytes read, whatever they hold.
		{"valid object padded past 4 KiB", padded, nil, nil, 413, "body-too-large"},
		{"valid object padded past 4 KiB, chunked", padded, nil, chunked, 413, "body-too-large"},
		{"invalid JSON past 4 KiB", `{"scopes":` + strings.Repeat("[", mediacookies.MaxBodyBytes), nil, nil, 413, "body-too-large"},
		{"trailing data past 4 KiB", `{} ` + strings.Repeat("x", mediacookies.MaxBodyBytes), nil, nil, 413, "body-too-large"},

		// Content-Type: exactly one, application/json, at most charset=utf-8.
		{"chunked body without a content type", `{"scopes":["default"]}`, []string{"Content-Type", ""}, chunked, 415, "unsupported-media-type"},
		{"empty chunked body without a content type", ``, []string{"Content-Type", ""}, chunked, 415, "unsupported-media-type"},
		{"two content types, both JSON", `{"scopes":["default"]}`, []string{"Content-Type", ct}, nil, 400, "bad-request"},
		{"two content types, JSON and text", `{"scopes":["default"]}`, []string{"Content-Type", "text/plain"}, nil, 400, "bad-request"},
		{"content types in one header", `{"scopes":["default"]}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json, text/plain") }, 415, "unsupported-media-type"},
		{"unknown parameter", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; x=y") }, 415, "unsupported-media-type"},
		{"charset and another parameter", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8; x=y") }, 415, "unsupported-media-type"},
		{"charset twice", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8; charset=utf-8") }, 415, "unsupported-media-type"},
		{"another charset", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=iso-8859-1") }, 415, "unsupported-media-type"},
		{"UTF-16 charset", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-16") }, 415, "unsupported-media-type"},
		{"RFC 2231 charset", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset*=utf-8''utf-8") }, 415, "unsupported-media-type"},
		{"boundary", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; boundary=x") }, 415, "unsupported-media-type"},
		{"empty parameter", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json;") }, 415, "unsupported-media-type"},
		{"long s in the parameter", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; char\u017fet=utf-8") }, 415, "unsupported-media-type"},
		{"long s in the type", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/j\u017fon") }, 415, "unsupported-media-type"},
		{"JSON suffix type", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/merge-patch+json") }, 415, "unsupported-media-type"},
		{"comment in the type", `{}`, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "application/json (x)") }, 415, "unsupported-media-type"},
		{"gzip content coding", `{}`, []string{"Content-Encoding", "gzip"}, nil, 415, "unsupported-media-type"},
		{"two content codings", `{}`, []string{"Content-Encoding", "identity", "Content-Encoding", "gzip"}, nil, 415, "unsupported-media-type"},
		{"content type on an empty body", ``, []string{"Content-Type", ""}, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, 415, "unsupported-media-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			req := httptest.NewRequest(http.MethodPost, "/auth/media-cookies", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", ct)
			for i := 0; i+1 < len(tt.headers); i += 2 {
				if tt.headers[i+1] == "" {
					req.Header.Del(tt.headers[i])
					continue
				}
				req.Header.Add(tt.headers[i], tt.headers[i+1])
			}
			if tt.mutate != nil {
				tt.mutate(req)
			}
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, req)
			problemResponse(t, w, tt.status, tt.typ)
			if strings.Contains(f.logs.String(), `"level":"error"`) {
				t.Errorf("bad input logged at error level: %s", f.logs)
			}
		})
	}
}

// TestIssueCookiesAcceptsStrictBodies: what the strict reading still takes.
func TestIssueCookiesAcceptsStrictBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body string
		chunked                 bool
	}{
		{"no body, no content type", "", "", false},
		{"no body, JSON content type", "application/json", "", false},
		{"empty object", "application/json", `{}`, false},
		{"empty list", "application/json", `{"scopes":[]}`, false},
		{"one scope", "application/json", `{"scopes":["default"]}`, false},
		{"whitespace around", "application/json", " \t{ \"scopes\" : [ \"default\" ] }\r\n", false},
		{"charset utf-8", "application/json; charset=utf-8", `{"scopes":["default"]}`, false},
		{"charset UTF-8 quoted, no space", `application/json;charset="UTF-8"`, `{"scopes":["default"]}`, false},
		{"type in capitals", "Application/JSON", `{"scopes":["default"]}`, false},
		{"chunked", "application/json", `{"scopes":["default"]}`, true},
		{"exactly 4 KiB", "application/json", `{"scopes":["default"]}` + strings.Repeat(" ", mediacookies.MaxBodyBytes-len(`{"scopes":["default"]}`)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			req := httptest.NewRequest(http.MethodPost, "/auth/media-cookies", strings.NewReader(tt.body))
			if tt.body == "" {
				req = httptest.NewRequest(http.MethodPost, "/auth/media-cookies", nil)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.chunked {
				req.ContentLength = -1
				req.TransferEncoding = []string{"chunked"}
			}
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, req)
			if w.Code != http.StatusOK || len(w.Result().Cookies()) != 4 {
				t.Fatalf("status %d, %d cookies: %s", w.Code, len(w.Result().Cookies()), w.Body)
			}
		})
	}
}
