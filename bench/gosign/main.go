// Command gosign is the load test's Go baseline: the plain net/http server
// a Go team would write with the AWS SDK's CloudFront sign module, doing
// what cfcookies' POST /auth/media-cookies does in dev mode (identity from
// X-Dev-User, one custom policy for /media/{user}/*, the three CloudFront
// cookies with Path, Secure, HttpOnly, SameSite, Expires and Max-Age, and
// the same JSON answer), without logging. The key is parsed once.
//
//	gosign -addr 127.0.0.1:18090 -key key.pem -key-pair-id K1 -domain https://media.example.com
package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address (loopback)")
	keyFile := flag.String("key", "", "RSA private key, PEM (PKCS#1 or PKCS#8)")
	keyPairID := flag.String("key-pair-id", "KBENCH", "CloudFront key pair ID")
	domain := flag.String("domain", "https://media.example.com", "CloudFront base URL")
	ttl := flag.Duration("ttl", 10*time.Minute, "policy lifetime")
	flag.Parse()

	key, err := loadKey(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	signer := sign.NewCookieSigner(*keyPairID, key)

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
		policy := &sign.Policy{Statements: []sign.Statement{{
			Resource:  resource,
			Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(expires)},
		}}}
		cookies, err := signer.SignWithPolicy(policy, func(o *sign.CookieOptions) {
			o.Path = "/"
			o.Secure = true
			o.SameSite = http.SameSiteLaxMode
			o.Expires = expires
		})
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

func loadKey(name string) (*rsa.PrivateKey, error) {
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
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an RSA key", k)
	}
	return rk, nil
}
