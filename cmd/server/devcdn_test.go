package main

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// TestDevCDNSaysWhyItDenies runs --dev with a key the test holds, provokes
// each of the five usual denials against its emulated CloudFront over
// HTTP, and checks that the CDN's log line for each gives the reason in
// the words `server verify` prints for the same Cookie header, and that no
// cookie value reaches the log.
func TestDevCDNSaysWhyItDenies(t *testing.T) {
	t.Parallel()
	k, rsaPub, _, _ := keyFiles(t)
	der, err := x509.MarshalPKCS8PrivateKey(k.rsa)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs, _ := startDev(t, map[string]string{
		"CLOUDFRONT_PRIVATE_KEY_FILE": keyFile, "CLOUDFRONT_KEY_PAIR_ID": idRSA, "METRICS_ADDR": "",
	})
	cdnAddr := listenAddr(t, logs, "cdn")
	cdn := "http://" + cdnAddr
	host := localhostAt(t, cdnAddr) // the CLOUDFRONT_DOMAIN of --dev, which the browser uses

	// What the API issues dev and alice, as the browser would send it back.
	issue := func(user string) map[string]string {
		req, _ := http.NewRequest("POST", base+"/auth/media-cookies", nil)
		req.Header.Set("X-Dev-User", user)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("issuing %s's cookies: status %d", user, resp.StatusCode)
		}
		jar := map[string]string{}
		for _, c := range resp.Cookies() {
			if c.Value != "" && c.MaxAge >= 0 {
				jar[c.Name] = c.Value
			}
		}
		return jar
	}
	dev, alice := issue("dev"), issue("alice")
	if dev[signer.CookiePolicy] == "" || dev[signer.CookieSignature] == "" || dev[signer.CookieKeyPairID] != idRSA {
		t.Fatalf("dev's cookies: %d of them, key pair ID %q", len(dev), dev[signer.CookieKeyPairID])
	}
	with := func(jar map[string]string, name, value string) map[string]string {
		out := map[string]string{}
		for n, v := range jar {
			out[n] = v
		}
		if value == "" {
			delete(out, name)
		} else {
			out[name] = value
		}
		return out
	}
	hash := signer.HashAlgorithm(dev[signer.CookieHashAlgorithm])
	if hash == "" {
		hash = signer.SHA1
	}
	grant := signer.Grant{Resource: "http://" + host + "/media/dev/*", Expires: time.Now().Add(time.Hour)}
	otherSigner, err := signer.New(idRSA, k.rsaOther, signer.Options{HashAlgorithm: hash})
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := otherSigner.Sign(grant)
	if err != nil {
		t.Fatal(err)
	}
	expiredSigner, err := signer.New(idRSA, k.rsa, signer.Options{HashAlgorithm: hash, Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := expiredSigner.Sign(signer.Grant{Resource: grant.Resource, Expires: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expiredJar := with(with(dev, signer.CookiePolicy, expired.Policy), signer.CookieSignature, expired.Signature)

	cases := []struct {
		name, path string
		jar        map[string]string
		code       string
		reason     string // a phrase the reason must hold
		condition  string
	}{
		{"missing cookie", "/media/dev/image.svg", with(dev, signer.CookieSignature, ""), signer.CodeMissingKey, "no CloudFront-Signature cookie", ""},
		{"unknown key", "/media/dev/image.png", with(dev, signer.CookieKeyPairID, "KUNKNOWNKEY"), signer.CodeInvalidKey, "names no key of the key group (trusted: " + idRSA + ")", ""},
		{"bad signature", "/media/dev/hls/index.m3u8", with(dev, signer.CookieSignature, otherKey.Signature), signer.CodeAccessDenied, "signature does not verify with key " + idRSA, ""},
		{"wrong resource", "/media/dev/hls/segment0.ts", alice, signer.CodeAccessDenied, "policy Resource does not match the request URL http://" + host + "/media/dev/hls/segment0.ts", "Resource"},
		{"expired", "/media/dev/hls/segment1.ts", expiredJar, signer.CodeAccessDenied, "policy expired at " + expired.Expires.UTC().Format(time.RFC3339) + " (DateLessThan)", "DateLessThan"},
	}
	var secrets []string
	for _, jar := range []map[string]string{dev, alice, expiredJar} {
		secrets = append(secrets, jar[signer.CookiePolicy], jar[signer.CookieSignature])
	}
	secrets = append(secrets, otherKey.Signature)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pairs []string
			for _, name := range []string{signer.CookiePolicy, signer.CookieSignature, signer.CookieKeyPairID, signer.CookieHashAlgorithm} {
				if v, ok := tc.jar[name]; ok {
					pairs = append(pairs, name+"="+v)
				}
			}
			cookieHeader := strings.Join(pairs, "; ")

			req, _ := http.NewRequest("GET", cdn+tc.path, nil)
			req.Host = host
			req.Header.Set("Cookie", cookieHeader)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}

			line, ok := cdnDenial(logs.String(), tc.path)
			if !ok {
				t.Fatalf("no denial logged for %s:\n%s", tc.path, logs)
			}
			if line.Code != tc.code || !strings.Contains(line.Reason, tc.reason) || line.Condition != tc.condition {
				t.Errorf("logged code %q, reason %q, condition %q; want %s, %q, %q", line.Code, line.Reason, line.Condition, tc.code, tc.reason, tc.condition)
			}

			out, _, exit := runCmd(t, nil, "verify", "--url", "http://"+host+tc.path, "--cookie", cookieHeader, "--public-key", idRSA+"="+rsaPub)
			if exit != 1 {
				t.Fatalf("verify exit status %d, want 1:\n%s", exit, out)
			}
			verifyReason := deniedReason(out)
			if tc.name == "expired" { // the two checks ran a moment apart: compare up to "now"
				verifyReason, _, _ = strings.Cut(verifyReason, ", ")
				line.Reason, _, _ = strings.Cut(line.Reason, ", ")
			}
			if verifyReason == "" || verifyReason != line.Reason {
				t.Errorf("the CDN logged %q, verify printed %q", line.Reason, verifyReason)
			}
			for _, s := range secrets {
				if s != "" && strings.Contains(out, s) {
					t.Error("verify printed a cookie value")
				}
			}
		})
	}

	// The cookies dev was issued open dev's media: the denials above are the
	// changes made to them, not a CDN that denies everything.
	req, _ := http.NewRequest("GET", cdn+"/media/dev/hls/segment2.ts", nil)
	req.Host = host
	for name, v := range dev {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("dev's own cookies: status %d, want 200", resp.StatusCode)
	}

	out := logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the log holds a cookie value (%d bytes)", len(s))
		}
	}
}

// cdnLine is the emulated CloudFront's log line for one check.
type cdnLine struct {
	Server, Message, Path, Code, Reason, Condition string
	Allowed                                        bool
}

// cdnDenial finds the dev CDN's denial of path in JSON logs.
func cdnDenial(logs, path string) (cdnLine, bool) {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l cdnLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Server == "cdn" && l.Message == "edge: signed-cookie check" && l.Path == path && !l.Allowed {
			return l, true
		}
	}
	return cdnLine{}, false
}

// deniedReason is the reason `server verify` prints under its DENIED line.
func deniedReason(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "DENIED:") && i+1 < len(lines) {
			return strings.TrimPrefix(lines[i+1], "  ")
		}
	}
	return ""
}
