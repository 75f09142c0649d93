package main

// Helpers of the browser tests: one headless Chromium per test binary, a
// fresh browser context (an incognito-like profile) per page, and test
// topologies of TLS fronts that the browser reaches by host name.

import (
	"context"
	"crypto"
	_ "embed"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/edge"
	"github.com/cfcookies/cfcookies/internal/testlog"
	"github.com/cfcookies/cfcookies/signer"
	"github.com/cfcookies/cfcookies/web"
)

// hostResolverRules sends every test host name to loopback and nothing else
// anywhere: a browser test never touches the network.
const hostResolverRules = "MAP *.example.test 127.0.0.1, MAP *.other.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"

// actionTimeout bounds one browser action; a whole test takes seconds.
const actionTimeout = 15 * time.Second

//go:embed testdata/probe.js
var probeJS string

// chromiumPath is $CHROMIUM, else the first of chromium, chromium-browser
// and google-chrome on PATH, else "".
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// requireChromium returns the browser's path. Without one it skips the
// test, or fails it when CI=true: CI installs chromium, and a skipped
// browser test there would hide a broken deployment story.
func requireChromium(t *testing.T) string {
	t.Helper()
	if p := chromiumPath(); p != "" {
		return p
	}
	const msg = "browser test needs Chromium: install it (apt-get install chromium) or set CHROMIUM to its path"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true makes this a failure")
	}
	t.Skip(msg)
	return ""
}

// theBrowser is the one Chromium of the test binary, started by the first
// browser test and stopped by TestMain.
var theBrowser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func browser(t *testing.T) context.Context {
	t.Helper()
	path := requireChromium(t)
	theBrowser.once.Do(func() {
		theBrowser.ctx, theBrowser.cancel, theBrowser.err = startBrowser(path)
	})
	if theBrowser.err != nil {
		t.Fatalf("start Chromium: %v", theBrowser.err)
	}
	return theBrowser.ctx
}

// startBrowser starts headless Chromium with a fresh temporary profile.
// --ignore-certificate-errors accepts the fronts' httptest certificate; the
// connection still counts as secure, so Secure cookies behave as in
// production.
func startBrowser(path string) (context.Context, context.CancelFunc, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.IgnoreCertErrors,
		chromedp.Flag("host-resolver-rules", hostResolverRules),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	stop := func() { bcancel(); acancel() }
	if err := chromedp.Do(bctx); err != nil {
		stop()
		return nil, nil, err
	}
	return bctx, stop, nil
}

func stopBrowser() {
	if theBrowser.cancel != nil {
		theBrowser.cancel()
	}
}

// Browser names, as the subtests of the tests that run in both say them.
const (
	chromiumName = "chromium"
	firefoxName  = "firefox"
)

// bothBrowsers are the browsers the cross-browser tests run in.
var bothBrowsers = []string{chromiumName, firefoxName}

// browserDriver is what a page needs of its browser: Chromium over the
// DevTools protocol (chromedp), Firefox over WebDriver BiDi.
type browserDriver interface {
	navigate(ctx context.Context, url string) error
	// evaluate runs expr, which gives a string or a promise of one.
	evaluate(ctx context.Context, expr string) (string, error)
	// cookies lists the cookies the browser would send to url.
	cookies(ctx context.Context, url string) ([]browserCookie, error)
	clearCookies(ctx context.Context) error
}

// browserCookie is a stored cookie without its value.
type browserCookie struct{ Name, Domain, Path string }

// page is one tab in a browser context of its own: no cookie, cache or
// storage shared with any other page.
type page struct {
	t       *testing.T
	browser string // chromiumName or firefoxName
	drv     browserDriver
	chrome  *chromiumTab // nil in Firefox
}

// chromiumTab is the Chromium driver of a page.
type chromiumTab struct {
	ctx context.Context

	mu      sync.Mutex
	blocked []blockedCookie // Set-Cookie lines the browser refused
	// setCookies counts the responses setting a CloudFront cookie whose
	// cookie report has arrived. Chromium sends that report apart from
	// the response, and it may reach us after the page's fetch resolved.
	setCookies int
}

// blockedCookie is a Set-Cookie Chromium did not store: the cookie's name
// and Chromium's reasons (such as DomainMismatch). Never the value.
type blockedCookie struct {
	Name    string
	Reasons []string
}

// newPage opens a page in Chromium.
func newPage(t *testing.T) *page {
	t.Helper()
	return newPageIn(t, chromiumName)
}

// newPageIn opens a page in the named browser.
func newPageIn(t *testing.T, name string) *page {
	t.Helper()
	if name == firefoxName {
		return &page{t: t, browser: name, drv: newFirefoxTab(t)}
	}
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	c := &chromiumTab{ctx: ctx}
	// Listen opens the tab, so the listener sees every response.
	if err := chromedp.Listen(ctx, c.listen); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &page{t: t, browser: name, drv: c, chrome: c}
}

func (c *chromiumTab) listen(ev any) {
	e, ok := ev.(*network.EventResponseReceivedExtraInfo)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, v := range e.Headers {
		if s, _ := v.(string); strings.EqualFold(name, "Set-Cookie") && strings.Contains(s, "CloudFront-") {
			c.setCookies++
		}
	}
	for _, bc := range e.BlockedCookies {
		name, _, _ := strings.Cut(bc.CookieLine, "=") // the rest is the value
		var reasons []string
		for _, r := range bc.BlockedReasons {
			reasons = append(reasons, string(r))
		}
		c.blocked = append(c.blocked, blockedCookie{Name: strings.TrimSpace(name), Reasons: reasons})
	}
}

// within is ctx's deadline applied to the tab's context, which chromedp's
// calls need.
func (c *chromiumTab) within(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(c.ctx, dl)
	}
	return context.WithCancel(c.ctx)
}

func (c *chromiumTab) navigate(ctx context.Context, url string) error {
	ctx, cancel := c.within(ctx)
	defer cancel()
	return chromedp.Do(ctx, chromedp.Navigate(url))
}

func (c *chromiumTab) evaluate(ctx context.Context, expr string) (string, error) {
	ctx, cancel := c.within(ctx)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

func (c *chromiumTab) cookies(ctx context.Context, url string) ([]browserCookie, error) {
	ctx, cancel := c.within(ctx)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		return nil, err
	}
	var out []browserCookie
	for _, c := range res.Cookies {
		out = append(out, browserCookie{Name: c.Name, Domain: c.Domain, Path: c.Path})
	}
	return out, nil
}

func (c *chromiumTab) clearCookies(ctx context.Context) error {
	ctx, cancel := c.within(ctx)
	defer cancel()
	_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
	return err
}

// blockedReasons lists, for each refused CloudFront cookie, its name and
// Chromium's reasons. It waits for the report on at least one response
// that set CloudFront cookies. Chromium only: Firefox's BiDi does not
// report refused cookies.
func (p *page) blockedReasons() []string {
	p.t.Helper()
	c := p.chrome
	if c == nil {
		p.t.Fatalf("blockedReasons needs Chromium, not %s", p.browser)
	}
	for deadline := time.Now().Add(actionTimeout); ; time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		n := c.setCookies
		c.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no cookie report from Chromium on a response setting CloudFront cookies in %s", actionTimeout)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, b := range c.blocked {
		if strings.HasPrefix(b.Name, "CloudFront-") {
			out = append(out, b.Name+": "+strings.Join(b.Reasons, ", "))
		}
	}
	return out
}

// navigate loads url, failing the test on an error.
func (p *page) navigate(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if err := p.drv.navigate(ctx, url); err != nil {
		p.t.Fatalf("%s: open %s: %v", p.browser, url, err)
	}
}

// eval runs expr, which gives a string or a promise of one.
func (p *page) eval(what, expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	s, err := p.drv.evaluate(ctx, expr)
	if err != nil {
		p.t.Fatalf("%s: %s: %v", p.browser, what, err)
	}
	return s
}

// open loads url and installs the probe (testdata/probe.js) in it.
func (p *page) open(url string) {
	p.t.Helper()
	p.navigate(url)
	p.eval("install the probe", probeJS+"\n;\"probe\"")
}

// probeCall runs probe.fn(args...) in the page and decodes what it
// resolves to. Failures name fn only: args may hold a bearer token.
func probeCall[T any](p *page, fn string, args ...any) T {
	p.t.Helper()
	js := make([]string, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			p.t.Fatalf("probe.%s: %v", fn, err)
		}
		js[i] = string(b)
	}
	out := p.eval("probe."+fn, "Promise.resolve(probe."+fn+"("+strings.Join(js, ", ")+")).then((v) => JSON.stringify(v ?? null))")
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		p.t.Fatalf("%s: probe.%s: %v", p.browser, fn, err)
	}
	return v
}

// imgResult is what an <img> showed.
type imgResult struct {
	Loaded bool
	Width  int
}

// fetchResult is what fetch gave the page: a status, or the name of the
// error it threw (TypeError when the browser hid the response).
type fetchResult struct {
	Status int
	Bytes  int
	Error  string
}

// problem is what the helper surfaced from a failed call.
type problem struct {
	Name   string
	Status int
	Type   string
	Title  string
}

// issueResult is the outcome of probe.refresh.
type issueResult struct {
	OK     bool
	Answer struct {
		ExpiresAt    time.Time
		RefreshAfter time.Time
		Grants       []struct{ Scope, Resource, CookiePath string }
	}
	Error problem
}

// helperCounts are the helper's events seen by the page.
type helperCounts struct {
	Refresh, Retry, MediaError, Error int
}

func (p *page) img(url string) imgResult {
	p.t.Helper()
	return probeCall[imgResult](p, "img", url, false)
}
func (p *page) watchedImg(url string) imgResult {
	p.t.Helper()
	return probeCall[imgResult](p, "img", url, true)
}
func (p *page) fetch(url string) fetchResult {
	p.t.Helper()
	return probeCall[fetchResult](p, "fetch", url, false)
}
func (p *page) helperFetch(url string) fetchResult {
	p.t.Helper()
	return probeCall[fetchResult](p, "fetch", url, true)
}
func (p *page) refresh() issueResult { p.t.Helper(); return probeCall[issueResult](p, "refresh") }
func (p *page) counts() helperCounts { p.t.Helper(); return probeCall[helperCounts](p, "counts") }

// cookiesFor names the cookies the browser would send to url, with their
// Domain and Path: never their values.
func (p *page) cookiesFor(url string) []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	cookies, err := p.drv.cookies(ctx, url)
	if err != nil {
		p.t.Fatalf("%s: get cookies: %v", p.browser, err)
	}
	var out []string
	for _, c := range cookies {
		out = append(out, c.Name+" (Domain "+c.Domain+", Path "+c.Path+")")
	}
	slices.Sort(out)
	return out
}

// clearCookies drops every cookie of the page's browser context, as an
// expiry or another tab's logout would.
func (p *page) clearCookies() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if err := p.drv.clearCookies(ctx); err != nil {
		p.t.Fatalf("%s: clear cookies: %v", p.browser, err)
	}
}

// The signing key of every topology: a fixture of the signer package.
const (
	testKeyPairID = "K2JCJMDEHXQW5F"
	testKeyFile   = "../../signer/testdata/keys/rsa2048-pkcs8.pem"
	testAudience  = "media-app"
)

func testSigner(t *testing.T) (*signer.Signer, string) {
	t.Helper()
	pemBytes, err := os.ReadFile(testKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signer.ParsePrivateKeyPEM(pemBytes, signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.New(testKeyPairID, key, signer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, string(pemBytes)
}

// hosts names where the SPA, cfcookies and the CDN live. Equal names are
// one host (one origin) that routes by path.
type hosts struct{ app, api, cdn string }

var (
	// sameOrigin is the recommended topology: one CloudFront distribution
	// with path behaviours, / to the SPA, /auth/* to cfcookies, /media/* to
	// the private bucket. No CORS anywhere.
	sameOrigin = hosts{"www.example.test", "www.example.test", "www.example.test"}
	// crossSubdomain puts each on its own subdomain of one site.
	crossSubdomain = hosts{"app.example.test", "api.example.test", "cdn.example.test"}
)

// sameOriginConfig and crossSubdomainConfig configure cfcookies for them, as a
// user would (origins without the tests' ports).
var (
	sameOriginConfig     = map[string]string{}
	crossSubdomainConfig = map[string]string{"COOKIE_DOMAIN": "example.test", "CORS_ALLOWED_ORIGINS": "https://app.example.test"}
)

// topologyOptions describe a test deployment.
type topologyOptions struct {
	hosts hosts
	// env configures cfcookies over the defaults of newTopology (key,
	// OIDC, CLOUDFRONT_DOMAIN = hosts.cdn); origins are written without
	// ports, as in production, and get the tests' ports.
	env map[string]string
	// api replaces the real service run by run(): a naive handler, or one
	// built directly where run() cannot do what the test needs.
	api func(t *testing.T, tp *topology) http.Handler
}

// topology is a deployment as the browser sees it: every host is a TLS
// front on its own 127.0.0.1 port, reached by name through
// hostResolverRules.
type topology struct {
	hosts                           hosts
	env                             map[string]string // what cfcookies runs with, ports included
	appOrigin, apiOrigin, cdnOrigin string            // https://host:port
	signer                          *signer.Signer
	issuer                          *testIssuer
	clock                           *testClock // the CDN's
	requests                        *requestLog
	cdnLog                          *testlog.Buffer
}

func newTopology(t *testing.T, o topologyOptions) *topology {
	t.Helper()
	s, keyPEM := testSigner(t)
	tp := &topology{hosts: o.hosts, signer: s, issuer: newTestIssuer(t), clock: &testClock{},
		requests: &requestLog{}, cdnLog: &testlog.Buffer{}}

	// Bind every front first: the origins, ports included, go into the
	// configuration.
	fronts := map[string]*httptest.Server{}
	for _, h := range []string{o.hosts.app, o.hosts.api, o.hosts.cdn} {
		if fronts[h] == nil {
			fronts[h] = httptest.NewUnstartedServer(nil)
		}
	}
	origin := func(host string) string {
		_, port, _ := net.SplitHostPort(fronts[host].Listener.Addr().String())
		return "https://" + host + ":" + port
	}
	tp.appOrigin, tp.apiOrigin, tp.cdnOrigin = origin(o.hosts.app), origin(o.hosts.api), origin(o.hosts.cdn)

	tp.env = map[string]string{
		"CLOUDFRONT_DOMAIN":      o.hosts.cdn,
		"CLOUDFRONT_KEY_PAIR_ID": testKeyPairID,
		"CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(keyPEM, "\n", `\n`),
		"OIDC_ISSUER":            tp.issuer.srv.URL,
		"OIDC_AUDIENCE":          testAudience,
		"METRICS_ADDR":           "",
	}
	for k, v := range o.env {
		tp.env[k] = v
	}
	if v, ok := tp.env["CORS_ALLOWED_ORIGINS"]; ok {
		for h := range fronts {
			v = strings.ReplaceAll(v, "https://"+h, origin(h))
		}
		tp.env["CORS_ALLOWED_ORIGINS"] = v
	}

	var api http.Handler
	if o.api != nil {
		api = o.api(t, tp)
	} else {
		base, _, _ := startServer(t, []string{"server"}, tp.env)
		target, _ := url.Parse(base)
		api = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
		}}
	}
	cdn := tp.newCDN(t)
	spa := web.Handler(http.NotFoundHandler())

	// A host that serves the SPA routes by path, as a distribution with
	// path behaviours; a host of its own gets every path.
	for h, front := range fronts {
		mux := http.NewServeMux()
		if h == o.hosts.app {
			mux.Handle("/", spa)
		}
		for _, role := range []struct {
			host, prefix string
			handler      http.Handler
		}{{o.hosts.api, "/auth/", api}, {o.hosts.cdn, "/media/", cdn}} {
			switch {
			case role.host != h:
			case h == o.hosts.app:
				mux.Handle(role.prefix, role.handler)
			default:
				mux.Handle("/", role.handler)
			}
		}
		front.Config.Handler = tp.requests.wrap(h, mux)
		front.StartTLS()
		t.Cleanup(front.Close)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("requests the fronts received:\n%s", strings.Join(tp.requests.all(), "\n"))
			t.Logf("emulated CloudFront's decisions:\n%s", tp.cdnLog)
		}
	})
	return tp
}

// newCDN is the emulated CloudFront for hosts.cdn.
//
// Ports: CloudFront serves https on 443, so CLOUDFRONT_DOMAIN and the
// policies' Resource carry no port, while the test fronts listen on
// ephemeral ports that the browser puts in its URLs and Host headers. The
// verifier is told the distribution's own URL, https://<cdn host>, as
// CloudFront knows its own domain name, so the Resource is matched against
// the URL production would see. Cookies ignore ports, so nothing else
// changes.
func (tp *topology) newCDN(t *testing.T) http.Handler {
	t.Helper()
	v, err := edge.NewVerifier(map[string]crypto.PublicKey{testKeyPairID: tp.signer.Public()},
		edge.VerifierOptions{BaseURL: "https://" + tp.hosts.cdn})
	if err != nil {
		t.Fatal(err)
	}
	var cors []string
	if tp.appOrigin != tp.cdnOrigin {
		cors = []string{tp.appOrigin} // the bucket's CORS rule
	}
	return edge.NewCDN(edge.CDNOptions{Verifier: v, CORSAllowedOrigins: cors, Logger: zerolog.New(tp.cdnLog), Now: tp.clock.Now})
}

// token is a bearer token of the topology's OpenID provider for sub.
func (tp *topology) token(t *testing.T, sub string) string {
	t.Helper()
	return tp.issuer.token(t, tp.issuer.key, map[string]any{"sub": sub})
}

// helperOptions are the options of the page's MediaCookies for sub: where
// cfcookies is ("" when it shares the page's origin) and the bearer token.
func (tp *topology) helperOptions(t *testing.T, sub string) map[string]any {
	t.Helper()
	base := ""
	if tp.apiOrigin != tp.appOrigin {
		base = tp.apiOrigin
	}
	return map[string]any{"baseURL": base, "headers": map[string]string{"Authorization": "Bearer " + tp.token(t, sub)}}
}

// media is the URL of a sample file as the browser reaches the CDN.
func (tp *topology) media(path string) string { return tp.cdnOrigin + path }

// testClock is time.Now moved by an offset, for the CDN's policy checks.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// requestLog records what the fronts received: "host METHOD /path status".
type requestLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *requestLog) wrap(host string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.entries = append(l.entries, host+" "+r.Method+" "+r.URL.Path+" "+strconv.Itoa(sw.status()))
	})
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// count is how many entries contain s, such as "POST /auth/media-cookies".
func (l *requestLog) count(s string) int {
	n := 0
	for _, e := range l.all() {
		if strings.Contains(e, s) {
			n++
		}
	}
	return n
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
