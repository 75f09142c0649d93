package main

// End-to-end tests in real Chromium: whether signed cookies work is decided
// by the browser and by CloudFront, so these tests read what the page saw
// (an image decoded or not, a fetch status or the TypeError the browser
// throws when it hides a response), not only what the servers logged.
// They skip without Chromium, and fail instead when CI=true.

import (
	"encoding/json"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/edge"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/signer"
)

// TestMain stops the browser the browser tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	stopBrowser()
	stopFirefox()
	os.Exit(code)
}

// TestBrowserDevDemo is `server --dev` as a developer meets it: the demo page
// on LISTEN_ADDR gets cookies for the chosen user, and the emulated
// CloudFront on DEV_CDN_ADDR, another port of localhost, receives them
// (cookies ignore ports) and serves that user's image and video only, until
// logout.
// Opened on 127.0.0.1 instead, the host-only cookies never reach localhost,
// and the page says so. In Chromium and in Firefox.
func TestBrowserDevDemo(t *testing.T) {
	t.Parallel()
	for _, b := range bothBrowsers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			p := newPageIn(t, b)
			// Ports left to the kernel, as any a developer picks: the dev
			// CDN's CORS rules allow the demo page's origins (for hls.js),
			// and the cookies name the CDN's bound port.
			_, keyPEM := testSigner(t)
			base, logs, stop := startDev(t, map[string]string{
				"METRICS_ADDR": "",
				// A fixture key instead of the ephemeral one: generating RSA-2048
				// takes up to seconds on a busy machine.
				"CLOUDFRONT_PRIVATE_KEY": strings.ReplaceAll(keyPEM, "\n", `\n`),
				"CLOUDFRONT_KEY_PAIR_ID": testKeyPairID,
			})
			t.Cleanup(func() {
				if err := stop(); err != nil {
					t.Errorf("server --dev: %v", err)
				}
			})
			cdnHost := localhostAt(t, listenAddr(t, logs, "cdn"))

			p.navigate("http://" + localhostAt(t, base) + "/")
			p.setValue("user", "alice")
			p.click("get")
			p.waitText("mine-result", "loaded (320×180)")
			p.waitText("other-result", "failed")
			p.waitText("grants", "default: http://"+cdnHost+"/media/alice/* (cookie Path /)")
			// The caller's HLS stream plays with hls.js; another user's is
			// refused.
			p.waitText("mine-video-result", "playing (")
			p.waitText("other-video-result", "refused: ")

			p.click("logout")
			p.waitText("status", "Logged out")
			p.click("reload")
			p.waitText("mine-result", "failed")

			p.navigate(base + "/") // http://127.0.0.1:PORT
			p.click("get")
			p.waitText("mine-result", "failed")
			p.waitText("hint", "host-only cookies set here are not sent there")
		})
	}
}

// TestBrowserTopologies runs the real service (run(), OIDC bearer tokens, no
// --dev) in both topologies users deploy, which check finds sound, in
// Chromium and in Firefox: the caller's media loads as <img> and as fetch;
// another user's is denied; an expired policy is denied although the
// browser still sends it; logout denies.
func TestBrowserTopologies(t *testing.T) {
	t.Parallel()
	for _, tc := range crossBrowserTopologies() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPageIn(t, tc.browser)
			tp := newTopology(t, topologyOptions{hosts: tc.hosts, env: tc.env})
			crossOrigin := tp.cdnOrigin != tp.appOrigin
			mine, others := tp.media("/media/alice/image.png"), tp.media("/media/dev/image.png")
			// Same-origin media shows its 403. Cross-origin, CloudFront's
			// 403 carries no CORS headers, so fetch throws a TypeError.
			denied := fetchResult{Status: http.StatusForbidden}
			if crossOrigin {
				denied = fetchResult{Error: "TypeError"}
			}

			// check, given the configuration without the tests' ports,
			// agrees with what the browser does below.
			env := maps.Clone(tp.env)
			maps.Copy(env, tc.env)
			if out, _, code := runCmd(t, env, "check", "--app-origin", "https://"+tc.hosts.app, "--api-origin", "https://"+tc.hosts.api); code != 0 {
				t.Errorf("check exits %d:\n%s", code, out)
			}

			p.open(tp.appOrigin + "/")
			probeCall[bool](p, "start", tp.helperOptions(t, "alice"))
			res := p.refresh()
			if !res.OK {
				t.Fatalf("POST /auth/media-cookies: %+v", res.Error)
			}
			if g := res.Answer.Grants; len(g) != 1 || g[0].Resource != "https://"+tc.hosts.cdn+"/media/alice/*" || g[0].CookiePath != "/" {
				t.Fatalf("grants %+v", g)
			}
			ok := fetchResult{Status: http.StatusOK, Bytes: sampleSize(t, "media/alice/image.png")}
			wantMedia(t, p, "own media", mine, true, ok)
			wantMedia(t, p, "another user's media", others, false, denied)
			if n := tp.requests.count("GET /media/dev/image.png 403"); n != 2 {
				t.Errorf("the CDN answered %d denials for another user's media, want 2 (the page saw them)", n)
			}

			// The browser keeps the 10-minute cookies; CloudFront's clock
			// passes the policy's DateLessThan.
			tp.clock.Advance(11 * time.Minute)
			wantMedia(t, p, "own media after DateLessThan", mine, false, denied)
			tp.clock.Advance(-11 * time.Minute)
			wantMedia(t, p, "own media with the clock back", mine, true, ok)

			if r := probeCall[issueResult](p, "logout"); !r.OK {
				t.Fatalf("DELETE /auth/media-cookies: %+v", r.Error)
			}
			if c := p.cookiesFor(mine); len(c) != 0 {
				t.Errorf("after logout the browser still sends %v to the CDN", c)
			}
			wantMedia(t, p, "own media after logout", mine, false, denied)

			preflights := tp.requests.count(" OPTIONS ")
			switch {
			case !crossOrigin && preflights != 0:
				t.Errorf("same origin, yet %d CORS preflights", preflights)
			case crossOrigin && tp.requests.count("OPTIONS /auth/media-cookies 204") == 0:
				t.Errorf("no CORS preflight answered for the Authorization header")
			}
		})
	}
}

// browserTopology is a browser and a topology, named browser/topology.
type browserTopology struct {
	name, browser string
	hosts         hosts
	env           map[string]string
}

// crossBrowserTopologies are both topologies in both browsers.
func crossBrowserTopologies() []browserTopology {
	var out []browserTopology
	for _, b := range bothBrowsers {
		out = append(out,
			browserTopology{b + "/same-origin", b, sameOrigin, sameOriginConfig},
			browserTopology{b + "/cross-subdomain", b, crossSubdomain, crossSubdomainConfig})
	}
	return out
}

// wantMedia loads url as an <img> and with fetch (credentials included) and
// checks what the page saw.
func wantMedia(t *testing.T, p *page, what, url string, loads bool, fetched fetchResult) {
	t.Helper()
	if r := p.img(url); r.Loaded != loads {
		t.Errorf("%s: <img> loaded %v, want %v", what, r.Loaded, loads)
	}
	if r := p.fetch(url); r.Status != fetched.Status || r.Error != fetched.Error || (r.Status == 200 && r.Bytes != fetched.Bytes) {
		t.Errorf("%s: fetch gave %+v, want %+v", what, r, fetched)
	}
}

// TestBrowserRefresh keeps a page open past the first expiry: the helper's
// scheduled refresh keeps the media loading without any retry, while a page
// whose helper does not refresh is denied at the same moment. cfcookies
// refuses a COOKIE_TTL under a minute, so the API is built directly with a
// short scope. Its TTL leaves the page a fifth of it, 4 s, between
// refreshAfter and expiry to refresh in: with a 3-second TTL that was 1 s,
// which a POST and an <img> on a loaded machine (-race, two cores) did not
// always fit, and the test failed without any bug.
func TestBrowserRefresh(t *testing.T) {
	const refreshTestTTL = 20 * time.Second
	t.Parallel()
	for _, tc := range []struct {
		name  string
		hosts hosts
		env   map[string]string
	}{
		{"same-origin", sameOrigin, sameOriginConfig},
		{"cross-subdomain", crossSubdomain, crossSubdomainConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			live, once := newPage(t), newPage(t)
			tp := newTopology(t, topologyOptions{hosts: tc.hosts, env: tc.env, api: directAPI(refreshTestTTL)})
			mine := tp.media("/media/alice/image.png")

			var first issueResult
			for _, p := range []*page{live, once} {
				p.open(tp.appOrigin + "/")
				opts := tp.helperOptions(t, "alice")
				opts["autoRefresh"] = p == live
				probeCall[bool](p, "start", opts)
				if first = p.refresh(); !first.OK {
					t.Fatalf("POST /auth/media-cookies: %+v", first.Error)
				}
				if !p.img(mine).Loaded {
					t.Fatal("own media denied right after issuance")
				}
			}
			time.Sleep(time.Until(first.Answer.ExpiresAt.Add(500 * time.Millisecond)))

			if !live.img(mine).Loaded {
				t.Error("the refreshing page lost its media after the first expiry")
			}
			if once.img(mine).Loaded {
				t.Error("the page that never refreshed still loads media after expiry: the test did not wait long enough")
			}
			if c := live.counts(); c.Refresh < 2 || c.Retry != 0 || c.Error != 0 {
				t.Errorf("refreshing helper: %+v, want at least 2 refreshes, no retry, no error", c)
			}
			if c := once.counts(); c.Refresh != 1 {
				t.Errorf("helper with autoRefresh false: %+v, want 1 refresh", c)
			}
		})
	}
}

// directAPI builds cfcookies' handler as serve does, with what run() cannot
// have: a scope TTL under COOKIE_TTL's one-minute floor. It follows the
// topology's COOKIE_DOMAIN and CORS_ALLOWED_ORIGINS.
func directAPI(ttl time.Duration) func(*testing.T, *topology) http.Handler {
	return func(t *testing.T, tp *topology) http.Handler {
		t.Helper()
		authn, err := auth.NewOIDC(t.Context(), auth.OIDCConfig{Issuer: tp.issuer.srv.URL, Audience: testAudience})
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := signer.ParsePathTemplate("/media/{sub}/*")
		if err != nil {
			t.Fatal(err)
		}
		var cors []string
		if v := tp.env["CORS_ALLOWED_ORIGINS"]; v != "" {
			cors = strings.Split(v, ",")
		}
		return handlers.NewServer(zerolog.Nop(), handlers.Options{
			CloudFrontBaseURL:  "https://" + tp.hosts.cdn,
			Scopes:             []handlers.Scope{{Name: "default", Path: tmpl, CookiePath: "/", TTL: ttl}},
			Cookie:             signer.CookieOptions{Domain: tp.env["COOKIE_DOMAIN"], SameSite: http.SameSiteLaxMode},
			CORSAllowedOrigins: cors,
		}, func() *signer.Signer { return tp.signer }, authn, func() bool { return true }, handlers.NewMetrics())
	}
}

// TestBrowserHelper checks cfcookies.js in Chromium, cross-origin where it
// sees least: a problem reaches the page with its type and status;
// concurrent refreshes share one request; a denied fetch or <img> refreshes
// and retries once, and only once; after logout nothing signs the page back
// in.
func TestBrowserHelper(t *testing.T) {
	t.Parallel()
	p := newPage(t)
	tp := newTopology(t, topologyOptions{hosts: crossSubdomain, env: crossSubdomainConfig})
	mine, others := tp.media("/media/alice/image.png"), tp.media("/media/dev/image.png")
	posts := func() int { return tp.requests.count("POST /auth/media-cookies") }
	p.open(tp.appOrigin + "/")

	probeCall[bool](p, "start", map[string]any{"baseURL": tp.apiOrigin}) // no token
	want := problem{Name: "ProblemError", Status: 401, Type: "urn:cfcookies:problem:unauthenticated", Title: "Unauthorized"}
	if r := p.refresh(); r.OK || r.Error != want {
		t.Errorf("without a token: %+v, want the problem %+v", r, want)
	}

	probeCall[bool](p, "start", tp.helperOptions(t, "alice"))
	before := posts()
	if n := probeCall[int](p, "burst", 5); n != 1 {
		t.Errorf("5 concurrent refresh() calls resolved to %d different answers, want 1 shared", n)
	}
	if n := posts() - before; n != 1 {
		t.Errorf("5 concurrent refresh() calls sent %d POSTs, want 1", n)
	}

	steps := []struct {
		name        string
		clear       bool // drop the cookies first, as an expiry would
		run         func() any
		want        any
		wantRefresh int // refreshes it causes
	}{
		{"fetch without cookies: refresh, then retry once", true,
			func() any { return p.helperFetch(mine) }, fetchResult{Status: 200, Bytes: sampleSize(t, "media/alice/image.png")}, 1},
		{"fetch of another user's media: one retry, then the error", false,
			func() any { return p.helperFetch(others) }, fetchResult{Error: "TypeError"}, 1},
		{"<img> without cookies: refresh, then reassign src once", true,
			func() any { return p.watchedImg(mine) }, imgResult{Loaded: true, Width: 48}, 1},
		{"<img> of another user's media: one retry, then mediaerror", false,
			func() any { return p.watchedImg(others) }, imgResult{}, 1},
	}
	for _, s := range steps {
		if s.clear {
			p.clearCookies()
		}
		before, c0 := posts(), p.counts()
		if got := s.run(); got != s.want {
			t.Errorf("%s: %+v, want %+v", s.name, got, s.want)
		}
		c1 := p.counts()
		if n := posts() - before; n != s.wantRefresh || c1.Refresh-c0.Refresh != s.wantRefresh || c1.Retry-c0.Retry != 1 {
			t.Errorf("%s: %d POSTs, counts %+v then %+v; want %d refresh and 1 retry", s.name, n, c0, c1, s.wantRefresh)
		}
	}

	if r := probeCall[issueResult](p, "logout"); !r.OK {
		t.Fatalf("logout: %+v", r.Error)
	}
	before = posts()
	if r := p.watchedImg(mine); r.Loaded {
		t.Error("<img> loads after logout")
	}
	if r := p.helperFetch(mine); r.Error != "TypeError" {
		t.Errorf("fetch after logout: %+v, want a TypeError", r)
	}
	if n := posts() - before; n != 0 {
		t.Errorf("media failing after logout sent %d POSTs: the helper signed the page back in", n)
	}
}

// TestBrowserMisconfigurations shows, for each mistake users really make,
// what Chromium does with it, and that `check`, given the configuration a
// user would write (origins without the tests' ports), names it.
// cfcookies refuses most of them at startup, so a naive handler, as found
// in snippets, plays the server there.
func TestBrowserMisconfigurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string // what the user set
		appOrigin string            // the SPA's origin, for `check --app-origin`
		hosts     hosts             // hosts.api is `check --api-origin`
		checkSays string            // the variable check reports a PROBLEM for
		// refusedBy is the variable cfcookies' configuration rejects, ""
		// when it starts: then the real service runs, else naive.
		refusedBy string
		naive     func(*testing.T, *topology) http.Handler
		// What the page and the browser show.
		wantIssue   string // "ok", or the error the helper's POST threw
		wantBlocked string // Chromium's reason for refusing the cookies
		wantStored  string // a CloudFront cookie stored but not sent to the CDN
		wantSent    bool   // the browser sends the cookies to the CDN: media loads
	}{
		{
			name:      "empty cookie Path",
			env:       map[string]string{"COOKIE_PATH": "/auth"},
			appOrigin: "https://www.example.test",
			hosts:     sameOrigin,
			checkSays: "COOKIE_PATH",
			refusedBy: "COOKIE_PATH",
			// Without Path the browser scopes the cookies to the path of
			// the response that set them: /auth.
			naive:      naiveIssuer(func(c *http.Cookie) { c.Path = "" }, nil),
			wantIssue:  "ok",
			wantStored: "CloudFront-Policy (Domain www.example.test, Path /auth)",
		},
		{
			name: "COOKIE_DOMAIN the API host cannot set",
			env: map[string]string{"CLOUDFRONT_DOMAIN": "cdn.other.test", "COOKIE_DOMAIN": "other.test",
				"CORS_ALLOWED_ORIGINS": "https://app.other.test"},
			appOrigin:   "https://app.other.test",
			hosts:       hosts{"app.other.test", "api.example.test", "cdn.other.test"},
			checkSays:   "COOKIE_DOMAIN",
			wantIssue:   "ok",
			wantBlocked: "InvalidDomain",
		},
		{
			name: "SameSite=None without Secure",
			env: map[string]string{"COOKIE_DOMAIN": "example.test", "COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false",
				"CORS_ALLOWED_ORIGINS": "https://app.example.test"},
			appOrigin:   "https://app.example.test",
			hosts:       crossSubdomain,
			checkSays:   "COOKIE_SAMESITE",
			refusedBy:   "COOKIE_SAMESITE",
			naive:       naiveIssuer(func(c *http.Cookie) { c.Secure, c.SameSite = false, http.SameSiteNoneMode }, nil),
			wantIssue:   "ok",
			wantBlocked: "SameSiteNoneInsecure",
		},
		{
			name:      "wildcard CORS origin with credentials",
			env:       map[string]string{"COOKIE_DOMAIN": "example.test", "CORS_ALLOWED_ORIGINS": "*"},
			appOrigin: "https://app.example.test",
			hosts:     crossSubdomain,
			checkSays: "CORS_ALLOWED_ORIGINS",
			refusedBy: "CORS_ALLOWED_ORIGINS",
			naive: naiveIssuer(nil, map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}),
			// The server answers 200 with the cookies; the browser hides
			// the answer from the page, yet stores the cookies: media
			// loads until they expire, but the SPA, which never read
			// refreshAfter, believes the login failed and cannot refresh.
			wantIssue: "TypeError",
			wantSent:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPage(t)
			tp := newTopology(t, topologyOptions{hosts: tt.hosts, env: tt.env, api: tt.naive})

			// The row as the user wrote it: cfcookies' own verdict.
			env := maps.Clone(tp.env)
			maps.Copy(env, tt.env)
			_, err := config.Load(envOf(env), false)
			switch {
			case tt.refusedBy == "" && err != nil:
				t.Fatalf("configuration refused: %v", err)
			case tt.refusedBy != "" && (err == nil || !strings.Contains(err.Error(), tt.refusedBy+"=")):
				t.Fatalf("configuration error %v does not name %s", err, tt.refusedBy)
			}
			out, _, code := runCmd(t, env, "check", "--app-origin", tt.appOrigin, "--api-origin", "https://"+tt.hosts.api)
			if code != 1 || problemLine(out, tt.checkSays) == "" {
				t.Errorf("check exits %d without a PROBLEM for %s:\n%s", code, tt.checkSays, out)
			}

			p.open(tp.appOrigin + "/")
			opts := map[string]any{"baseURL": tp.apiOrigin}
			if tt.naive == nil {
				opts = tp.helperOptions(t, "alice")
			}
			probeCall[bool](p, "start", opts)
			issue := "ok"
			if r := p.refresh(); !r.OK {
				issue = r.Error.Name
			}
			if issue != tt.wantIssue {
				t.Errorf("the page's POST: %s, want %s", issue, tt.wantIssue)
			}
			if n := tp.requests.count("POST /auth/media-cookies 200"); n != 1 {
				t.Errorf("the API answered %d POSTs with 200, want 1", n)
			}

			blocked := p.blockedReasons()
			hasReason := slices.ContainsFunc(blocked, func(b string) bool { return strings.Contains(b, tt.wantBlocked) })
			if tt.wantBlocked == "" && len(blocked) != 0 || tt.wantBlocked != "" && !hasReason {
				t.Errorf("cookies Chromium refused: %v, want reason %q", blocked, tt.wantBlocked)
			}
			if tt.wantStored != "" {
				if c := p.cookiesFor(tp.apiOrigin + "/auth/media-cookies"); !slices.Contains(c, tt.wantStored) {
					t.Errorf("cookies for /auth: %v, want %s", c, tt.wantStored)
				}
			}
			mine := tp.media("/media/alice/image.png")
			if c := p.cookiesFor(mine); (len(c) == 4) != tt.wantSent || len(c)%4 != 0 {
				t.Errorf("the browser sends %v to the CDN; want the four CloudFront cookies (CloudFront-Hash-Algorithm=SHA256 too): %v", c, tt.wantSent)
			}
			status := "403"
			if tt.wantSent {
				status = "200"
			}
			if r := p.img(mine); r.Loaded != tt.wantSent {
				t.Errorf("own media: <img> loaded %v, want %v", r.Loaded, tt.wantSent)
			}
			if n := tp.requests.count("GET /media/alice/image.png " + status); n != 1 {
				t.Errorf("the CDN answered %d requests with %s, want 1", n, status)
			}
		})
	}
}

// naiveIssuer is the kind of handler snippets show: no authentication, a
// grant for alice's media, cookies set as edit leaves them, whatever the
// request. Cross-origin, it allows the SPA's origin with credentials, as it
// must; headers then override that.
func naiveIssuer(edit func(*http.Cookie), headers map[string]string) func(*testing.T, *topology) http.Handler {
	return func(t *testing.T, tp *topology) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tp.appOrigin != tp.apiOrigin {
				w.Header().Set("Access-Control-Allow-Origin", tp.appOrigin)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.Header().Set("Vary", "Origin")
			}
			for k, v := range headers {
				w.Header().Set(k, v)
			}
			resource := "https://" + tp.hosts.cdn + "/media/alice/*"
			expires := time.Now().Add(10 * time.Minute).Truncate(time.Second)
			cookies, err := tp.signer.Cookies(signer.Grant{Resource: resource, Expires: expires},
				signer.CookieOptions{Domain: tp.env["COOKIE_DOMAIN"]})
			if err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			for _, c := range cookies {
				if edit != nil {
					edit(c)
				}
				http.SetCookie(w, c)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"expiresAt": expires, "refreshAfter": expires.Add(-2 * time.Minute),
				"grants": []map[string]string{{"scope": "default", "resource": resource, "cookiePath": "/"}},
			})
		})
	}
}

// waitText waits until the element's text contains s.
func (p *page) waitText(id, s string) {
	p.t.Helper()
	js := "String(document.getElementById(" + quote(id) + ")?.textContent.includes(" + quote(s) + "))"
	for deadline := time.Now().Add(actionTimeout); p.eval("read #"+id, js) != "true"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: #%s never said %q in %s; the page says:\n%s", p.browser, id, s, actionTimeout,
				p.eval("read the page", "document.body.innerText"))
		}
	}
}

// setValue sets the value of the element with id, as a user's choice.
func (p *page) setValue(id, v string) {
	p.t.Helper()
	p.eval("set #"+id, "(() => { const e = document.getElementById("+quote(id)+"); e.value = "+quote(v)+
		"; e.dispatchEvent(new Event('change', { bubbles: true })); return 'ok'; })()")
}

// click clicks the element with id.
func (p *page) click(id string) {
	p.t.Helper()
	p.eval("click #"+id, "document.getElementById("+quote(id)+").click(), 'ok'")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// sampleSize is the size of a file of the emulated CDN's sample media.
func sampleSize(t *testing.T, name string) int {
	t.Helper()
	fi, err := fs.Stat(edge.SampleMedia(), name)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Size())
}
