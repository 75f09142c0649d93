package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// sampleLine is the name and labels of one series in the Prometheus text
// format: a sample line, not a comment, without its value.
var sampleLine = regexp.MustCompile(`(?m)^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^\n]*\})? `)

// TestMetricsCardinality sends a thousand made-up methods and a thousand
// made-up paths to a real server, without logging in, and checks that
// /metrics holds as many series as after a handful of requests: no label
// takes its value from a request, so a client cannot grow the server's
// memory and every scrape by making values up.
func TestMetricsCardinality(t *testing.T) {
	t.Parallel()
	base, logs, _ := startDev(t, map[string]string{"RATE_LIMIT_PER_IP": "100000/1m"})
	metricsURL := "http://" + listenAddr(t, logs, "metrics") + "/metrics"
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(method, path string) {
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Error(err)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	scrape := func() (series []string, size int) {
		resp, err := client.Get(metricsURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range sampleLine.FindAllString(string(b), -1) {
			out = append(out, strings.TrimSpace(l))
		}
		return out, len(b)
	}

	// A handful: every kind of answer the flood below gets, once.
	for _, r := range [][2]string{
		{http.MethodPost, "/auth/media-cookies"}, {http.MethodGet, "/healthz"}, {http.MethodGet, "/readyz"},
		{http.MethodGet, "/nope"}, {http.MethodPut, "/auth/media-cookies"}, {"MADEUP", "/auth/media-cookies"},
		{"MADEUP", "/nope"}, {http.MethodDelete, "/auth/media-cookies"}, {http.MethodPost, "/nope"},
	} {
		send(r[0], r[1])
	}
	before, sizeBefore := scrape()

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 1000; i += 4 {
				// A thousand methods, on a route and off it.
				method := fmt.Sprintf("M%04d%s", i, strings.Repeat("Q", 100+i%50))
				if i%2 == 0 {
					send(method, "/auth/media-cookies")
				} else {
					send(strings.ToLower(method), fmt.Sprintf("/m/%d", i))
				}
				// A thousand paths, with methods the routes take.
				path := fmt.Sprintf("/p%04d/%s", i, strings.Repeat("z", 100+i%50))
				if i%2 == 0 {
					send(http.MethodGet, path)
				} else {
					send(http.MethodPost, "/auth/media-cookies"+path)
				}
			}
		})
	}
	wg.Wait()

	after, sizeAfter := scrape()
	if len(after) != len(before) {
		var added []string
		for _, l := range after {
			if !slices.Contains(before, l) && len(added) < 5 {
				added = append(added, l)
			}
		}
		t.Errorf("%d series after a handful of requests, %d after 2000 more with made-up methods and paths (/metrics %d bytes, then %d); new ones include:\n%s",
			len(before), len(after), sizeBefore, sizeAfter, strings.Join(added, "\n"))
	}
	// Counters grow by digits, not by series.
	if sizeAfter > sizeBefore+4<<10 {
		t.Errorf("/metrics grew from %d to %d bytes", sizeBefore, sizeAfter)
	}
	all := strings.Join(after, "\n")
	for _, leaked := range []string{"M0001", "m0001", "QQQQ", "zzzz", "/p0", "/m/", "MADEUP", "/nope"} {
		if strings.Contains(all, leaked) {
			t.Errorf("metrics hold request data %q", leaked)
		}
	}
}
