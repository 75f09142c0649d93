package edge

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/cfcookies/cfcookies/signer"
)

// WriteDenial answers a denied request as CloudFront does when the
// signed-cookie check fails at the edge: 403, Content-Type text/xml, and
//
//	<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>
//
// with d's code and message. It removes any Access-Control-* header already
// set: the request never reached the origin, which is what adds them, so
// a cross-origin fetch sees a CORS error, as it would against CloudFront.
func WriteDenial(w http.ResponseWriter, d signer.Decision) {
	code := d.Code
	if code == "" {
		code = signer.CodeAccessDenied
	}
	h := w.Header()
	for name := range h {
		if strings.HasPrefix(name, "Access-Control-") {
			delete(h, name)
		}
	}
	h.Set("X-Cache", "Error from cloudfront")
	writeXMLError(w, http.StatusForbidden, "text/xml", code, d.Message())
}

// writeXMLError writes an AWS-style <Error> document.
func writeXMLError(w http.ResponseWriter, status int, contentType, code, message string) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>`)
	_ = xml.EscapeText(&b, []byte(code))
	b.WriteString(`</Code><Message>`)
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString(`</Message></Error>`)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
