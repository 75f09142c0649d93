package mediacookies

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// ErrConfig is wrapped by New's errors about a Config, but for the cookie
// options', which wrap the signer package's errors.
var ErrConfig = errors.New("mediacookies: invalid config")

// A Scope is a named grant: which resources (a path template under the
// CloudFront base URL), under which cookie Path, for how long, and who may
// have it.
type Scope[ID Identity] struct {
	// Name is what clients ask for in {"scopes": [...]}; required, unique.
	Name string
	// Path is the template of the resource path, such as "/media/{sub}/*":
	// each {name} is the identity's claim (see Identity).
	Path *signer.PathTemplate
	// CookiePath is the cookies' Path: it must cover every path the
	// template expands to (see signer.PathTemplate.CoveredBy), or the
	// browser would not send the cookies with the media requests. "/"
	// covers everything.
	CookiePath string
	// TTL is the policies' lifetime, at least a second; the cookies
	// expire with them.
	TTL time.Duration
	// Allowed reports whether an identity may have the scope; nil means
	// every identified caller.
	Allowed func(ID) bool
}

func (s *Scope[ID]) allows(id ID) bool { return s.Allowed == nil || s.Allowed(id) }

// Config configures a Handler. Signer (or Keys), BaseURL, Scopes and
// Identify are required; the zero value of every other field is safe.
type Config[ID Identity] struct {
	// Signer signs every policy.
	Signer *signer.Signer
	// Keys, instead of Signer, returns the signer of the moment, for a
	// key that rotates. It is called once per request, so all of an
	// answer's scopes are signed with one key; nil means no key yet: the
	// answer is 503 not-ready, with Retry-After.
	Keys func() *signer.Signer

	// BaseURL is the CloudFront distribution's scheme and host, such as
	// "https://media.example.com": every resource is BaseURL followed by
	// a scope's expanded path.
	BaseURL string
	// Scopes are what the handler grants, in the order answers list them.
	Scopes []Scope[ID]
	// Cookie holds the attributes of every cookie; each scope's cookies
	// take the scope's CookiePath instead of Cookie.Path. Its Domain must
	// cover BaseURL's host.
	Cookie signer.CookieOptions

	// Identify returns the caller's identity. An error refuses the
	// request: an *Error as it is, anything else 401 unauthenticated
	// (the error goes to Hooks.Refused, never to the client). The refresh
	// middleware calls it too, and adds nothing when it fails.
	Identify func(*http.Request) (ID, error)
	// Admit, when set, is called once the caller is identified, before
	// the body is read; an error refuses the request as Identify's does.
	// A rate limit per identity belongs here; it may set headers on w.
	Admit func(w http.ResponseWriter, r *http.Request, id ID) error

	// AllowGet makes ServeHTTP issue on GET as well as POST.
	AllowGet bool
	// ClientIP, when set, binds every policy to the client's IPv4 address
	// (a /32 IpAddress condition) as ClientIP finds it (trust
	// X-Forwarded-For only from proxies you run). CloudFront's condition
	// takes only IPv4: an IPv6 client is refused 403, or, with
	// IPv6Unbound, served without binding.
	ClientIP    func(*http.Request) netip.Addr
	IPv6Unbound bool

	// ExpiryGranularity rounds each policy's expiry up to a multiple of it
	// (whole seconds since the Unix epoch), so that requests inside one
	// window sign the same policy and the signature cache can answer
	// them; 0 keeps now + TTL in whole seconds.
	ExpiryGranularity time.Duration
	// SignatureCache, when positive, keeps that many signed policies in
	// memory, so that a policy signed a moment ago is not signed again
	// (worth it with ExpiryGranularity, and with keys whose signing is
	// slow or billed, such as KMS). A new key empties it.
	SignatureCache int

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RequestID, when set, gives the requestId of problem answers.
	RequestID func(*http.Request) string
	// Hooks report what happened, for metrics and logs.
	Hooks Hooks[ID]
}

// Hooks are called as requests are served, for the caller's metrics and
// logs; any may be nil. They receive no secret.
type Hooks[ID Identity] struct {
	// Refused is called before a refusal or failure is written, with the
	// Error whose Err holds the cause.
	Refused func(r *http.Request, e *Error)
	// Issued is called when an issuance succeeded, before its answer is
	// written.
	Issued func(r *http.Request, id ID, a *Answer)
	// Signed is called after each policy is signed (or found in the
	// signature cache), with the time it took, whether or not it failed.
	Signed func(r *http.Request, took time.Duration)
	// Refreshed is called when the refresh middleware has set new
	// cookies, with why ("missing", "expiring", "key", "identity" or
	// "hash").
	Refreshed func(r *http.Request, id ID, reason string, a *Answer)
	// RefreshFailed is called when the refresh middleware needed new
	// cookies but could not make them; the request goes on without.
	RefreshFailed func(r *http.Request, e *Error)
}

// A Handler issues and clears CloudFront cookies. Mount ServeIssue on
// POST (and GET, if you allow it) and ServeClear on DELETE, or the
// Handler itself, which dispatches on the method.
type Handler[ID Identity] struct {
	cfg    Config[ID]
	now    func() time.Time
	base   string // BaseURL without a trailing slash
	scopes []*scope[ID]
	byName map[string]*scope[ID]
	// clear holds the Set-Cookie lines of ServeClear.
	clear []string
	cache *sigCache
}

// scope is a Scope with what its answers reuse: its cookie writer and the
// JSON of its name and cookie Path.
type scope[ID Identity] struct {
	Scope[ID]
	cookies *signer.CookieHeader
	// jsonHead is `{"scope":NAME,"resource":` and jsonTail
	// `,"cookiePath":PATH}`, as encoding/json writes them.
	jsonHead, jsonTail []byte
}

// New checks c and returns its Handler. It refuses cookies the browser
// would drop or never send with the media requests, with errors wrapping
// [signer.ErrCookieDomain] (a Domain that does not cover BaseURL's host),
// [signer.ErrCookiePath] (a scope's CookiePath empty, not covering every
// path its template expands to, or another scope's with another template)
// or [signer.ErrCookieSameSite] (SameSite=None without Secure); any other
// mistake wraps ErrConfig.
func New[ID Identity](c Config[ID]) (*Handler[ID], error) {
	switch {
	case (c.Signer == nil) == (c.Keys == nil):
		return nil, fmt.Errorf("%w: set exactly one of Signer and Keys", ErrConfig)
	case c.Identify == nil:
		return nil, fmt.Errorf("%w: Identify is required", ErrConfig)
	case len(c.Scopes) == 0:
		return nil, fmt.Errorf("%w: at least one scope is required", ErrConfig)
	case c.ExpiryGranularity < 0 || c.SignatureCache < 0:
		return nil, fmt.Errorf("%w: ExpiryGranularity and SignatureCache must not be negative", ErrConfig)
	}
	if err := checkBaseURL(c.BaseURL); err != nil {
		return nil, err
	}
	co := c.Cookie
	co.Path = "" // each scope's CookiePath, checked below
	if err := co.CheckResource(strings.TrimSuffix(c.BaseURL, "/") + "/"); err != nil {
		return nil, err
	}
	h := &Handler[ID]{
		cfg:    c,
		now:    c.Now,
		base:   strings.TrimSuffix(c.BaseURL, "/"),
		byName: make(map[string]*scope[ID], len(c.Scopes)),
	}
	if h.now == nil {
		h.now = time.Now
	}
	templates := map[string]string{} // cookie Path -> template
	for _, sc := range c.Scopes {
		if err := checkScope(sc); err != nil {
			return nil, err
		}
		if _, dup := h.byName[sc.Name]; dup {
			return nil, fmt.Errorf("%w: scope %q is defined twice", ErrConfig, sc.Name)
		}
		if t, ok := templates[sc.CookiePath]; ok && t != sc.Path.String() {
			return nil, fmt.Errorf("%w: scopes with templates %s and %s share cookie path %q: their cookies would overwrite each other",
				signer.ErrCookiePath, t, sc.Path, sc.CookiePath)
		}
		co := c.Cookie
		co.Path = sc.CookiePath
		cookies, err := signer.NewCookieHeader(co)
		if err != nil {
			return nil, err
		}
		s := &scope[ID]{Scope: sc, cookies: cookies}
		s.jsonHead, s.jsonTail = grantJSON(sc.Name, sc.CookiePath)
		h.scopes = append(h.scopes, s)
		h.byName[sc.Name] = s
		if _, seen := templates[sc.CookiePath]; !seen {
			expired, err := signer.ExpireCookies(co)
			if err != nil {
				return nil, err
			}
			for _, ck := range expired {
				h.clear = append(h.clear, ck.String())
			}
		}
		templates[sc.CookiePath] = sc.Path.String()
	}
	if c.SignatureCache > 0 {
		h.cache = newSigCache(c.SignatureCache, h.now)
	}
	return h, nil
}

// checkBaseURL checks a CloudFront base URL: http or https, a host,
// nothing after it.
func checkBaseURL(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" ||
		strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%w: BaseURL %q is not https://host (or http://host)", ErrConfig, base)
	}
	return nil
}

func checkScope[ID Identity](sc Scope[ID]) error {
	switch {
	case sc.Name == "":
		return fmt.Errorf("%w: a scope has no name", ErrConfig)
	case sc.Path == nil:
		return fmt.Errorf("%w: scope %q has no path template", ErrConfig, sc.Name)
	case sc.TTL < time.Second:
		return fmt.Errorf("%w: scope %q: TTL %s is under a second", ErrConfig, sc.Name, sc.TTL)
	case sc.CookiePath == "":
		return fmt.Errorf("%w: scope %q: the cookie path is empty (browsers would scope the cookies to the issuing request's path)", signer.ErrCookiePath, sc.Name)
	case !sc.Path.CoveredBy(sc.CookiePath):
		return fmt.Errorf("%w: scope %q: cookie path %q does not cover every path of %s", signer.ErrCookiePath, sc.Name, sc.CookiePath, sc.Path)
	}
	return nil
}

// ServeHTTP issues on POST (and GET when allowed), clears on DELETE, and
// answers any other method 405 with Allow.
func (h *Handler[ID]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost, r.Method == http.MethodGet && h.cfg.AllowGet:
		h.ServeIssue(w, r)
	case r.Method == http.MethodDelete:
		h.ServeClear(w, r)
	default:
		allow := []string{http.MethodPost, http.MethodDelete}
		if h.cfg.AllowGet {
			allow = []string{http.MethodGet, http.MethodPost, http.MethodDelete}
		}
		w.Header()["Allow"] = allow
		h.refuse(w, r, &Error{Status: http.StatusMethodNotAllowed, Type: ProblemMethodNotAllowed,
			Detail: "this route does not take this method; Allow lists those it takes"})
	}
}

// ServeClear expires every cookie the Handler may have set, under every
// scope's cookie Path, and answers 204. It needs no identity: clearing is
// what logging out does.
func (h *Handler[ID]) ServeClear(w http.ResponseWriter, _ *http.Request) {
	hd := w.Header()
	hd["Set-Cookie"] = append(hd["Set-Cookie"], h.clear...)
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// notReadyRetryAfter is the Retry-After, in seconds, of an issuance refused
// because no key has loaded yet: key stores retry within seconds.
const notReadyRetryAfter = "5"

// unavailableRetryAfter is the Retry-After, in seconds, of an issuance
// whose key could not sign (ErrKeyUnavailable): remote quotas, such as
// KMS's, are counted per second.
const unavailableRetryAfter = "1"

// ServeIssue identifies the caller, reads the scopes it asks for, signs
// one policy per scope with one key, sets every scope's cookies and
// answers 200 with their expiry; or sets no cookie and answers a problem.
func (h *Handler[ID]) ServeIssue(w http.ResponseWriter, r *http.Request) {
	if err := h.issue(w, r); err != nil {
		h.refuse(w, r, err)
	}
}

func (h *Handler[ID]) issue(w http.ResponseWriter, r *http.Request) error {
	sg := h.signer()
	if sg == nil {
		w.Header().Set("Retry-After", notReadyRetryAfter)
		return &Error{Status: http.StatusServiceUnavailable, Type: ProblemNotReady, Detail: "no signing key is loaded yet"}
	}
	id, err := h.identify(r)
	if err != nil {
		return err
	}
	if h.cfg.Admit != nil {
		if err := h.cfg.Admit(w, r, id); err != nil {
			return AsError(err)
		}
	}
	names, err := readScopes(w, r)
	if err != nil {
		return err
	}
	scopes, err := h.selectScopes(names, id)
	if err != nil {
		return err
	}
	var buf [4]issuedGrant[ID]
	grants, err := h.grant(r, sg, id, scopes, buf[:0])
	if err != nil {
		if AsError(err).Type == ProblemKeyUnavailable {
			w.Header().Set("Retry-After", unavailableRetryAfter)
		}
		return err
	}
	if err := h.setCookies(w.Header(), grants); err != nil {
		return err
	}
	a := answer(grants)
	if h.cfg.Hooks.Issued != nil {
		h.cfg.Hooks.Issued(r, id, &a)
	}
	WriteJSON(w, http.StatusOK, appendAnswer(make([]byte, 0, 256), &a, grants))
	return nil
}

// signer returns the signer for one request.
func (h *Handler[ID]) signer() *signer.Signer {
	if h.cfg.Keys != nil {
		return h.cfg.Keys()
	}
	return h.cfg.Signer
}

func (h *Handler[ID]) identify(r *http.Request) (ID, error) {
	id, err := h.cfg.Identify(r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return id, e
		}
		return id, &Error{Status: http.StatusUnauthorized, Type: ProblemUnauthenticated, Detail: "no valid identity", Err: err}
	}
	return id, nil
}

// refuse takes back the cookies this Handler set and writes err as a
// problem.
func (h *Handler[ID]) refuse(w http.ResponseWriter, r *http.Request, err error) {
	e := AsError(err)
	if h.cfg.Hooks.Refused != nil {
		h.cfg.Hooks.Refused(r, e)
	}
	var reqID string
	if h.cfg.RequestID != nil {
		reqID = h.cfg.RequestID(r)
	}
	WriteProblem(w, e, reqID)
}

// selectScopes returns the requested scopes, or, when none is named, every
// scope the identity is entitled to. An unknown or forbidden name is 403 (the
// two are not told apart), a repeated one 400, and an identity entitled to
// nothing is 403.
func (h *Handler[ID]) selectScopes(names []string, id ID) ([]*scope[ID], error) {
	var out []*scope[ID]
	if len(names) == 0 {
		for _, sc := range h.scopes {
			if sc.allows(id) {
				out = append(out, sc)
			}
		}
		if len(out) == 0 {
			return nil, &Error{Status: http.StatusForbidden, Type: ProblemForbiddenScope, Detail: "the identity is entitled to no scope"}
		}
		return out, nil
	}
	for i, n := range names {
		for _, prev := range names[:i] {
			if prev == n {
				return nil, &Error{Status: http.StatusBadRequest, Type: ProblemBadRequest, Detail: "a scope is requested twice"}
			}
		}
		sc, ok := h.byName[n]
		if !ok || !sc.allows(id) {
			return nil, &Error{Status: http.StatusForbidden, Type: ProblemForbiddenScope, Detail: "a requested scope is unknown or not allowed"}
		}
		out = append(out, sc)
	}
	return out, nil
}

// bindIP returns the IpAddress condition for the request when client-IP
// binding is on: the client's IPv4 /32. CloudFront's condition takes only
// IPv4, so an IPv6 client is refused, or served without binding when
// configured so; never given a policy CloudFront would reject.
func (h *Handler[ID]) bindIP(r *http.Request) (netip.Prefix, error) {
	if h.cfg.ClientIP == nil {
		return netip.Prefix{}, nil
	}
	switch ip := h.cfg.ClientIP(r); {
	case ip.Is4():
		return netip.PrefixFrom(ip, 32), nil
	case h.cfg.IPv6Unbound:
		return netip.Prefix{}, nil
	}
	return netip.Prefix{}, &Error{Status: http.StatusForbidden, Type: ProblemIPNotBindable,
		Detail: "cookies are bound to the client's IPv4 address, and this client connects over IPv6 (CloudFront's IpAddress condition takes only IPv4)"}
}

// grant expands and signs every scope for id with sg, appending to grants.
func (h *Handler[ID]) grant(r *http.Request, sg *signer.Signer, id ID, scopes []*scope[ID], grants []issuedGrant[ID]) ([]issuedGrant[ID], error) {
	ipRange, err := h.bindIP(r)
	if err != nil {
		return nil, err
	}
	now := h.now()
	for _, sc := range scopes {
		path, err := sc.Path.Expand(id.Claim)
		if err != nil {
			return nil, &Error{Status: http.StatusForbidden, Type: ProblemNotGrantable,
				Detail: "the identity cannot be granted a media path for scope " + sc.Name, Scope: sc.Name, Err: err}
		}
		expires := policyExpiry(now, sc.TTL, h.cfg.ExpiryGranularity)
		g := signer.Grant{Resource: h.base + path, Expires: expires, IPRange: ipRange}
		start := time.Now()
		signed, err := h.sign(r.Context(), sg, g)
		if h.cfg.Hooks.Signed != nil {
			h.cfg.Hooks.Signed(r, time.Since(start))
		}
		if err != nil {
			e := AsError(err)
			if errors.Is(err, ErrKeyUnavailable) {
				e = &Error{Status: http.StatusServiceUnavailable, Type: ProblemKeyUnavailable,
					Detail: "the signing key cannot sign for now; retry after the number of seconds in Retry-After", Err: err}
			}
			e.Scope = sc.Name
			return nil, e
		}
		// A fifth of the TTL before expiry: four fifths of it after
		// issuance without rounding, and with rounding still late
		// enough that the next call gets a later policy.
		refresh := expires.Add(-sc.TTL / 5).Truncate(time.Second)
		grants = append(grants, issuedGrant[ID]{scope: sc, resource: g.Resource, signed: signed, refreshAfter: refresh})
	}
	return grants, nil
}

// sign signs g with sg, through the signature cache when there is one,
// passing ctx, the request's context, to the key.
func (h *Handler[ID]) sign(ctx context.Context, sg *signer.Signer, g signer.Grant) (signer.Signed, error) {
	if h.cache != nil {
		return h.cache.sign(ctx, sg, g)
	}
	return sg.SignContext(ctx, g)
}

// setCookies adds every grant's cookies to hd, or none: a grant whose
// cookies cannot be written takes back those of the grants before it.
func (h *Handler[ID]) setCookies(hd http.Header, grants []issuedGrant[ID]) error {
	before := len(hd["Set-Cookie"])
	now := h.now()
	for _, g := range grants {
		if err := g.scope.cookies.Set(hd, g.signed, now); err != nil {
			if before == 0 {
				delete(hd, "Set-Cookie")
			} else {
				hd["Set-Cookie"] = hd["Set-Cookie"][:before]
			}
			e := AsError(err)
			e.Scope = g.scope.Name
			return e
		}
	}
	return nil
}

// policyExpiry is when a policy issued at now for ttl expires: now + ttl
// in whole seconds, rounded up to a multiple of granularity (counted from
// the Unix epoch) when granularity is set. Requests inside one window then
// build byte-identical policies, whose signature may be cached.
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
