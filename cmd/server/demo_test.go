package main

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestRunServesDemoOnlyWithDev: the demo page sends X-Dev-User, so it and
// the emulated CloudFront exist with --dev only. Without it, / and the
// helper are the API's 404 problem and no CDN listens.
func TestRunServesDemoOnlyWithDev(t *testing.T) {
	t.Parallel()
	dev, devLogs, _ := startDev(t, nil)
	_, keyPEM := testSigner(t)
	prod, prodLogs, _ := startServer(t, []string{"server"}, map[string]string{
		"CLOUDFRONT_DOMAIN":      "media.example.com",
		"CLOUDFRONT_KEY_PAIR_ID": testKeyPairID,
		"CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(keyPEM, "\n", `\n`),
		"OIDC_ISSUER":            newTestIssuer(t).srv.URL,
		"OIDC_AUDIENCE":          testAudience,
	})
	for _, tt := range []struct {
		base, path string
		wantCode   int
		wantType   string
	}{
		{dev, "/", 200, "text/html; charset=utf-8"},
		{dev, "/cfcookies.js", 200, "text/javascript; charset=utf-8"},
		{prod, "/", 404, "application/problem+json"},
		{prod, "/cfcookies.js", 404, "application/problem+json"},
		{prod, "/index.html", 404, "application/problem+json"},
	} {
		resp, err := http.Get(tt.base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		mode := "without --dev"
		if tt.base == dev {
			mode = "with --dev"
		}
		if resp.StatusCode != tt.wantCode || resp.Header.Get("Content-Type") != tt.wantType {
			t.Errorf("%s, GET %s: %d %s, want %d %s", mode, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantCode, tt.wantType)
		}
	}
	listenAddr(t, devLogs, "cdn")
	if strings.Contains(prodLogs.String(), `"server":"cdn"`) {
		t.Error("the emulated CloudFront runs without --dev")
	}
}

// TestDevOrigins: the emulated CloudFront answers CORS for the demo page
// wherever LISTEN_ADDR binds it, under both names of loopback.
func TestDevOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr net.Addr
		want []string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, []string{"http://localhost:8080", "http://127.0.0.1:8080"}},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 3000}, []string{"http://localhost:3000", "http://127.0.0.1:3000"}},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil},
		{&net.UnixAddr{Name: "/tmp/s", Net: "unix"}, nil},
	}
	for _, tt := range tests {
		if got := devOrigins(tt.addr); !slices.Equal(got, tt.want) {
			t.Errorf("devOrigins(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestDevLogsDemoURL: dev mode names the demo page's URL on localhost, the
// host whose cookies the emulated CloudFront receives.
func TestDevLogsDemoURL(t *testing.T) {
	t.Parallel()
	base, logs, _ := startDev(t, nil)
	port := base[strings.LastIndex(base, ":")+1:]
	if want := `"url":"http://localhost:` + port + `/"`; !strings.Contains(logs.String(), want) {
		t.Errorf("no %s in the logs", want)
	}
}
