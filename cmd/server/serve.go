package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/edge"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/web"
)

// shutdownTimeout is shorter than ECS's default 30 s stop timeout, so
// in-flight requests finish before SIGKILL.
const shutdownTimeout = config.ShutdownTimeout

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func serve(ctx context.Context, dev bool, getenv func(string) (string, bool), stdout io.Writer) error {
	cfg, err := config.Load(getenv, dev)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stdout)
	if dev {
		logger.Warn().Msg("DEVELOPMENT MODE: identity is taken from the X-Dev-User header and the key may be ephemeral; never expose this to a network")
	}

	// Bind every listener first: a busy port fails at once, and in dev the
	// emulated CloudFront's address and the demo page's origins are known
	// when LISTEN_ADDR or DEV_CDN_ADDR asks for any free port (":0").
	apiServer := &namedServer{name: "api", addr: cfg.ListenAddr}
	servers := []*namedServer{apiServer}
	var metricsServer, cdnServer *namedServer
	if cfg.MetricsAddr != "" {
		metricsServer = &namedServer{name: "metrics", addr: cfg.MetricsAddr}
		servers = append(servers, metricsServer)
	}
	if cfg.Dev {
		cdnServer = &namedServer{name: "cdn", addr: cfg.DevCDNAddr}
		servers = append(servers, cdnServer)
	}
	if err := listenAll(ctx, servers); err != nil {
		return err
	}
	served := false
	defer func() {
		if !served {
			closeAll(servers)
		}
	}()
	if cfg.CloudFront.FollowsDevCDN {
		cfg.CloudFront.Host = devCDNHost(cdnServer.ln.Addr())
	}
	logger.Info().Str("version", version).Object("config", cfg).Msg("configuration")

	// A secret that cannot be read yet leaves the store not ready; Run
	// keeps trying while the server answers /readyz with 503.
	store, err := keys.Open(ctx, cfg.CloudFront, cfg.Key, keys.Options{Logger: logger})
	if err != nil {
		return err
	}
	logger.Info().Str("signing_backend", keys.Backend()).Msg("signing backend")
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { store.Run(ctx) })

	authn, err := auth.New(ctx, auth.Options{
		Mode:     cfg.Auth.Mode,
		AllowDev: cfg.Dev,
		OIDC:     auth.OIDCConfig{Issuer: cfg.Auth.OIDCIssuer, Audience: cfg.Auth.OIDCAudience, Cookie: cfg.Auth.Cookie},
		ALB:      auth.ALBConfig{ARN: cfg.Auth.ALBArn, KeysBaseURL: cfg.Auth.ALBKeysURL},
	})
	if err != nil {
		return err
	}
	metrics := handlers.NewMetrics()
	if err := metrics.Register(store.Collector()); err != nil {
		return err
	}
	api := handlers.NewServer(logger, handlers.Options{
		CloudFrontBaseURL: cfg.CloudFront.BaseURL(),
		Scopes:            scopes(cfg.Scopes),
		Cookie: signer.CookieOptions{
			Domain:   cfg.Cookie.Domain,
			SameSite: cfg.Cookie.SameSite,
			Insecure: !cfg.Cookie.Secure,
		},
		AllowGet:           cfg.AllowGet,
		BindClientIP:       cfg.BindClientIP,
		IPv6Unbound:        cfg.IPv6Clients == config.IPv6Unbound,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		TrustedProxies:     cfg.TrustedProxies,
		// Both limits apply per task: behind N tasks a client gets up to N
		// times as many.
		RateLimitPerIP:       cfg.RateLimitPerIP,
		RateLimitPerIdentity: cfg.RateLimitPerIdentity,
		ExpiryGranularity:    cfg.ExpiryGranularity,
		// The cache asks for the store's current signer on every request,
		// so a key rotation empties it.
		SignatureCacheSize: cfg.SignatureCacheSize,
	}, store.Signer, authn, store.Ready, metrics)
	if cfg.Dev {
		// The demo page sends X-Dev-User: it exists only in dev mode.
		api = web.Handler(api)
	}

	apiServer.handler = api
	if metricsServer != nil {
		metricsServer.handler = metrics.Handler()
	}
	if cfg.Dev {
		// Cookies ignore ports but not host names: a page opened on
		// 127.0.0.1 gets cookies the CDN on localhost never sees.
		logger.Warn().Str("url", "http://localhost:"+boundPort(apiServer.ln.Addr())+"/").
			Msg("demo page: open it on localhost, not 127.0.0.1, so its cookies reach the emulated CloudFront on localhost")
		cdn, err := devCDN(cfg, store, logger, apiServer.ln.Addr())
		if err != nil {
			return err
		}
		cdnServer.handler = cdn
	}
	served = true
	return serveAll(ctx, logger, servers)
}

// devCDN is the emulated CloudFront of --dev: it checks the cookies exactly
// as CloudFront would and serves sample media under /media/dev/ and
// /media/alice/. Like a key group during a rotation, it trusts every key
// the store has loaded since startup.
func devCDN(cfg *config.Config, store *keys.Store, logger zerolog.Logger, page net.Addr) (http.Handler, error) {
	return edge.NewRotatingCDN(store.Signer, edge.CDNOptions{
		CORSAllowedOrigins: append(devOrigins(page), cfg.CORSAllowedOrigins...),
		Logger:             logger.With().Str("server", "cdn").Logger(),
	})
}

// devOrigins are the origins of the demo page served on the bound address
// page, under both names of loopback, for the emulated CloudFront's CORS
// rules.
func devOrigins(page net.Addr) []string {
	port := boundPort(page)
	if port == "0" {
		return nil
	}
	return []string{"http://localhost:" + port, "http://127.0.0.1:" + port}
}

// devCDNHost is CLOUDFRONT_DOMAIN's host in dev when it is not set: the
// emulated CloudFront on localhost, at the port it is bound to.
func devCDNHost(cdn net.Addr) string { return net.JoinHostPort("localhost", boundPort(cdn)) }

// boundPort is the TCP port of a listener's address, "0" for another kind
// of address.
func boundPort(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return strconv.Itoa(tcp.Port)
	}
	return "0"
}

// scopes turns configured scopes, whose entitlement is data (rules), into
// the scopes the handler serves, whose entitlement is a predicate: a
// caller is entitled to a scope when any of its rules holds (or it has
// none).
func scopes(cs []config.Scope) []handlers.Scope {
	out := make([]handlers.Scope, 0, len(cs))
	for _, c := range cs {
		out = append(out, handlers.Scope{
			Name: c.Name, Path: c.Path, CookiePath: c.CookiePath, TTL: c.TTL,
			Allowed: auth.AnyRule(c.Allow),
		})
	}
	return out
}

func newLogger(cfg *config.Config, stdout io.Writer) zerolog.Logger {
	w := stdout
	if cfg.LogFormat == config.LogConsole {
		w = zerolog.ConsoleWriter{Out: stdout, TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Str("service", "cfcookies").Logger()
}

type namedServer struct {
	name    string
	addr    string
	handler http.Handler
	ln      net.Listener
	srv     *http.Server
}

// listenAll binds every server's listener, or none: on an error it closes
// those already bound.
func listenAll(ctx context.Context, servers []*namedServer) error {
	for _, s := range servers {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.addr)
		if err != nil {
			closeAll(servers)
			return fmt.Errorf("listen %s on %s: %w", s.name, s.addr, err)
		}
		s.ln = ln
	}
	return nil
}

// serveAll serves the bound servers and, on ctx cancellation, shuts them
// down gracefully: in-flight requests finish within shutdownTimeout.
func serveAll(ctx context.Context, logger zerolog.Logger, servers []*namedServer) error {
	for _, s := range servers {
		s.srv = &http.Server{
			Handler:           s.handler,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      15 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    32 << 10,
			// "OPTIONS *" reaches the handler like any request (the API
			// answers 404 problem+json), instead of net/http's own 200.
			DisableGeneralOptionsHandler: true,
			ErrorLog:                     stdlog.New(logWriter{logger.With().Str("server", s.name).Logger()}, "", 0),
		}
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		logger.Info().Str("server", s.name).Stringer("addr", s.ln.Addr()).Msg("listening")
		go func() {
			if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s server: %w", s.name, err)
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info().Msg("shutting down")
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(sctx); err != nil {
			logger.Warn().Err(err).Str("server", s.name).Msg("graceful shutdown incomplete; closing")
			_ = s.srv.Close()
		}
	}
	logger.Info().Msg("stopped")
	return serveErr
}

func closeAll(servers []*namedServer) {
	for _, s := range servers {
		if s.ln != nil {
			_ = s.ln.Close()
		}
	}
}

// logWriter sends net/http's own error log to zerolog at warn level.
type logWriter struct{ l zerolog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Warn().Msg(string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		return p[:n-1]
	}
	return p
}
