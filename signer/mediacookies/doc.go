// Package mediacookies serves CloudFront signed cookies over HTTP: a
// handler that issues them to an authenticated caller and clears them,
// and a middleware that keeps them fresh on a service's own requests.
// It is the HTTP half of the cfcookies server, which is built on it, and
// answers exactly as that server does.
//
// # The endpoint
//
// [Handler.ServeIssue] (POST, and GET when allowed) identifies the caller
// with [Config.Identify], picks the scopes it asked for in an optional
// JSON body {"scopes": [...]} (by default every scope it is entitled
// to), builds one custom policy per scope from the scope's path template
// and the caller's claims, signs them all with one key, and sets the
// CloudFront cookies of every scope under the scope's cookie Path. Its
// 200 answer is JSON:
//
//	{"expiresAt": RFC3339, "refreshAfter": RFC3339,
//	 "grants": [{"scope": NAME, "resource": URL, "cookiePath": PATH}, ...]}
//
// with Cache-Control: no-store. Every refusal or failure is
// application/problem+json (RFC 9457) whose type is
// ProblemTypePrefix + a stable suffix (see [Error]), and sets no cookie:
// an answer is never half done. [Handler.ServeClear] (DELETE) expires
// every cookie the handler may have set and answers 204. [Handler]
// itself is an http.Handler that dispatches on the method, for a router
// that does not.
//
// # Keeping cookies fresh
//
// [Handler.Refresh] wraps a service's own authenticated routes: when the
// request lacks a scope's cookies, carries cookies near their expiry,
// signed by another key, or granted to another identity, it sets new
// ones on the response; otherwise it adds nothing. It judges the
// cookies by reading the policy back, never by a hint the client could
// write.
//
// # Security
//
// Values taken from an identity are checked by
// [signer.PathTemplate.Expand]: a claim that would bring a CloudFront
// wildcard, a path separator or a dot segment into a resource is
// refused (403), never escaped; the Error wraps [signer.ErrUnsafeValue].
// [New] refuses a cookie Domain that does not cover the CloudFront host, a
// cookie Path that is empty or does not cover its scope's resources, and
// SameSite=None without Secure, with errors wrapping the signer package's
// ErrCookieDomain, ErrCookiePath and ErrCookieSameSite. The package never logs: [Hooks]
// tell the caller what happened, and no secret (cookie value, policy,
// signature, key) is ever passed to them or written in an error.
//
// A Handler is safe for concurrent use.
package mediacookies
