// Command gosign is the load test's Go baseline: the plain net/http server
// a Go team would write with the AWS SDK's CloudFront sign module, doing
// what cfcookies' POST /auth/media-cookies does in dev mode (identity from
// X-Dev-User, one custom policy for /media/{user}/*, the three CloudFront
// cookies with Path, Secure, HttpOnly, SameSite, Expires and Max-Age, and
// the same JSON answer), without logging. The key is parsed once.
//
// Given an ECDSA P-256 key, which the sign module cannot use (it signs
// with SHA-1 and takes only RSA keys), it signs the same policy with
// crypto/ecdsa over SHA-256 and adds CloudFront-Hash-Algorithm: the least
// a Go server must do per ECDSA issuance, the ceiling for cfcookies' ECDSA
// misses.
//
//	gosign -addr 127.0.0.1:18090 -key key.pem -key-pair-id K1 -domain https://media.example.com
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address (loopback)")
	keyFile := flag.String("key", "", "RSA or ECDSA P-256 private key, PEM (PKCS#1, SEC 1 or PKCS#8)")
	keyPairID := flag.String("key-pair-id", "KBENCH", "CloudFront key pair ID")
	domain := flag.String("domain", "https://media.example.com", "CloudFront base URL")
	ttl := flag.Duration("ttl", 10*time.Minute, "policy lifetime")
	flag.Parse()

	key, err := loadKey(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	var signCookies func(resource string, expires time.Time) ([]*http.Cookie, error)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		signCookies = signModule(*keyPairID, k)
	case *ecdsa.PrivateKey:
		signCookies = signECDSA(*keyPairID, k)
	}

	type grant struct {
		Scope      string `json:"scope"`
		Resource   string `json:"resource"`
		CookiePath string `json:"cookiePath"`
	}
	type response struct {
		ExpiresAt    time.Time `json:"expiresAt"`
		RefreshAfter time.Time `json:"refreshAfter"`
		Grants       []grant   `json:"grants"`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/media-cookies", func(w http.ResponseWriter, r *http.Request) {
		user := r.Header.Get("X-Dev-User")
		if user == "" {
			user = "dev"
		}
		now := time.Now()
		expires := now.Add(*ttl).Truncate(time.Second)
		resource := *domain + "/media/" + user + "/*"
		cookies, err := signCookies(resource, expires)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		for _, c := range cookies {
			c.MaxAge = int(expires.Sub(now).Seconds())
			http.SetCookie(w, c)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(response{
			ExpiresAt:    expires.UTC(),
			RefreshAfter: now.Add(*ttl * 4 / 5).Truncate(time.Second).UTC(),
			Grants:       []grant{{Scope: "default", Resource: resource, CookiePath: "/"}},
		})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// signModule signs with the AWS sign module.
func signModule(keyPairID string, key *rsa.PrivateKey) func(resource string, expires time.Time) ([]*http.Cookie, error) {
	signer := sign.NewCookieSigner(keyPairID, key)
	return func(resource string, expires time.Time) ([]*http.Cookie, error) {
		return signer.SignWithPolicy(newPolicy(resource, expires), func(o *sign.CookieOptions) {
			o.Path = "/"
			o.Secure = true
			o.SameSite = http.SameSiteLaxMode
			o.Expires = expires
		})
	}
}

func newPolicy(resource string, expires time.Time) *sign.Policy {
	return &sign.Policy{Statements: []sign.Statement{{
		Resource:  resource,
		Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(expires)},
	}}}
}

// signECDSA writes the policy JSON with the sign module's types and signs it
// with crypto/ecdsa; the cookies carry the same attributes.
func signECDSA(keyPairID string, key *ecdsa.PrivateKey) func(resource string, expires time.Time) ([]*http.Cookie, error) {
	b64 := strings.NewReplacer("+", "-", "=", "_", "/", "~")
	return func(resource string, expires time.Time) ([]*http.Cookie, error) {
		policy, err := json.Marshal(newPolicy(resource, expires))
		if err != nil {
			return nil, err
		}
		digest := sha256.Sum256(policy)
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			return nil, err
		}
		var cookies []*http.Cookie
		for _, nv := range [][2]string{
			{"CloudFront-Policy", b64.Replace(base64.StdEncoding.EncodeToString(policy))},
			{"CloudFront-Signature", b64.Replace(base64.StdEncoding.EncodeToString(sig))},
			{"CloudFront-Key-Pair-Id", keyPairID},
			{"CloudFront-Hash-Algorithm", "SHA256"},
		} {
			cookies = append(cookies, &http.Cookie{Name: nv[0], Value: nv[1], Path: "/", Expires: expires,
				Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		return cookies, nil
	}
}

// loadKey reads an RSA or ECDSA P-256 private key: PKCS#1, SEC 1 or PKCS#8.
func loadKey(name string) (crypto.Signer, error) {
	b, err := os.ReadFile(name) //nolint:gosec // G304: the operator names the key file
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%T is neither an RSA nor an ECDSA key", k)
}
