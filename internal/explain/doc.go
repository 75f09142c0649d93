// Package explain tells a person whether CloudFront would accept a set of
// signed cookies for a URL and, if not, exactly why: the report that
// `server verify` prints.
//
// The decision is [signer.Verifier.Check]'s; a [Report] only shows it,
// with the request, the cookies that were sent and the policy they carry.
// It never re-checks a condition: a policy's conditions are described as
// the [signer.Decision] found them, and a policy whose signature did not
// verify is shown as text but not interpreted.
//
// Nothing secret is printed: a cookie is described by its length, never
// its value, and a signature never appears. The policy is shown decoded
// (it is not a secret), quoted when it is not printable text, so a forged
// one cannot send control sequences to a terminal. A request URL is shown
// without its query.
package explain
