package main

// Firefox for the browser tests, driven over WebDriver BiDi: chromedp
// speaks only Chrome's protocol, and there is no geckodriver package, so a
// small BiDi client over a WebSocket does what the tests need: a user
// context (cookies, cache and storage of its own) per page, a tab in it,
// navigation, script evaluation and the cookie store.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// firefoxLaunchTimeout bounds Firefox's start, until its BiDi session is
// open: 3.5 to 6 s on an idle machine, more on a loaded one.
const firefoxLaunchTimeout = 60 * time.Second

// firefoxPath is $FIREFOX, else the first of firefox-esr and firefox on
// PATH, else "".
func firefoxPath() string {
	if p := os.Getenv("FIREFOX"); p != "" {
		return p
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// requireFirefox returns the browser's path. Without one it skips the
// test, or fails it when CI=true, as requireChromium does.
func requireFirefox(t *testing.T) string {
	t.Helper()
	if p := firefoxPath(); p != "" {
		return p
	}
	const msg = "browser test needs Firefox: install it (apt-get install firefox-esr) or set FIREFOX to its path"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true makes this a failure")
	}
	t.Skip(msg)
	return ""
}

// theFirefox is the one Firefox of the test binary, started by the first
// test that needs it and stopped by TestMain.
var theFirefox struct {
	once sync.Once
	ff   *firefox
	err  error
}

func firefoxBrowser(t *testing.T) *firefox {
	t.Helper()
	path := requireFirefox(t)
	theFirefox.once.Do(func() {
		start := time.Now()
		theFirefox.ff, theFirefox.err = startFirefox(path)
		if theFirefox.err == nil {
			theFirefox.ff.launched = time.Since(start)
		}
	})
	if theFirefox.err != nil {
		t.Fatalf("start Firefox: %v", theFirefox.err)
	}
	return theFirefox.ff
}

func stopFirefox() {
	if theFirefox.ff != nil {
		theFirefox.ff.stop()
	}
}

// firefoxPrefs go into the profile's user.js. Every host name resolves to
// 127.0.0.1, so the test hosts (*.example.test, *.other.test) reach the
// local fronts and nothing leaves the machine; background services that
// would call home are off.
var firefoxPrefs = map[string]any{
	"network.dns.forceResolve":                        "127.0.0.1",
	"network.trr.mode":                                5, // no DNS over HTTPS
	"network.proxy.type":                              0,
	"network.dns.disablePrefetch":                     true,
	"network.prefetch-next":                           false,
	"network.http.speculative-parallel-limit":         0,
	"network.captive-portal-service.enabled":          false,
	"network.connectivity-service.enabled":            false,
	"app.update.disabledForTesting":                   true,
	"app.update.auto":                                 false,
	"app.normandy.enabled":                            false,
	"app.shield.optoutstudies.enabled":                false,
	"toolkit.telemetry.enabled":                       false,
	"toolkit.telemetry.unified":                       false,
	"toolkit.telemetry.server":                        "",
	"datareporting.healthreport.uploadEnabled":        false,
	"datareporting.policy.dataSubmissionEnabled":      false,
	"browser.safebrowsing.malware.enabled":            false,
	"browser.safebrowsing.phishing.enabled":           false,
	"browser.safebrowsing.downloads.enabled":          false,
	"browser.safebrowsing.blockedURIs.enabled":        false,
	"browser.safebrowsing.provider.mozilla.updateURL": "",
	"browser.search.update":                           false,
	"browser.region.network.url":                      "",
	"browser.region.update.enabled":                   false,
	"browser.newtabpage.enabled":                      false,
	"browser.startup.homepage":                        "about:blank",
	"browser.startup.page":                            0,
	"browser.shell.checkDefaultBrowser":               false,
	"browser.aboutwelcome.enabled":                    false,
	"browser.ping-centre.telemetry":                   false,
	"extensions.update.enabled":                       false,
	"extensions.getAddons.cache.enabled":              false,
	"extensions.blocklist.enabled":                    false,
	"services.settings.server":                        "",
	"services.sync.enabled":                           false,
	"media.gmp-manager.updateEnabled":                 false,
	"media.gmp-gmpopenh264.enabled":                   false,
	"security.OCSP.enabled":                           0,
	"security.remote_settings.crlite_filters.enabled": false,
	"geo.provider.network.url":                        "",
	"dom.push.connection.enabled":                     false,
}

// firefox is a running Firefox with an open BiDi session.
type firefox struct {
	cmd      *exec.Cmd
	profile  string
	bidi     *bidiConn
	stderr   *tailBuffer
	waited   chan struct{} // closed when the process has exited
	launched time.Duration
}

var bidiAddress = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// startFirefox starts headless Firefox with a fresh temporary profile in a
// process group of its own, and opens a BiDi session that accepts the
// fronts' self-signed certificates.
func startFirefox(path string) (_ *firefox, err error) {
	profile, err := os.MkdirTemp("", "cfcookies-firefox-")
	if err != nil {
		return nil, err
	}
	var prefs strings.Builder
	for _, k := range slices.Sorted(maps.Keys(firefoxPrefs)) {
		v, _ := json.Marshal(firefoxPrefs[k])
		fmt.Fprintf(&prefs, "user_pref(%q, %s);\n", k, v)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs.String()), 0o600); err != nil {
		_ = os.RemoveAll(profile)
		return nil, err
	}
	cmd := exec.Command(path, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_HEADLESS=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		_ = os.RemoveAll(profile)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(profile)
		return nil, err
	}
	ff := &firefox{cmd: cmd, profile: profile, stderr: &tailBuffer{max: 8 << 10}, waited: make(chan struct{})}
	defer func() {
		if err != nil {
			ff.stop()
			err = fmt.Errorf("%w; Firefox's stderr ends with:\n%s", err, ff.stderr)
		}
	}()

	// The address comes on stderr; the rest of stderr is kept for errors.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if m := bidiAddress.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			ff.stderr.WriteLine(line)
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		_ = cmd.Wait()
		close(ff.waited)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), firefoxLaunchTimeout)
	defer cancel()
	var ws string
	select {
	case ws = <-addr:
	case <-ff.waited:
		return nil, errors.New("firefox exited before listening for WebDriver BiDi")
	case <-ctx.Done():
		return nil, fmt.Errorf("no WebDriver BiDi address on Firefox's stderr in %s", firefoxLaunchTimeout)
	}
	ff.bidi, err = dialBiDi(ctx, ws+"/session")
	if err != nil {
		return nil, err
	}
	if _, err := ff.bidi.call(ctx, "session.new", map[string]any{
		"capabilities": map[string]any{"alwaysMatch": map[string]any{"acceptInsecureCerts": true}},
	}); err != nil {
		return nil, err
	}
	return ff, nil
}

// stop ends the session, kills what is left of Firefox's process group and
// removes the profile.
func (ff *firefox) stop() {
	if ff.bidi != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = ff.bidi.call(ctx, "browser.close", map[string]any{})
		cancel()
		ff.bidi.close()
	}
	select {
	case <-ff.waited:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-ff.cmd.Process.Pid, syscall.SIGKILL)
	<-ff.waited
	_ = os.RemoveAll(ff.profile)
}

// tailBuffer keeps the last max bytes of the lines written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, s...)
	b.buf = append(b.buf, '\n')
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// bidiConn is a WebDriver BiDi connection: commands carry ids and wait
// for their result. The tests subscribe to no event.
type bidiConn struct {
	ws     *websocket.Conn
	cancel context.CancelFunc

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan bidiMessage
	err     error // why the read loop ended
}

type bidiMessage struct {
	Type    string          `json:"type"` // success or error
	ID      *int64          `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

func dialBiDi(ctx context.Context, addr string) (*bidiConn, error) {
	ws, resp, err := websocket.Dial(ctx, addr, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close() // the handshake's; the connection lives on
	}
	if err != nil {
		return nil, fmt.Errorf("connect to WebDriver BiDi: %w", err)
	}
	ws.SetReadLimit(64 << 20)
	rctx, cancel := context.WithCancel(context.Background())
	c := &bidiConn{ws: ws, cancel: cancel, pending: map[int64]chan bidiMessage{}}
	go c.read(rctx)
	return c, nil
}

func (c *bidiConn) read(ctx context.Context) {
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			c.mu.Lock()
			c.err = err
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m bidiMessage
		if err := json.Unmarshal(data, &m); err != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != nil {
			if ch, ok := c.pending[*m.ID]; ok {
				delete(c.pending, *m.ID)
				ch <- m
			}
		}
		c.mu.Unlock()
	}
}

// call sends a command and waits for its result.
func (c *bidiConn) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("%s: connection closed: %w", method, c.err)
	}
	c.nextID++
	id := c.nextID
	ch := make(chan bidiMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: connection closed", method)
		case m.Type == "error":
			return nil, fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		return m.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *bidiConn) close() {
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	c.cancel()
}

// firefoxTab is a tab in a user context of its own: the Firefox driver of
// a page.
type firefoxTab struct {
	ff          *firefox
	userContext string
	context     string // the tab's browsing context
}

// newFirefoxTab opens a tab in a new user context; the test's cleanup
// removes the context, closing the tab.
func newFirefoxTab(t *testing.T) *firefoxTab {
	t.Helper()
	ff := firefoxBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	var uc struct{ UserContext string }
	if err := ff.decode(ctx, &uc, "browser.createUserContext", map[string]any{}); err != nil {
		t.Fatalf("create a Firefox user context: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		_, _ = ff.bidi.call(ctx, "browser.removeUserContext", map[string]any{"userContext": uc.UserContext})
	})
	var bc struct{ Context string }
	if err := ff.decode(ctx, &bc, "browsingContext.create", map[string]any{"type": "tab", "userContext": uc.UserContext}); err != nil {
		t.Fatalf("open a Firefox tab: %v", err)
	}
	return &firefoxTab{ff: ff, userContext: uc.UserContext, context: bc.Context}
}

func (ff *firefox) decode(ctx context.Context, v any, method string, params any) error {
	res, err := ff.bidi.call(ctx, method, params)
	if err != nil {
		return err
	}
	return json.Unmarshal(res, v)
}

func (f *firefoxTab) navigate(ctx context.Context, url string) error {
	_, err := f.ff.bidi.call(ctx, "browsingContext.navigate", map[string]any{"context": f.context, "url": url, "wait": "complete"})
	return err
}

// evaluate runs expr, which must give a string or a promise of one.
func (f *firefoxTab) evaluate(ctx context.Context, expr string) (string, error) {
	var res struct {
		Type   string
		Result struct {
			Type  string
			Value json.RawMessage
		}
		ExceptionDetails struct{ Text string }
	}
	if err := f.ff.decode(ctx, &res, "script.evaluate", map[string]any{
		"expression": expr, "target": map[string]any{"context": f.context},
		"awaitPromise": true, "resultOwnership": "none",
	}); err != nil {
		return "", err
	}
	if res.Type == "exception" {
		return "", errors.New(res.ExceptionDetails.Text)
	}
	if res.Result.Type != "string" {
		return "", fmt.Errorf("script gave a %s, not a string", res.Result.Type)
	}
	var s string
	err := json.Unmarshal(res.Result.Value, &s)
	return s, err
}

func (f *firefoxTab) partition() map[string]any {
	return map[string]any{"type": "storageKey", "userContext": f.userContext}
}

// cookies lists the cookies Firefox would send to u: domain, path and
// Secure match it. BiDi gives the whole store; the match is done here.
func (f *firefoxTab) cookies(ctx context.Context, u string) ([]browserCookie, error) {
	target, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	var res struct {
		Cookies []struct {
			Name, Domain, Path string
			Secure             bool
		}
	}
	if err := f.ff.decode(ctx, &res, "storage.getCookies", map[string]any{"partition": f.partition()}); err != nil {
		return nil, err
	}
	host, path := target.Hostname(), target.EscapedPath()
	if path == "" {
		path = "/"
	}
	var out []browserCookie
	for _, c := range res.Cookies {
		domain := strings.TrimPrefix(c.Domain, ".")
		domainOK := host == domain || strings.HasSuffix(host, "."+domain) && strings.HasPrefix(c.Domain, ".")
		pathOK := path == c.Path || strings.HasPrefix(path, strings.TrimSuffix(c.Path, "/")+"/")
		if domainOK && pathOK && (!c.Secure || target.Scheme == "https" || host == "localhost" || host == "127.0.0.1") {
			out = append(out, browserCookie{Name: c.Name, Domain: c.Domain, Path: c.Path})
		}
	}
	return out, nil
}

func (f *firefoxTab) clearCookies(ctx context.Context) error {
	_, err := f.ff.bidi.call(ctx, "storage.deleteCookies", map[string]any{"partition": f.partition()})
	return err
}
