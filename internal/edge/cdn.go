package edge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// CDNOptions configure the emulated distribution. Only Verifier is
// required.
type CDNOptions struct {
	// Verifier checks every GET and HEAD, whatever the path: the emulated
	// distribution has one cache behaviour, with "Restrict viewer access".
	Verifier *Verifier

	// Files is the S3 bucket: the URL path /media/dev/a.svg is the file
	// media/dev/a.svg (see objectKey). Nil means SampleMedia(). For a
	// directory, prefer an os.Root's FS to os.DirFS, which follows
	// symbolic links out of the directory.
	Files fs.FS

	// CORSAllowedOrigins are the exact origins (scheme://host[:port]) the
	// bucket's CORS rule allows, with credentials, for GET and HEAD. Empty
	// means none: same-origin and <img>/<video> loads still work.
	CORSAllowedOrigins []string

	// Logger receives one line per decision. The zero value logs nothing.
	Logger zerolog.Logger

	// Now is the clock the policies are checked against; nil is time.Now.
	Now func() time.Time
}

// NewCDN returns an emulated CloudFront distribution in front of an S3-like
// origin serving o.Files:
//
//   - GET and HEAD go through o.Verifier first. A denial is CloudFront's 403
//     XML (see WriteDenial) without any CORS header, as the real edge
//     answers before the origin is involved. An allowed request is served
//     from o.Files as S3 serves an object: one byte range (206, or 416 with
//     "Content-Range: bytes */size" past the end; any other Range header
//     gets the whole object, see s3Range), a strong ETag for If-Range and
//     If-None-Match, the Content-Type for its extension,
//     and, when its Origin is in o.CORSAllowedOrigins,
//     Access-Control-Allow-Origin (that origin),
//     Access-Control-Allow-Credentials: true and Vary: Origin, as an S3 CORS
//     rule adds them. A missing file or a directory is S3's 404 NoSuchKey,
//     CORS headers included.
//   - OPTIONS is a CORS preflight answered by the origin without any cookie
//     check, as S3 answers preflights without authentication: browsers never
//     send cookies on a preflight, so this emulates a behaviour that allows
//     (and forwards) OPTIONS. Whether a real distribution applies "Restrict
//     viewer access" to OPTIONS has not been verified here; if it does,
//     requests that need a preflight (custom headers, non-simple methods)
//     fail against it, so prefer requests that need none, or one origin.
//   - Any other method is 405; real CloudFront answers 403 for methods its
//     behaviour does not allow.
//
// It panics if o.Verifier is nil.
func NewCDN(o CDNOptions) http.Handler {
	if o.Verifier == nil {
		panic("edge: NewCDN needs a Verifier")
	}
	if o.Files == nil {
		o.Files = SampleMedia()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &cdn{
		verifier: o.Verifier,
		files:    o.Files,
		origins:  slices.Clone(o.CORSAllowedOrigins),
		log:      o.Logger,
		now:      o.Now,
	}
}

type cdn struct {
	verifier *Verifier
	files    fs.FS
	origins  []string
	log      zerolog.Logger
	now      func() time.Time
}

func (c *cdn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		c.preflight(w, r)
	case http.MethodGet, http.MethodHead:
		c.get(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "this distribution allows GET, HEAD and OPTIONS", http.StatusMethodNotAllowed)
	}
}

func (c *cdn) get(w http.ResponseWriter, r *http.Request) {
	d := c.verifier.Check(r, c.now())
	ev := c.log.Info()
	if !d.Allowed {
		// Why, in the words `server verify` prints for the same cookies
		// (both are signer.Decision's): never a cookie value.
		ev = c.log.Warn().Str("code", d.Code)
		if d.Condition != "" {
			ev = ev.Str("condition", d.Condition)
		}
	}
	ev.Str("method", r.Method).Str("path", r.URL.EscapedPath()).Str("client", r.RemoteAddr).
		Bool("allowed", d.Allowed).Str("key_pair_id", d.KeyPairID).Str("reason", d.Reason).
		Msg("edge: signed-cookie check")
	if !d.Allowed {
		WriteDenial(w, d)
		return
	}

	h := w.Header()
	h.Set("X-Cache", "Miss from cloudfront")
	c.cors(h, r)
	name := objectKey(r)
	f, err := c.open(name)
	if err != nil {
		writeXMLError(w, http.StatusNotFound, "application/xml", "NoSuchKey", "The specified key does not exist.")
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.IsDir() {
		writeXMLError(w, http.StatusNotFound, "application/xml", "NoSuchKey", "The specified key does not exist.")
		return
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			c.log.Error().Err(err).Str("path", r.URL.EscapedPath()).Msg("edge: read file")
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		content = bytes.NewReader(b)
	}
	etag, err := objectETag(content)
	if err != nil {
		c.log.Error().Err(err).Str("path", r.URL.EscapedPath()).Msg("edge: read file")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", ContentType(name))
	h.Set("ETag", etag)
	if _, ranged := r.Header["Range"]; ranged {
		r = r.Clone(r.Context())
		if spec, ok := s3Range(r.Header.Values("Range"), info.Size()); ok {
			r.Header.Set("Range", spec)
		} else {
			r.Header.Del("Range")
		}
	}
	http.ServeContent(w, r, name, info.ModTime(), content)
}

// objectETag is a strong ETag for an object, opaque as S3's are (S3's is
// the MD5 of a single-part upload; this is the first 128 bits of the
// SHA-256, which FIPS 140-3 mode allows), so that If-Range, If-Match and
// If-None-Match work on files without a modification time, such as the
// embedded samples. content is left at its start.
func objectETag(content io.ReadSeeker) (string, error) {
	d := sha256.New()
	if _, err := io.Copy(d, content); err != nil {
		return "", err
	}
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return `"` + hex.EncodeToString(d.Sum(nil)[:16]) + `"`, nil
}

// s3Range turns the Range header fields of a request for an object of size
// bytes into the one range http.ServeContent should serve, or ok false
// when the object is to be served whole (200), as S3 does:
//
//   - One range in bytes (RFC 9110 §14.1.2): "first-", "first-last" or
//     "-suffix". A last past the end is the end; a first at or past the
//     end, or a zero suffix, is unsatisfiable and becomes "bytes=size-",
//     which ServeContent answers 416 with "Content-Range: bytes */size".
//   - Anything else is ignored: another unit ("items=0-1", which RFC 9110
//     §14.2 says a server MUST ignore), a malformed range ("bytes=abc",
//     "bytes=5-1", a start beyond int64) and several ranges, which S3 does
//     not serve: "Amazon S3 doesn't support retrieving multiple ranges of
//     data per GET request"
//     (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
//     Range). Ignoring is what RFC 9110 allows for an invalid range; it
//     keeps ServeContent from answering several ranges as
//     multipart/byteranges, and from its "bytes 500-499/500" for "-0".
func s3Range(fields []string, size int64) (spec string, ok bool) {
	if len(fields) != 1 {
		return "", false
	}
	unit, set, found := strings.Cut(fields[0], "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(set, ",") {
		return "", false
	}
	firstStr, lastStr, found := strings.Cut(strings.TrimSpace(set), "-")
	if !found {
		return "", false
	}
	unsatisfiable := "bytes=" + strconv.FormatInt(size, 10) + "-"
	if firstStr == "" { // suffix-range
		n, valid, huge := parseDigits(lastStr)
		switch {
		case !valid:
			return "", false
		case n == 0 && !huge:
			return unsatisfiable, true
		case huge || n > size:
			n = size
		}
		if n == 0 { // an empty object has no last bytes
			return unsatisfiable, true
		}
		return "bytes=" + strconv.FormatInt(size-n, 10) + "-" + strconv.FormatInt(size-1, 10), true
	}
	first, valid, huge := parseDigits(firstStr)
	switch {
	case !valid:
		return "", false
	case lastStr != "":
		last, valid, lastHuge := parseDigits(lastStr)
		if !valid || (!lastHuge && (huge || last < first)) {
			return "", false
		}
		if huge || first >= size {
			return unsatisfiable, true
		}
		if lastHuge || last >= size {
			last = size - 1
		}
		return "bytes=" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10), true
	case huge || first >= size:
		return unsatisfiable, true
	}
	return "bytes=" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(size-1, 10), true
}

// parseDigits parses a non-empty run of ASCII digits; huge is true when it
// does not fit an int64 (its value is then meaningless).
func parseDigits(s string) (n int64, valid, huge bool) {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, false, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, true, err != nil
}

// objectKey is the S3 object key a request reaches: the request path,
// percent-decoded, without its leading "/", and nothing else done to it.
//
// CloudFront "normalizes URI paths consistent with RFC 3986" only to pick a
// cache behavior: "Once the cache behavior is matched, CloudFront sends the
// raw URI path to the origin"
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#path-normalization).
// The signed-cookie check matches the policy Resource against the raw path
// and query as the viewer sent them (Verifier.RequestURL: "%2e%2e" stays
// "%2e%2e", "//" stays "//", the query is part of it, a "*" matches any of
// it; see
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-setting-signed-cookie-custom-policy.html).
// AWS does not say whether that match sees the raw or the normalized path;
// it does not matter for what reaches the bucket: S3 keys are flat strings
// ("The Amazon S3 data model is a flat structure ... There is no
// hierarchy", https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html),
// so S3 resolves no "..", "." or "//": /media/alice/../dev/x (sent raw) or
// /media/alice/%2e%2e/dev/x asks for the key "media/alice/../dev/x", which
// is not dev's "media/dev/x". S3 decodes %2F to "/" in a key, and so does
// this; a decoded "#" or "?" is part of the key.
func objectKey(r *http.Request) string {
	return strings.TrimPrefix(r.URL.Path, "/")
}

// open opens an object by key. A key that is not a valid fs path (empty,
// with a "." or ".." element or an empty one from "//", or a trailing "/")
// is a missing object, as S3 would find no such key in a bucket made from
// a directory tree: nothing outside c.files is ever opened, however the
// path was encoded. (c.files itself must not follow links out of its
// tree: os.DirFS does, an os.Root's FS does not.)
func (c *cdn) open(name string) (fs.File, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, fs.ErrNotExist
	}
	return c.files.Open(name)
}

// cors adds S3's CORS response headers for an allowed Origin.
func (c *cdn) cors(h http.Header, r *http.Request) {
	h.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(c.origins, origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// preflight answers a CORS preflight as an S3 bucket with a CORS rule
// allowing c.origins, GET and HEAD, any request header, credentials, and a
// max age of 3000 s.
func (c *cdn) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	allowed := origin != "" && slices.Contains(c.origins, origin) &&
		(method == http.MethodGet || method == http.MethodHead)
	c.log.Info().Str("method", r.Method).Str("path", r.URL.EscapedPath()).Str("client", r.RemoteAddr).
		Str("origin", origin).Str("request_method", method).Bool("allowed", allowed).
		Msg("edge: CORS preflight (no cookie check)")
	switch {
	case origin == "" || method == "":
		writeXMLError(w, http.StatusBadRequest, "application/xml", "BadRequest",
			"Insufficient information. Origin request header needed.")
		return
	case !allowed:
		writeXMLError(w, http.StatusForbidden, "application/xml", "AccessForbidden",
			"CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "+
				"request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD")
	if reqHeaders := r.Header.Get("Access-Control-Request-Headers"); reqHeaders != "" {
		h.Set("Access-Control-Allow-Headers", reqHeaders)
	}
	h.Set("Access-Control-Max-Age", "3000")
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	w.WriteHeader(http.StatusOK)
}

// ContentType is the Content-Type served for a file name, by its
// extension (case-insensitive): the media type an S3 upload of the files a
// media SPA loads would be given, binary/octet-stream (S3's default) for
// others. The system MIME table is not used, as it varies (".ts" is
// TypeScript or Qt Linguist on some hosts).
func ContentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".svg":
		return "image/svg+xml"
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".ts":
		return "video/mp2t"
	case ".mp4":
		return "video/mp4"
	case ".m4s":
		return "video/iso.segment"
	case ".m4a":
		return "audio/mp4"
	case ".aac":
		return "audio/aac"
	case ".mpd":
		return "application/dash+xml"
	case ".vtt":
		return "text/vtt"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "binary/octet-stream"
}
