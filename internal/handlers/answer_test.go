package handlers

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// issuedResponse is the answer of DESIGN.md as encoding/json writes it:
// appendIssued must write the same bytes.
type issuedResponse struct {
	ExpiresAt    time.Time     `json:"expiresAt"`
	RefreshAfter time.Time     `json:"refreshAfter"`
	Grants       []issuedScope `json:"grants"`
}

type issuedScope struct {
	Scope      string `json:"scope"`
	Resource   string `json:"resource"`
	CookiePath string `json:"cookiePath"`
}

type answerGrant struct {
	scope, resource, cookiePath string
	expires, refresh            time.Time
}

// checkAnswer compares appendIssued with encoding/json for grants.
func checkAnswer(t *testing.T, in []answerGrant) {
	t.Helper()
	var grants []issuedGrant
	want := issuedResponse{}
	for i, g := range in {
		issuing := &scopeIssuing{}
		issuing.jsonHead, issuing.jsonTail = grantJSON(g.scope, g.cookiePath)
		grants = append(grants, issuedGrant{scope: issuing, resource: g.resource,
			signed: signer.Signed{Expires: g.expires}, refreshAfter: g.refresh})
		if i == 0 || g.expires.Before(want.ExpiresAt) {
			want.ExpiresAt = g.expires.UTC()
		}
		if i == 0 || g.refresh.Before(want.RefreshAfter) {
			want.RefreshAfter = g.refresh.UTC()
		}
		want.Grants = append(want.Grants, issuedScope{Scope: g.scope, Resource: g.resource, CookiePath: g.cookiePath})
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(want); err != nil {
		t.Skip("encoding/json refuses it:", err)
	}
	got, expiresAt := appendIssued(nil, grants)
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("appendIssued:\n got %s\nwant %s", got, buf.Bytes())
	}
	if !expiresAt.Equal(want.ExpiresAt) {
		t.Errorf("expiresAt %s, want %s", expiresAt, want.ExpiresAt)
	}
}

func TestAppendIssuedMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return time.Date(2026, 11, 21, 12, m, 0, 0, time.UTC) }
	local := time.FixedZone("UTC+2", 2*3600)
	tests := []struct {
		name   string
		grants []answerGrant
	}{
		{"one scope", []answerGrant{{"default", "https://media.example.com/media/alice/*", "/", at(10), at(8)}}},
		{"two scopes, earliest times win", []answerGrant{
			{"default", "https://media.example.com/media/alice/*", "/", at(10), at(8)},
			{"premium", "https://media.example.com/premium/*", "/premium/", at(5), at(9)},
		}},
		{"a local time is written in UTC", []answerGrant{{"default", "https://m.example.com/a/*", "/", at(10).In(local), at(8).In(local)}}},
		{"fractions of a second", []answerGrant{{"default", "https://m.example.com/a/*", "/", at(10).Add(5e8), at(8).Add(1)}}},
		{"HTML-escaped characters", []answerGrant{{"a<b>&c", "https://m.example.com/a&b/<c>/*", "/p&q/", at(10), at(8)}}},
		{"quotes, backslashes and controls", []answerGrant{{`sc"ope`, "https://m.example.com/a\"b\\c\x01/*", "/", at(10), at(8)}}},
		{"non-ASCII and invalid UTF-8", []answerGrant{{"é", "https://m.example.com/\u2028/\xff/*", "/", at(10), at(8)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkAnswer(t, tc.grants)
		})
	}
}

// FuzzAppendIssued checks the hand-written answer against encoding/json
// for any scope name, resource, cookie Path and times.
func FuzzAppendIssued(f *testing.F) {
	f.Add("default", "https://media.example.com/media/alice/*", "/", int64(1795000000), int64(-120), "premium", "<&>\"\\", "/p/", int64(1795000300))
	f.Fuzz(func(t *testing.T, scope1, resource1, path1 string, exp1, refresh1 int64, scope2, resource2, path2 string, exp2 int64) {
		if scope1 == scope2 || len(scope1)+len(resource1)+len(path1)+len(scope2)+len(resource2)+len(path2) > maxFuzzBody {
			return
		}
		e1, e2 := time.Unix(exp1%(1<<35), 0), time.Unix(exp2%(1<<35), exp2%1e9)
		checkAnswer(t, []answerGrant{
			{scope1, resource1, path1, e1, e1.Add(time.Duration(refresh1))},
			{scope2, resource2, path2, e2, e2.Add(-time.Minute)},
		})
	})
}
