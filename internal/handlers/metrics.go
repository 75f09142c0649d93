package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cfcookies/cfcookies/internal/auth"
)

// Metrics are the service's Prometheus series.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	issued   *prometheus.CounterVec
	issuedOK prometheus.Counter // issued{result="ok"}, resolved once
	// scopeIssued counts, per configured scope, the grants signed (ok),
	// refused because the identity cannot fill the path (not_grantable)
	// and failed to sign (error).
	scopeIssued  *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	signing      prometheus.Histogram
	rateLimited  *prometheus.CounterVec
}

// Label values of the bounded label sets.
var (
	issuanceResults = []string{"ok", "unauthenticated", "bad_request", "forbidden", "error", "rate_limited", "not_ready"}
	scopeOutcomes   = []string{"ok", "not_grantable", "error"}
	rateLimitNames  = []string{"ip", "identity"}
)

// NewMetrics registers the series, plus Go and process collectors, on a
// registry of their own.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfcookies_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cfcookies_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"route"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfcookies_issuances_total", Help: "Cookie issuance requests by result (ok, unauthenticated, bad_request, forbidden, error, rate_limited, not_ready).",
		}, []string{"result"}),
		scopeIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfcookies_scope_issuances_total", Help: "Grants by configured scope and outcome (ok, not_grantable, error).",
		}, []string{"scope", "outcome"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfcookies_auth_failures_total", Help: "Issuance requests refused as unauthenticated, by reason (missing, malformed, bad_signature, expired, wrong_issuer_or_audience, unknown_key, keys_unavailable, other).",
		}, []string{"reason"}),
		signing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cfcookies_signing_duration_seconds", Help: "Time to sign one policy, through the issuer (and its cache, when there is one).",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1},
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfcookies_rate_limited_total", Help: "Issuance requests answered 429, by the limit they hit (ip, identity).",
		}, []string{"limit"}),
	}
	for _, v := range issuanceResults {
		m.issued.WithLabelValues(v)
	}
	m.issuedOK = m.issued.WithLabelValues("ok")
	for _, v := range auth.Reasons() {
		m.authFailures.WithLabelValues(v)
	}
	for _, v := range rateLimitNames {
		m.rateLimited.WithLabelValues(v)
	}
	reg.MustRegister(m.requests, m.duration, m.issued, m.scopeIssued, m.authFailures, m.signing, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds another part's collector (the signature cache's, for
// example) to the registry.
func (m *Metrics) Register(c prometheus.Collector) error {
	return m.registry.Register(c)
}

// initScopes makes every scope's series exist at zero before its first
// grant, so that rates and alerts see them.
func (m *Metrics) initScopes(scopes []Scope) {
	for _, sc := range scopes {
		for _, o := range scopeOutcomes {
			m.scopeIssued.WithLabelValues(sc.Name, o)
		}
	}
}

// Handler serves the registry for GET /metrics on the metrics listener.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// observe counts one answered request, by chi route pattern.
func (m *Metrics) observe(r *http.Request, status int, d time.Duration) {
	route := "unmatched"
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		route = rc.RoutePattern()
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}
