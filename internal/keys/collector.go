package keys

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a Prometheus collector that reads Status at each scrape:
// whether a key is loaded, its age and identity, and how refreshes of the
// source go; and the latency and errors of KMS Sign calls. Nothing in it
// is secret.
func (s *Store) Collector() prometheus.Collector {
	now := s.now
	if now == nil {
		now = time.Now
	}
	return &statusCollector{status: s.Status, now: now, kms: s.kmsMetrics}
}

var (
	readyDesc = prometheus.NewDesc("cfcookies_key_ready",
		"1 when a usable signing key is loaded, else 0, by key source (env, file, secret, kms, ephemeral).", []string{"source"}, nil)
	infoDesc = prometheus.NewDesc("cfcookies_key_info",
		"The key new requests sign with: always 1, labelled with its public identity.", []string{"key_pair_id", "key_type", "public_key_sha256"}, nil)
	ageDesc = prometheus.NewDesc("cfcookies_key_age_seconds",
		"Seconds since the current key started signing; absent before a key loads.", nil, nil)
	rotationsDesc = prometheus.NewDesc("cfcookies_key_rotations_total",
		"Keys that replaced another since startup.", nil, nil)
	lastAttemptDesc = prometheus.NewDesc("cfcookies_key_last_refresh_attempt_timestamp_seconds",
		"Unix time the key source was last read; absent for a key never read again (inline, ephemeral).", nil, nil)
	lastSuccessDesc = prometheus.NewDesc("cfcookies_key_last_refresh_success_timestamp_seconds",
		"Unix time a read of the key source last gave a usable key; absent until one has.", nil, nil)
	failuresDesc = prometheus.NewDesc("cfcookies_key_refresh_consecutive_failures",
		"Failed reads of the key source since the last success.", nil, nil)
)

// statusCollector is the Store's collector.
type statusCollector struct {
	status func() Status
	now    func() time.Time
	kms    *kmsMetrics // nil for a Store not made by Open
}

// Describe implements prometheus.Collector.
func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{readyDesc, infoDesc, ageDesc, rotationsDesc, lastAttemptDesc, lastSuccessDesc, failuresDesc} {
		ch <- d
	}
	if c.kms != nil {
		c.kms.latency.Describe(ch)
		c.kms.errors.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	if c.kms != nil {
		c.kms.latency.Collect(ch)
		c.kms.errors.Collect(ch)
	}
	st := c.status()
	ready := 0.0
	if st.Ready {
		ready = 1
		ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, st.Key.KeyPairID, st.Key.KeyType, st.Key.Fingerprint)
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, c.now().Sub(st.Key.LoadedAt).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready, st.Source)
	ch <- prometheus.MustNewConstMetric(rotationsDesc, prometheus.CounterValue, float64(st.Rotations))
	ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.GaugeValue, float64(st.ConsecutiveFailures))
	if !st.LastAttempt.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastAttemptDesc, prometheus.GaugeValue, float64(st.LastAttempt.Unix()))
	}
	if !st.LastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(st.LastSuccess.Unix()))
	}
}
