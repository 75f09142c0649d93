// Package handlers is the HTTP API: routes, health, errors, metrics and
// middleware (CORS, rate limits, logging) around /auth/media-cookies,
// whose issuing and clearing is the public signer/mediacookies handler.
package handlers

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

// MediaCookiesPath is the route that issues and clears the cookies. A
// browser stores a Set-Cookie without Path in its answers under "/auth".
const MediaCookiesPath = "/auth/media-cookies"

// Options are the API's settings, already validated by internal/config.
type Options struct {
	CloudFrontBaseURL  string // "https://media.example.com"
	Scopes             []Scope
	Cookie             signer.CookieOptions // Path is taken from each scope
	AllowGet           bool
	BindClientIP       bool // add the client's IPv4 /32 to every policy
	IPv6Unbound        bool // with BindClientIP: serve IPv6 clients without binding instead of 403
	CORSAllowedOrigins []string
	TrustedProxies     []netip.Prefix
	Now                func() time.Time // nil: time.Now
	// RateLimitPerIP limits issuance requests per client address (an IPv6
	// client's /64), before authentication; RateLimitPerIdentity per
	// authenticated subject. The zero RateLimit is no limit.
	RateLimitPerIP       RateLimit
	RateLimitPerIdentity RateLimit
	// ExpiryGranularity rounds each policy's expiry up to a multiple of it
	// (whole seconds since the Unix epoch), so requests inside one window
	// sign the same policy; 0 keeps now + TTL in whole seconds.
	ExpiryGranularity time.Duration
	// SignatureCacheSize keeps that many signed policies in memory (0:
	// none), and exports the cache's series.
	SignatureCacheSize int
}

// NewServer returns the API handler with every route and middleware.
// signers returns the signing key of the moment (keys.Store.Signer), nil
// while none has loaded; ready reports whether one has, for /readyz.
// Options the public handler refuses leave /auth/media-cookies answering
// 500, the reason logged now.
func NewServer(logger zerolog.Logger, opts Options, signers func() *signer.Signer, authn auth.Authenticator, ready func() bool, m *Metrics) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := chi.NewRouter()
	routes := routeSet{} // filled below, once every route is registered
	r.Use(
		hlog.NewHandler(logger),
		hlog.RequestIDHandler("request_id", "X-Request-Id"),
		observe(m, routes, opts.TrustedProxies),
		recoverer,
		closeAmbiguousFraming,
		corsFor(opts.CORSAllowedOrigins),
	)
	r.NotFound(handleNotFound().ServeHTTP)
	r.MethodNotAllowed(handleMethodNotAllowed().ServeHTTP)

	r.Get("/healthz", handleHealthz().ServeHTTP)
	r.Get("/readyz", handleReadyz(ready).ServeHTTP)

	m.initScopes(opts.Scopes)
	var issue, revoke http.Handler
	if mc, err := newMediaCookies(opts, signers, authn, m); err != nil {
		logger.Error().Err(err).Msg("media cookies options refused: /auth/media-cookies answers 500")
		issue, revoke = handleBroken(err), handleBroken(err)
	} else {
		issue, revoke = handleIssueCookies(mc, opts, m), handleRevokeCookies(mc)
		if opts.SignatureCacheSize > 0 {
			if err := m.Register(newCacheCollector(mc.CacheStats)); err != nil {
				logger.Error().Err(err).Msg("signature cache metrics not registered")
			}
		}
	}
	r.Post(MediaCookiesPath, issue.ServeHTTP)
	if opts.AllowGet {
		r.Get(MediaCookiesPath, issue.ServeHTTP)
	}
	r.Delete(MediaCookiesPath, revoke.ServeHTTP)

	_ = chi.Walk(r, func(_, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes[pattern] = true
		return nil
	})
	return r
}
