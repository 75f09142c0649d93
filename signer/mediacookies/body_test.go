package mediacookies

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fuzz inputs stay short: Go's fuzzer minimizes a new input in time that
// grows with the square of its length. Request bodies worth fuzzing (a few
// scope names) fit well within these.
const (
	maxFuzzBody  = 256
	maxFuzzField = 64 // a content type, a scope name or path
)

// FuzzStrictBody: whatever body the strict reading accepts, encoding/json
// (case-insensitive names, the last of duplicates, null as absent: the
// reading of a lenient proxy or WAF) reads the same request from it.
func FuzzStrictBody(f *testing.F) {
	for _, body := range []string{
		`{"scopes":["a"]}`, `{"scopes":["a"],"scopes":["b"]}`, `{"Scopes":["a"]}`, "{\"\u017fcopes\":[\"a\"]}",
		`{"\u0073copes":["a"]}`, `null`, `{"scopes":null}`, `{"scopes":["a"]} x`, `{}`, `{"scopes":[]}`,
		"{\"scopes\":[\"\xff\"]}", `{"scopes":["\ud800"]}`, `{"scopes":["a\u0000"]}`, ` {"scopes" : ["a","b"]} `,
		`{"scopes":["\ud83d\ude00"]}`, `{"scopes":["\udc00\ud800"]}`, `{"scopes":[{"a":1}]}`,
	} {
		f.Add("application/json", body)
	}
	f.Add("application/json; charset=utf-8", `{"scopes":["a"]}`)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		if len(contentType) > maxFuzzField || len(body) > maxFuzzBody {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/auth/media-cookies", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		got, err := readScopes(httptest.NewRecorder(), r)
		if err != nil {
			if e := AsError(err); e.Status < 400 || e.Status > 499 {
				t.Fatalf("not a 4xx: %v", err)
			}
			return
		}
		if body == "" {
			return
		}
		var lenient issueRequest
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&lenient); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if !slices.Equal(got, lenient.Scopes) {
			t.Fatalf("%q: strict reading %q, encoding/json %q", body, got, lenient.Scopes)
		}
	})
}

func TestCheckStrictJSON(t *testing.T) {
	t.Parallel()
	for body, ok := range map[string]bool{
		`{"scopes":["a"]}`: true, ` {"scopes" : [ "a" , "b" ] } `: true, `{}`: true, `{"scopes":[]}`: true,
		`{"scopes":["\ud83d\ude00"]}`: true, `{"scopes":["\u00e9"]}`: true,
		`{"scopes":["a"],"scopes":["b"]}`: false, `{"Scopes":["a"]}`: false, `{"\u0073copes":["a"]}`: false,
		`{"scopes":null}`: false, `{"scopes":[null]}`: false, `null`: false, `[]`: false, `{} x`: false, `{}]`: false,
		"{\"scopes\":[\"\xff\"]}": false, `{"scopes":["\ud800"]}`: false, `{"scopes":["\udc00"]}`: false,
		`{"scopes":["\ud800\u0041"]}`: false, `{"scopes":["\ud800x"]}`: false, `{"scopes":["a"],}`: false, ``: false,
	} {
		if err := checkStrictJSON([]byte(body)); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", body, err, ok)
		}
	}
}

// checkAnswer compares appendAnswer with encoding/json for grants.
func checkAnswer(t *testing.T, in []Grant, refresh []time.Time) {
	t.Helper()
	var grants []issuedGrant[Claims]
	type scopeJSON struct {
		Scope      string `json:"scope"`
		Resource   string `json:"resource"`
		CookiePath string `json:"cookiePath"`
	}
	var want struct {
		ExpiresAt    time.Time   `json:"expiresAt"`
		RefreshAfter time.Time   `json:"refreshAfter"`
		Grants       []scopeJSON `json:"grants"`
	}
	for i, g := range in {
		sc := &scope[Claims]{Scope: Scope[Claims]{Name: g.Scope, CookiePath: g.CookiePath}}
		sc.jsonHead, sc.jsonTail = grantJSON(g.Scope, g.CookiePath)
		grants = append(grants, issuedGrant[Claims]{scope: sc, resource: g.Resource, refreshAfter: refresh[i]})
		grants[i].signed.Expires = g.Expires
		if i == 0 || g.Expires.Before(want.ExpiresAt) {
			want.ExpiresAt = g.Expires.UTC()
		}
		if i == 0 || refresh[i].Before(want.RefreshAfter) {
			want.RefreshAfter = refresh[i].UTC()
		}
		want.Grants = append(want.Grants, scopeJSON{g.Scope, g.Resource, g.CookiePath})
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(want); err != nil {
		t.Skip("encoding/json refuses it:", err)
	}
	a := answer(grants)
	if got := appendAnswer(nil, &a, grants); !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("appendAnswer:\n got %s\nwant %s", got, buf.Bytes())
	}
	if !a.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("ExpiresAt %s, want %s", a.ExpiresAt, want.ExpiresAt)
	}
}

func TestAppendAnswerMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return time.Date(2026, 11, 21, 12, m, 0, 0, time.UTC) }
	local := time.FixedZone("UTC+2", 2*3600)
	tests := []struct {
		name    string
		grants  []Grant
		refresh []time.Time
	}{
		{"one scope", []Grant{{"default", "https://media.example.com/media/alice/*", "/", at(10)}}, []time.Time{at(8)}},
		{"two scopes, earliest times win", []Grant{
			{"default", "https://media.example.com/media/alice/*", "/", at(10)},
			{"premium", "https://media.example.com/premium/*", "/premium/", at(5)},
		}, []time.Time{at(8), at(9)}},
		{"a local time is written in UTC", []Grant{{"default", "https://m.example.com/a/*", "/", at(10).In(local)}}, []time.Time{at(8).In(local)}},
		{"fractions of a second", []Grant{{"default", "https://m.example.com/a/*", "/", at(10).Add(5e8)}}, []time.Time{at(8).Add(1)}},
		{"HTML-escaped characters", []Grant{{"a<b>&c", "https://m.example.com/a&b/<c>/*", "/p&q/", at(10)}}, []time.Time{at(8)}},
		{"quotes, backslashes and controls", []Grant{{`sc"ope`, "https://m.example.com/a\"b\\c\x01/*", "/", at(10)}}, []time.Time{at(8)}},
		{"non-ASCII and invalid UTF-8", []Grant{{"é", "https://m.example.com/\u2028/\xff/*", "/", at(10)}}, []time.Time{at(8)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkAnswer(t, tc.grants, tc.refresh)
		})
	}
}

// FuzzAppendAnswer checks the hand-written answer against encoding/json
// for any scope name, resource, cookie Path and times.
func FuzzAppendAnswer(f *testing.F) {
	f.Add("default", "https://media.example.com/media/alice/*", "/", int64(1795000000), int64(-120), "premium", "<&>\"\\", "/p/", int64(1795000300))
	f.Fuzz(func(t *testing.T, scope1, resource1, path1 string, exp1, refresh1 int64, scope2, resource2, path2 string, exp2 int64) {
		if scope1 == scope2 || len(scope1)+len(resource1)+len(path1)+len(scope2)+len(resource2)+len(path2) > maxFuzzBody {
			return
		}
		e1, e2 := time.Unix(exp1%(1<<35), 0), time.Unix(exp2%(1<<35), exp2%1e9)
		checkAnswer(t, []Grant{{scope1, resource1, path1, e1}, {scope2, resource2, path2, e2}},
			[]time.Time{e1.Add(time.Duration(refresh1)), e2.Add(-time.Minute)})
	})
}
