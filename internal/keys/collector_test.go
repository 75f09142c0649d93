package keys

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cfcookies/cfcookies/internal/config"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func scrapeCollector(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, err := io.ReadAll(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCollector(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: time.Unix(1_800_000_000, 0)}
	path := filepath.Join(t.TempDir(), "key.json")
	writeFile(t, path, jsonKey(t, "K1", rsaKey))
	ctx := context.Background()
	store, err := Open(ctx, config.CloudFront{}, config.Key{File: path, RefreshInterval: time.Minute}, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := store.Collector()
	fp := store.Status().Key.Fingerprint

	clock.Add(90 * time.Second)
	writeFile(t, path, "")
	_ = store.Refresh(ctx) // fails: the key in use stays
	clock.Add(30 * time.Second)
	_ = store.Refresh(ctx)
	got := scrapeCollector(t, c)
	for _, want := range []string{
		`cfcookies_key_ready{source="file"} 1`,
		`cfcookies_key_info{key_pair_id="K1",key_type="RSA 2048",public_key_sha256="` + fp + `"} 1`,
		`cfcookies_key_age_seconds 120`,
		`cfcookies_key_rotations_total 0`,
		`cfcookies_key_refresh_consecutive_failures 2`,
		`cfcookies_key_last_refresh_attempt_timestamp_seconds 1.80000012e+09`,
		`cfcookies_key_last_refresh_success_timestamp_seconds 1.8e+09`,
	} {
		if !strings.Contains(got, "\n"+want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, got)
		}
	}

	clock.Add(time.Minute)
	writeFile(t, path, jsonKey(t, "K2", ecKey))
	if err := store.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got = scrapeCollector(t, store.Collector())
	for _, want := range []string{
		`cfcookies_key_age_seconds 0`,
		`cfcookies_key_rotations_total 1`,
		`cfcookies_key_refresh_consecutive_failures 0`,
		`cfcookies_key_last_refresh_success_timestamp_seconds 1.80000018e+09`,
	} {
		if !strings.Contains(got, "\n"+want+"\n") {
			t.Errorf("after rotation, metrics lack %q:\n%s", want, got)
		}
	}
	if !strings.Contains(got, `key_pair_id="K2",key_type="ECDSA P-256"`) {
		t.Errorf("key info not updated:\n%s", got)
	}
	assertNoKeyMaterial(t, "metrics", got)
}

func TestCollectorBeforeAKeyLoads(t *testing.T) {
	t.Parallel()
	var s Store
	got := scrapeCollector(t, s.Collector())
	if !strings.Contains(got, "\n"+`cfcookies_key_ready{source="ephemeral"} 0`+"\n") {
		t.Errorf("not-ready store:\n%s", got)
	}
	for _, absent := range []string{"cfcookies_key_age_seconds ", "cfcookies_key_info{", "cfcookies_key_last_refresh_success_timestamp_seconds "} {
		if strings.Contains(got, absent) {
			t.Errorf("not-ready store exposes %s:\n%s", absent, got)
		}
	}
}
