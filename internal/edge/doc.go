// Package edge reproduces Amazon CloudFront's signed-cookie check, so that
// cfcookies can prove, locally and in tests, that the cookies it issues open
// exactly what they should and nothing else.
//
// A [Verifier] decides for one request the way a cache behaviour with
// "Restrict viewer access" and a trusted key group does, with
// [signer.Verifier]. [NewCDN] wraps it in an emulated distribution that
// serves files from an fs.FS the way an S3 origin behind it would, for `server --dev` and for end-to-end tests.
// [NewRotatingCDN] is the same distribution for a signing key that
// changes: it trusts every key loaded since it started, as a key group
// does during a rotation. [SampleMedia] is a tiny embedded media tree for
// it.
//
// # The check
//
// The check itself is the public library's: [signer.Verifier.Check]
// documents its steps, in CloudFront's order, and how duplicate cookies
// are read. This package adds what an HTTP server needs around it.
//
// The request URL is scheme://host + escaped path, plus "?" and the raw
// query when the request has one. The path is the raw one the viewer sent:
// no dot segment removed, no escape changed. The origin's object key is
// that path decoded, and a key with a ".", ".." or empty segment names no
// object, so no spelling of a path leaves the user's prefix or the files'
// root (see objectKey in cdn.go for what AWS documents). Scheme and host come from
// [VerifierOptions].BaseURL when set (a proxy in front of the emulator can
// say what URL the browser used), else from an absolute request URL, else
// from Request.Host and whether the connection is TLS. The client address
// is Request.RemoteAddr's.
//
// A [signer.Decision]'s Reason says which check failed and why, for logs. It never
// holds a cookie value, a policy or a signature; it may hold the request URL
// without its query, the trusted key IDs, the policy's times and the client
// address.
package edge
