// Package edge reproduces Amazon CloudFront's signed-cookie check, so that
// cfcookies can prove, locally and in tests, that the cookies it issues open
// exactly what they should and nothing else.
//
// A [Verifier] decides for one request the way a cache behaviour with
// "Restrict viewer access" and a trusted key group does. [NewCDN] wraps it in
// an emulated distribution that serves files from an fs.FS the way an S3
// origin behind it would, for `server --dev` and for end-to-end tests.
// [SampleMedia] is a tiny embedded media tree for it. [ParsePublicKeyPEM]
// reads a key group's public keys, as `server verify` takes them.
//
// # The check, in CloudFront's order
//
//  1. CloudFront-Key-Pair-Id, CloudFront-Policy and CloudFront-Signature must
//     all be present and non-empty. A missing one is denied with MissingKey,
//     "Missing Key-Pair-Id query parameter or cookie value" (CloudFront's
//     documented answer for the key pair ID; for a missing policy or
//     signature alone its answer is not documented, and this package gives
//     the same one). Canned-policy cookies (CloudFront-Expires instead of
//     CloudFront-Policy) are not supported: cfcookies never issues them, and
//     they are denied as a missing policy with a Reason that says so.
//  2. The key pair ID must name a key of the trusted key group (at most five
//     keys, as in CloudFront), else InvalidKey, "Unknown Key".
//  3. CloudFront-Hash-Algorithm, when sent and non-empty, must be exactly
//     "SHA1" or "SHA256"; absent or empty means SHA1. Anything else is denied
//     with AccessDenied (CloudFront's own code for that case is not
//     documented).
//  4. The policy must be CloudFront base64 (else MalformedPolicy, "Malformed
//     Policy"), and so must the signature (else MalformedSignature, "Could not
//     unencode Signature").
//  5. The signature must verify over the decoded policy bytes with the key
//     and hash (RSA PKCS#1 v1.5 with SHA1 or SHA256, ECDSA P-256 with
//     SHA256), else AccessDenied, "Access denied". The signature is checked
//     before the JSON is parsed, so unsigned bytes are never interpreted.
//  6. The policy must be exactly one statement with a Resource string and a
//     Condition holding DateLessThan (required), optionally DateGreaterThan
//     and IpAddress.AWS:SourceIp (an IPv4 CIDR); any other field, a second
//     statement, a non-integer epoch or an IPv6 range is MalformedPolicy. See
//     [signer.ParsePolicy].
//  7. The Resource must match the full request URL (see [signer.MatchResource]),
//     now must be before DateLessThan and after DateGreaterThan, and the
//     client address (from RemoteAddr) must be inside IpAddress; a failure
//     here is AccessDenied. Times are compared in whole epoch seconds.
//
// Duplicate cookies. A browser sends every cookie whose Domain and Path
// cover the request, so two generations of CloudFront-Policy (say one with
// Path=/ and one with Path=/media) can arrive together, longest Path first.
// The Verifier uses the first cookie of each name, as net/http's
// Request.Cookie does and as CloudFront is understood to do, and checks
// nothing else: a stale cookie on a more specific path therefore shadows a
// fresh one, which is a real deployment bug this emulator should surface,
// not hide. The Reason notes how many duplicates were seen.
//
// The request URL is scheme://host + escaped path, plus "?" and the raw
// query when the request has one. Scheme and host come from
// [VerifierOptions].BaseURL when set (a proxy in front of the emulator can
// say what URL the browser used), else from an absolute request URL, else
// from Request.Host and whether the connection is TLS.
//
// A [Decision]'s Reason says which check failed and why, for logs. It never
// holds a cookie value, a policy or a signature; it may hold the request URL
// without its query, the trusted key IDs, the policy's times and the client
// address.
package edge
