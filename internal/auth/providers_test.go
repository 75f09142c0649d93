package auth

import (
	"crypto"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cfcookies/cfcookies/signer"
)

// issuerWithoutPath, as a claim edit, is the issuer's server address alone.
const issuerWithoutPath = "(issuer without its path)"

// TestOIDCProviderTokens verifies tokens shaped as Cognito, Auth0, Keycloak
// and Entra ID issue them, from an issuer URL shaped as theirs (a path, a
// trailing slash), with the claims rules are written against, and refuses
// the near misses each provider's users run into.
func TestOIDCProviderTokens(t *testing.T) {
	t.Parallel()
	type refusal struct {
		name   string
		edits  map[string]any // applied to the accepted claims; nil deletes
		reason string
	}
	tests := []struct {
		name     string
		path     string // issuer URL after the server's address
		audience string // OIDC_AUDIENCE
		// kid and key sign the tokens; jwk, if set, is how the issuer
		// publishes the key (default: RS256 for signing).
		kid string
		key crypto.Signer
		jwk *jose.JSONWebKey
		// extra keys the issuer also publishes.
		extra []jose.JSONWebKey
		// claims are the accepted token's, iss aside.
		claims func(now time.Time) map[string]any
		// rule is a claim and a value the token's user is entitled by.
		ruleClaim, ruleContains string
		refused                 []refusal
	}{
		{
			name: "Cognito access token: client_id, no aud", path: "/eu-west-1_AbCdEfGhI", audience: "4kd9e1m2c5q6r7s8t9u0v1w2x3",
			kid: "cognito-1", key: rsaKey1(),
			claims: func(now time.Time) map[string]any {
				return map[string]any{
					"sub": "3f1e0b9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "client_id": "4kd9e1m2c5q6r7s8t9u0v1w2x3",
					"token_use": "access", "scope": "openid email", "username": "alice",
					"cognito:groups": []string{"premium", "staff"}, "origin_jti": "0f6f4a2e", "event_id": "a1b2",
					"auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j-1", "version": 2,
				}
			},
			ruleClaim: "cognito:groups", ruleContains: "premium",
			refused: []refusal{
				{"another app client", map[string]any{"client_id": "other-client"}, ReasonWrongIssuerOrAudience},
				{"another user pool", map[string]any{"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}, ReasonWrongIssuerOrAudience},
			},
		},
		{
			name: "Cognito ID token: aud is the app client", path: "/eu-west-1_AbCdEfGhI", audience: "4kd9e1m2c5q6r7s8t9u0v1w2x3",
			kid: "cognito-1", key: rsaKey1(),
			claims: func(now time.Time) map[string]any {
				return map[string]any{
					"sub": "3f1e0b9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "aud": "4kd9e1m2c5q6r7s8t9u0v1w2x3", "token_use": "id",
					"cognito:username": "alice", "cognito:groups": []string{"premium"}, "email": "alice@example.com",
					"email_verified": true, "custom:tenant_id": "acme",
					"auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
				}
			},
			ruleClaim: "cognito:groups", ruleContains: "premium",
			refused: []refusal{
				// aud decides when there is one: a matching client_id
				// beside a foreign aud does not help.
				{"aud of another client", map[string]any{"aud": "other-client", "client_id": "4kd9e1m2c5q6r7s8t9u0v1w2x3"}, ReasonWrongIssuerOrAudience},
			},
		},
		{
			// Auth0 adds its userinfo audience to an access token asked for
			// with the openid scope; azp names the SPA's application.
			name: "Auth0 access token: trailing-slash issuer, aud array, azp", path: "/", audience: "https://api.example.com,Xj3kPq9ZsT2vW8yB1nM4cR6d",
			kid: "auth0-1", key: rsaKey1(),
			claims: func(now time.Time) map[string]any {
				return map[string]any{
					"sub": "auth0|5f7c8ec7c33c6c004bbafe82",
					"aud": []string{"https://api.example.com", "https://dev-abc123.eu.auth0.com/userinfo"},
					"azp": "Xj3kPq9ZsT2vW8yB1nM4cR6d", "scope": "openid profile email", "permissions": []string{"read:media"},
					"https://example.com/roles": []string{"premium"},
					"iat":                       now.Unix(), "exp": now.Add(24 * time.Hour).Unix(),
				}
			},
			ruleClaim: "https://example.com/roles", ruleContains: "premium",
			refused: []refusal{
				{"token for another API", map[string]any{"aud": []string{"https://other.example.com", "https://dev-abc123.eu.auth0.com/userinfo"}}, ReasonWrongIssuerOrAudience},
				{"issuer without the trailing slash", map[string]any{"iss": issuerWithoutPath}, ReasonWrongIssuerOrAudience},
				{"asked for by another application", map[string]any{"azp": "OtherApplicationClientId"}, ReasonWrongIssuerOrAudience},
				{"two audiences and no azp", map[string]any{"azp": nil}, ReasonWrongIssuerOrAudience},
			},
		},
		{
			name: "Keycloak access token: azp, realm roles, audience mapper", path: "/realms/media", audience: "media-app",
			kid: "kc-rs256", key: rsaKey1(),
			// Keycloak publishes its encryption key in the same set.
			extra: []jose.JSONWebKey{{Key: rsaKey2().Public(), KeyID: "kc-rsa-oaep", Algorithm: "RSA-OAEP", Use: "enc"}},
			claims: func(now time.Time) map[string]any {
				return map[string]any{
					"sub": "5c4b3a29-8f7e-4d6c-9b5a-493827161504", "aud": []string{"media-app", "account"}, "azp": "media-app",
					"typ": "Bearer", "preferred_username": "alice", "scope": "openid profile email", "sid": "8d7c6b5a",
					"realm_access":    map[string]any{"roles": []string{"premium", "offline_access", "uma_authorization"}},
					"resource_access": map[string]any{"account": map[string]any{"roles": []string{"manage-account"}}},
					"groups":          []string{"/premium"}, "allowed-origins": []string{"https://app.example.com"},
					"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
				}
			},
			ruleClaim: "groups", ruleContains: "/premium",
			refused: []refusal{
				// Keycloak's default access token names the account
				// service, not the client: it needs an Audience mapper.
				{"default aud account only", map[string]any{"aud": "account"}, ReasonWrongIssuerOrAudience},
				{"another realm", map[string]any{"iss": "https://sso.example.com/realms/other"}, ReasonWrongIssuerOrAudience},
				// Another client whose tokens an Audience mapper also
				// points at media-app.
				{"issued to another client", map[string]any{"azp": "other-client"}, ReasonWrongIssuerOrAudience},
			},
		},
		{
			name: "Entra ID v2 access token: tenant issuer, nbf, key without alg", path: "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
			audience: "6e74172b-be56-4843-9ff4-e66a39bb12e3",
			kid:      "nOo3ZDrODXEK1jKWhXslHR_KXEg", key: rsaKey2(),
			// Entra publishes RSA keys without alg, with x5t beside kid.
			jwk: &jose.JSONWebKey{Key: rsaKey2().Public(), KeyID: "nOo3ZDrODXEK1jKWhXslHR_KXEg", Use: "sig"},
			claims: func(now time.Time) map[string]any {
				return map[string]any{
					"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
					"azp": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "tid": "9188040d-6c67-4c5b-b112-36a304b66dad",
					"oid": "00000000-0000-0000-66f3-3332eca7ea81", "roles": []string{"Media.Premium"}, "scp": "Media.Read",
					"ver": "2.0", "preferred_username": "alice@example.com", "uti": "AbCdEf", "rh": "0.AXwA",
					"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
				}
			},
			ruleClaim: "roles", ruleContains: "Media.Premium",
			refused: []refusal{
				// A v1 token (accessTokenAcceptedVersion unset) names the
				// v1 issuer, which a v2 OIDC_ISSUER does not match.
				{"v1 token", map[string]any{"iss": "https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/", "ver": "1.0"}, ReasonWrongIssuerOrAudience},
				{"api:// audience", map[string]any{"aud": "api://6e74172b-be56-4843-9ff4-e66a39bb12e3"}, ReasonWrongIssuerOrAudience},
				{"issued to another application", map[string]any{"azp": "0c3b0a9f-2d1e-4c5b-8a7f-6e5d4c3b2a19"}, ReasonWrongIssuerOrAudience},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			is := newTestIssuerAt(t, tt.path)
			jwk := jose.JSONWebKey{Key: tt.key.Public(), KeyID: tt.kid, Algorithm: "RS256", Use: "sig"}
			if tt.jwk != nil {
				jwk = *tt.jwk
			}
			is.publishJWK(jwk)
			for _, k := range tt.extra {
				is.publishJWK(k)
			}
			clock := newClock()
			o, err := NewOIDC(t.Context(), OIDCConfig{Issuer: is.URL(), Audience: tt.audience, HTTPClient: is.srv.Client(), Now: clock.Now})
			if err != nil {
				t.Fatalf("NewOIDC: %v", err)
			}
			claims := func(edits map[string]any) map[string]any {
				c := tt.claims(clock.Now())
				c["iss"] = is.URL()
				for k, v := range edits {
					switch v {
					case nil:
						delete(c, k)
					case issuerWithoutPath:
						c[k] = is.srv.URL
					default:
						c[k] = v
					}
				}
				return c
			}
			auth := func(c map[string]any) (Identity, error) {
				tok := signJWT(t, jose.RS256, tt.kid, tt.key, c)
				return o.Authenticate(oidcRequest([]string{"Bearer " + tok}, nil))
			}

			want := claims(nil)
			id, err := auth(want)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if id.Subject != want["sub"] || len(id.Claims) != len(want) {
				t.Fatalf("identity %+v, want sub %v and its %d claims", id, want["sub"], len(want))
			}
			for k := range want {
				if _, ok := id.Claims[k]; !ok {
					t.Errorf("identity lacks claim %s", k)
				}
			}
			if err := signer.CheckPathValue(id.Subject); err != nil {
				t.Errorf("sub %q cannot fill a path template: %v", id.Subject, err)
			}
			if !id.ClaimContains(tt.ruleClaim, tt.ruleContains) {
				t.Errorf("claim %s does not contain %q: a rule on it would refuse this user", tt.ruleClaim, tt.ruleContains)
			}
			if id.ClaimContains(tt.ruleClaim, tt.ruleContains+"x") {
				t.Errorf("claim %s contains %q", tt.ruleClaim, tt.ruleContains+"x")
			}

			for _, r := range tt.refused {
				t.Run(r.name, func(t *testing.T) {
					id, err := auth(claims(r.edits))
					if !errors.Is(err, ErrUnauthenticated) {
						t.Fatalf("accepted as %+v", id)
					}
					if got := Reason(err); got != r.reason {
						t.Errorf("Reason = %q, want %q (err %v)", got, r.reason, err)
					}
				})
			}
		})
	}
}
