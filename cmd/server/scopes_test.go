package main

import (
	"testing"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/config"
)

func TestScopesRules(t *testing.T) {
	t.Parallel()
	got := scopes([]config.Scope{
		{Name: "open"},
		{Name: "premium", Allow: []config.Rule{{Claim: "groups", Contains: "premium"}, {Claim: "tier", Equals: "gold"}}},
	})
	if got[0].Allowed != nil {
		t.Fatal("a scope without rules must be open to every authenticated caller")
	}
	allowed := got[1].Allowed
	for _, tt := range []struct {
		claims map[string]any
		want   bool
	}{
		{map[string]any{"groups": []any{"basic", "premium"}}, true},
		{map[string]any{"tier": "gold"}, true},
		{map[string]any{"groups": []any{"basic"}, "tier": "silver"}, false},
		{map[string]any{"groups": "premium-plus"}, false},
		{map[string]any{"tier": []any{"gold"}}, false},
		{nil, false},
	} {
		if a := allowed(auth.Identity{Subject: "u", Claims: tt.claims}); a != tt.want {
			t.Errorf("claims %v: allowed %v, want %v", tt.claims, a, tt.want)
		}
	}
}
