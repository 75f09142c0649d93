package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/cfcookies/cfcookies/internal/auth"
	"github.com/cfcookies/cfcookies/signer"
)

// maxBodyBytes bounds the request body of /auth/media-cookies.
const maxBodyBytes = 4 << 10

// CookieIssuer signs grants. *signer.Signer is one; so is the key store that
// swaps signers on rotation.
type CookieIssuer interface {
	Sign(signer.Grant) (signer.Signed, error)
}

var _ CookieIssuer = (*signer.Signer)(nil)

// rotatingIssuer is a CookieIssuer whose key can change between calls, such
// as the key store: Signer returns the signer of the moment, or nil.
type rotatingIssuer interface {
	CookieIssuer
	Signer() *signer.Signer
}

// pinnableIssuer is a CookieIssuer that can bind itself to its key of the
// moment, such as the signature cache: Pin returns a Sign that keeps to
// that key.
type pinnableIssuer interface {
	CookieIssuer
	Pin() func(signer.Grant) (signer.Signed, error)
}

// issuerFunc adapts a sign function to CookieIssuer.
type issuerFunc func(signer.Grant) (signer.Signed, error)

func (f issuerFunc) Sign(g signer.Grant) (signer.Signed, error) { return f(g) }

// pin returns the issuer for one request: a pinnable issuer pinned, or a
// rotating issuer's current signer, so that every scope of the answer is
// signed with one key even if the key rotates meanwhile.
func pin(issuer CookieIssuer) CookieIssuer {
	if p, ok := issuer.(pinnableIssuer); ok {
		return issuerFunc(p.Pin())
	}
	if r, ok := issuer.(rotatingIssuer); ok {
		if sg := r.Signer(); sg != nil {
			return sg
		}
	}
	return issuer
}

// Scope is a named grant template: which path pattern, under which cookie
// Path, for how long, and who may have it.
type Scope struct {
	Name       string
	Path       *signer.PathTemplate
	CookiePath string
	TTL        time.Duration
	// Allowed reports whether an identity is entitled to the scope; nil
	// means every authenticated caller.
	Allowed func(auth.Identity) bool
}

func (s Scope) allows(id auth.Identity) bool { return s.Allowed == nil || s.Allowed(id) }

// notReadyRetryAfter is the Retry-After, in seconds, of an issuance refused
// because no key has loaded yet: the key store retries within seconds.
const notReadyRetryAfter = "5"

// handleIssueCookies serves POST /auth/media-cookies (and GET when enabled):
// it limits the rate per client address, refuses to work before a key has
// loaded, authenticates the caller, limits the rate per identity, builds one
// custom policy per scope, signs them and sets the CloudFront cookies.
func handleIssueCookies(issuer CookieIssuer, authn auth.Authenticator, ready func() bool, opts Options, m *Metrics) http.Handler {
	type request struct {
		Scopes []string `json:"scopes"`
	}
	all, byName := newIssuing(opts, m)
	perIP := newRateLimiter(opts.RateLimitPerIP, "ip", m)
	perIdentity := newRateLimiter(opts.RateLimitPerIdentity, "identity", m)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !perIP.allow(w, r, ipKey(clientIP(r, opts.TrustedProxies))) {
			return
		}
		if !ready() {
			m.issued.WithLabelValues("not_ready").Inc()
			w.Header().Set("Retry-After", notReadyRetryAfter)
			respondError(w, r, &httpError{Code: http.StatusServiceUnavailable, Type: "not-ready", Msg: "no signing key is loaded yet"})
			return
		}
		id, err := authn.Authenticate(r)
		if err != nil {
			m.issued.WithLabelValues("unauthenticated").Inc()
			m.authFailed(err)
			respondError(w, r, &httpError{Code: http.StatusUnauthorized, Type: "unauthenticated", Msg: "no valid identity", Err: err})
			return
		}
		if !perIdentity.allow(w, r, id.Subject) {
			return
		}
		req, err := decodeRequest[request](w, r)
		if err != nil {
			m.issued.WithLabelValues("bad_request").Inc()
			respondError(w, r, err)
			return
		}
		scopes, err := selectScopes(byName, all, req.Scopes, id)
		if err != nil {
			m.issued.WithLabelValues("forbidden").Inc()
			respondError(w, r, err)
			return
		}
		ipRange, err := bindIP(r, opts)
		if err != nil {
			m.issued.WithLabelValues("forbidden").Inc()
			respondError(w, r, err)
			return
		}

		issuer := pin(issuer)
		now := opts.Now()
		var grantsBuf [4]issuedGrant
		grants := grantsBuf[:0]
		for _, sc := range scopes {
			path, err := sc.Path.Expand(id.Claim)
			if err != nil {
				m.issued.WithLabelValues("forbidden").Inc()
				m.scopeIssued.WithLabelValues(sc.Name, "not_grantable").Inc()
				respondError(w, r, &httpError{Code: http.StatusForbidden, Type: "identity-not-grantable",
					Msg: "the identity cannot be granted a media path for scope " + sc.Name, Err: err})
				return
			}
			expires := policyExpiry(now, sc.TTL, opts.ExpiryGranularity)
			g := signer.Grant{Resource: opts.CloudFrontBaseURL + path, Expires: expires, IPRange: ipRange}
			start := time.Now()
			signed, err := issuer.Sign(g)
			m.signing.Observe(time.Since(start).Seconds())
			if err != nil {
				m.issued.WithLabelValues("error").Inc()
				sc.errors.Inc()
				respondError(w, r, err)
				return
			}
			// A fifth of the TTL before expiry: four fifths of it after
			// issuance without rounding, and with rounding still late
			// enough that the next call gets a later policy.
			refresh := expires.Add(-sc.TTL / 5).Truncate(time.Second)
			grants = append(grants, issuedGrant{scope: sc, resource: g.Resource, signed: signed, refreshAfter: refresh})
		}
		// Nothing is set until every scope has signed, and a scope whose
		// cookies cannot be written takes every cookie back: no half-done
		// answer.
		for _, gr := range grants {
			if err := gr.scope.setCookies(w.Header(), gr.signed, now); err != nil {
				w.Header().Del("Set-Cookie")
				m.issued.WithLabelValues("error").Inc()
				gr.scope.errors.Inc()
				respondError(w, r, err)
				return
			}
		}
		m.issuedOK.Inc()
		for _, gr := range grants {
			gr.scope.ok.Inc()
		}
		body, expiresAt := appendIssued(make([]byte, 0, 256), grants)
		hlog.FromRequest(r).UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Str("sub", id.Subject).Int("grants", len(grants)).Time("expires_at", expiresAt)
		})
		respondJSONBytes(w, http.StatusOK, body)
	})
}

// scopeIssuing is a scope with what its answers reuse: its cookie writer,
// the JSON of its name and cookie Path, and its counters.
type scopeIssuing struct {
	Scope
	cookies *signer.CookieHeader
	// cookiesErr is why cookies could not be built from the options;
	// every issuance for the scope then fails with it.
	cookiesErr error
	// jsonHead is `{"scope":NAME,"resource":` and jsonTail
	// `,"cookiePath":PATH}`, as encoding/json writes them.
	jsonHead, jsonTail []byte
	ok, errors         prometheus.Counter
}

func (s *scopeIssuing) setCookies(h http.Header, signed signer.Signed, now time.Time) error {
	if s.cookiesErr != nil {
		return s.cookiesErr
	}
	return s.cookies.Set(h, signed, now)
}

// newIssuing prepares every scope's scopeIssuing, in the configured order
// and by name.
func newIssuing(opts Options, m *Metrics) (all []*scopeIssuing, byName map[string]*scopeIssuing) {
	byName = make(map[string]*scopeIssuing, len(opts.Scopes))
	for _, sc := range opts.Scopes {
		co := opts.Cookie
		co.Path = sc.CookiePath
		cookies, err := signer.NewCookieHeader(co)
		s := &scopeIssuing{
			Scope:      sc,
			cookies:    cookies,
			cookiesErr: err,
			ok:         m.scopeIssued.WithLabelValues(sc.Name, "ok"),
			errors:     m.scopeIssued.WithLabelValues(sc.Name, "error"),
		}
		s.jsonHead, s.jsonTail = grantJSON(sc.Name, sc.CookiePath)
		all = append(all, s)
		byName[sc.Name] = s
	}
	return all, byName
}

// grantJSON returns the JSON of an answer's grant before and after its
// resource: `{"scope":NAME,"resource":` and `,"cookiePath":PATH}`.
func grantJSON(scope, cookiePath string) (head, tail []byte) {
	head = appendJSONString([]byte(`{"scope":`), scope)
	head = append(head, `,"resource":`...)
	tail = appendJSONString([]byte(`,"cookiePath":`), cookiePath)
	return head, append(tail, '}')
}

// issuedGrant is one signed scope of an answer.
type issuedGrant struct {
	scope        *scopeIssuing
	resource     string
	signed       signer.Signed
	refreshAfter time.Time
}

// appendIssued appends the JSON answer for grants to b, as encoding/json's
// Encoder writes it (newline included), and returns its expiresAt:
//
//	{"expiresAt":TIME,"refreshAfter":TIME,"grants":[{"scope":NAME,"resource":URL,"cookiePath":PATH},...]}
//
// expiresAt is the earliest grant's expiry and refreshAfter the earliest
// refresh time, both in UTC.
func appendIssued(b []byte, grants []issuedGrant) ([]byte, time.Time) {
	var expires, refresh time.Time
	for i, g := range grants {
		if i == 0 || g.signed.Expires.Before(expires) {
			expires = g.signed.Expires
		}
		if i == 0 || g.refreshAfter.Before(refresh) {
			refresh = g.refreshAfter
		}
	}
	expires, refresh = expires.UTC(), refresh.UTC()
	b = append(b, `{"expiresAt":"`...)
	b = expires.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","refreshAfter":"`...)
	b = refresh.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","grants":[`...)
	for i, g := range grants {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, g.scope.jsonHead...)
		b = appendJSONString(b, g.resource)
		b = append(b, g.scope.jsonTail...)
	}
	return append(b, "]}\n"...), expires
}

// appendJSONString appends s as encoding/json writes a string (with HTML
// escaping): directly when every byte is printable ASCII that needs no
// escape, as resources built from templates are; through encoding/json
// otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// policyExpiry is when a policy issued at now for ttl expires: now + ttl
// in whole seconds, rounded up to a multiple of granularity (counted from
// the Unix epoch) when granularity is set. Requests inside one window then
// build byte-identical policies, whose signature the issuer may cache.
func policyExpiry(now time.Time, ttl, granularity time.Duration) time.Time {
	exp := now.Add(ttl)
	g := int64(granularity / time.Second)
	if g <= 0 {
		return exp.Truncate(time.Second)
	}
	sec := exp.Unix()
	if exp.Nanosecond() > 0 {
		sec++
	}
	return time.Unix((sec+g-1)/g*g, 0)
}

// handleRevokeCookies serves DELETE /auth/media-cookies: it expires every
// cookie the service may have set, under every scope's cookie Path.
func handleRevokeCookies(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen := map[string]bool{}
		for _, sc := range opts.Scopes {
			if seen[sc.CookiePath] {
				continue
			}
			seen[sc.CookiePath] = true
			co := opts.Cookie
			co.Path = sc.CookiePath
			cookies, err := signer.ExpireCookies(co)
			if err != nil {
				respondError(w, r, err)
				return
			}
			for _, c := range cookies {
				http.SetCookie(w, c)
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// decodeRequest reads the optional JSON body of type T one way only, so
// that a proxy or WAF in front never reads another request than this
// service does:
//
//   - no body (Content-Length: 0, or neither it nor chunked) is the zero T;
//   - a Content-Type, sent or needed because there is a body, is exactly
//     one header, application/json with at most charset=utf-8 (two
//     headers: 400; anything else: 415); a Content-Encoding is 415;
//   - at most maxBodyBytes are read, whatever they hold (413, before any
//     JSON error); an empty chunked body is the zero T;
//   - the body is one JSON object in valid UTF-8, nothing after it, no
//     null anywhere, each member name written literally (no escape) and
//     once, and equal byte for byte to a field of T (400 otherwise).
//
// encoding/json would take the last of two duplicate names, match names
// case-insensitively (with Unicode folding: "ſcopes" is "scopes") and take
// null as absent; github.com/go-json-experiment/json, the future
// encoding/json/v2, does none of that.
func decodeRequest[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	hasBody := r.ContentLength != 0 // -1: chunked
	if err := checkBodyHeaders(r.Header, hasBody); err != nil {
		return v, err
	}
	if !hasBody {
		return v, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(innermost(w), r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return v, &httpError{Code: http.StatusRequestEntityTooLarge, Type: "body-too-large",
				Msg: "the request body is over 4 KiB", Err: err}
		}
		return v, &httpError{Code: http.StatusBadRequest, Type: "bad-request", Msg: "the request body could not be read", Err: err}
	}
	if len(body) == 0 {
		return v, nil
	}
	if err := checkStrictJSON(body); err != nil {
		return v, &httpError{Code: http.StatusBadRequest, Type: "bad-request", Msg: "the request body is not one JSON object of the right shape", Err: err}
	}
	if err := jsonv2.Unmarshal(body, &v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return v, &httpError{Code: http.StatusBadRequest, Type: "bad-request", Msg: "the request body is not one JSON object of the right shape", Err: err}
	}
	return v, nil
}

// innermost unwraps w down to the ResponseWriter net/http made, so that
// http.MaxBytesReader reaches it: over the limit, net/http then answers
// with Connection: close and closes the connection gracefully, rather than
// reading on to the end of a body it was told is too large.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// checkBodyHeaders refuses the headers that say how to read a body unless
// they say exactly one thing: one Content-Type, application/json (needed
// when there is a body, checked whenever sent), and no Content-Encoding.
func checkBodyHeaders(h http.Header, hasBody bool) error {
	unsupported := &httpError{Code: http.StatusUnsupportedMediaType, Type: "unsupported-media-type",
		Msg: "the request body must be application/json (charset utf-8 at most), without Content-Encoding"}
	cts := h.Values("Content-Type")
	switch {
	case len(cts) > 1:
		return &httpError{Code: http.StatusBadRequest, Type: "bad-request", Msg: "the request has more than one Content-Type"}
	case len(cts) == 1 && !isJSONMediaType(cts[0]), len(cts) == 0 && hasBody:
		return unsupported
	case len(h.Values("Content-Encoding")) > 0:
		return unsupported
	}
	return nil
}

// isJSONMediaType reports whether a Content-Type value is application/json,
// alone or with the one parameter charset=utf-8 (RFC 8259 has no other),
// in any ASCII case. Nothing else passes: no other parameter, no
// RFC 2231 form, no empty parameter, no second media type.
func isJSONMediaType(v string) bool {
	typ, param, hasParam := strings.Cut(asciiLower(v), ";")
	if strings.TrimRight(typ, " \t") != "application/json" {
		return false
	}
	if !hasParam {
		return true
	}
	param = strings.Trim(param, " \t")
	return param == "charset=utf-8" || param == `charset="utf-8"`
}

// asciiLower lower-cases the ASCII letters of s and nothing else:
// strings.ToLower and strings.EqualFold fold "ſ" (U+017F) to "s" and "K"
// (U+212A, Kelvin) to "k", which a proxy would not.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// kindName names a JSON kind for the log.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '[':
		return "array"
	}
	return "value"
}

// checkStrictJSON checks that body is one JSON object and nothing more, in
// valid UTF-8, with no duplicate member name (the jsontext defaults), no
// name written with an escape, and no null at any depth.
func checkStrictJSON(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if k := dec.PeekKind(); k != '{' {
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		return fmt.Errorf("a JSON %s, not an object", kindName(k))
	}
	for {
		if kind, n := dec.StackIndex(dec.StackDepth()); kind == '{' && n%2 == 0 && dec.PeekKind() == '"' {
			name, err := dec.ReadValue() // a member name, as sent
			if err != nil {
				return err
			}
			if bytes.IndexByte(name, '\\') >= 0 {
				return errors.New("a member name written with an escape")
			}
			continue
		}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() == 'n' {
			return errors.New("a null")
		}
		if dec.StackDepth() == 0 {
			break
		}
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// selectScopes returns the requested scopes, or, when none is named, every
// scope the identity is entitled to. An unknown or forbidden name is 403 (the
// two are not told apart), a repeated one 400, and an identity entitled to
// nothing is 403.
func selectScopes(byName map[string]*scopeIssuing, all []*scopeIssuing, names []string, id auth.Identity) ([]*scopeIssuing, error) {
	var out []*scopeIssuing
	if len(names) == 0 {
		for _, sc := range all {
			if sc.allows(id) {
				out = append(out, sc)
			}
		}
		if len(out) == 0 {
			return nil, &httpError{Code: http.StatusForbidden, Type: "forbidden-scope", Msg: "the identity is entitled to no scope"}
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return nil, &httpError{Code: http.StatusBadRequest, Type: "bad-request", Msg: "a scope is requested twice"}
		}
		seen[n] = true
		sc, ok := byName[n]
		if !ok || !sc.allows(id) {
			return nil, &httpError{Code: http.StatusForbidden, Type: "forbidden-scope", Msg: "a requested scope is unknown or not allowed"}
		}
		out = append(out, sc)
	}
	return out, nil
}

// bindIP returns the IpAddress condition for the request when client-IP
// binding is on: the client's IPv4 /32. CloudFront's condition takes only
// IPv4, so an IPv6 client is refused, or served without binding when
// configured so; never given a policy CloudFront would reject.
func bindIP(r *http.Request, opts Options) (netip.Prefix, error) {
	if !opts.BindClientIP {
		return netip.Prefix{}, nil
	}
	ip := clientIP(r, opts.TrustedProxies)
	switch {
	case ip.Is4():
		return netip.PrefixFrom(ip, 32), nil
	case opts.IPv6Unbound:
		hlog.FromRequest(r).Info().Msg("IPv6 client: cookies issued without IP binding")
		return netip.Prefix{}, nil
	}
	return netip.Prefix{}, &httpError{Code: http.StatusForbidden, Type: "client-ip-not-bindable",
		Msg: "cookies are bound to the client's IPv4 address, and this client connects over IPv6 (CloudFront's IpAddress condition takes only IPv4)"}
}
