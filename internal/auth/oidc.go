package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDCConfig configures NewOIDC. Issuer and Audience are required; the zero
// value of every other field is a safe default.
type OIDCConfig struct {
	// Issuer is the issuer URL exactly as it appears in the tokens' iss
	// claim and in the discovery document at
	// Issuer + "/.well-known/openid-configuration", e.g.
	// https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf. It must
	// be https (http only for a loopback host).
	Issuer string

	// Audience is the client ID tokens must be issued for, or several
	// separated by commas (an API's identifier and the client id of the app
	// that asks for its tokens). A token is accepted when its aud claim
	// holds one of them or, when it has no aud at all (Cognito access
	// tokens), when its client_id claim is one of them. Its azp (authorized
	// party, OpenID Connect Core 3.1.3.7) must then be one of them too:
	// required when aud names more than one audience, checked whenever it
	// is present.
	Audience string

	// Cookie, when set, names a cookie that carries the token for requests
	// without an Authorization header. Empty: only Authorization: Bearer.
	Cookie string

	// Leeway is the clock skew tolerated on exp and nbf. Zero means
	// DefaultLeeway (60s); negative is an error.
	Leeway time.Duration

	// HTTPClient fetches the discovery document and the key set. Nil means a
	// client with a 10s timeout that does not follow redirects.
	HTTPClient *http.Client

	// Now is the clock used for exp, nbf and key refetch pacing. Nil means
	// time.Now.
	Now func() time.Time
}

// OIDC authenticates a request by the JWT it carries in
// "Authorization: Bearer <token>" or, if configured, in a cookie: an OpenID
// Connect ID token or an access token (such as Cognito's) signed by the
// configured issuer for the configured audience.
//
// The token must be signed with RS256, RS384, RS512, ES256, ES384 or PS256 by
// a key of the issuer's key set (refetched, at most every 30s, when a token
// names an unknown kid, so rotation needs no restart) whose algorithm it is:
// the alg the key declares or, when it declares none, one its type fits
// (RFC 8725, section 3.1). Its iss must equal the issuer; aud, client_id
// and azp are checked as OIDCConfig.Audience says; its exp must not have
// passed and its nbf and iat, if any, must have come, all give or take the
// leeway and all JSON numbers, never strings (see numericDate); its sub must
// be a non-empty string. Tokens over MaxTokenBytes are refused unparsed.
// Number claims keep their exact digits (see Identity.Claim).
//
// An OIDC is safe for concurrent use.
type OIDC struct {
	verifier  *oidc.IDTokenVerifier
	keys      *remoteKeys
	issuer    string
	audiences []string
	cookie    string
	leeway    time.Duration
	now       func() time.Time
}

var _ Authenticator = (*OIDC)(nil)

// NewOIDC fetches the issuer's discovery document and key set (ctx bounds
// both) and returns an authenticator for its tokens. It fails when the issuer
// cannot be reached, does not call itself Issuer, or publishes no usable key.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if err := checkFetchURL(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("auth: oidc issuer: %w", err)
	}
	audiences, err := parseAudiences(cfg.Audience)
	if err != nil {
		return nil, err
	}
	if cfg.Cookie != "" && !hasCookieNameChars(cfg.Cookie) {
		return nil, fmt.Errorf("auth: oidc cookie name %q is not a valid cookie name", cfg.Cookie)
	}
	leeway, err := checkLeeway(cfg.Leeway)
	if err != nil {
		return nil, fmt.Errorf("auth: oidc: %w", err)
	}
	client, now := orDefaults(cfg.HTTPClient, cfg.Now)

	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: oidc discovery for %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("auth: oidc discovery for %s: %w", cfg.Issuer, err)
	}
	if err := checkFetchURL(meta.JWKSURL); err != nil {
		return nil, fmt.Errorf("auth: oidc discovery for %s: jwks_uri: %w", cfg.Issuer, err)
	}
	keys := &remoteKeys{url: meta.JWKSURL, client: client, now: now}
	if err := keys.refresh(ctx); err != nil {
		return nil, fmt.Errorf("auth: oidc keys for %s: %w", cfg.Issuer, err)
	}

	algs := make([]string, len(signingAlgs))
	for i, a := range signingAlgs {
		algs[i] = string(a)
	}
	verifier := oidc.NewVerifier(cfg.Issuer, keys, &oidc.Config{
		SupportedSigningAlgs: algs,
		// aud/client_id, exp and nbf are checked in Authenticate: go-oidc
		// knows neither client_id nor a configurable leeway.
		SkipClientIDCheck: true,
		SkipExpiryCheck:   true,
	})
	return &OIDC{
		verifier:  verifier,
		keys:      keys,
		issuer:    cfg.Issuer,
		audiences: audiences,
		cookie:    cfg.Cookie,
		leeway:    leeway,
		now:       now,
	}, nil
}

// Authenticate implements Authenticator. Every error wraps
// ErrUnauthenticated; its text is safe to log and never holds the token.
func (o *OIDC) Authenticate(r *http.Request) (Identity, error) {
	raw, err := o.token(r)
	if err != nil {
		return Identity{}, err
	}
	return o.verify(r.Context(), raw)
}

// token extracts the raw token: from the one Authorization header when there
// is one (which must then be a bearer token: no falling back to the cookie),
// else from the one auth cookie.
func (o *OIDC) token(r *http.Request) (string, error) {
	switch h := r.Header.Values("Authorization"); len(h) {
	case 0:
	case 1:
		return bearerToken(h[0])
	default:
		return "", unauthenticated(ReasonMalformed, "%d Authorization headers", len(h))
	}
	if o.cookie == "" {
		return "", unauthenticated(ReasonMissing, "no bearer token")
	}
	switch c := r.CookiesNamed(o.cookie); len(c) {
	case 0:
		return "", unauthenticated(ReasonMissing, "no bearer token and no %s cookie", o.cookie)
	case 1:
		if err := checkTokenChars(c[0].Value, MaxTokenBytes, false); err != nil {
			return "", fmt.Errorf("%s cookie: %w", o.cookie, err)
		}
		return c[0].Value, nil
	default:
		return "", unauthenticated(ReasonMalformed, "%d %s cookies", len(c), o.cookie)
	}
}

// bearerToken reads "Bearer <token>": the scheme in any case, one space, and
// a compact JWS.
func bearerToken(h string) (string, error) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", unauthenticated(ReasonMalformed, "Authorization header is not \"Bearer <token>\"")
	}
	if err := checkTokenChars(tok, MaxTokenBytes, false); err != nil {
		return "", fmt.Errorf("bearer: %w", err)
	}
	return tok, nil
}

// verify checks a raw token and returns its identity.
func (o *OIDC) verify(ctx context.Context, raw string) (Identity, error) {
	// go-oidc checks the algorithm, the signature (through o.keys) and iss.
	var ks keySetOutcome
	tok, err := o.verifier.Verify(withKeySetOutcome(ctx, &ks), raw)
	if err != nil {
		return Identity{}, unauthenticated(o.verifyReason(ks), "%v", err)
	}
	// go-oidc reads exp, nbf and iat too, but takes a string holding a
	// number for one: they are read again here, from the payload as signed.
	var reg struct {
		Exp      json.RawMessage `json:"exp"`
		Nbf      json.RawMessage `json:"nbf"`
		Iat      json.RawMessage `json:"iat"`
		ClientID json.RawMessage `json:"client_id"`
		Azp      json.RawMessage `json:"azp"`
	}
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "claims: %v", err)
	}
	if err := json.Unmarshal(payload, &reg); err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "claims: %v", err)
	}
	if err := o.checkAudience(tok.Audience, reg.ClientID, reg.Azp); err != nil {
		return Identity{}, err
	}
	if err := checkTimes(o.now(), o.leeway, reg.Exp, reg.Nbf, reg.Iat); err != nil {
		return Identity{}, err
	}
	if tok.Subject == "" {
		return Identity{}, unauthenticated(ReasonMalformed, "token has no sub")
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "claims: %v", err)
	}
	return Identity{Subject: tok.Subject, Claims: claims}, nil
}

// verifyReason classifies a failed go-oidc Verify: the key set's reason
// when it refused the token; malformed when the token never reached it;
// after a verified signature, only the issuer or the claims JSON can fail.
func (o *OIDC) verifyReason(ks keySetOutcome) string {
	switch {
	case ks.reason != "":
		return ks.reason
	case !ks.verified:
		return ReasonMalformed
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(ks.payload, &claims) == nil && claims.Iss != o.issuer {
		return ReasonWrongIssuerOrAudience
	}
	return ReasonMalformed
}

// parseAudiences splits OIDCConfig.Audience at its commas, each value
// trimmed of spaces; none may be empty.
func parseAudiences(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, errors.New("auth: oidc audience is required")
	}
	var audiences []string
	for a := range strings.SplitSeq(v, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fmt.Errorf("auth: oidc audience %q has an empty value between its commas", v)
		}
		if !slices.Contains(audiences, a) {
			audiences = append(audiences, a)
		}
	}
	return audiences, nil
}

// checkAudience accepts aud holding a configured audience or, only when
// there is no aud, a client_id that is one (Cognito access tokens). Then
// azp: when aud names several audiences, a token issued to another client
// could carry ours beside its own, so azp must say which client it was
// issued to; when present it must be a configured audience (OpenID Connect
// Core 3.1.3.7).
func (o *OIDC) checkAudience(aud []string, rawClientID, rawAzp json.RawMessage) error {
	if len(aud) > 0 {
		if !slices.ContainsFunc(aud, o.isAudience) {
			return unauthenticated(ReasonWrongIssuerOrAudience, "aud %q does not include the configured audience", aud)
		}
	} else {
		var clientID string
		if len(rawClientID) == 0 || json.Unmarshal(rawClientID, &clientID) != nil || clientID == "" {
			return unauthenticated(ReasonWrongIssuerOrAudience, "token has neither aud nor a client_id string")
		}
		if !o.isAudience(clientID) {
			return unauthenticated(ReasonWrongIssuerOrAudience, "client_id %q is not the configured audience", clip(clientID))
		}
	}
	azp, present, err := optionalString(rawAzp)
	switch {
	case err != nil:
		return unauthenticated(ReasonMalformed, "azp is not a string")
	case !present && distinct(aud) > 1:
		return unauthenticated(ReasonWrongIssuerOrAudience, "aud names %d audiences and the token has no azp to say which client it was issued to", distinct(aud))
	case present && !o.isAudience(azp):
		return unauthenticated(ReasonWrongIssuerOrAudience, "azp %q is not the configured audience", clip(azp))
	}
	return nil
}

func (o *OIDC) isAudience(v string) bool { return slices.Contains(o.audiences, v) }

// optionalString reads a claim that is absent (or null) or a string.
func optionalString(raw json.RawMessage) (s string, present bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, err
	}
	return s, true, nil
}

// distinct counts the different values of list.
func distinct(list []string) int {
	n := 0
	for i, v := range list {
		if !slices.Contains(list[:i], v) {
			n++
		}
	}
	return n
}
