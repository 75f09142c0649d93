package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer/mediacookies"
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
	// authReasons are the reason label values: auth.Reasons(), fixed.
	authReasons []string
}

// Label values of the bounded label sets.
var (
	issuanceResults = []string{"ok", "unauthenticated", "bad_request", "forbidden", "error", "rate_limited", "not_ready", "key_unavailable"}
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
			Name: "cfcookies_issuances_total", Help: "Cookie issuance requests by result (ok, unauthenticated, bad_request, forbidden, error, rate_limited, not_ready, key_unavailable).",
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
		m.authReasons = append(m.authReasons, v)
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

// authFailed counts an issuance refused as unauthenticated, by a reason
// from the fixed set (auth.ReasonOther for any other).
func (m *Metrics) authFailed(err error) {
	reason := auth.Reason(err)
	if !slices.Contains(m.authReasons, reason) {
		reason = auth.ReasonOther
	}
	m.authFailures.WithLabelValues(reason).Inc()
}

// issuanceRefused counts a refused or failed issuance by result, and by
// scope when the problem belongs to one.
func (m *Metrics) issuanceRefused(e *mediacookies.Error) {
	result := "error"
	switch e.Type {
	case mediacookies.ProblemUnauthenticated:
		result = "unauthenticated"
		m.authFailed(e.Err)
	case mediacookies.ProblemBadRequest, mediacookies.ProblemBodyTooLarge, mediacookies.ProblemUnsupportedMedia:
		result = "bad_request"
	case mediacookies.ProblemForbiddenScope, mediacookies.ProblemNotGrantable, mediacookies.ProblemIPNotBindable:
		result = "forbidden"
	case mediacookies.ProblemNotReady:
		result = "not_ready"
	case mediacookies.ProblemKeyUnavailable:
		result = "key_unavailable"
	case problemRateLimited:
		result = "rate_limited"
	}
	m.issued.WithLabelValues(result).Inc()
	switch {
	case e.Scope == "":
	case e.Type == mediacookies.ProblemNotGrantable:
		m.scopeIssued.WithLabelValues(e.Scope, "not_grantable").Inc()
	case e.Status >= 500:
		m.scopeIssued.WithLabelValues(e.Scope, "error").Inc()
	}
}

// cacheCollector exports the signature cache's counts.
type cacheCollector struct {
	stats                 func() mediacookies.CacheStats
	hits, misses, entries *prometheus.Desc
}

func newCacheCollector(stats func() mediacookies.CacheStats) *cacheCollector {
	return &cacheCollector{
		stats: stats,
		hits: prometheus.NewDesc("cfcookies_signature_cache_hits_total",
			"Grants answered from the signature cache, without signing.", nil, nil),
		misses: prometheus.NewDesc("cfcookies_signature_cache_misses_total",
			"Grants not found in the signature cache (signed, or waiting for the same policy's signature).", nil, nil),
		entries: prometheus.NewDesc("cfcookies_signature_cache_entries",
			"Signed policies held in the signature cache.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
	ch <- c.entries
}

// Collect implements prometheus.Collector.
func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(st.Hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(st.Misses))
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Entries))
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

// observe counts one answered request by route, method and status, each
// label from a fixed set: a request can make up methods and paths without
// end, and every distinct label value would be a series held in memory
// and scraped for the life of the process.
func (m *Metrics) observe(r *http.Request, routes routeSet, status int, d time.Duration) {
	route := routes.label(r)
	m.requests.WithLabelValues(route, methodLabel(r.Method), codeLabel(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// routeSet is the route patterns registered on the router, the only route
// label values besides "unmatched" (no route) and "other".
type routeSet map[string]bool

// label is the chi pattern of the route that served r when it is a
// registered one, "unmatched" when no route did (404, or a method chi
// does not know), "other" otherwise.
func (s routeSet) label(r *http.Request) string {
	rc := chi.RouteContext(r.Context())
	if rc == nil || rc.RoutePattern() == "" {
		return "unmatched"
	}
	if p := rc.RoutePattern(); s[p] {
		return p
	}
	return "other"
}

// methodLabel is the method label: a method of RFC 9110 (and PATCH) as
// it is, anything else, lower case included, "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// codeLabel is the status label: a valid status code, 100 to 599, or
// "other".
func codeLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status)
}
