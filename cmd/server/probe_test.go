package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/internal/edge"
	"github.com/cfcookies/cfcookies/signer"
)

// probeApp is the SPA's origin in the probe tests: the same site as the
// service and the emulated CloudFront on 127.0.0.1, another origin. Nothing
// listens there; the probe never calls it.
const probeApp = "http://127.0.0.1:5173"

// loopbackTransport dials loopback addresses only: a probe test never
// reaches beyond this machine, whatever URL it is given. A host name must
// resolve to loopback addresses only.
func loopbackTransport() *http.Transport {
	var d net.Dialer
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			if len(ips) == 0 || slices.ContainsFunc(ips, func(a netip.Addr) bool { return !a.IsLoopback() }) {
				return nil, fmt.Errorf("probe test: refusing to dial %s, which is not loopback", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	}
}

// probeRig is the service (--dev, AUTH_MODE=oidc, the test key) and an
// emulated CloudFront on loopback, as a probe meets them.
type probeRig struct {
	api   string // the service's base URL
	cdn   string // CloudFront's base URL, CLOUDFRONT_DOMAIN
	app   string // the SPA's origin
	token string // alice's bearer token
	seen  *seenCookies
}

type probeRigOptions struct {
	// sameOrigin puts the service behind the distribution under /auth/*:
	// app, API and media share one origin.
	sameOrigin bool
	// corsOff leaves the app's origin out of the bucket's CORS rule.
	corsOff bool
	// otherKey makes the distribution trust another key under the
	// service's key pair ID, so that it denies every cookie.
	otherKey bool
	// apiCORS is CORS_ALLOWED_ORIGINS; empty means the app's origin.
	apiCORS string
	// wrap edits the emulated CloudFront's answers.
	wrap func(http.Handler) http.Handler
}

// seenCookies records every cookie value the distribution received, to
// check that none is printed.
type seenCookies struct {
	mu     sync.Mutex
	values []string
}

func (s *seenCookies) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		for _, c := range r.Cookies() {
			s.values = append(s.values, c.Value)
		}
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (s *seenCookies) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.values)
}

func newProbeRig(t *testing.T, is *testIssuer, o probeRigOptions) *probeRig {
	t.Helper()
	front := httptest.NewUnstartedServer(nil)
	t.Cleanup(front.Close)
	rig := &probeRig{cdn: "http://" + front.Listener.Addr().String(), app: probeApp, seen: &seenCookies{}}
	extra := map[string]string{"AUTH_MODE": "oidc", "CLOUDFRONT_DOMAIN": rig.cdn, "CORS_ALLOWED_ORIGINS": probeApp}
	if o.apiCORS != "" {
		extra["CORS_ALLOWED_ORIGINS"] = o.apiCORS
	}
	if o.sameOrigin {
		rig.app = rig.cdn
		delete(extra, "CORS_ALLOWED_ORIGINS")
	}
	api, _, _ := startServer(t, []string{"server", "--dev"}, oidcEnv(t, is, "", extra))
	rig.api = api
	if o.sameOrigin {
		rig.api = rig.cdn
	}

	pemBytes, err := os.ReadFile(testKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signer.ParsePublicKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if o.otherKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = k.Public()
	}
	v, err := edge.NewVerifier(map[string]crypto.PublicKey{testKeyPairID: pub}, edge.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cors []string
	if !o.corsOff && !o.sameOrigin {
		cors = []string{probeApp}
	}
	cdn := edge.NewCDN(edge.CDNOptions{Verifier: v, CORSAllowedOrigins: cors})
	if o.wrap != nil {
		cdn = o.wrap(cdn)
	}
	cdn = rig.seen.wrap(cdn)
	if o.sameOrigin {
		target, _ := url.Parse(api)
		mux := http.NewServeMux()
		mux.Handle("/auth/", httputil.NewSingleHostReverseProxy(target))
		mux.Handle("/", cdn)
		cdn = mux
	}
	front.Config.Handler = cdn
	front.Start()
	rig.token = is.token(t, is.key, nil)
	return rig
}

// probeArgs are the probe's arguments for rig, asking for alice's image.
func (rig *probeRig) probeArgs(extra ...string) []string {
	return append([]string{"--api", rig.api, "--app-origin", rig.app, "--media", "image.svg", "--timeout", "5s"}, extra...)
}

// runProbe runs the probe with stdin and returns its output and exit status.
func runProbe(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := probeWith(context.Background(), args, strings.NewReader(stdin), &out, &errOut, loopbackTransport())
	if err != nil {
		code = exitCode(err)
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// editAnswers edits the answers of h: edit gets the request, the status
// and the headers before they are written.
func editAnswers(h http.Handler, edit func(r *http.Request, status int, hdr http.Header)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&editingWriter{ResponseWriter: w, edit: func(status int) { edit(r, status, w.Header()) }}, r)
	})
}

type editingWriter struct {
	http.ResponseWriter
	edit  func(status int)
	wrote bool
}

func (w *editingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.edit(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *editingWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// TestProbe runs the probe against the real service and the emulated
// CloudFront, set up right and set up wrong in the ways the issue names,
// and checks the report line by line.
func TestProbe(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	ok2xx := func(status int) bool { return status >= 200 && status <= 299 }
	tests := []struct {
		name  string
		opts  probeRigOptions
		stdin func(rig *probeRig) string // default: the token
		args  func(rig *probeRig) []string
		code  int
		want  []string // lines or parts of lines, in order
		never []string // nowhere in the output
	}{
		{
			name: "cross-origin, all well",
			code: 0,
			want: []string{
				"  token    read from stdin (not shown)\n",
				"1. Preflight: OPTIONS ",
				"  sent     Origin: " + probeApp + "; Access-Control-Request-Method: POST; Access-Control-Request-Headers: authorization\n",
				"  got      Access-Control-Allow-Origin: " + probeApp + "; Access-Control-Allow-Credentials: true;",
				"  ok       the browser may send the POST with authorization\n",
				"2. Cookies: POST ",
				"  sent     Origin: " + probeApp + "; Authorization: Bearer (from stdin)\n",
				"  got      200 OK; X-Request-Id: ",
				"  ok       CORS lets the page read the answer\n",
				"  grant    default http://127.0.0.1:",
				"  ok       CloudFront-Policy  Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=",
				"  ok       CloudFront-Signature  Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=",
				"  ok       CloudFront-Key-Pair-Id  ",
				"  ok       CloudFront-Hash-Algorithm  ",
				"3. Media with the cookies: GET http://127.0.0.1:",
				"/media/alice/image.svg\n",
				"  sent     Origin: " + probeApp + "; Cookie: CloudFront-Policy, CloudFront-Signature, CloudFront-Key-Pair-Id, CloudFront-Hash-Algorithm (values not shown)\n",
				"  got      200 OK; X-Cache: Miss from cloudfront; Content-Type: image/svg+xml\n",
				"  got      Access-Control-Allow-Origin: " + probeApp + "; Access-Control-Allow-Credentials: true; Vary: Origin\n",
				"  ok       CloudFront accepted the cookies\n",
				"  ok       CORS lets the page read the media with credentials\n",
				"  ok       Vary: Origin: cached answers are kept per origin\n",
				"4. Media without cookies: GET ",
				"  sent     Origin: " + probeApp + "; no cookie\n",
				"  got      403 Forbidden (MissingKey: Missing Key-Pair-Id query parameter or cookie value); X-Cache: Error from cloudfront\n",
				"  ok       CloudFront refuses the media without cookies: the behaviour restricts viewer access\n",
				"No problem found",
			},
			never: []string{"PROBLEM", "note "},
		},
		{
			name: "same origin: CloudFront routes /auth/* to the service",
			opts: probeRigOptions{sameOrigin: true},
			code: 0,
			want: []string{
				"(the app's origin: no CORS)\n",
				"1. Preflight: none (the API is on the app's origin)\n",
				"  ok       CloudFront-Policy  Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=",
				"  sent     Cookie: CloudFront-Policy, CloudFront-Signature, CloudFront-Key-Pair-Id, CloudFront-Hash-Algorithm (values not shown)\n",
				"  ok       the media is on the app's origin: no CORS is involved\n",
				"  sent     no cookie\n",
				"  ok       CloudFront refuses the media without cookies",
				"No problem found",
			},
			never: []string{"PROBLEM", "Access-Control-", "Origin: http://127.0.0.1:5173"},
		},
		{
			name: "CloudFront without CORS on allowed answers",
			opts: probeRigOptions{corsOff: true},
			code: 1,
			want: []string{
				"  ok       CloudFront accepted the cookies\n",
				"  PROBLEM  no Access-Control-Allow-Origin: the page's fetch, hls.js, Shaka and <video crossorigin> fail with a CORS error",
				"1 problem: step 3 (the media with the cookies) breaks the page.\n",
				"    fix: the media behaviour must answer credentialed CORS for " + probeApp + ": attach a response headers policy (or an S3 CORS rule)",
				"and forward Origin to the origin",
			},
		},
		{
			name: "CloudFront answering * with credentials",
			opts: probeRigOptions{wrap: func(h http.Handler) http.Handler {
				return editAnswers(h, func(_ *http.Request, status int, hdr http.Header) {
					if ok2xx(status) {
						hdr.Set("Access-Control-Allow-Origin", "*")
					}
				})
			}},
			code: 1,
			want: []string{
				"  got      Access-Control-Allow-Origin: *; Access-Control-Allow-Credentials: true; Vary: Origin\n",
				"  PROBLEM  Access-Control-Allow-Origin: *, which browsers refuse for a request with credentials",
				"1 problem: step 3 (the media with the cookies) breaks the page.\n",
			},
		},
		{
			name: "CloudFront allowing the origin without credentials",
			opts: probeRigOptions{wrap: func(h http.Handler) http.Handler {
				return editAnswers(h, func(_ *http.Request, _ int, hdr http.Header) { hdr.Del("Access-Control-Allow-Credentials") })
			}},
			code: 1,
			want: []string{
				"  PROBLEM  Access-Control-Allow-Origin without Access-Control-Allow-Credentials: true",
				"step 3 (the media with the cookies) breaks the page",
			},
		},
		{
			name: "CloudFront trusting another key denies, without CORS",
			opts: probeRigOptions{otherKey: true},
			code: 1,
			want: []string{
				"  got      403 Forbidden; X-Cache: Error from cloudfront; Content-Type: text/xml\n",
				"  got      Access-Control-Allow-Origin: (none); Access-Control-Allow-Credentials: (none); Vary: (none)\n",
				"  PROBLEM  CloudFront denied the media with the cookies: 403 AccessDenied (Access denied); the page sees it as a CORS error",
				"but the cause is the 403, not CORS\n",
				"  ok       CloudFront refuses the media without cookies",
				"1 problem: step 3 (the media with the cookies) breaks the page.\n",
				"    fix: the policy covers this URL and has not expired, so the key is the likely cause: is key pair ID " + testKeyPairID + " in the trusted key group",
				"`server public-key` prints it",
				"`server verify --url http://127.0.0.1:",
			},
		},
		{
			name:  "wrong token",
			stdin: func(rig *probeRig) string { return "Bearer " + rig.token[:len(rig.token)-8] + "AAAAAAAA\n" },
			code:  1,
			want: []string{
				"  ok       the browser may send the POST with authorization\n",
				"  got      401 Unauthorized; X-Request-Id: ",
				"  ok       CORS lets the page read the answer\n",
				`  PROBLEM  the API answered 401 Unauthorized: type "`,
				"3. Media with the cookies\n",
				"  note     skipped: --media image.svg is a path, and the API gave no grant to resolve it against\n",
				"1 problem: step 2 (the cookies from the API) breaks the page.\n",
				"    fix: pass a current token on stdin",
			},
			never: []string{"4. Media"},
		},
		{
			name: "CloudFront without Vary: Origin",
			opts: probeRigOptions{wrap: func(h http.Handler) http.Handler {
				return editAnswers(h, func(_ *http.Request, _ int, hdr http.Header) { hdr.Del("Vary") })
			}},
			code: 1,
			want: []string{
				"  ok       CORS lets the page read the media with credentials\n",
				"  PROBLEM  no Vary: Origin on an answer that echoes the Origin",
				"1 problem: step 3 (the media with the cookies) breaks the page.\n",
				"    fix: add Origin to the cache key",
			},
		},
		{
			name: "API not allowing the app's origin",
			opts: probeRigOptions{apiCORS: "http://127.0.0.1:5174"},
			code: 1,
			want: []string{
				"  PROBLEM  no Access-Control-Allow-Origin: the browser never sends the POST, and the page sees a CORS error (a server also refuses a preflight asking for a header it does not allow: authorization)\n",
				"  PROBLEM  no Access-Control-Allow-Origin: the page cannot read the answer",
				"2 problems: step 1 (the preflight) breaks the page.\n",
				"    fix: the API must answer the preflight for " + probeApp + " with credentials: set CORS_ALLOWED_ORIGINS=" + probeApp,
			},
		},
		{
			name: "a header the API does not allow",
			args: func(rig *probeRig) []string { return rig.probeArgs("--header", "X-Dev-User: alice") },
			code: 1,
			want: []string{
				"  headers  X-Dev-User (values not shown)\n",
				"Access-Control-Request-Headers: authorization,x-dev-user\n",
				"  PROBLEM  no Access-Control-Allow-Origin: the browser never sends the POST, and the page sees a CORS error (a server also refuses a preflight asking for a header it does not allow: authorization,x-dev-user)\n",
				// The probe goes on: the rest works.
				"  ok       CloudFront accepted the cookies\n",
				"1 problem: step 1 (the preflight) breaks the page.\n",
			},
			never: []string{": alice"},
		},
		{
			name: "CloudFront serving without cookies",
			opts: probeRigOptions{wrap: func(h http.Handler) http.Handler {
				files := http.FileServerFS(edge.SampleMedia())
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if len(r.Cookies()) > 0 {
						h.ServeHTTP(w, r)
						return
					}
					w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
					w.Header().Set("Access-Control-Allow-Credentials", "true")
					w.Header().Set("Vary", "Origin")
					files.ServeHTTP(w, r)
				})
			}},
			code: 1,
			want: []string{
				"  ok       Vary: Origin: cached answers are kept per origin\n",
				"  PROBLEM  CloudFront served the media without any cookie: the behaviour does not restrict viewer access",
				"1 problem: step 4 (the media without cookies) is a problem.\n",
				`    fix: turn on "Restrict viewer access" with the trusted key group`,
			},
		},
		{
			name: "media on a host the cookies do not go to",
			args: func(rig *probeRig) []string {
				_, port, _ := net.SplitHostPort(strings.TrimPrefix(rig.cdn, "http://"))
				return rig.probeArgs("--media", "http://localhost:"+port+"/media/alice/image.svg")
			},
			code: 1,
			want: []string{
				"  note     no grant's resource covers this URL",
				"  note     CloudFront-Policy not sent: the cookie is host-only (no Domain): it goes back to the API host 127.0.0.1 only\n",
				"  PROBLEM  the browser would not send CloudFront-Policy, CloudFront-Signature, CloudFront-Key-Pair-Id to localhost:",
				"  sent     Origin: " + probeApp + "; no cookie\n",
				"  PROBLEM  CloudFront denied the media with the cookies: 403 MissingKey",
				"step 3 (the media with the cookies) breaks the page",
				"    fix: the browser sent no signed cookies",
			},
		},
		{
			name: "CloudFront elsewhere than loopback is never dialled",
			args: func(rig *probeRig) []string {
				return rig.probeArgs("--media", "http://192.0.2.1/media/alice/image.svg")
			},
			code: 1,
			want: []string{
				"3. Media with the cookies: GET http://192.0.2.1/media/alice/image.svg\n",
				"  PROBLEM  no answer: ",
				"probe test: refusing to dial 192.0.2.1:80, which is not loopback",
				"step 3 (the media with the cookies) breaks the page",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rig := newProbeRig(t, is, tt.opts)
			stdin := rig.token + "\n"
			if tt.stdin != nil {
				stdin = tt.stdin(rig)
			}
			args := rig.probeArgs()
			if tt.args != nil {
				args = tt.args(rig)
			}
			out, errOut, code := runProbe(t, stdin, args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("the report lacks %q after what came before, or out of order:\n%s", w, out)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.never {
				if strings.Contains(out, n) {
					t.Errorf("the report holds %q:\n%s", n, out)
				}
			}
			// Every cookie value but the key pair ID, which is public
			// (verify prints it too), and the hash algorithm.
			secrets := append(rig.seen.all(), rig.token, rig.token[len(rig.token)-40:])
			for _, s := range secrets {
				if s != testKeyPairID && s != "SHA256" && (strings.Contains(out, s) || strings.Contains(errOut, s)) {
					t.Errorf("the output holds a secret (%.8s…)", s)
				}
			}
			if tt.code == 0 && len(rig.seen.all()) == 0 {
				t.Error("the distribution received no cookie")
			}
			if t.Failed() {
				t.Logf("report:\n%s\nstderr: %s", out, errOut)
			}
		})
	}
}

// TestProbeScope asks for one scope of a scopes file, by name: the body
// names it, and a path is taken under that scope's resource.
func TestProbeScope(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	front := httptest.NewUnstartedServer(nil)
	t.Cleanup(front.Close)
	cdnURL := "http://" + front.Listener.Addr().String()
	scopes := "claims: [groups]\nscopes:\n" +
		"  - name: shared\n    path: /media/dev/*\n    cookiePath: /media/dev/\n" +
		"  - name: premium\n    path: /premium/*\n    cookiePath: /premium/\n    allow:\n      - claim: groups\n        contains: premium\n"
	api, _, _ := startServer(t, []string{"server", "--dev"}, oidcEnv(t, is, scopes, map[string]string{
		"AUTH_MODE": "oidc", "CLOUDFRONT_DOMAIN": cdnURL, "CORS_ALLOWED_ORIGINS": probeApp,
	}))
	pemBytes, err := os.ReadFile(testKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signer.ParsePublicKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	v, err := edge.NewVerifier(map[string]crypto.PublicKey{testKeyPairID: pub}, edge.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	front.Config.Handler = edge.NewCDN(edge.CDNOptions{Verifier: v, CORSAllowedOrigins: []string{probeApp}})
	front.Start()
	token := is.token(t, is.key, nil)

	for _, tc := range []struct {
		scope string
		code  int
		want  []string
	}{
		{"shared", 0, []string{
			"  scope    shared\n",
			"Access-Control-Request-Headers: authorization,content-type\n",
			"  sent     Origin: " + probeApp + "; Authorization: Bearer (from stdin); Content-Type: application/json\n",
			"  grant    shared " + cdnURL + "/media/dev/* (cookie Path /media/dev/)\n",
			"3. Media with the cookies: GET " + cdnURL + "/media/dev/hls/index.m3u8\n",
			"  got      200 OK; X-Cache: Miss from cloudfront; Content-Type: application/vnd.apple.mpegurl\n",
			"No problem found",
		}},
		{"premium", 1, []string{
			`  PROBLEM  the API answered 403 Forbidden: type "`,
			"    fix: ask for a scope the caller is entitled to",
		}},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runProbe(t, token+"\n", "--api", api, "--app-origin", probeApp, "--media", "hls/index.m3u8", "--scope", tc.scope)
			if code != tc.code {
				t.Errorf("exit status %d, want %d (%s)", code, tc.code, errOut)
			}
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("the report lacks %q, or out of order:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestProbeUsage: bad flags and stdin are usage errors (exit status 2),
// found before any request, and never quote the token.
func TestProbeUsage(t *testing.T) {
	t.Parallel()
	const token = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl"
	base := []string{"--api", "https://api.example.test", "--app-origin", "https://app.example.test", "--media", "a.png"}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no --api", token, []string{"--app-origin", "https://app.example.test", "--media", "a.png"}, "probe: --api is required"},
		{"no --media", token, base[:4], "probe: --media is required"},
		{"no --app-origin", token, []string{"--api", "https://api.example.test", "--media", "a.png"}, "probe: --app-origin is required"},
		{"app origin with a path", token, []string{"--api", "https://api.example.test", "--app-origin", "https://app.example.test/x", "--media", "a.png"}, "--app-origin"},
		{"api not http", token, []string{"--api", "ftp://api.example.test", "--app-origin", "https://app.example.test", "--media", "a.png"}, "--api"},
		{"media neither URL nor path", token, []string{"--api", "https://api.example.test", "--app-origin", "https://app.example.test", "--media", "ftp://x/a.png"}, "--media"},
		{"token with a space", "Bearer abc def\n", base, "the token holds spaces"},
		{"token over plain http", token, []string{"--api", "http://api.example.test", "--app-origin", "https://app.example.test", "--media", "a.png"}, "plain http"},
		{"Authorization as a header", token, append(slices.Clone(base), "--header", "Authorization: Bearer x"), "pass the bearer token on stdin"},
		{"header without a colon", token, append(slices.Clone(base), "--header", "X-Dev-User alice"), `must be "Name: value"`},
		{"zero timeout", token, append(slices.Clone(base), "--timeout", "0s"), "--timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			err := probeWith(ctx, tt.args, strings.NewReader(tt.stdin), &out, &errOut, loopbackTransport())
			if err == nil {
				t.Fatalf("accepted; report:\n%s", out.String())
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit status %d, want 2 (%v)", code, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			for _, s := range []string{token, "abc def"} {
				if strings.Contains(err.Error()+errOut.String(), s) {
					t.Errorf("the error quotes the token: %v", err)
				}
			}
		})
	}
}

func TestReadToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"\n", ""},
		{"abc.def.ghi", "abc.def.ghi"},
		{"abc.def.ghi\r\nsecond line", "abc.def.ghi"},
		{"  Bearer abc.def.ghi  \n", "abc.def.ghi"},
		{"bearer abc", "abc"},
	} {
		got, err := readToken(strings.NewReader(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("readToken(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := readToken(strings.NewReader(strings.Repeat("a", 70<<10))); err == nil {
		t.Error("a 70 KiB token was accepted")
	}
}

// A terminal gets a word on stderr before the probe waits for the token;
// /dev/null, a file or a pipe does not.
func TestProbeIsTerminal(t *testing.T) {
	t.Parallel()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, in := range map[string]io.Reader{"/dev/null": null, "pipe": r, "string": strings.NewReader("x")} {
		if isTerminal(in) {
			t.Errorf("%s taken for a terminal", name)
		}
	}
}
