package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	oidcCfg := OIDCConfig{Issuer: is.URL(), Audience: testAudience, HTTPClient: is.srv.Client()}
	tests := []struct {
		name    string
		opts    Options
		want    string // the Authenticator's type, or a fragment of the error
		wantErr bool
	}{
		{"oidc", Options{Mode: ModeOIDC, OIDC: oidcCfg}, "*auth.OIDC", false},
		{"empty mode is oidc", Options{OIDC: oidcCfg}, "*auth.OIDC", false},
		{"oidc without issuer", Options{Mode: ModeOIDC}, "", true},
		{"alb", Options{Mode: ModeALB, ALB: ALBConfig{ARN: testARN}}, "*auth.ALB", false},
		{"alb with a bad ARN", Options{Mode: ModeALB, ALB: ALBConfig{ARN: "arn:nonsense"}}, "", true},
		{"dev with AllowDev", Options{Mode: ModeDev, AllowDev: true}, "auth.Dev", false},
		{"dev without AllowDev", Options{Mode: ModeDev}, "only available with --dev", true},
		{"unknown mode", Options{Mode: "saml"}, `unknown mode "saml"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := New(t.Context(), tt.opts)
			switch {
			case tt.wantErr && err == nil:
				t.Fatalf("no error, got %T", a)
			case tt.wantErr && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			case !tt.wantErr && err != nil:
				t.Fatal(err)
			case !tt.wantErr && typeName(a) != tt.want:
				t.Fatalf("got %s, want %s", typeName(a), tt.want)
			}
		})
	}
}

// An issuer that never answers fails the start within DiscoveryTimeout.
func TestNewDiscoveryTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	start := time.Now()
	_, err := New(t.Context(), Options{
		OIDC:             OIDCConfig{Issuer: srv.URL, Audience: testAudience, HTTPClient: srv.Client()},
		DiscoveryTimeout: 200 * time.Millisecond,
	})
	if err == nil {
		t.Fatal("an issuer that never answers: no error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s, want about 200ms", d)
	}
}

func typeName(a Authenticator) string {
	switch a.(type) {
	case *OIDC:
		return "*auth.OIDC"
	case *ALB:
		return "*auth.ALB"
	case Dev:
		return "auth.Dev"
	}
	return "other"
}

// TestAnyRule: a caller is entitled when any rule holds; no rules means
// every caller.
func TestAnyRule(t *testing.T) {
	t.Parallel()
	if AnyRule(nil) != nil {
		t.Fatal("no rules must give a nil predicate: every authenticated caller")
	}
	allowed := AnyRule([]Rule{{Claim: "groups", Contains: "premium"}, {Claim: "tier", Equals: "gold"}})
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
		if a := allowed(Identity{Subject: "u", Claims: tt.claims}); a != tt.want {
			t.Errorf("claims %v: allowed %v, want %v", tt.claims, a, tt.want)
		}
	}
	if (Rule{Claim: "tier"}).Allows(Identity{Subject: "u", Claims: map[string]any{"tier": ""}}) {
		t.Error("a rule with neither Equals nor Contains allowed a caller")
	}
}
