package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// With the signature cache on, a repeated request inside one granularity
// window is a hit and the same cookies come back; SIGNATURE_CACHE_SIZE=0
// turns the cache, and its series, off.
func TestSignatureCache(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		size        string
		wantMetrics []string
	}{
		{"on", "16", []string{"cfcookies_signature_cache_hits_total 1", "cfcookies_signature_cache_misses_total 1", "cfcookies_signature_cache_entries 1"}},
		{"off", "0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A TTL of a day and a granularity of an hour: both requests
			// fall in one window unless the test straddles a full hour.
			base, logs, _ := startDev(t, map[string]string{
				"SIGNATURE_CACHE_SIZE": tc.size, "COOKIE_TTL": "24h", "EXPIRY_GRANULARITY": "1h",
			})
			var signatures []string
			for range 2 {
				req, _ := http.NewRequest("POST", base+"/auth/media-cookies", nil)
				req.Header.Set("X-Dev-User", "alice")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				for _, c := range resp.Cookies() {
					if c.Name == "CloudFront-Signature" {
						signatures = append(signatures, c.Value)
					}
				}
			}
			if len(signatures) != 2 || signatures[0] != signatures[1] {
				t.Errorf("two requests in one window: signatures differ or are missing (%d)", len(signatures))
			}
			resp, err := http.Get("http://" + listenAddr(t, logs, "metrics") + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range tc.wantMetrics {
				if !strings.Contains(string(body), "\n"+want+"\n") {
					t.Errorf("metrics lack %q", want)
				}
			}
			if tc.wantMetrics == nil && strings.Contains(string(body), "cfcookies_signature_cache") {
				t.Error("cache metrics exported with the cache off")
			}
		})
	}
}
