package handlers

import (
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/go-chi/httprate"

	"github.com/cfcookies/cfcookies/signer/mediacookies"
)

// RateLimit allows Requests per Window; the zero RateLimit is no limit.
// internal/config reads RATE_LIMIT_PER_IP and RATE_LIMIT_PER_IDENTITY into
// it.
type RateLimit struct {
	Requests int
	Window   time.Duration // whole seconds: Retry-After is in seconds
}

// Enabled reports whether the limit applies.
func (r RateLimit) Enabled() bool { return r.Requests > 0 }

// String is the limit as configured, "300/1m0s", or "off".
func (r RateLimit) String() string {
	if !r.Enabled() {
		return "off"
	}
	return strconv.Itoa(r.Requests) + "/" + r.Window.String()
}

// rateLimiter answers 429 once a key has used up its requests in the
// sliding window. A nil *rateLimiter allows everything.
type rateLimiter struct {
	limiter *httprate.RateLimiter
	name    string // "ip" or "identity": the metric label and the problem detail
	metrics *Metrics
}

// newRateLimiter returns nil when limit is the zero RateLimit. The counter
// is in memory: each task limits on its own, so N tasks behind a load
// balancer allow up to N times the limit.
func newRateLimiter(limit RateLimit, name string, m *Metrics) *rateLimiter {
	if limit.Requests <= 0 || limit.Window <= 0 {
		return nil
	}
	return &rateLimiter{
		limiter: httprate.NewRateLimiter(limit.Requests, limit.Window),
		name:    name,
		metrics: m,
	}
}

// check counts a request under key and returns nil when it may proceed,
// or the 429 problem to answer (Retry-After and the X-RateLimit-* headers
// are set on w either way).
func (l *rateLimiter) check(w http.ResponseWriter, r *http.Request, key string) *mediacookies.Error {
	if l == nil {
		return nil
	}
	// The in-memory counter never fails, so OnLimit's true always means
	// "over the limit" (it has set Retry-After to the window in seconds),
	// never "error already answered".
	if !l.limiter.OnLimit(w, r, key) {
		return nil
	}
	l.metrics.rateLimited.WithLabelValues(l.name).Inc()
	return &mediacookies.Error{Status: http.StatusTooManyRequests, Type: problemRateLimited,
		Detail: "too many requests for this " + l.name + "; retry after the number of seconds in Retry-After"}
}

// ipKey is the rate-limit key of a client address: the address itself, or
// for IPv6 its /64, which one subscriber usually holds whole.
func ipKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
