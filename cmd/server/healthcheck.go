package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheck probes GET /healthz on LISTEN_ADDR over loopback: the
// container image has no shell or curl for its HEALTHCHECK.
func healthcheck(ctx context.Context, args []string, getenv func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: server healthcheck")
		fmt.Fprintln(fs.Output(), "GET /healthz on 127.0.0.1 at LISTEN_ADDR's port (default 8080), for a container HEALTHCHECK: exit status 0 when it answers 200, 1 otherwise.")
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	// Trimmed and defaulted as config.Load has it.
	addr, _ := getenv("LISTEN_ADDR")
	if addr = strings.TrimSpace(addr); addr == "" {
		addr = ":8080"
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: LISTEN_ADDR %q: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort("127.0.0.1", port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	return nil
}
