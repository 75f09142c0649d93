package edge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	k := keys(t)
	v := newTestVerifier(t, VerifierOptions{})

	const resource = "https://m.example.com/media/alice/*"
	const playlist = "https://m.example.com/media/alice/hls/index.m3u8"
	expires := t0.Add(10 * time.Minute)
	now := t0.Add(time.Minute)
	grant := signer.Grant{Resource: resource, Expires: expires}
	withResource := func(r string) signer.Grant { g := grant; g.Resource = r; return g }

	rsaSHA1 := signCookies(t, idRSA, k.rsa, signer.SHA1, grant)
	rsaSHA256 := signCookies(t, idRSA, k.rsa, signer.SHA256, grant)
	ecSHA256 := signCookies(t, idEC, k.ec, signer.SHA256, grant)
	conditioned := signCookies(t, idRSA, k.rsa, signer.SHA1, signer.Grant{
		Resource: resource, Expires: expires, NotBefore: t0.Add(-time.Minute),
		IPRange: netip.MustParsePrefix("192.0.2.0/24"),
	})
	exact := signCookies(t, idRSA, k.rsa, signer.SHA1, withResource("https://m.example.com/media/alice/a.ts"))
	oneChar := signCookies(t, idRSA, k.rsa, signer.SHA1, withResource("https://m.example.com/media/alice/seg?.ts"))
	withQuery := signCookies(t, idRSA, k.rsa, signer.SHA1, withResource("https://m.example.com/media/alice/a.ts?v=1"))
	anyScheme := signCookies(t, idRSA, k.rsa, signer.SHA1, withResource("http*://m.example.com/media/alice/*"))
	wider := signCookies(t, idRSA, k.rsa, signer.SHA1, withResource("https://m.example.com/media/*"))
	otherKey := signCookies(t, idRSA, k.rsaOther, signer.SHA1, grant)
	otherEC := signCookies(t, idEC, k.ecOther, signer.SHA256, grant)
	stale := signCookies(t, idRSA, k.rsa, signer.SHA1, signer.Grant{Resource: resource, Expires: t0.Add(30 * time.Second)})

	// Hand-made policies, validly signed, that signer would never write.
	rawSigned := func(policy string) []*http.Cookie {
		return rawCookies(idRSA, signer.EncodeBase64([]byte(policy)), signRaw(t, k.rsa, signer.SHA1, []byte(policy)), "")
	}
	cond := `"Condition":{"DateLessThan":{"AWS:EpochTime":1800000600}}`
	stmt := `{"Resource":"` + resource + `",` + cond + `}`

	cases := []struct {
		name   string
		req    *http.Request
		now    time.Time
		code   string // "" = allowed
		reason string // substring of Reason
	}{
		{"rsa sha1", get(playlist, rsaSHA1...), now, "", "key " + idRSA + ", SHA1"},
		{"rsa sha256", get(playlist, rsaSHA256...), now, "", "SHA256"},
		{"ecdsa p-256 sha256", get(playlist, ecSHA256...), now, "", "key " + idEC},
		{"start, ip range and deep path", get("https://m.example.com/media/alice/a/b/c.ts", conditioned...), now, "", ""},
		{"query string under *", get("https://m.example.com/media/alice/a.ts?v=1&x=y", rsaSHA1...), now, "", ""},
		{"last second before expiry", get(playlist, rsaSHA1...), expires.Add(-time.Second), "", ""},
		{"first second after start", get(playlist, conditioned...), t0.Add(-time.Minute + time.Second), "", ""},
		{"half a second before expiry", get(playlist, rsaSHA1...), expires.Add(-time.Second / 2), "", ""},
		{"? matches one character", get("https://m.example.com/media/alice/seg1.ts", oneChar...), now, "", ""},
		{"? in resource matches the query separator", get("https://m.example.com/media/alice/a.ts?v=1", withQuery...), now, "", ""},
		{"http* matches https", get(playlist, anyScheme...), now, "", ""},
		{"http* matches http", get("http://m.example.com/media/alice/x", anyScheme...), now, "", ""},

		{"no cookies", get(playlist), now, signer.CodeMissingKey, signer.CookieKeyPairID},
		{"no key pair id", get(playlist, without(rsaSHA1, signer.CookieKeyPairID)...), now, signer.CodeMissingKey, signer.CookieKeyPairID},
		{"empty key pair id", get(playlist, replace(rsaSHA1, signer.CookieKeyPairID, "")...), now, signer.CodeMissingKey, signer.CookieKeyPairID},
		{"no policy", get(playlist, without(rsaSHA1, signer.CookiePolicy)...), now, signer.CodeMissingKey, signer.CookiePolicy},
		{"no signature", get(playlist, without(rsaSHA1, signer.CookieSignature)...), now, signer.CodeMissingKey, signer.CookieSignature},
		{"canned policy cookies", get(playlist, replace(without(rsaSHA1, signer.CookiePolicy), signer.CookieExpires, "1800000600")...), now, signer.CodeMissingKey, "canned"},
		{"unknown key pair id", get(playlist, replace(rsaSHA1, signer.CookieKeyPairID, "KUNKNOWN")...), now, signer.CodeInvalidKey, "trusted: " + idRSA + ", " + idEC},
		{"signed by another rsa key", get(playlist, otherKey...), now, signer.CodeAccessDenied, "does not verify"},
		{"signed by another ecdsa key", get(playlist, otherEC...), now, signer.CodeAccessDenied, "does not verify"},
		{"policy widened after signing", get(playlist, replace(rsaSHA1, signer.CookiePolicy, cookieValue(wider, signer.CookiePolicy))...), now, signer.CodeAccessDenied, "does not verify"},
		{"signature of another policy", get(playlist, replace(rsaSHA1, signer.CookieSignature, cookieValue(wider, signer.CookieSignature))...), now, signer.CodeAccessDenied, "does not verify"},
		{"sha256 signature without hash cookie", get(playlist, without(rsaSHA256, signer.CookieHashAlgorithm)...), now, signer.CodeAccessDenied, "does not verify"},
		{"sha1 signature with SHA256 cookie", get(playlist, replace(rsaSHA1, signer.CookieHashAlgorithm, "SHA256")...), now, signer.CodeAccessDenied, "does not verify"},
		{"ecdsa without hash cookie", get(playlist, without(ecSHA256, signer.CookieHashAlgorithm)...), now, signer.CodeAccessDenied, "ECDSA"},
		{"hash cookie MD5", get(playlist, replace(rsaSHA1, signer.CookieHashAlgorithm, "MD5")...), now, signer.CodeAccessDenied, "neither SHA1 nor SHA256"},
		{"hash cookie in lower case", get(playlist, replace(rsaSHA256, signer.CookieHashAlgorithm, "sha256")...), now, signer.CodeAccessDenied, "neither SHA1 nor SHA256"},
		{"expired at DateLessThan", get(playlist, rsaSHA1...), expires, signer.CodeAccessDenied, "expired"},
		{"expired long ago", get(playlist, rsaSHA1...), expires.Add(time.Hour), signer.CodeAccessDenied, "policy expired at 2027-01-15T08:10:00Z (DateLessThan), 1h0m0s before now 2027-01-15T09:10:00Z"},
		{"not yet valid at DateGreaterThan", get(playlist, conditioned...), t0.Add(-time.Minute), signer.CodeAccessDenied, "not yet valid"},
		{"within the DateGreaterThan second", get(playlist, conditioned...), t0.Add(-time.Minute + time.Second/2), signer.CodeAccessDenied, "not yet valid"},
		{"not yet valid before DateGreaterThan", get(playlist, conditioned...), t0.Add(-time.Hour), signer.CodeAccessDenied, "not yet valid: valid only after 2027-01-15T07:59:00Z (DateGreaterThan), 59m0s after now 2027-01-15T07:00:00Z"},
		{"client outside ip range", withRemote(get(playlist, conditioned...), "198.51.100.7:443"), now, signer.CodeAccessDenied, "198.51.100.7 is outside"},
		{"ipv6 client with ip range", withRemote(get(playlist, conditioned...), "[2001:db8::1]:443"), now, signer.CodeAccessDenied, "outside"},
		{"another user's media", get("https://m.example.com/media/bob/hls/index.m3u8", rsaSHA1...), now, signer.CodeAccessDenied, "does not match"},
		{"prefix is not a directory", get("https://m.example.com/media/alicex/a.ts", rsaSHA1...), now, signer.CodeAccessDenied, "does not match"},
		{"directory itself without slash", get("https://m.example.com/media/alice", rsaSHA1...), now, signer.CodeAccessDenied, "does not match"},
		{"exact resource with a query", get("https://m.example.com/media/alice/a.ts?v=1", exact...), now, signer.CodeAccessDenied, "query string"},
		{"? does not match two characters", get("https://m.example.com/media/alice/seg10.ts", oneChar...), now, signer.CodeAccessDenied, "does not match"},
		{"? does not match none", get("https://m.example.com/media/alice/seg.ts", oneChar...), now, signer.CodeAccessDenied, "does not match"},
		{"resource is case-sensitive", get("https://m.example.com/media/Alice/a.ts", rsaSHA1...), now, signer.CodeAccessDenied, "does not match"},
		{"plain http", get("http://m.example.com/media/alice/a.ts", rsaSHA1...), now, signer.CodeAccessDenied, "another scheme or host"},
		{"another host", get("https://cdn.example.com/media/alice/a.ts", rsaSHA1...), now, signer.CodeAccessDenied, "another scheme or host"},
		{"policy not base64", get(playlist, replace(rsaSHA1, signer.CookiePolicy, "eyJ!")...), now, signer.CodeMalformedPolicy, "not CloudFront base64"},
		{"signature not base64", get(playlist, replace(rsaSHA1, signer.CookieSignature, "abc")...), now, signer.CodeMalformedSignature, "not CloudFront base64"},
		{"policy not json", get(playlist, rawSigned(`{"Statement":[`)...), now, signer.CodeMalformedPolicy, "not valid JSON"},
		{"two statements", get(playlist, rawSigned(`{"Statement":[`+stmt+`,`+stmt+`]}`)...), now, signer.CodeMalformedPolicy, "2 statements"},
		{"statement not an array", get(playlist, rawSigned(`{"Statement":`+stmt+`}`)...), now, signer.CodeMalformedPolicy, "not an array"},
		{"unknown field", get(playlist, rawSigned(`{"Version":"2012-10-17","Statement":[`+stmt+`]}`)...), now, signer.CodeMalformedPolicy, "unknown field"},
		{"no DateLessThan", get(playlist, rawSigned(`{"Statement":[{"Resource":"`+resource+`","Condition":{}}]}`)...), now, signer.CodeMalformedPolicy, "no DateLessThan"},
		{"ipv6 range", get(playlist, rawSigned(`{"Statement":[{"Resource":"`+resource+`","Condition":{"DateLessThan":{"AWS:EpochTime":1800000600},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}}]}`)...), now, signer.CodeMalformedPolicy, "not IPv4"},
		{"stale duplicate first", get(playlist, slices.Concat(stale, rsaSHA1)...), t0.Add(time.Minute), signer.CodeAccessDenied, "duplicate cookies: 2 CloudFront-Key-Pair-Id, 2 CloudFront-Policy, 2 CloudFront-Signature"},
		{"fresh duplicate first", get(playlist, slices.Concat(rsaSHA1, stale)...), t0.Add(time.Minute), "", "duplicate cookies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := v.Check(tc.req, tc.now)
			if tc.code == "" {
				if !d.Allowed || d.Code != "" {
					t.Fatalf("denied %s: %s; want allowed", d.Code, d.Reason)
				}
				if d.KeyPairID == "" {
					t.Error("allowed decision has no KeyPairID")
				}
			} else if d.Allowed || d.Code != tc.code {
				t.Fatalf("got allowed=%v code %q (%s); want denied %s", d.Allowed, d.Code, d.Reason, tc.code)
			}
			if !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", d.Reason, tc.reason)
			}
			for _, c := range tc.req.Cookies() {
				if len(c.Value) >= 16 && strings.Contains(d.Reason, c.Value) {
					t.Errorf("reason quotes the %s cookie", c.Name)
				}
			}
		})
	}
}

func withRemote(r *http.Request, addr string) *http.Request {
	r.RemoteAddr = addr
	return r
}

func TestRequestURL(t *testing.T) {
	t.Parallel()
	direct := newTestVerifier(t, VerifierOptions{})
	proxied := newTestVerifier(t, VerifierOptions{BaseURL: "https://media.example.com/"})

	origin := httptest.NewRequest(http.MethodGet, "/media/dev/a%20b.ts?x=1&y=%2F", nil)
	origin.Host = "localhost:8081"
	tlsReq := httptest.NewRequest(http.MethodGet, "/media/dev/a.ts", nil)
	tlsReq.Host = "cdn.local"
	tlsReq.TLS = &tls.ConnectionState{}
	absolute, _ := http.NewRequest(http.MethodGet, "https://media.example.com/media/dev/x.ts", nil)

	cases := []struct {
		name string
		v    *Verifier
		r    *http.Request
		want string
	}{
		{"host header, plain http", direct, origin, "http://localhost:8081/media/dev/a%20b.ts?x=1&y=%2F"},
		{"host header, tls", direct, tlsReq, "https://cdn.local/media/dev/a.ts"},
		{"absolute request url", direct, absolute, "https://media.example.com/media/dev/x.ts"},
		{"base url overrides host", proxied, origin, "https://media.example.com/media/dev/a%20b.ts?x=1&y=%2F"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.v.RequestURL(tc.r); got != tc.want {
				t.Errorf("RequestURL = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBaseURLBehindProxy is the emulated CDN behind a test proxy: the
// request reaches it as http://127.0.0.1:port, but the browser used
// https://media.example.com, which the policy names.
func TestBaseURLBehindProxy(t *testing.T) {
	t.Parallel()
	k := keys(t)
	cookies := signCookies(t, idRSA, k.rsa, signer.SHA1, signer.Grant{Resource: "https://media.example.com/media/dev/*", Expires: t0.Add(time.Hour)})
	r := httptest.NewRequest(http.MethodGet, "/media/dev/image.svg", nil)
	r.Host = "127.0.0.1:40123"
	for _, c := range cookies {
		r.AddCookie(c)
	}
	if d := newTestVerifier(t, VerifierOptions{}).Check(r, t0); d.Allowed {
		t.Error("allowed without BaseURL, though the Host is not the policy's")
	}
	if d := newTestVerifier(t, VerifierOptions{BaseURL: "https://media.example.com"}).Check(r, t0); !d.Allowed {
		t.Errorf("denied with BaseURL: %s %s", d.Code, d.Reason)
	}
}

func TestNewVerifier(t *testing.T) {
	t.Parallel()
	k := keys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	six := map[string]crypto.PublicKey{}
	for _, id := range []string{"K1", "K2", "K3", "K4", "K5", "K6"} {
		six[id] = k.ec.Public()
	}
	five := map[string]crypto.PublicKey{}
	for _, id := range []string{"K1", "K2", "K3", "K4", "K5"} {
		five[id] = k.ec.Public()
	}

	cases := []struct {
		name  string
		keys  map[string]crypto.PublicKey
		opts  VerifierOptions
		error string // "" = accepted
	}{
		{"five keys", five, VerifierOptions{}, ""},
		{"six keys", six, VerifierOptions{}, "at most 5"},
		{"no keys", nil, VerifierOptions{}, "at least one"},
		{"empty id", map[string]crypto.PublicKey{"": k.ec.Public()}, VerifierOptions{}, "not a CloudFront public key ID"},
		{"nil key", map[string]crypto.PublicKey{"K1": nil}, VerifierOptions{}, "no public key"},
		{"rsa 1024", map[string]crypto.PublicKey{"K1": small.Public()}, VerifierOptions{}, "not 2048 bits"},
		{"rsa 1024 allowed", map[string]crypto.PublicKey{"K1": small.Public()}, VerifierOptions{Key: signer.KeyOptions{AllowAnyRSASize: true}}, ""},
		{"p-384", map[string]crypto.PublicKey{"K1": p384.Public()}, VerifierOptions{}, "P-384"},
		{"private key given", map[string]crypto.PublicKey{"K1": k.ec}, VerifierOptions{}, "unsupported key"},
		{"base url with path", five, VerifierOptions{BaseURL: "https://m.example.com/media"}, "nothing after"},
		{"base url without scheme", five, VerifierOptions{BaseURL: "m.example.com"}, "scheme"},
		{"base url with port", five, VerifierOptions{BaseURL: "http://localhost:8081"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewVerifier(tc.keys, tc.opts)
			switch {
			case tc.error == "" && err != nil:
				t.Fatalf("NewVerifier: %v", err)
			case tc.error != "" && err == nil:
				t.Fatalf("NewVerifier accepted it; want error with %q", tc.error)
			case tc.error != "" && !strings.Contains(err.Error(), tc.error):
				t.Fatalf("error %q does not mention %q", err, tc.error)
			}
		})
	}
}

func TestWriteDenial(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code, body string
	}{
		{signer.CodeAccessDenied, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>`},
		{signer.CodeMissingKey, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>`},
		{signer.CodeInvalidKey, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidKey</Code><Message>Unknown Key</Message></Error>`},
		{signer.CodeMalformedPolicy, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MalformedPolicy</Code><Message>Malformed Policy</Message></Error>`},
		{signer.CodeMalformedSignature, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MalformedSignature</Code><Message>Could not unencode Signature</Message></Error>`},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			w.Header().Set("Access-Control-Allow-Origin", "https://app.example.com")
			WriteDenial(w, signer.Decision{Code: tc.code, Reason: "secret detail"})
			if w.Code != http.StatusForbidden {
				t.Errorf("status %d, want 403", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type %q, want text/xml", ct)
			}
			if got := w.Body.String(); got != tc.body {
				t.Errorf("body\n%s\nwant\n%s", got, tc.body)
			}
			if h := w.Header().Get("Access-Control-Allow-Origin"); h != "" {
				t.Errorf("Access-Control-Allow-Origin %q left on a denial", h)
			}
		})
	}
}
