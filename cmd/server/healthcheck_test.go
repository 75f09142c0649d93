package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck: the probe reaches /healthz on the port LISTEN_ADDR
// names, read as the server reads it (trimmed), and fails on anything but
// 200.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	probe := func(listenAddr string) error {
		getenv := func(name string) (string, bool) {
			if name == "LISTEN_ADDR" {
				return listenAddr, true
			}
			return "", false
		}
		return healthcheck(t.Context(), nil, getenv, io.Discard, io.Discard)
	}
	for _, addr := range []string{":" + port, "127.0.0.1:" + port, " :" + port + " "} {
		if err := probe(addr); err != nil {
			t.Errorf("LISTEN_ADDR %q: %v", addr, err)
		}
	}
	if err := probe("nonsense"); err == nil || !strings.Contains(err.Error(), "LISTEN_ADDR") {
		t.Errorf("LISTEN_ADDR nonsense: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := probe(":" + port); err == nil || !strings.Contains(err.Error(), "answered 503") {
		t.Errorf("a 503: %v", err)
	}
}
