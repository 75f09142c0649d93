package handlers

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// Scope is a named grant template: which path pattern, under which cookie
// Path, for how long, and who may have it (Allowed nil: every
// authenticated caller). internal/config's Scope is the same grant as
// configured, with its Allowed written as rules.
type Scope = mediacookies.Scope[auth.Identity]

// auth.Identity is what the path templates expand from.
var _ mediacookies.Identity = auth.Identity{}

// newMediaCookies is /auth/media-cookies: the public handler, given the
// server's identities, its limit per identity, and hooks that count and
// log what it does.
func newMediaCookies(opts Options, signers func() *signer.Signer, authn auth.Authenticator, m *Metrics) (*mediacookies.Handler[auth.Identity], error) {
	perIdentity := newRateLimiter(opts.RateLimitPerIdentity, "identity", m)
	scopeOK := make(map[string]func(), len(opts.Scopes))
	for _, sc := range opts.Scopes {
		scopeOK[sc.Name] = m.scopeIssued.WithLabelValues(sc.Name, "ok").Inc
	}
	cfg := mediacookies.Config[auth.Identity]{
		Keys:              signers,
		BaseURL:           opts.CloudFrontBaseURL,
		Scopes:            opts.Scopes,
		Cookie:            opts.Cookie,
		Identify:          authn.Authenticate,
		ExpiryGranularity: opts.ExpiryGranularity,
		SignatureCache:    opts.SignatureCacheSize,
		Now:               opts.Now,
		RequestID:         requestID,
		Hooks: mediacookies.Hooks[auth.Identity]{
			Refused: func(r *http.Request, e *mediacookies.Error) {
				m.issuanceRefused(e)
				logProblem(r, e)
			},
			Issued: func(r *http.Request, id auth.Identity, a *mediacookies.Answer) {
				m.issuedOK.Inc()
				for _, g := range a.Grants {
					scopeOK[g.Scope]()
				}
				log := hlog.FromRequest(r)
				log.UpdateContext(func(c zerolog.Context) zerolog.Context {
					return c.Str("sub", id.Subject).Int("grants", len(a.Grants)).Time("expires_at", a.ExpiresAt)
				})
				if opts.BindClientIP && !clientIP(r, opts.TrustedProxies).Is4() {
					log.Info().Msg("IPv6 client: cookies issued without IP binding")
				}
			},
			Signed: func(_ *http.Request, took time.Duration) { m.signing.Observe(took.Seconds()) },
		},
	}
	if perIdentity != nil {
		cfg.Admit = func(w http.ResponseWriter, r *http.Request, id auth.Identity) error {
			if e := perIdentity.check(w, r, id.Subject); e != nil {
				return e
			}
			return nil
		}
	}
	if opts.BindClientIP {
		cfg.ClientIP = func(r *http.Request) netip.Addr { return clientIP(r, opts.TrustedProxies) }
		cfg.IPv6Unbound = opts.IPv6Unbound
	}
	return mediacookies.New(cfg)
}

// handleIssueCookies serves POST /auth/media-cookies (and GET when
// enabled): it limits the rate per client address, then lets the public
// handler refuse to work before a key has loaded, authenticate the
// caller, limit the rate per identity, build one custom policy per scope,
// sign them and set the CloudFront cookies.
func handleIssueCookies(mc *mediacookies.Handler[auth.Identity], opts Options, m *Metrics) http.Handler {
	perIP := newRateLimiter(opts.RateLimitPerIP, "ip", m)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := perIP.check(w, r, ipKey(clientIP(r, opts.TrustedProxies))); e != nil {
			m.issuanceRefused(e)
			respondError(w, r, e)
			return
		}
		mc.ServeIssue(w, r)
	})
}

// handleRevokeCookies serves DELETE /auth/media-cookies: it expires every
// cookie the service may have set, under every scope's cookie Path.
func handleRevokeCookies(mc *mediacookies.Handler[auth.Identity]) http.Handler {
	return http.HandlerFunc(mc.ServeClear)
}

// handleBroken answers every request with err, logged as an internal
// error: the routes of a handler whose options were refused.
func handleBroken(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondError(w, r, err)
	})
}
