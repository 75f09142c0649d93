//go:build soak

package main

// The soak test runs the real binary under load for a minute, breaks what it
// depends on mid-run (the OIDC issuer's key set hangs; Secrets Manager
// answers 500s, then hangs, then comes back with a rotated key), then stops
// it with SIGTERM, and prints every figure.
// It is slow by design: `make soak` runs it (CI does, through make check),
// `go test ./...` does not. SOAK_DURATION shortens the sustained phase.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/testlog"
	"github.com/cfcookies/cfcookies/signer"
)

// loadStats counts what a load phase sent and got.
type loadStats struct {
	mu        sync.Mutex
	tried     int
	ok        int
	non2xx    map[int]int
	errs      map[string]int
	latencies []time.Duration
}

func newLoadStats() *loadStats {
	return &loadStats{non2xx: map[int]int{}, errs: map[string]int{}}
}

func (s *loadStats) record(status int, err error, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tried++
	switch {
	case err != nil:
		s.errs[errClass(err)]++
	case status/100 == 2:
		s.ok++
		s.latencies = append(s.latencies, took)
	default:
		s.non2xx[status]++
	}
}

func (s *loadStats) failed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.non2xx {
		n += c
	}
	for _, c := range s.errs {
		n += c
	}
	return n
}

func (s *loadStats) quantile(q float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	return l[int(math.Ceil(q*float64(len(l))))-1]
}

func (s *loadStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("tried %d, 2xx %d, other statuses %v, errors %v", s.tried, s.ok, s.non2xx, s.errs)
}

// errClass names a client error without its addresses.
func errClass(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "Client.Timeout"):
		return "timeout"
	}
	return "other"
}

// maxConns bounds the load client's connections to the server.
const maxConns = 96

// sample is one reading of the server's /metrics.
type sample struct {
	at         time.Duration
	rss        float64 // bytes
	goroutines float64
}

func TestSoak(t *testing.T) {
	duration := 60 * time.Second
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_DURATION: %v", err)
		}
		duration = d
	}

	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	is := newTestIssuer(t)
	// The key comes from a Secrets Manager endpoint on loopback, read by the
	// real AWS SDK client every KEY_REFRESH_INTERVAL.
	sm := &secretsManager{}
	sm.answer(200, secretValue(t, "K2JCJMDEHXQW5F", "keys/rsa2048-pkcs8.pem"))
	var smMode atomic.Value // "", "500" or "hang"
	smStop := make(chan struct{})
	smSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch smMode.Load() {
		case "500":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"InternalServiceError","message":"soak"}`)
			return
		case "hang":
			// No answer until the endpoint recovers; then answer as it does.
			for smMode.Load() == "hang" {
				select {
				case <-smStop:
					return
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
		sm.ServeHTTP(w, r)
	}))
	t.Cleanup(smSrv.Close)
	t.Cleanup(func() { close(smStop) })
	awsDir := t.TempDir()
	logs := &testlog.Buffer{}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"LISTEN_ADDR=127.0.0.1:0",
		"METRICS_ADDR=127.0.0.1:0",
		"CLOUDFRONT_DOMAIN=media.example.com",
		"CLOUDFRONT_PRIVATE_KEY_SECRET="+testSecretARN,
		"KEY_REFRESH_INTERVAL=10s",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+smSrv.URL,
		"AWS_ACCESS_KEY_ID=AKIDCFCOOKIESTEST",
		"AWS_SECRET_ACCESS_KEY=test-secret-access-key",
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=eu-west-1",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE="+filepath.Join(awsDir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(awsDir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"OIDC_ISSUER="+is.srv.URL,
		"OIDC_AUDIENCE=media-app",
		// The soak sends far more than any client would, all from one
		// address: the limits are raised so that it measures the server,
		// while still going through them.
		"RATE_LIMIT_PER_IP=1000000/1s",
		"RATE_LIMIT_PER_IDENTITY=1000000/1s",
	)
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serverStart := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + listenAddr(t, logs, "api")
	metricsURL := "http://" + listenAddr(t, logs, "metrics") + "/metrics"

	// 500 callers, each with a token of its own.
	tokens := make([]string, 500)
	for i := range tokens {
		tokens[i] = is.token(t, is.key, map[string]any{"sub": "user" + strconv.Itoa(i)})
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		// At most maxConns connections: each is a goroutine on the server,
		// so the count under load is bounded by what the client opens.
		Transport: &http.Transport{MaxIdleConnsPerHost: maxConns, MaxConnsPerHost: maxConns},
	}
	var next atomic.Int64
	var lastKeyID atomic.Value // CloudFront-Key-Pair-Id of the latest answer
	issue := func(c *http.Client, stats *loadStats) {
		tok := tokens[next.Add(1)%int64(len(tokens))]
		req, _ := http.NewRequest(http.MethodPost, base+"/auth/media-cookies", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			stats.record(0, err, time.Since(start))
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		stats.record(resp.StatusCode, nil, time.Since(start))
		for _, c := range resp.Cookies() {
			if c.Name == signer.CookieKeyPairID {
				lastKeyID.Store(c.Value)
			}
		}
	}

	// Maximum: 32 callers back to back for 5 s.
	maxStats := newLoadStats()
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Second)
	for range 32 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				issue(client, maxStats)
			}
		})
	}
	wg.Wait()
	if maxStats.failed() > 0 {
		t.Fatalf("max phase: %s", maxStats)
	}
	maxRate := float64(maxStats.ok) / 5
	rate := maxRate / 2
	t.Logf("max phase: %.0f req/s (%s); sustained phase at %.0f req/s for %s", maxRate, maxStats, rate, duration)

	idleBefore, err := readSample(metricsURL)
	if err != nil {
		t.Fatal(err)
	}

	// Sustained: a fixed rate, whatever the latency (open loop).
	stats := newLoadStats()
	var samples []sample
	var samplesMu sync.Mutex
	start := time.Now()
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				if s, err := readSample(metricsURL); err == nil {
					s.at = time.Since(start)
					samplesMu.Lock()
					samples = append(samples, s)
					samplesMu.Unlock()
				}
			}
		}
	}()

	// A third of the way in, and no sooner than 31 s after the server's
	// first key set fetch (refetches are throttled to one per 30 s), the
	// issuer's key set endpoint starts hanging. Cached keys must keep every
	// valid request working, and a token naming an unknown kid must be
	// refused quickly, not held.
	var unknownKid []time.Duration
	var unknownKidStatus []int
	go func() {
		time.Sleep(max(duration/3, 31*time.Second-time.Since(serverStart)))
		is.jwksHang.Store(true)
		for i := 0; i < 3; i++ {
			tok := is.tokenWithKid(t, "kid-"+strconv.Itoa(i))
			req, _ := http.NewRequest(http.MethodPost, base+"/auth/media-cookies", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			s := time.Now()
			resp, err := client.Do(req)
			took := time.Since(s)
			status := 0
			if err == nil {
				status = resp.StatusCode
				_ = resp.Body.Close()
			}
			samplesMu.Lock()
			unknownKid = append(unknownKid, took)
			unknownKidStatus = append(unknownKidStatus, status)
			samplesMu.Unlock()
			time.Sleep(2 * time.Second)
		}
	}()

	// Secrets Manager fails a quarter of the way in (500s, which the SDK
	// retries, then no answer at all), then comes back with a new key pair:
	// issuance goes on with the last good key throughout, and the rotated
	// key is picked up by the next refresh.
	keyTimeline := make(chan string, 8)
	go func() {
		steps := []struct {
			at   time.Duration
			mode string
		}{{duration / 4, "500"}, {duration * 9 / 20, "hang"}, {duration * 13 / 20, ""}}
		for _, s := range steps {
			time.Sleep(time.Until(start.Add(s.at)))
			if s.mode == "" {
				sm.answer(200, secretValue(t, "K3ROTATEDSOAK1", "keys/rsa2048-pkcs1.pem"))
			}
			smMode.Store(s.mode)
			keyTimeline <- fmt.Sprintf("%s: Secrets Manager %q, answers carry key %v", s.at.Round(time.Second), s.mode, lastKeyID.Load())
		}
	}()

	interval := time.Duration(float64(time.Second) / rate)
	sem := make(chan struct{}, 512)
	var lost atomic.Int64 // sends skipped because 512 were already waiting
	tick := time.NewTicker(interval)
	end := time.After(duration)
sustain:
	for {
		select {
		case <-end:
			break sustain
		case <-tick.C:
			select {
			case sem <- struct{}{}:
				wg.Go(func() {
					defer func() { <-sem }()
					issue(client, stats)
				})
			default:
				lost.Add(1)
			}
		}
	}
	tick.Stop()
	wg.Wait()
	close(stopSampling)
	<-sampled
	finalKeyID, _ := lastKeyID.Load().(string)
	client.CloseIdleConnections()
	time.Sleep(time.Second) // closed connections' goroutines exit
	idleAfter, err := readSample(metricsURL)
	if err != nil {
		t.Fatal(err)
	}

	// SIGTERM under load: keep sending on fresh connections, signal, and
	// see every answered request succeed, new connections refused, exit 0.
	fresh := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	termStats := newLoadStats()
	stopTerm := make(chan struct{})
	var termWG sync.WaitGroup
	for range 8 {
		termWG.Go(func() {
			for {
				select {
				case <-stopTerm:
					return
				default:
					issue(fresh, termStats)
				}
			}
		})
	}
	time.Sleep(time.Second)
	before := termStats.String()
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatalf("no exit %s after SIGTERM", shutdownTimeout+5*time.Second)
	}
	exitAfter := time.Since(signalled)
	time.Sleep(500 * time.Millisecond) // the callers meet the closed port
	close(stopTerm)
	termWG.Wait()
	_, dialErr := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)

	// Figures.
	first, last := window(samples, 0, 10*time.Second), window(samples, duration-10*time.Second, duration+time.Second)
	report := []string{
		fmt.Sprintf("max rate: %.0f req/s", maxRate),
		fmt.Sprintf("sustained %s at %.0f req/s: %s; skipped sends %d", duration, rate, stats, lost.Load()),
		fmt.Sprintf("latency p50 %s, p99 %s, max %s", stats.quantile(0.5), stats.quantile(0.99), stats.quantile(1)),
		fmt.Sprintf("RSS first 10 s %.1f MB, last 10 s %.1f MB; goroutines first %.0f, last %.0f; idle before %.0f, idle after %.0f", first.rss/1e6, last.rss/1e6, first.goroutines, last.goroutines, idleBefore.goroutines, idleAfter.goroutines),
		fmt.Sprintf("unknown kid with the key set hanging: statuses %v in %v", unknownKidStatus, unknownKid),
		fmt.Sprintf("key source: %s; answers at the end carry key %s", drain(keyTimeline), finalKeyID),
		fmt.Sprintf("SIGTERM: before %s; overall %s; exit %v after %s; dial after exit: %v", before, termStats, exitErr, exitAfter.Round(time.Millisecond), dialErr != nil),
	}
	for _, l := range report {
		t.Log(l)
		fmt.Println("soak:", l)
	}

	if n := stats.failed(); n > 0 || lost.Load() > 0 {
		t.Errorf("sustained phase: %d failed, %d sends skipped; want none", n, lost.Load())
	}
	if len(samples) < int(duration/time.Second)/2 {
		t.Fatalf("only %d metrics samples", len(samples))
	}
	if last.rss > first.rss*1.25+4e6 {
		t.Errorf("RSS grew from %.1f MB to %.1f MB", first.rss/1e6, last.rss/1e6)
	}
	// Under load the count follows the connections the client holds open
	// (more after a latency spike, at most maxConns); idle, it must come
	// back to where it was.
	if last.goroutines > first.goroutines+maxConns {
		t.Errorf("goroutines grew from %.0f to %.0f under the same load, more than the %d connections explain", first.goroutines, last.goroutines, maxConns)
	}
	if idleAfter.goroutines > idleBefore.goroutines+5 {
		t.Errorf("goroutines idle before the load %.0f, idle after %.0f: a leak", idleBefore.goroutines, idleAfter.goroutines)
	}
	if len(unknownKid) == 0 {
		t.Error("no unknown-kid request was sent")
	}
	for i, took := range unknownKid {
		if unknownKidStatus[i] != http.StatusUnauthorized || took > 5*time.Second {
			t.Errorf("unknown kid %d: status %d after %s, want 401 within 5 s", i, unknownKidStatus[i], took)
		}
	}
	// The rotated key is served 13/20 of the way in; the next refresh, at
	// most KEY_REFRESH_INTERVAL later, must have picked it up.
	if duration*7/20 > 15*time.Second && finalKeyID != "K3ROTATEDSOAK1" {
		t.Errorf("answers at the end carry key %q, want the rotated K3ROTATEDSOAK1", finalKeyID)
	}
	if exitErr != nil {
		t.Errorf("exit after SIGTERM: %v", exitErr)
	}
	// Every request the server answered 200 reached its caller: none was
	// accepted and then lost, during shutdown included.
	clientOK := maxStats.ok + stats.ok + termStats.ok
	if serverOK := countAnswered(logs.String(), http.StatusOK); serverOK != clientOK {
		t.Errorf("the server logged %d answers 200, callers received %d", serverOK, clientOK)
	}
	termStats.mu.Lock()
	for status, n := range termStats.non2xx {
		t.Errorf("during shutdown %d answers had status %d", n, status)
	}
	for class, n := range termStats.errs {
		// Refused, reset and EOF before any answer are connections the
		// kernel queued but the server never accepted (the count above
		// shows none it accepted went unanswered); a timeout is a hang.
		if class == "timeout" || class == "other" {
			t.Errorf("during shutdown %d requests failed with %s", n, class)
		}
	}
	termStats.mu.Unlock()
	if dialErr == nil {
		t.Error("the port still accepts connections after exit")
	}
	if out := logs.String(); strings.Contains(out, "panic") || strings.Contains(out, strings.Split(tokens[0], ".")[2]) {
		t.Error("the log holds a panic or a token signature")
	}
}

// countAnswered counts the access log lines of POST /auth/media-cookies
// answered with status.
func countAnswered(logs string, status int) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Message, Method, Path string
			Status                int
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == "request" && l.Method == http.MethodPost &&
			l.Path == "/auth/media-cookies" && l.Status == status {
			n++
		}
	}
	return n
}

// drain joins what the channel holds now.
func drain(ch chan string) string {
	var out []string
	for {
		select {
		case s := <-ch:
			out = append(out, s)
		default:
			return strings.Join(out, "; ")
		}
	}
}

// window averages the samples taken in [from, to).
func window(samples []sample, from, to time.Duration) sample {
	var sum sample
	n := 0
	for _, s := range samples {
		if s.at >= from && s.at < to {
			sum.rss += s.rss
			sum.goroutines += s.goroutines
			n++
		}
	}
	if n > 0 {
		sum.rss /= float64(n)
		sum.goroutines /= float64(n)
	}
	return sum
}

// readSample reads RSS and goroutines from the server's /metrics.
func readSample(url string) (sample, error) {
	resp, err := http.Get(url)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	var s sample
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.rss = v
		case "go_goroutines":
			s.goroutines = v
		}
	}
	if s.rss == 0 {
		return s, errors.New("no process_resident_memory_bytes")
	}
	return s, sc.Err()
}
