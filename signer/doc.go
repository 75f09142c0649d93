// Package signer issues Amazon CloudFront signed cookies from custom policies,
// and reads and verifies them as CloudFront does.
//
// A [Signer] holds a CloudFront key pair ID and the matching private key (RSA
// 2048 or ECDSA P-256) and signs with SHA-256 unless an RSA key is given
// SHA-1 in [Options]. [Signer.Cookies] turns a [Grant] (resource, expiry,
// optional start time and IPv4 range) into four cookies: CloudFront-Policy,
// CloudFront-Signature, CloudFront-Key-Pair-Id and
// CloudFront-Hash-Algorithm=SHA256 (with SHA-1, that last one is expired
// instead, so that one left by an earlier SHA-256 key is cleared). A Signer
// is safe for concurrent use. The package never logs.
//
// Reading them back: [DecodePolicy] and [ParsePolicy] turn a policy into a
// [Policy] (resource, expiry, optional start and IPv4 range),
// [MatchResource] matches a URL against its resource, [Verify] checks a
// signature with a public key, and a [Verifier] checks a whole cookie set
// for a URL, a client address and a time against a key group, answering
// with CloudFront's error code and a reason that never quotes a cookie
// value: why CloudFront would refuse the request.
//
// Zero values. Option structs ([Options], [CookieOptions], [KeyOptions],
// [VerifierOptions]) are safe as zero values and documented field by
// field. Types that only a constructor makes usable ([Signer],
// [CookieHeader], [PathTemplate]) refuse to work as zero values, with
// [ErrZeroValue]; a zero [Signed] or [Grant] is refused when used, and a
// zero [Verifier] trusts no key.
//
// # Security caveats
//
// Wildcards. In a policy Resource, "*" matches any run of characters,
// including "/", and "?" matches any one character. A resource built from a
// user id or a token claim must never let that value bring in a wildcard,
// a "/", a "..", a query or a fragment: "/media/{sub}/*" with sub "*" grants
// every user's media. [PathTemplate.Expand] refuses such values instead of
// escaping them; build resources with it, not with string concatenation.
//
// Domain. The browser only sends a cookie to hosts its Domain covers. To reach
// media.example.com from a backend at api.example.com, set Domain to
// "example.com". A backend can only set a Domain that covers its own host: one
// running on localhost cannot set Domain=example.com, and the browser drops
// the cookie silently. A Domain that does not domain-match the host of the
// resource the cookies unlock is refused ([ErrCookieDomain]).
//
// Path. Always set a Path. A cookie without one is scoped by the browser to
// the path of the response that set it (for /auth/media-cookies, "/auth"), so
// it is never sent with media requests. [CookieOptions] defaults Path to "/",
// so no cookie is ever written without one, and refuses a Path that is not a
// prefix of the resource's path on a segment boundary ([ErrCookiePath]):
// "/media" covers "/media/alice/*", "/med" and "/media/bob" do not. See
// [CookieOptions.CheckResource].
//
// SameSite. Lax (the default here) suffices when the page and the media share
// a site (app.example.com and media.example.com). SameSite=None is only needed
// across sites and requires Secure; browsers drop it otherwise, so
// [CookieOptions] refuses that combination ([ErrCookieSameSite]).
//
// The cookie values are bearer credentials for the granted resource: do not
// log them. Signed values are deterministic for RSA keys (the same policy
// always gives the same signature) and randomized for ECDSA keys.
//
// # FIPS 140-3
//
// The package runs under Go's FIPS 140-3 mode, GODEBUG=fips140=on or =only,
// with RSA 2048 and ECDSA P-256 keys and SHA-256, the default. With
// fips140=only, where Go refuses SHA-1, [New] refuses SHA1 and [Verify]
// cannot check a SHA-1 signature: their errors wrap [ErrNotFIPSApproved]
// (crypto/sha1 would panic), and [Verifier.Check] denies such cookies with
// a Reason that says why. Go refuses there, too, RSA keys under 2048 bits
// ([KeyOptions.AllowAnyRSASize]) when they sign or verify.
//
// # Relation to the AWS SDK
//
// Policies are written as one compact statement with the conditions in the
// order DateLessThan, DateGreaterThan, IpAddress, as the AWS CLI and the
// public cross-SDK vectors do. For RSA with SHA-1 and a policy holding only a
// resource and an expiry, signing goes through
// github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign, whose encoding of
// such a policy is byte-identical. That module orders the optional
// conditions differently (IpAddress first), cannot hash with SHA-256 and
// takes only RSA keys, so the other cases are signed here with the same
// PKCS#1 v1.5 primitive (or ECDSA) over this package's policy bytes.
//
// # Public test vectors
//
// The package is tested against the public cross-SDK vectors
// sign-cookies-test-cases.json and sign-test-cases.json (copied in
// testdata/vectors, with the DSA key they name but do not ship). It
// reproduces all 15 RSA cases byte for byte, policy JSON and signature,
// with SHA-1 and SHA-256 and PKCS#1 and PKCS#8 keys; none is left out.
// Their canned-policy cases are reproduced through the custom policy with
// the same JSON, whose signature is the same: what this package does not
// produce is the canned form itself (the CloudFront-Expires cookie, the
// Expires query parameter), since it issues custom policies
// (CloudFront-Policy) only, and cookies, not signed URLs. The 3 ECDSA cases
// are checked by verifying the signature with the published public key, as
// ECDSA signatures are randomized. The 12 error cases (no expiry, a start
// after the expiry, a DSA key, ECDSA with SHA-1, a quote in the resource or
// in the IP range) are refused, each for its own reason. Under
// GODEBUG=fips140=only the RSA cases are skipped: their key is 1024 bits,
// which that mode refuses.
package signer
