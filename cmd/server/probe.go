package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/cfcookies/cfcookies/internal/handlers"
	// Renamed: the browser tests of package main declare a type topology.
	topo "github.com/cfcookies/cfcookies/internal/topology"
	"github.com/cfcookies/cfcookies/signer"
)

// probe runs the page's flow against the real endpoints, as a browser on
// the app's origin would, and reports what came back at each step; see
// probeWith.
func probe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return probeWith(ctx, args, stdin, stdout, stderr, nil)
}

// The steps of a probe, in the order the browser takes them.
const (
	stepPreflight = 1 + iota
	stepCookies
	stepMedia
	stepUnsigned
)

var stepNames = map[int]string{
	stepPreflight: "the preflight",
	stepCookies:   "the cookies from the API",
	stepMedia:     "the media with the cookies",
	stepUnsigned:  "the media without cookies",
}

// probeWith is probe with the HTTP transport of every request; nil means
// http.DefaultTransport. Tests pass one that dials loopback only.
//
// It reads the bearer token from stdin (one line; an empty stdin sends no
// Authorization header), then: (1) sends the CORS preflight a browser sends
// before a cross-origin POST with custom headers, (2) POSTs to
// /auth/media-cookies as the page does, and judges every Set-Cookie as a
// browser on the app's origin would, (3) GETs the media URL with the cookies
// the browser would send there and the app's Origin, and (4) GETs it again
// without cookies. It returns nil (exit status 0) when every step is as the
// page needs it, an error (1) naming the first step that breaks the page,
// and a usage error (2) for bad flags or stdin. The token, header values and
// cookie values are never printed.
func probeWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, transport http.RoundTripper) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	apiFlag := fs.String("api", "", "where the SPA calls the service, e.g. https://api.example.com, or the app's origin when CloudFront routes /auth/* to it (required)")
	appFlag := fs.String("app-origin", "", "origin of the SPA's page, e.g. https://app.example.com (required)")
	mediaFlag := fs.String("media", "", "a media file the page loads: a URL, or a path under the grant's resource, e.g. hls/index.m3u8 (required)")
	scope := fs.String("scope", "", `ask for this scope only, with the JSON body {"scopes":[NAME]} (default: every scope the caller is entitled to)`)
	var headers headerFlags
	fs.Var(&headers, "header", `"Name: value", a header the page adds to its call of the API, e.g. "X-Dev-User: alice" in dev mode; repeat for more (values are never printed)`)
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of each request")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: server probe --api URL --app-origin ORIGIN --media URL|PATH [--scope NAME] [--header 'Name: value']... [--timeout 10s] < token")
		fmt.Fprintln(fs.Output(), "Run the page's flow against the real API and CloudFront, as a browser on the app's origin would, and say which step breaks the page.")
		fmt.Fprintln(fs.Output(), "The bearer token is read from stdin (one line, never printed); an empty stdin sends no Authorization header.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	usage := func(format string, a ...any) error {
		return fmt.Errorf("%w: probe: "+format, append([]any{errUsage}, a...)...)
	}
	for _, f := range []struct{ name, value string }{{"--api", *apiFlag}, {"--app-origin", *appFlag}, {"--media", *mediaFlag}} {
		if f.value == "" {
			fs.Usage()
			return usage("%s is required", f.name)
		}
	}
	app, err := topo.ParseOrigin(*appFlag)
	if err != nil {
		return usage("--app-origin %q %v", *appFlag, err)
	}
	endpoint, apiOrigin, err := parseAPI(*apiFlag)
	if err != nil {
		return usage("--api %q %v", *apiFlag, err)
	}
	media, err := parseMedia(*mediaFlag)
	if err != nil {
		return usage("--media %q %v", *mediaFlag, err)
	}
	if *timeout <= 0 {
		return usage("--timeout must be positive")
	}
	if *scope != "" && !printableASCII(*scope) {
		return usage("--scope must be printable ASCII")
	}
	if isTerminal(stdin) {
		fmt.Fprintln(stderr, "probe: reading the bearer token from stdin (it echoes on a terminal: prefer a pipe); an empty line sends none")
	}
	token, err := readToken(stdin)
	if err != nil {
		return usage("stdin: %v", err)
	}
	if token != "" && endpoint.Scheme == "http" && !topo.IsLocalhost(endpoint.Hostname()) {
		return usage("--api %s is plain http: the token is sent over https only (or to a loopback address)", apiOrigin)
	}
	if transport == nil {
		transport = http.DefaultTransport
	}
	p := &prober{
		w:        stdout,
		client:   &http.Client{Transport: transport, Timeout: *timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		app:      app,
		api:      apiOrigin,
		endpoint: endpoint,
		token:    token,
		headers:  headers,
		scope:    *scope,
		media:    media,
	}
	return p.run(ctx)
}

// parseAPI turns --api into the endpoint URL and the API's origin: an
// origin or base URL gets /auth/media-cookies appended, unless it names it.
func parseAPI(s string) (*url.URL, topo.Origin, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return nil, topo.Origin{}, errors.New("must be an http or https URL, e.g. https://api.example.com")
	case u.User != nil, u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return nil, topo.Origin{}, errors.New("must not hold userinfo, a query or a fragment")
	}
	o, err := topo.ParseOrigin(u.Scheme + "://" + u.Host)
	if err != nil {
		return nil, topo.Origin{}, err
	}
	if !strings.HasSuffix(u.Path, handlers.MediaCookiesPath) {
		u.Path = strings.TrimSuffix(u.Path, "/") + handlers.MediaCookiesPath
		u.RawPath = ""
	}
	return u, o, nil
}

// parseMedia accepts an absolute http(s) URL, or a path, resolved later
// against a grant's resource.
func parseMedia(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, errors.New("is neither a URL nor a path")
	case u.Scheme == "" && u.Host == "" && u.Path != "":
		return u, nil
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "":
		return nil, errors.New("must be an http or https URL, or a path such as hls/index.m3u8")
	}
	return u, nil
}

// isTerminal reports whether r is a character device other than
// /dev/null: most likely a terminal, where the probe would wait silently.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// readToken reads the bearer token: the first line of r, without a
// "Bearer " prefix. Errors never quote it.
func readToken(r io.Reader) (string, error) {
	const max = 64 << 10
	line, err := bufio.NewReaderSize(io.LimitReader(r, max+1), 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if len(line) > max {
		return "", fmt.Errorf("the token is longer than %d bytes", max)
	}
	tok := strings.TrimSpace(line)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return "", errors.New("the token holds spaces or characters outside printable ASCII")
	}
	return tok, nil
}

// headerFlags collects --header "Name: value".
type headerFlags []struct{ name, value string }

func (h *headerFlags) String() string { return "" }

func (h *headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	switch {
	case !ok || !httpguts.ValidHeaderFieldName(name):
		return errors.New(`must be "Name: value", e.g. "X-Dev-User: alice"`)
	case !httpguts.ValidHeaderFieldValue(value):
		return fmt.Errorf("the value of %s holds characters a header cannot", name)
	}
	switch strings.ToLower(name) {
	case "authorization":
		return errors.New("pass the bearer token on stdin, not as a header")
	case "origin", "cookie", "host", "content-type", "content-length":
		return fmt.Errorf("%s is set by the probe, as the browser sets it", name)
	}
	*h = append(*h, struct{ name, value string }{http.CanonicalHeaderKey(name), value})
	return nil
}

// A prober runs the steps and keeps what each found.
type prober struct {
	w        io.Writer
	client   *http.Client
	app, api topo.Origin
	endpoint *url.URL
	token    string
	headers  headerFlags
	scope    string
	media    *url.URL // absolute, or a path until resolved

	problems []probeProblem
	step     int
	now      time.Time // when the cookies were received
	// mediaNote says how a --media path was resolved, when it is worth it.
	mediaNote string
}

type probeProblem struct {
	step      int
	text, fix string
}

func (p *prober) line(label, format string, a ...any) {
	fmt.Fprintf(p.w, "  %-8s %s\n", label, fmt.Sprintf(format, a...))
}

func (p *prober) ok(format string, a ...any)   { p.line("ok", format, a...) }
func (p *prober) note(format string, a ...any) { p.line("note", format, a...) }
func (p *prober) got(format string, a ...any)  { p.line("got", format, a...) }
func (p *prober) sent(format string, a ...any) { p.line("sent", format, a...) }

// problem reports what breaks the page at the current step, and its fix.
func (p *prober) problem(fix, format string, a ...any) {
	text := fmt.Sprintf(format, a...)
	p.line("PROBLEM", "%s", text)
	p.problems = append(p.problems, probeProblem{step: p.step, text: text, fix: fix})
}

func (p *prober) section(step int, format string, a ...any) {
	p.step = step
	fmt.Fprintf(p.w, "\n%d. %s\n", step, fmt.Sprintf(format, a...))
}

// run takes the four steps and prints the verdict.
func (p *prober) run(ctx context.Context) error {
	fmt.Fprintln(p.w, "cfcookies probe")
	fmt.Fprintf(p.w, "  app      %s\n", p.app)
	if p.api == p.app {
		fmt.Fprintf(p.w, "  API      %s (the app's origin: no CORS)\n", p.endpoint.Redacted())
	} else {
		fmt.Fprintf(p.w, "  API      %s (another origin than the app's: calls go through CORS)\n", p.endpoint.Redacted())
	}
	if p.token != "" {
		fmt.Fprintln(p.w, "  token    read from stdin (not shown)")
	} else {
		fmt.Fprintln(p.w, "  token    none on stdin: no Authorization header")
	}
	if len(p.headers) > 0 {
		var names []string
		for _, h := range p.headers {
			names = append(names, h.name)
		}
		fmt.Fprintf(p.w, "  headers  %s (values not shown)\n", strings.Join(names, ", "))
	}
	if p.scope != "" {
		fmt.Fprintf(p.w, "  scope    %s\n", p.scope)
	}

	p.preflight(ctx)
	jar, grants := p.issue(ctx)
	mediaURL := p.resolveMedia(grants)
	switch {
	case mediaURL == nil:
		p.section(stepMedia, "Media with the cookies")
		p.note("skipped: --media %s is a path, and the API gave no grant to resolve it against", p.media)
	case len(jar) == 0:
		p.section(stepMedia, "Media with the cookies: GET %s", displayURL(mediaURL))
		p.note("skipped: the API set no cookie (step %d)", stepCookies)
	default:
		p.fetchMedia(ctx, mediaURL, jar, grants)
	}
	if mediaURL != nil {
		p.fetchUnsigned(ctx, mediaURL)
	}
	return p.verdict()
}

// apiHeaderNames are the lower-case names of the non-safelisted headers
// of the page's POST, as a preflight's Access-Control-Request-Headers lists
// them (sorted, as Chromium sends them).
func (p *prober) apiHeaderNames() []string {
	var names []string
	if p.token != "" {
		names = append(names, "authorization")
	}
	if p.scope != "" {
		names = append(names, "content-type") // application/json is not safelisted
	}
	for _, h := range p.headers {
		names = append(names, strings.ToLower(h.name))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// preflight is step 1: the OPTIONS request a browser sends before a
// cross-origin POST with custom headers.
func (p *prober) preflight(ctx context.Context) {
	names := p.apiHeaderNames()
	switch {
	case p.api == p.app:
		p.section(stepPreflight, "Preflight: none (the API is on the app's origin)")
		return
	case len(names) == 0:
		p.section(stepPreflight, "Preflight: none (a POST without custom headers is a simple request)")
		return
	}
	p.section(stepPreflight, "Preflight: OPTIONS %s", p.endpoint.Redacted())
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, p.endpoint.String(), nil)
	if err != nil {
		p.problem("check --api", "cannot build the request: %v", err)
		return
	}
	req.Header.Set("Origin", p.app.String())
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", strings.Join(names, ","))
	p.sent("Origin: %s; Access-Control-Request-Method: POST; Access-Control-Request-Headers: %s", p.app, strings.Join(names, ","))
	resp, err := p.do(req)
	if err != nil {
		p.problem("check --api, and that the API is reachable from here", "no answer: %v", err)
		return
	}
	h := resp.Header
	p.got("%s", resp.Status)
	p.got("%s", corsHeaders(h, "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"))
	corsFix := fmt.Sprintf("the API must answer the preflight for %s with credentials: set CORS_ALLOWED_ORIGINS=%s, and let OPTIONS reach the service through every proxy in front of it (ALB rules, CloudFront behaviour allowed methods)", p.app, p.app)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		p.problem(corsFix, "the preflight answered %s, not 2xx: the browser never sends the POST, and the page sees a CORS error", resp.Status)
		return
	}
	if why := corsProblem(h, p.app.String()); why != "" {
		hint := ""
		if len(h.Values("Access-Control-Allow-Origin")) == 0 {
			hint = fmt.Sprintf(" (a server also refuses a preflight asking for a header it does not allow: %s)", strings.Join(names, ","))
		}
		p.problem(corsFix+"; and allow every header the page sends (cfcookies allows Authorization and Content-Type)",
			"%s: the browser never sends the POST, and the page sees a CORS error%s", why, hint)
		return
	}
	allowed := strings.Split(strings.ToLower(strings.Join(h.Values("Access-Control-Allow-Headers"), ",")), ",")
	for i := range allowed {
		allowed[i] = strings.TrimSpace(allowed[i])
	}
	var missing []string
	for _, n := range names {
		if !slices.Contains(allowed, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		p.problem("allow these headers at the API (cfcookies allows Authorization and Content-Type), or have the page not send them",
			"Access-Control-Allow-Headers lacks %s (a * does not count with credentials): the browser never sends the POST",
			strings.Join(missing, ", "))
		return
	}
	p.ok("the browser may send the POST with %s", strings.Join(names, ", "))
}

// corsProblem says what stops a page on app from reading a credentialed
// cross-origin answer with headers h, or "" when nothing does.
func corsProblem(h http.Header, app string) string {
	acao := h.Values("Access-Control-Allow-Origin")
	switch {
	case len(acao) == 0:
		return "no Access-Control-Allow-Origin"
	case len(acao) > 1:
		return "several Access-Control-Allow-Origin headers, which browsers refuse"
	case acao[0] == "*":
		return "Access-Control-Allow-Origin: *, which browsers refuse for a request with credentials"
	case acao[0] != app:
		return fmt.Sprintf("Access-Control-Allow-Origin: %s, not the app's %s", safeText(acao[0], 100), app)
	case h.Get("Access-Control-Allow-Credentials") != "true":
		return "Access-Control-Allow-Origin without Access-Control-Allow-Credentials: true, which a request with credentials needs"
	}
	return ""
}

// corsHeaders shows the named headers of h, "(none)" for those missing.
func corsHeaders(h http.Header, names ...string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		v := "(none)"
		if vs := h.Values(n); len(vs) > 0 {
			v = safeText(strings.Join(vs, ", "), 200)
		}
		parts = append(parts, n+": "+v)
	}
	return strings.Join(parts, "; ")
}

// An answer is a response with up to 64 KiB of its body, read and closed.
type answer struct {
	Status     string
	StatusCode int
	Header     http.Header
	body       []byte
}

// Cookies parses the answer's Set-Cookie headers.
func (a answer) Cookies() []*http.Cookie { return (&http.Response{Header: a.Header}).Cookies() }

// do sends req and reads up to 64 KiB of the answer's body.
func (p *prober) do(req *http.Request) (answer, error) {
	req.Header.Set("User-Agent", "cfcookies-probe")
	resp, err := p.client.Do(req)
	if err != nil {
		// net/http's errors name the method and URL; the URL has no secret.
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	return answer{Status: resp.Status, StatusCode: resp.StatusCode, Header: resp.Header, body: body}, nil
}

// A grant is one element of the API's "grants".
type grant struct {
	Scope      string `json:"scope"`
	Resource   string `json:"resource"`
	CookiePath string `json:"cookiePath"`
}

// A storedCookie is a Set-Cookie a browser on the app's origin keeps.
type storedCookie struct {
	*http.Cookie
	path string // the effective Path
}

// issue is step 2: the page's POST. It returns the cookies the browser
// stores and the grants.
func (p *prober) issue(ctx context.Context) ([]storedCookie, []grant) {
	p.section(stepCookies, "Cookies: POST %s", p.endpoint.Redacted())
	var body io.Reader
	if p.scope != "" {
		b, _ := json.Marshal(map[string][]string{"scopes": {p.scope}})
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint.String(), body)
	if err != nil {
		p.problem("check --api", "cannot build the request: %v", err)
		return nil, nil
	}
	req.Header.Set("Origin", p.app.String()) // browsers send it with every POST
	sent := []string{"Origin: " + p.app.String()}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
		sent = append(sent, "Authorization: Bearer (from stdin)")
	}
	if p.scope != "" {
		req.Header.Set("Content-Type", "application/json")
		sent = append(sent, "Content-Type: application/json")
	}
	for _, h := range p.headers {
		req.Header.Add(h.name, h.value)
		sent = append(sent, h.name+": (not shown)")
	}
	p.sent("%s", strings.Join(sent, "; "))
	resp, err := p.do(req)
	if err != nil {
		p.problem("check --api, and that the API is reachable from here", "no answer: %v", err)
		return nil, nil
	}
	p.now = time.Now()
	h := resp.Header
	status := resp.Status
	if id := h.Get("X-Request-Id"); id != "" {
		status += "; X-Request-Id: " + safeText(id, 100)
	}
	p.got("%s", status)
	crossOrigin := p.api != p.app
	if crossOrigin {
		p.got("%s", corsHeaders(h, "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"))
		if why := corsProblem(h, p.app.String()); why != "" {
			p.problem(fmt.Sprintf("set CORS_ALLOWED_ORIGINS=%s on the service (exactly that origin; never *)", p.app),
				"%s: the page cannot read the answer, and its fetch fails with a CORS error", why)
		} else {
			p.ok("CORS lets the page read the answer")
		}
	}
	if resp.StatusCode != http.StatusOK {
		p.problem(apiFix(resp.StatusCode), "the API answered %s%s", resp.Status, problemDetails(h, resp.body))
		return nil, nil
	}
	if !strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store") {
		p.note("no Cache-Control: no-store: a cache between the page and the API could hand one caller's cookies to another")
	}
	var issued struct {
		ExpiresAt    string  `json:"expiresAt"`
		RefreshAfter string  `json:"refreshAfter"`
		Grants       []grant `json:"grants"`
	}
	if err := json.Unmarshal(resp.body, &issued); err != nil {
		p.note("the answer is not the JSON the page expects (%v)", err)
	}
	for _, g := range issued.Grants {
		p.line("grant", "%s %s (cookie Path %s)", safeText(g.Scope, 100), safeText(g.Resource, 300), safeText(g.CookiePath, 100))
	}
	if issued.ExpiresAt != "" {
		p.line("expires", "%s; refresh after %s", safeText(issued.ExpiresAt, 40), safeText(issued.RefreshAfter, 40))
	}

	var jar []storedCookie
	for _, c := range resp.Cookies() {
		attrs := cookieAttrs(c)
		if why := p.rejectReason(c); why != nil {
			p.problem(why.fix, "%s  %s: the browser does not store it: %s", c.Name, attrs, why.text)
			continue
		}
		path := c.Path
		if path == "" {
			path = topo.DefaultCookiePath(p.endpoint.Path)
		}
		p.ok("%s  %s: stored", c.Name, attrs)
		jar = append(jar, storedCookie{Cookie: c, path: path})
	}
	var missing []string
	for _, name := range []string{signer.CookiePolicy, signer.CookieSignature, signer.CookieKeyPairID} {
		if !slices.ContainsFunc(jar, func(c storedCookie) bool { return c.Name == name }) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		p.problem("see the lines above, and run `server check` with the same environment as the service",
			"the browser keeps no %s: CloudFront will answer 403 MissingKey", strings.Join(missing, ", "))
	}
	return jar, issued.Grants
}

// apiFix is the fix for a failed POST with status code.
func apiFix(code int) string {
	switch code {
	case http.StatusUnauthorized:
		return "pass a current token on stdin, one the service accepts (OIDC_ISSUER, OIDC_AUDIENCE, or AUTH_MODE's header); the service's log says why it refused, under the X-Request-Id"
	case http.StatusForbidden:
		return "ask for a scope the caller is entitled to (--scope; SCOPES_FILE says who may have which)"
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return "point --api at what the page calls: the service's origin, or the app's when CloudFront routes /auth/* to the service"
	case http.StatusTooManyRequests:
		return "wait, then probe again: the service limits each caller's rate"
	}
	return "see the service's log under the X-Request-Id"
}

// problemDetails describes a problem+json body: ": type; title; detail".
func problemDetails(h http.Header, body []byte) string {
	mt := strings.ToLower(strings.TrimSpace(strings.Split(h.Get("Content-Type"), ";")[0]))
	if mt != "application/problem+json" && mt != "application/json" {
		return ""
	}
	var pr struct{ Type, Title, Detail string }
	if json.Unmarshal(body, &pr) != nil {
		return ""
	}
	var parts []string
	for _, f := range []struct{ name, v string }{{"type", pr.Type}, {"title", pr.Title}, {"detail", pr.Detail}} {
		if f.v != "" {
			parts = append(parts, fmt.Sprintf("%s %q", f.name, safeText(f.v, 300)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// cookieAttrs shows a cookie's attributes, never its value.
func cookieAttrs(c *http.Cookie) string {
	var a []string
	if c.Domain != "" {
		a = append(a, "Domain="+safeText(c.Domain, 100))
	}
	if c.Path != "" {
		a = append(a, "Path="+safeText(c.Path, 100))
	} else {
		a = append(a, "no Path")
	}
	if c.Secure {
		a = append(a, "Secure")
	}
	if c.HttpOnly {
		a = append(a, "HttpOnly")
	}
	a = append(a, "SameSite="+sameSiteName(c.SameSite))
	switch {
	case c.MaxAge > 0:
		a = append(a, fmt.Sprintf("Max-Age=%d", c.MaxAge))
	case c.MaxAge < 0:
		a = append(a, "Max-Age=0")
	}
	if !c.Expires.IsZero() {
		a = append(a, "Expires="+c.Expires.UTC().Format(time.RFC3339))
	}
	return strings.Join(a, "; ")
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return "unset (Lax)"
}

type reason struct{ text, fix string }

// rejectReason says why a browser showing the app would not store the
// Set-Cookie c received from the API, or returns nil.
func (p *prober) rejectReason(c *http.Cookie) *reason {
	domain := strings.TrimPrefix(c.Domain, ".")
	opts := signer.CookieOptions{Domain: c.Domain, Path: c.Path, SameSite: c.SameSite, Insecure: !c.Secure, ScriptReadable: !c.HttpOnly}
	if c.SameSite == http.SameSiteDefaultMode {
		opts.SameSite = 0
	}
	switch err := opts.Check(); {
	case err != nil:
		return &reason{strings.TrimPrefix(err.Error(), "signer: "), "fix COOKIE_DOMAIN, COOKIE_PATH, COOKIE_SAMESITE or COOKIE_SECURE: `server check` explains each"}
	case c.MaxAge < 0 || !c.Expires.IsZero() && !c.Expires.After(p.now):
		return &reason{"it has already expired (Max-Age=0 or an Expires in the past), so it deletes the cookie", "check the service's clock and COOKIE_TTL"}
	case domain != "" && !signer.DomainMatch(p.api.Host, domain):
		return &reason{fmt.Sprintf("the API host %s is neither %s nor under it", p.api.Host, domain), "set COOKIE_DOMAIN to a parent of both the API's host and CloudFront's, or route /auth/* through the distribution"}
	case c.Secure && !p.api.Trustworthy():
		return &reason{fmt.Sprintf("it is Secure but came over plain http from %s", p.api), "serve the API over https"}
	case p.app.Site() != p.api.Site() && c.SameSite != http.SameSiteNoneMode:
		return &reason{fmt.Sprintf("the app %s and the API %s are different sites, and a SameSite=%s cookie from a cross-site fetch answer is refused", p.app, p.api, sameSiteName(c.SameSite)),
			"serve the API under the app's registrable domain, or route /auth/* through the distribution"}
	}
	return nil
}

// sendReason says why a browser showing the app would not send the stored
// cookie c with a request for u, or returns "".
func (p *prober) sendReason(c storedCookie, u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	media := topo.Origin{Scheme: strings.ToLower(u.Scheme), Host: host}
	domain := strings.TrimPrefix(c.Domain, ".")
	switch {
	case domain != "" && !signer.DomainMatch(host, domain):
		return fmt.Sprintf("%s is neither %s nor under it", host, domain)
	case domain == "" && host != p.api.Host:
		return fmt.Sprintf("the cookie is host-only (no Domain): it goes back to the API host %s only", p.api.Host)
	case !signer.PathMatch(u.EscapedPath(), c.path):
		return fmt.Sprintf("its Path %s does not cover %s", c.path, u.EscapedPath())
	case c.Secure && !media.Trustworthy():
		return "it is Secure and the media URL is plain http"
	case p.app.Site() != media.Site() && c.SameSite != http.SameSiteNoneMode:
		return fmt.Sprintf("the app %s and %s are different sites, and it is SameSite=%s", p.app, host, sameSiteName(c.SameSite))
	}
	return ""
}

// resolveMedia turns --media into a URL: a path is taken under the
// resource of the grant of --scope, or of the only (else first) grant.
func (p *prober) resolveMedia(grants []grant) *url.URL {
	if p.media.IsAbs() {
		return p.media
	}
	i := 0
	if p.scope != "" {
		i = slices.IndexFunc(grants, func(g grant) bool { return g.Scope == p.scope })
	}
	if i < 0 || i >= len(grants) {
		return nil
	}
	g := grants[i]
	base, err := url.Parse(g.Resource)
	if err != nil || base.Host == "" || strings.ContainsAny(base.Host, "*?") {
		return nil
	}
	if len(grants) > 1 && p.scope == "" {
		p.mediaNote = fmt.Sprintf("--media %s taken under the first grant, scope %s: choose another with --scope", p.media, safeText(g.Scope, 100))
	}
	// The resource's path up to its first wildcard, cut after its last "/".
	prefix := base.EscapedPath()
	if i := strings.IndexAny(prefix, "*?"); i >= 0 {
		prefix = prefix[:i]
	}
	prefix = prefix[:strings.LastIndexByte(prefix, '/')+1]
	if strings.HasPrefix(p.media.Path, "/") {
		prefix = ""
	}
	u, err := url.Parse(base.Scheme + "://" + base.Host + prefix + p.media.EscapedPath())
	if err != nil {
		return nil
	}
	u.RawQuery = p.media.RawQuery
	return u
}

// displayURL is u without its query, which may hold anything.
func displayURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.ForceQuery, v.Fragment, v.User = "", false, "", nil
	return v.String()
}

// fetchMedia is step 3: the page's request for the media, with the cookies
// the browser sends there and, cross-origin, the app's Origin.
func (p *prober) fetchMedia(ctx context.Context, u *url.URL, jar []storedCookie, grants []grant) {
	p.section(stepMedia, "Media with the cookies: GET %s", displayURL(u))
	if p.mediaNote != "" {
		p.note("%s", p.mediaNote)
	}
	reqURL := signer.RequestURL(u)
	covered := slices.ContainsFunc(grants, func(g grant) bool { return signer.MatchResource(g.Resource, reqURL) })
	if !covered && len(grants) > 0 {
		p.note("no grant's resource covers this URL: CloudFront will deny it whatever the cookies")
	}
	var send []storedCookie
	for _, c := range jar {
		if why := p.sendReason(c, u); why != "" {
			p.note("%s not sent: %s", c.Name, why)
			continue
		}
		send = append(send, c)
	}
	// Browsers send longer paths first; equal ones in creation order.
	slices.SortStableFunc(send, func(a, b storedCookie) int { return len(b.path) - len(a.path) })
	var missing []string
	for _, name := range []string{signer.CookiePolicy, signer.CookieSignature, signer.CookieKeyPairID} {
		if !slices.ContainsFunc(send, func(c storedCookie) bool { return c.Name == name }) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		p.problem("make the cookies' Domain cover CloudFront's host (COOKIE_DOMAIN), their Path cover the media (COOKIE_PATH, the scopes' paths), serve CloudFront over https, and keep the app and CloudFront one site or use SameSite=None: `server check` explains each",
			"the browser would not send %s to %s: CloudFront answers 403 MissingKey", strings.Join(missing, ", "), u.Host)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		p.problem("check --media", "cannot build the request: %v", err)
		return
	}
	crossOrigin := p.crossOrigin(u)
	var names []string
	for _, c := range send {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value}) // #nosec G124 -- a Cookie header carries names and values only
		names = append(names, c.Name)
	}
	var sent []string
	if crossOrigin {
		req.Header.Set("Origin", p.app.String())
		sent = append(sent, "Origin: "+p.app.String())
	}
	if len(names) > 0 {
		sent = append(sent, "Cookie: "+strings.Join(names, ", ")+" (values not shown)")
	} else {
		sent = append(sent, "no cookie")
	}
	p.sent("%s", strings.Join(sent, "; "))
	resp, err := p.do(req)
	if err != nil {
		p.problem("check --media, and that CloudFront is reachable from here", "no answer: %v", err)
		return
	}
	h := resp.Header
	p.got("%s; %s", resp.Status, corsHeaders(h, "X-Cache", "Content-Type"))
	if crossOrigin {
		p.got("%s", corsHeaders(h, "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary"))
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		p.denied(u, send, h, resp.body, crossOrigin)
		return
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		p.problem("probe the URL the page ends up at with --media, or fix the redirect (an http to https redirect: link to https)",
			"a redirect to %s", safeText(h.Get("Location"), 200))
		return
	case resp.StatusCode == http.StatusNotFound:
		p.problem("probe a file that exists with --media; if it does exist, check the origin's path (origin path, S3 key)",
			"CloudFront accepted the cookies, but the origin has no such object (%s)", resp.Status)
		return
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		p.problem("see the distribution's and the origin's logs", "the media answered %s%s", resp.Status, xmlError(resp.body))
		return
	}
	p.ok("CloudFront accepted the cookies")
	if !crossOrigin {
		p.ok("the media is on the app's origin: no CORS is involved")
		return
	}
	corsFix := fmt.Sprintf("the media behaviour must answer credentialed CORS for %s: attach a response headers policy (or an S3 CORS rule) allowing that origin, GET and HEAD, with credentials, and forward Origin to the origin", p.app)
	if strings.Contains(strings.ToLower(h.Get("X-Cache")), "hit") {
		corsFix += "; then invalidate the cached objects (x-cache says Hit: this answer may predate the fix)"
	}
	if why := corsProblem(h, p.app.String()); why != "" {
		p.problem(corsFix, "%s: the page's fetch, hls.js, Shaka and <video crossorigin> fail with a CORS error (plain <img> and <video> still work)", why)
		return
	}
	p.ok("CORS lets the page read the media with credentials")
	if !varyHas(h, "Origin") {
		p.problem("add Origin to the cache key (a cache policy with Origin in its headers, or forward it with the CORS-S3Origin origin request policy) so that CloudFront keeps one answer per Origin and sends Vary: Origin",
			"no Vary: Origin on an answer that echoes the Origin: CloudFront can serve this answer, cached, to another origin (or to a plain <img> load) and back, and the page then fails with a CORS error now and then")
		return
	}
	p.ok("Vary: Origin: cached answers are kept per origin")
}

// crossOrigin reports whether a request for u leaves the app's origin.
func (p *prober) crossOrigin(u *url.URL) bool {
	o, err := topo.ParseOrigin(u.Scheme + "://" + u.Host)
	return err != nil || o != p.app
}

func varyHas(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, name) {
				return true
			}
		}
	}
	return false
}

// xmlError describes an AWS <Error> body: " (Code: Message)", or "".
func xmlError(body []byte) string {
	var e struct{ Code, Message string }
	if xml.Unmarshal(body, &e) != nil || e.Code == "" {
		return ""
	}
	return fmt.Sprintf(" (%s: %s)", safeText(e.Code, 60), safeText(e.Message, 200))
}

// denied explains CloudFront's 403 to the media request with cookies.
func (p *prober) denied(u *url.URL, send []storedCookie, h http.Header, body []byte, crossOrigin bool) {
	var e struct{ Code, Message string }
	_ = xml.Unmarshal(body, &e)
	corsNote := ""
	if crossOrigin && len(h.Values("Access-Control-Allow-Origin")) == 0 {
		corsNote = "; the page sees it as a CORS error (a TypeError, \"Failed to fetch\"), since the 403 carries no Access-Control-Allow-Origin, but the cause is the 403, not CORS"
	}
	var policy, keyID, hash string
	for _, c := range send {
		switch {
		case c.Name == signer.CookiePolicy && policy == "":
			policy = c.Value
		case c.Name == signer.CookieKeyPairID && keyID == "":
			keyID = c.Value
		case c.Name == signer.CookieHashAlgorithm && hash == "":
			hash = c.Value
		}
	}
	verifyHint := fmt.Sprintf("`server verify --url %s --cookie - --public-key KEYID=public.pem` says exactly why, given the Cookie header and the key group's public keys", displayURL(u))
	fix := ""
	switch pol, err := signer.DecodePolicy(policy); {
	case policy == "" || keyID == "":
		fix = "the browser sent no signed cookies: see step 2's lines on Domain, Path, Secure and SameSite"
	case err != nil:
		fix = "the service issued a CloudFront-Policy CloudFront cannot read: " + verifyHint
	case !signer.MatchResource(pol.Resource, signer.RequestURL(u)):
		fix = fmt.Sprintf("the policy's Resource %s does not cover this URL: probe a file under it, or fix MEDIA_PATH or the scope's path (and CLOUDFRONT_DOMAIN, whose scheme and host start the Resource)", safeText(pol.Resource, 300))
	case !pol.Expires.After(time.Now()):
		fix = fmt.Sprintf("the policy expired at %s: check the service's clock and COOKIE_TTL", pol.Expires.Format(time.RFC3339))
	case !pol.NotBefore.IsZero() && !time.Now().After(pol.NotBefore):
		fix = fmt.Sprintf("the policy is valid only after %s: check the service's clock", pol.NotBefore.Format(time.RFC3339))
	case pol.IPRange.IsValid():
		fix = fmt.Sprintf("the policy holds only for %s: CloudFront saw another client address (a proxy, IPv6, or TRUSTED_PROXIES); else %s", pol.IPRange, verifyHint)
	default:
		id := "the cookies' key pair ID"
		if signer.CheckKeyPairID(keyID) == nil {
			id = "key pair ID " + keyID
		}
		fix = fmt.Sprintf("the policy covers this URL and has not expired, so the key is the likely cause: is %s in the trusted key group of the behaviour serving this path, with the public key of the service's private key (`server public-key` prints it)?", id)
		if hash == string(signer.SHA256) {
			fix += " If it is, CloudFront may not accept CloudFront-Hash-Algorithm=SHA256 here (try CLOUDFRONT_HASH_ALGORITHM=SHA1 with an RSA key to tell)."
		}
		fix += " " + verifyHint
	}
	code := ""
	if e.Code != "" {
		code = fmt.Sprintf(" %s (%s)", safeText(e.Code, 60), safeText(e.Message, 200))
	}
	p.problem(fix, "CloudFront denied the media with the cookies: 403%s%s", code, corsNote)
}

// fetchUnsigned is step 4: the same request without cookies, which a
// restricted behaviour refuses.
func (p *prober) fetchUnsigned(ctx context.Context, u *url.URL) {
	p.section(stepUnsigned, "Media without cookies: GET %s", displayURL(u))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		p.problem("check --media", "cannot build the request: %v", err)
		return
	}
	sent := "no cookie"
	if p.crossOrigin(u) {
		req.Header.Set("Origin", p.app.String())
		sent = "Origin: " + p.app.String() + "; no cookie"
	}
	p.sent("%s", sent)
	resp, err := p.do(req)
	if err != nil {
		p.problem("check --media, and that CloudFront is reachable from here", "no answer: %v", err)
		return
	}
	p.got("%s%s; %s", resp.Status, xmlError(resp.body), corsHeaders(resp.Header, "X-Cache"))
	switch {
	case resp.StatusCode == http.StatusForbidden:
		p.ok("CloudFront refuses the media without cookies: the behaviour restricts viewer access")
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		p.problem("turn on \"Restrict viewer access\" with the trusted key group on the cache behaviour serving this path (trusted_key_groups in Terraform), and keep the bucket private (origin access control)",
			"CloudFront served the media without any cookie: the behaviour does not restrict viewer access, so anyone with the URL gets it")
	default:
		p.note("answered %s: not the 403 a restricted behaviour gives, nor the media", resp.Status)
	}
}

// verdict prints which step breaks the page and the fixes, and returns
// the error for the exit status.
func (p *prober) verdict() error {
	fmt.Fprintln(p.w)
	if len(p.problems) == 0 {
		fmt.Fprintln(p.w, "No problem found: the page gets the cookies, CloudFront serves it the media with them, and refuses the media without them.")
		return nil
	}
	first := p.problems[0]
	breaks := "breaks the page"
	if first.step == stepUnsigned {
		breaks = "is a problem"
	}
	fmt.Fprintf(p.w, "%s: step %d (%s) %s.\n", count(len(p.problems), "problem"), first.step, stepNames[first.step], breaks)
	for _, pr := range p.problems {
		fmt.Fprintf(p.w, "  step %d: %s\n", pr.step, pr.text)
		fmt.Fprintf(p.w, "    fix: %s\n", pr.fix)
	}
	return fmt.Errorf("probe: %s found; step %d (%s) %s", count(len(p.problems), "problem"), first.step, stepNames[first.step], breaks)
}

// count is "1 problem" or "n problems".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// safeText is s, from a server, made safe to print: control characters
// replaced, at most max runes.
func safeText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '?'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}

func printableASCII(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r >= 0x7f })
}
