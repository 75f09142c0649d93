// Package topology is the browser-topology checker behind the `check`
// command: how a browser will treat the cookies the service sets and the
// CORS answers it gives, given where the SPA, the API and CloudFront live.
// config.Load knows only CLOUDFRONT_DOMAIN; Check also knows the app and API
// origins, so it judges the browser rules that Load can only approximate and
// that config.Read leaves out.
package topology

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/signer"
)

// An Origin is what a browser sends in the Origin header: scheme, host and
// port.
type Origin struct {
	Scheme string // "https" or "http"
	Host   string // lower-case DNS name or IP address, without brackets
	Port   string // "" for the scheme's default port
}

// ParseOrigin parses "https://app.example.com" or "http://localhost:5173"
// (a trailing "/" is allowed). Scheme and host are lower-cased and a default
// port is dropped, as browsers do.
func ParseOrigin(s string) (Origin, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return Origin{}, errors.New("must be scheme://host[:port], e.g. https://app.example.com")
	}
	switch {
	case u.User != nil:
		return Origin{}, errors.New("must not contain userinfo (user@)")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "":
		return Origin{}, errors.New("must be an origin, scheme://host[:port], without a path, query or fragment")
	}
	o := Origin{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Hostname()), Port: u.Port()}
	if o.Scheme != "https" && o.Scheme != "http" {
		return Origin{}, fmt.Errorf("scheme must be https or http, not %q", o.Scheme)
	}
	if o.Port != "" {
		if n, err := strconv.ParseUint(o.Port, 10, 16); err != nil || n == 0 {
			return Origin{}, errors.New("port must be a number from 1 to 65535")
		}
	}
	if o.Scheme == "https" && o.Port == "443" || o.Scheme == "http" && o.Port == "80" {
		o.Port = ""
	}
	if a, err := netip.ParseAddr(o.Host); err == nil {
		if a.Zone() != "" {
			return Origin{}, errors.New("must not contain an IPv6 zone")
		}
	} else if !config.IsDNSName(o.Host) {
		return Origin{}, errors.New("host must be a valid DNS name or IP address")
	}
	return o, nil
}

// String is the origin as browsers serialise it, e.g. "https://app.example.com".
func (o Origin) String() string {
	if o == (Origin{}) {
		return ""
	}
	host := o.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if o.Port != "" {
		host += ":" + o.Port
	}
	return o.Scheme + "://" + host
}

// IsLocalhost reports whether browsers treat host (a host name or IP
// address, in brackets or not, any case) as potentially trustworthy without
// TLS: localhost, *.localhost and loopback addresses.
func IsLocalhost(host string) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// Trustworthy reports whether Secure cookies may be set from and sent to o:
// https, or localhost and loopback addresses.
func (o Origin) Trustworthy() bool { return o.Scheme == "https" || IsLocalhost(o.Host) }

// registrable is the registrable domain (eTLD+1) of the host, or the host
// itself for an IP address, localhost or a public suffix.
func (o Origin) registrable() string {
	if _, err := netip.ParseAddr(o.Host); err == nil {
		return o.Host
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(o.Host); err == nil {
		return d
	}
	return o.Host
}

// Site is the schemeful site browsers compare for SameSite: the scheme and
// the registrable domain; ports do not count.
func (o Origin) Site() string { return o.Scheme + "://" + o.registrable() }

// Origins are where the browser meets the service: the origin of the SPA's
// page and the origin its calls to /auth/media-cookies go to. CloudFront's
// origin comes from CLOUDFRONT_DOMAIN.
type Origins struct {
	App Origin
	// API is the zero Origin for the same-origin topology, where CloudFront
	// routes /auth/* to the service: then it is App.
	API Origin
}

// An Area groups findings by the question they answer.
type Area int

// The areas, in the order a browser meets them.
const (
	AreaStore  Area = iota // will the browser store the cookies the API sets?
	AreaSend               // will it send them with media requests to CloudFront?
	AreaCORS               // will CORS let the SPA read the API's answers, and the CDN's?
	AreaProxy              // whose X-Forwarded-For is believed (TRUSTED_PROXIES)?
	AreaConfig             // other configuration errors: serve would refuse to start
)

// String names the area: "store", "send", "cors", "proxy" or "config".
func (a Area) String() string {
	switch a {
	case AreaStore:
		return "store"
	case AreaSend:
		return "send"
	case AreaCORS:
		return "cors"
	case AreaProxy:
		return "proxy"
	}
	return "config"
}

// Severity says whether a finding stops the cookies from working.
type Severity int

// The severities. Only Problem is a failure.
const (
	OK      Severity = iota // this part works
	Note                    // advice: outside what cfcookies can check, or works with a caveat
	Problem                 // the browser will not do what the service needs
)

// String names the severity: "ok", "note" or "problem".
func (s Severity) String() string {
	switch s {
	case OK:
		return "ok"
	case Note:
		return "note"
	}
	return "problem"
}

// A Finding is one plain-words statement about the topology.
type Finding struct {
	Area     Area
	Severity Severity
	Var      string // the environment variable it is about; "" for none
	Value    string // the variable's value, "" when unset or empty; never a secret
	Message  string // what the browser will do, and what to change
}

// A Report is Check's answer.
type Report struct {
	App, API   Origin
	CloudFront Origin // zero when CLOUDFRONT_DOMAIN is missing or invalid
	// SetCookie describes the attributes the cookies are set with, such as
	// "Domain=example.com; Path=/; Secure; HttpOnly; SameSite=Lax"; "?"
	// stands for an attribute whose variable is invalid.
	SetCookie string
	// Findings are ordered by Area; within one, configuration errors come
	// first.
	Findings []Finding
}

// Problems counts the findings of Severity Problem.
func (r Report) Problems() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Problem {
			n++
		}
	}
	return n
}

// Check says whether a browser showing the SPA at o.App will store the
// cookies the API at o.API sets, send them to CloudFront, and pass CORS,
// given the configuration c and its problems as config.Read returns them:
// without the browser rules, which Check judges here. Every problem is a
// Problem finding too, placed in the area it affects; the checks whose
// variables have no problem still run.
func Check(c *config.Config, problems config.Errors, o Origins) Report {
	if o.API == (Origin{}) {
		o.API = o.App
	}
	tc := &topologyCheck{c: c, app: o.App, api: o.API, bad: map[string]bool{}}
	for _, e := range problems {
		tc.bad[e.Var] = true
	}
	if c.CloudFront.Host != "" && !tc.bad["CLOUDFRONT_DOMAIN"] {
		tc.cdn, _ = ParseOrigin(c.CloudFront.BaseURL())
	}
	for _, e := range problems {
		tc.translate(e)
	}
	tc.store()
	tc.send()
	tc.cors()
	tc.proxies()
	slices.SortStableFunc(tc.findings, func(a, b Finding) int { return int(a.Area) - int(b.Area) })
	return Report{App: o.App, API: o.API, CloudFront: tc.cdn, SetCookie: tc.setCookie(), Findings: tc.findings}
}

// topologyCheck holds what the checks look at. bad names the variables with
// a configuration error: the checks that need one of them do not run.
type topologyCheck struct {
	c             *config.Config
	app, api, cdn Origin
	bad           map[string]bool
	findings      []Finding
}

func (tc *topologyCheck) add(area Area, sev Severity, name, value, format string, args ...any) {
	tc.findings = append(tc.findings, Finding{Area: area, Severity: sev, Var: name, Value: value, Message: fmt.Sprintf(format, args...)})
}

func (tc *topologyCheck) known(names ...string) bool {
	for _, n := range names {
		if tc.bad[n] {
			return false
		}
	}
	return true
}

// areaOf places a configuration error where its variable matters.
func areaOf(name string) Area {
	switch name {
	case "COOKIE_DOMAIN", "COOKIE_PATH", "COOKIE_SAMESITE", "COOKIE_SECURE":
		return AreaStore
	case "CLOUDFRONT_DOMAIN", "MEDIA_PATH", "SCOPES_FILE":
		return AreaSend
	case "CORS_ALLOWED_ORIGINS":
		return AreaCORS
	case "TRUSTED_PROXIES", "TRUSTED_PROXIES_ALLOW_ALL":
		return AreaProxy
	}
	return AreaConfig
}

// translate turns a configuration error into a finding, saying what the
// browser would do where the rule alone does not.
func (tc *topologyCheck) translate(e config.FieldError) {
	area := areaOf(e.Var)
	msg := e.Rule
	if e.Var == "CORS_ALLOWED_ORIGINS" && e.Value == "*" {
		msg = `never *: browsers refuse "Access-Control-Allow-Origin: *" on a request with credentials ` +
			`(Chromium: "must not be the wildcard '*' when the request's credentials mode is 'include'"), ` +
			"so the SPA's fetch fails with a CORS error and it never sees the answer"
		if tc.app == tc.api {
			msg += "; the app and the API share an origin here, which needs no CORS: unset it"
		} else {
			msg += "; list the app's origin instead: CORS_ALLOWED_ORIGINS=" + tc.app.String()
		}
	}
	tc.add(area, Problem, e.Var, e.Value, "%s", msg)
}

// setCookie describes the cookie attributes, "?" for an invalid variable.
func (tc *topologyCheck) setCookie() string {
	c := tc.c.Cookie
	var parts []string
	switch {
	case !tc.known("COOKIE_DOMAIN"):
		parts = append(parts, "Domain=?")
	case c.Domain == "":
		parts = append(parts, "no Domain (host-only)")
	default:
		parts = append(parts, "Domain="+c.Domain)
	}
	switch {
	case !tc.known("COOKIE_PATH"):
		parts = append(parts, "Path=?")
	case c.Path == "":
		parts = append(parts, "no Path")
	default:
		parts = append(parts, "Path="+c.Path)
	}
	switch {
	case !tc.known("COOKIE_SECURE"):
		parts = append(parts, "Secure=?")
	case c.Secure:
		parts = append(parts, "Secure")
	}
	parts = append(parts, "HttpOnly")
	if tc.known("COOKIE_SAMESITE") {
		parts = append(parts, "SameSite="+sameSiteAttr(c.SameSite))
	} else {
		parts = append(parts, "SameSite=?")
	}
	return strings.Join(parts, "; ")
}

// sameSiteAttr is the SameSite attribute's value for s, "Lax", "Strict" or
// "None": COOKIE_SAMESITE's value, capitalised.
func sameSiteAttr(s http.SameSite) string {
	name := config.SameSiteName(s)
	if name == "default" {
		name = "lax" // what browsers assume
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// store: will the browser keep the Set-Cookie of the API's answer?
func (tc *topologyCheck) store() {
	c, api := tc.c.Cookie, tc.api
	if tc.known("COOKIE_DOMAIN") {
		switch {
		case c.Domain == "":
			tc.add(AreaStore, OK, "COOKIE_DOMAIN", "", "unset: host-only cookies, stored for the API host %s only", api.Host)
		case signer.DomainMatch(api.Host, c.Domain):
			tc.add(AreaStore, OK, "COOKIE_DOMAIN", c.Domain, "the API host %s may set cookies for %s and its subdomains", api.Host, c.Domain)
		default:
			tc.add(AreaStore, Problem, "COOKIE_DOMAIN", c.Domain,
				"the API host %s is neither %s nor under it: the browser rejects the Set-Cookie "+
					`(Chromium: "its Domain attribute was invalid with regards to the current host url"), so no cookie is stored%s`,
				api.Host, c.Domain, tc.suggestDomain())
		}
	}

	if tc.known("COOKIE_PATH") && c.Path == "" {
		tc.add(AreaStore, Problem, "COOKIE_PATH", "",
			`set but empty: a Set-Cookie without Path is stored under the default path of %s, which is %s; use "/" or unset it`,
			handlers.MediaCookiesPath, DefaultCookiePath(handlers.MediaCookiesPath))
	}

	if tc.known("COOKIE_SECURE") {
		switch {
		case c.Secure && !api.Trustworthy():
			tc.add(AreaStore, Problem, "COOKIE_SECURE", "true",
				"the API origin %s is plain http: the browser rejects a Secure Set-Cookie received over http "+
					`(Chromium: "it had the Secure attribute but was not received over a secure connection"); serve the API over https (only localhost is exempt)`,
				api)
		case c.Secure && api.Scheme == "http":
			tc.add(AreaStore, OK, "COOKIE_SECURE", "true", "the API origin %s is plain http, but browsers let localhost set Secure cookies", api)
		case c.Secure:
			tc.add(AreaStore, OK, "COOKIE_SECURE", "true", "the API origin %s is https: Secure cookies are stored", api)
		default:
			tc.add(AreaStore, Note, "COOKIE_SECURE", "false", "the cookies are bearer credentials and would also travel over plain http; keep it true outside development")
		}
	}

	if tc.known("COOKIE_SAMESITE", "COOKIE_SECURE") && c.SameSite == http.SameSiteNoneMode && !c.Secure {
		tc.add(AreaStore, Problem, "COOKIE_SAMESITE", "none",
			`with COOKIE_SECURE=false: the browser rejects the Set-Cookie (Chromium: "it had the SameSite=None attribute but did not have the Secure attribute"), so no cookie is stored; set COOKIE_SECURE=true`)
	}

	switch {
	case tc.app == api:
		tc.add(AreaStore, OK, "", "", "the API is on the app's own origin %s: its cookies are first-party", api)
	case tc.app.Site() == api.Site():
		tc.add(AreaStore, OK, "", "", "the app %s and the API %s are the same site (%s): the cookies of a fetch answer are first-party", tc.app, api, api.registrable())
	case !tc.known("COOKIE_SAMESITE"):
	case c.SameSite == http.SameSiteNoneMode:
		tc.add(AreaStore, Note, "COOKIE_SAMESITE", "none",
			"the app %s and the API %s are different sites, so these are third-party cookies: browsers that block them (Safari, Firefox, Chromium in Incognito or by user choice) refuse them; serve the API under %s",
			tc.app, api, tc.app.registrable())
	default:
		tc.add(AreaStore, Problem, "COOKIE_SAMESITE", strings.ToLower(sameSiteAttr(c.SameSite)),
			"the app %s and the API %s are different sites: the browser rejects a SameSite=%s Set-Cookie on a cross-site fetch answer "+
				`(Chromium: "it came from a cross-site response which was not the response to a top-level navigation"); serve the API under %s`,
			tc.app, api, sameSiteAttr(c.SameSite), tc.app.registrable())
	}
}

// suggestDomain proposes the registrable domain the API and CloudFront
// share, when the API may set it and Load would accept it: a parent of
// public suffixes (amazonaws.com) is not one to share.
func (tc *topologyCheck) suggestDomain() string {
	if tc.cdn == (Origin{}) {
		return ""
	}
	d := tc.api.registrable()
	if d != tc.api.Host && d == tc.cdn.registrable() && signer.DomainMatch(tc.cdn.Host, d) {
		if _, err := config.ParseCookieDomain(d); err == nil {
			return "; set COOKIE_DOMAIN=" + d + ", the parent the API and CloudFront share"
		}
		return "; their parent " + d + " is shared with other customers' sites, so it is no COOKIE_DOMAIN: route /auth/* through the distribution, so they share a host"
	}
	return "; the API and CloudFront share no parent domain: route /auth/* through the distribution, so they share a host"
}

// DefaultCookiePath is the cookie path a browser gives a Set-Cookie without
// Path in the answer to a request for path (RFC 6265 section 5.1.4).
func DefaultCookiePath(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// send: will the browser send the stored cookies with media requests from
// the app's page to CloudFront?
func (tc *topologyCheck) send() {
	c, cdn := tc.c.Cookie, tc.cdn
	if cdn == (Origin{}) {
		return // CLOUDFRONT_DOMAIN is reported as a configuration error
	}
	if tc.known("COOKIE_DOMAIN") {
		switch {
		case c.Domain != "" && signer.DomainMatch(cdn.Host, c.Domain):
			tc.add(AreaSend, OK, "COOKIE_DOMAIN", c.Domain, "CloudFront's host %s is under %s: the browser sends the cookies there", cdn.Host, c.Domain)
		case c.Domain != "":
			tc.add(AreaSend, Problem, "COOKIE_DOMAIN", c.Domain,
				"CloudFront's host %s (CLOUDFRONT_DOMAIN) is neither %s nor under it: the browser never sends the cookies there, and CloudFront answers 403 MissingKey%s",
				cdn.Host, c.Domain, tc.suggestDomain())
		case cdn.Host == tc.api.Host:
			tc.add(AreaSend, OK, "COOKIE_DOMAIN", "", "unset: host-only cookies go back to %s, which serves both the API and CloudFront", cdn.Host)
		default:
			tc.add(AreaSend, Problem, "COOKIE_DOMAIN", "",
				"unset: host-only cookies go back only to the API host %s, never to CloudFront's host %s, which answers 403 MissingKey%s",
				tc.api.Host, cdn.Host, tc.suggestDomain())
		}
	}

	if tc.known("COOKIE_PATH", "MEDIA_PATH", "SCOPES_FILE") {
		for _, s := range tc.c.Scopes {
			if s.Path == nil {
				continue
			}
			name, where := "COOKIE_PATH", "MEDIA_PATH "+s.Path.String()
			if tc.c.ScopesFile != "" {
				name, where = "SCOPES_FILE", "scope "+s.Name+"'s path "+s.Path.String()
			}
			effective, how := s.CookiePath, "Path="+s.CookiePath
			if effective == "" {
				effective = DefaultCookiePath(handlers.MediaCookiesPath)
				how = "no Path (so " + effective + ", the default path of " + handlers.MediaCookiesPath + ")"
			}
			if s.Path.CoveredBy(effective) {
				tc.add(AreaSend, OK, name, s.CookiePath, "cookies with Path=%s are sent with every request for %s", effective, where)
				continue
			}
			tc.add(AreaSend, Problem, name, s.CookiePath,
				"cookies with %s are sent only with requests under %s, never with media requests for %s: CloudFront answers 403 MissingKey; use a Path that covers it, such as %q",
				how, effective, where, "/")
		}
	}

	switch {
	case tc.app == cdn:
		tc.add(AreaSend, OK, "", "", "CloudFront is the app's own origin %s: SameSite does not hold the cookies back from the page's media requests", cdn)
	case tc.app.Site() == cdn.Site():
		tc.add(AreaSend, OK, "", "",
			"the app %s and CloudFront %s are the same site (%s): SameSite does not hold the cookies back from the page's <img>, <video> and fetch requests",
			tc.app, cdn, cdn.registrable())
	case !tc.known("COOKIE_SAMESITE"):
	case c.SameSite == http.SameSiteNoneMode:
		tc.add(AreaSend, Note, "COOKIE_SAMESITE", "none",
			"the app %s and CloudFront %s are different sites: SameSite=None cookies are sent, but as third-party cookies, which Safari, Firefox and Chromium in Incognito or by user choice block",
			tc.app, cdn)
	default:
		tc.add(AreaSend, Problem, "COOKIE_SAMESITE", strings.ToLower(sameSiteAttr(c.SameSite)),
			"the app %s and CloudFront %s are different sites: the browser does not send SameSite=%s cookies with the page's <img>, <video> or fetch requests to CloudFront, which answers 403 MissingKey; serve the app and CloudFront under one registrable domain, or use COOKIE_SAMESITE=none with Secure",
			tc.app, cdn, sameSiteAttr(c.SameSite))
	}

	if tc.known("COOKIE_SECURE") && c.Secure && !cdn.Trustworthy() {
		tc.add(AreaSend, Problem, "COOKIE_SECURE", "true",
			"CloudFront is reached over plain http at %s: the browser never sends Secure cookies over http (only localhost is exempt)", cdn)
	}
}

// cors: will the SPA be allowed to read the API's answers, and CloudFront's?
func (tc *topologyCheck) cors() {
	app, api, allowed := tc.app, tc.api, tc.c.CORSAllowedOrigins
	switch {
	case app == api && len(allowed) == 0:
		tc.add(AreaCORS, OK, "", "", "the SPA calls the API on its own origin %s: no CORS is involved, and CORS_ALLOWED_ORIGINS can stay empty", app)
	case app == api:
		tc.add(AreaCORS, OK, "CORS_ALLOWED_ORIGINS", strings.Join(allowed, ","),
			"the SPA calls the API on its own origin %s: no CORS is involved, so this list only serves other origins", app)
	case slices.Contains(allowed, app.String()):
		tc.add(AreaCORS, OK, "CORS_ALLOWED_ORIGINS", strings.Join(allowed, ","),
			"lists %s: the API answers it with Access-Control-Allow-Origin: %s and Access-Control-Allow-Credentials: true", app, app)
	case tc.known("CORS_ALLOWED_ORIGINS"):
		listed := "does not list"
		if len(allowed) == 0 {
			listed = "unset, so it does not list"
		}
		tc.add(AreaCORS, Problem, "CORS_ALLOWED_ORIGINS", strings.Join(allowed, ","),
			"%s the app's origin %s: the browser blocks the SPA's credentialed fetch to %s%s "+
				`(Chromium: "No 'Access-Control-Allow-Origin' header is present on the requested resource"), and a POST with a JSON body fails its preflight and is never sent%s`,
			listed, app, api, handlers.MediaCookiesPath, nearMiss(allowed, app))
	}
	if app != api {
		tc.add(AreaCORS, Note, "", "",
			`the SPA must call %s%s with fetch(..., {credentials: "include"}): without it the browser neither sends nor stores cookies on a cross-origin call`, api, handlers.MediaCookiesPath)
	}

	switch cdn := tc.cdn; cdn {
	case Origin{}: // CLOUDFRONT_DOMAIN is reported as a configuration error
	case app:
		tc.add(AreaCORS, OK, "", "", "media is on the app's own origin %s: no CORS is involved", app)
	default:
		tc.add(AreaCORS, Note, "", "",
			`<img> and <video> need no CORS, but fetch(..., {credentials: "include"}), XHR-based players (hls.js) and crossorigin="use-credentials" media from %s need CloudFront %s to answer Access-Control-Allow-Origin: %s (exact, never *) and Access-Control-Allow-Credentials: true: `+
				"attach a response headers policy with those CORS settings to the media behaviour (cfcookies cannot check it); a 403 from CloudFront carries no CORS headers, so the page sees a CORS error instead",
			app, cdn, app)
	}
}

// nearMiss points out a listed origin with the app's host but another
// scheme or port.
func nearMiss(allowed []string, app Origin) string {
	for _, a := range allowed {
		if o, err := ParseOrigin(a); err == nil && o.Host == app.Host {
			return fmt.Sprintf(" (%s is listed, but an origin is its scheme, host and port, compared exactly)", a)
		}
	}
	return ""
}

// wide is the share of an address family from which trusted ranges count
// as very broad: a /7's worth or more, 33 million IPv4 addresses, where a
// VPC is a /16 at most and all of 10.0.0.0/8 a /8.
const wide = 1.0 / 128

// proxies: whose X-Forwarded-For will the service believe? Only said when
// TRUSTED_PROXIES is set: without it, the TCP peer is the client.
func (tc *topologyCheck) proxies() {
	trusted := tc.c.TrustedProxies
	if len(trusted) == 0 || !tc.known("TRUSTED_PROXIES", "TRUSTED_PROXIES_ALLOW_ALL") {
		return
	}
	names := make([]string, len(trusted))
	for i, p := range trusted {
		names[i] = p.String()
	}
	value := strings.Join(names, ",")
	cov := config.AddressCoverage(trusted)
	var broad []string
	if cov.Share4 >= wide {
		broad = append(broad, fmt.Sprintf("%.3g%% of all IPv4 addresses", 100*cov.Share4))
	}
	if cov.Share6 >= wide {
		broad = append(broad, fmt.Sprintf("%.3g%% of all IPv6 addresses", 100*cov.Share6))
	}
	switch {
	case cov.Every() != "":
		tc.add(AreaProxy, Note, "TRUSTED_PROXIES", value,
			"trusts %s (TRUSTED_PROXIES_ALLOW_ALL=true): any client that reaches the service directly can write its own X-Forwarded-For, "+
				"and the address BIND_CLIENT_IP binds, the per-IP rate limit counts and the access log shows is whatever it says; "+
				"keep it only while nothing but your proxies can reach the service", cov.Every())
	case len(broad) > 0:
		tc.add(AreaProxy, Note, "TRUSTED_PROXIES", value,
			"trusts %s, a range as broad as a /7 or broader: every host in it can forge X-Forwarded-For and choose the client address "+
				"the service believes; list only your proxies' ranges (behind an ALB, the VPC's CIDR)", strings.Join(broad, " and "))
	default:
		tc.add(AreaProxy, OK, "TRUSTED_PROXIES", value,
			"X-Forwarded-For is believed only from %s: from any other peer the TCP address is the client's", value)
	}
}
