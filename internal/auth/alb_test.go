package auth

import (
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func albRequest(values ...string) *http.Request {
	r := httptest.NewRequest("POST", "/auth/media-cookies", nil)
	for _, v := range values {
		r.Header.Add(ALBDataHeader, v)
	}
	return r
}

func TestALBAuthenticate(t *testing.T) {
	t.Parallel()
	ks := newALBKeyServer(t)
	clock := newClock()
	a := newTestALB(t, ks, clock)
	now := clock.Now()

	hdr := func(edits map[string]any) map[string]any { return albHeaderAt(now, edits) }
	claims := func(edits map[string]any) map[string]any { return albClaimsAt(now, edits) }
	mint := func(h, c any) string { return mintALB(t, ecKey1(), base64.URLEncoding, h, c) }

	good := mint(hdr(nil), claims(nil))
	goodSeg := strings.Split(good, ".")

	tests := []struct {
		name     string
		values   []string // x-amzn-oidc-data header values
		wantSub  string   // empty: must be refused
		detail   string   // refused: a word of the reason
		reason   string   // refused: what Reason says
		wantPath string   // the key endpoint path the row must (or, refused, may only) hit; empty: none
	}{
		{name: "padded base64url, as ALB sends it", values: []string{good}, wantSub: "bob", wantPath: "/alb-key-1"},
		{name: "unpadded base64url", values: []string{mintALB(t, ecKey1(), base64.RawURLEncoding, hdr(nil), claims(nil))}, wantSub: "bob", wantPath: "/alb-key-1"},
		{name: "standard base64", values: []string{mintALB(t, ecKey1(), base64.StdEncoding, hdr(nil), claims(map[string]any{"name": "~~~???>>>"}))}, wantSub: "bob", wantPath: "/alb-key-1"},
		{name: "exp only in the header", values: []string{mint(hdr(nil), claims(map[string]any{"exp": nil}))}, wantSub: "bob", wantPath: "/alb-key-1"},
		{name: "exp within leeway", values: []string{mint(hdr(map[string]any{"exp": now.Add(-30 * time.Second).Unix()}), claims(map[string]any{"exp": nil}))}, wantSub: "bob", wantPath: "/alb-key-1"},

		{name: "nbf and iat in the payload", values: []string{mint(hdr(nil), claims(map[string]any{"nbf": now.Unix(), "iat": now.Unix()}))}, wantSub: "bob", wantPath: "/alb-key-1"},
		{name: "fractional exp", values: []string{mint([]byte(fmt.Sprintf(`{"alg":"ES256","kid":"alb-key-1","signer":%q,"exp":%d.5}`, testARN, now.Unix()+60)), claims(nil))}, wantSub: "bob", wantPath: "/alb-key-1"},

		{name: "no header", detail: "no X-Amzn-Oidc-Data header", reason: ReasonMissing},
		{name: "two headers", values: []string{good, good}, detail: "2 X-Amzn-Oidc-Data headers", reason: ReasonMalformed},
		{name: "wrong signer ARN", values: []string{mint(hdr(map[string]any{"signer": strings.Replace(testARN, "media", "other", 1)}), claims(nil))}, detail: "signer", reason: ReasonWrongIssuerOrAudience},
		{name: "wrong alg", values: []string{mint(hdr(map[string]any{"alg": "ES384"}), claims(nil))}, detail: "alg", reason: ReasonMalformed},
		{name: "alg none", values: []string{mint(hdr(map[string]any{"alg": "none"}), claims(nil))}, detail: "alg", reason: ReasonMalformed},
		{name: "unknown kid (404)", values: []string{mint(hdr(map[string]any{"kid": "alb-key-9"}), claims(nil))}, detail: "404", wantPath: "/alb-key-9", reason: ReasonUnknownKey},
		{name: "kid with ../", values: []string{mint(hdr(map[string]any{"kid": "../../admin"}), claims(nil))}, detail: "kid", reason: ReasonMalformed},
		{name: "kid with /", values: []string{mint(hdr(map[string]any{"kid": "a/b"}), claims(nil))}, detail: "kid", reason: ReasonMalformed},
		{name: "kid ..", values: []string{mint(hdr(map[string]any{"kid": ".."}), claims(nil))}, detail: "kid", reason: ReasonMalformed},
		{name: "no kid", values: []string{mint(hdr(map[string]any{"kid": nil}), claims(nil))}, detail: "kid", reason: ReasonMalformed},
		{name: "signed by another key", values: []string{mintALB(t, ecOther(), base64.URLEncoding, hdr(nil), claims(nil))}, detail: "signature", wantPath: "/alb-key-1", reason: ReasonBadSignature},
		{name: "payload swapped under a good signature", values: []string{goodSeg[0] + "." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"mallory"}`)) + "." + goodSeg[2]}, detail: "signature", wantPath: "/alb-key-1", reason: ReasonBadSignature},
		{name: "expired", values: []string{mint(hdr(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}), claims(nil))}, detail: "expired", wantPath: "/alb-key-1", reason: ReasonExpired},
		{name: "payload expired, header not", values: []string{mint(hdr(nil), claims(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}))}, detail: "expired", wantPath: "/alb-key-1", reason: ReasonExpired},
		{name: "header exp a numeric string", values: []string{mint(hdr(map[string]any{"exp": fmt.Sprint(now.Add(2 * time.Minute).Unix())}), claims(map[string]any{"exp": nil}))}, detail: "exp: a string", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "payload exp a numeric string", values: []string{mint(hdr(nil), claims(map[string]any{"exp": fmt.Sprint(now.Add(2 * time.Minute).Unix())}))}, detail: "exp: a string", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "header exp a string, payload exp a number", values: []string{mint(hdr(map[string]any{"exp": fmt.Sprint(now.Add(2 * time.Minute).Unix())}), claims(nil))}, detail: "exp: a string", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "payload nbf a numeric string", values: []string{mint(hdr(nil), claims(map[string]any{"nbf": fmt.Sprint(now.Unix())}))}, detail: "nbf: a string", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "payload iat a numeric string", values: []string{mint(hdr(nil), claims(map[string]any{"iat": fmt.Sprint(now.Unix())}))}, detail: "iat: a string", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "payload nbf in the future", values: []string{mint(hdr(nil), claims(map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}))}, detail: "not valid for another", wantPath: "/alb-key-1", reason: ReasonExpired},
		{name: "header exp overflowing float64", values: []string{mint([]byte(fmt.Sprintf(`{"alg":"ES256","kid":"alb-key-1","signer":%q,"exp":1e400}`, testARN)), claims(nil))}, detail: "exp", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "no exp anywhere", values: []string{mint(hdr(map[string]any{"exp": nil}), claims(map[string]any{"exp": nil}))}, detail: "no exp", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "no sub", values: []string{mint(hdr(nil), claims(map[string]any{"sub": nil}))}, detail: "no sub", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "numeric sub", values: []string{mint(hdr(nil), claims(map[string]any{"sub": 42}))}, detail: "no sub", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "malformed base64", values: []string{"e." + goodSeg[1] + "." + goodSeg[2]}, detail: "base64", reason: ReasonMalformed},
		{name: "malformed header JSON", values: []string{mint([]byte(`{"alg":"ES256",`), claims(nil))}, detail: "JSON", reason: ReasonMalformed},
		{name: "malformed payload JSON under a good signature", values: []string{mint(hdr(nil), []byte(`{"sub":"bob",`))}, detail: "JSON", wantPath: "/alb-key-1", reason: ReasonMalformed},
		{name: "short signature", values: []string{goodSeg[0] + "." + goodSeg[1] + ".AAAA"}, detail: "64", reason: ReasonMalformed},
		{name: "two segments", values: []string{goodSeg[0] + "." + goodSeg[1]}, detail: "segments", reason: ReasonMalformed},
		{name: "over 16 KiB", values: []string{mint(hdr(nil), claims(map[string]any{"pad": strings.Repeat("x", 16<<10)}))}, detail: "limit", reason: ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := a.Authenticate(albRequest(tt.values...))
			if tt.wantSub != "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.Subject != tt.wantSub || id.Claims["email"] != "bob@example.com" {
					t.Fatalf("identity = %+v, want sub %q with all claims", id, tt.wantSub)
				}
			} else {
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("err = %v (identity %+v), want ErrUnauthenticated", err, id)
				}
				if !strings.Contains(err.Error(), tt.detail) {
					t.Errorf("err = %q, want it to say %q", err, tt.detail)
				}
				if got := Reason(err); got != tt.reason {
					t.Errorf("Reason = %q, want %q (err %v)", got, tt.reason, err)
				}
				for _, v := range tt.values {
					if strings.Contains(err.Error(), v) {
						t.Errorf("err holds the token: %q", err)
					}
				}
			}
			// Rows run in parallel, so only the presence of this row's
			// path is checked here; TestALBKeyFetches checks counts.
			if tt.wantPath != "" && !slices.Contains(ks.requested(), tt.wantPath) {
				t.Errorf("key endpoint was not asked for %s: %q", tt.wantPath, ks.requested())
			}
		})
	}
	t.Cleanup(func() {
		for _, p := range ks.requested() {
			if p != "/alb-key-1" && p != "/alb-key-9" {
				t.Errorf("key endpoint was asked for %q", p)
			}
		}
	})
}

// TestALBKeyFetches checks that a key is fetched once and cached, that the
// cache is bounded, and that a traversing kid never reaches the endpoint.
func TestALBKeyFetches(t *testing.T) {
	t.Parallel()
	ks := newALBKeyServer(t)
	clock := newClock()
	a := newTestALB(t, ks, clock)

	for range 3 {
		tok := mintALB(t, ecKey1(), base64.URLEncoding, albHeaderAt(clock.Now(), nil), albClaimsAt(clock.Now(), nil))
		if _, err := a.Authenticate(albRequest(tok)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ks.requested(); !slices.Equal(got, []string{"/alb-key-1"}) {
		t.Fatalf("three tokens, one kid: key endpoint asked for %q, want /alb-key-1 once", got)
	}

	tok := mintALB(t, ecKey1(), base64.URLEncoding, albHeaderAt(clock.Now(), map[string]any{"kid": "../alb-key-1"}), albClaimsAt(clock.Now(), nil))
	if _, err := a.Authenticate(albRequest(tok)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("traversing kid: err = %v, want refused", err)
	}
	if n := len(ks.requested()); n != 1 {
		t.Fatalf("traversing kid reached the key endpoint: %q", ks.requested())
	}

	// More kids than the cache holds: it stays bounded, and every token
	// still verifies.
	keys := map[string]*ecdsa.PrivateKey{}
	for i := range albMaxKeys + 4 {
		kid := fmt.Sprintf("rot-%02d", i)
		keys[kid] = mustEC()
		ks.add(t, kid, &keys[kid].PublicKey)
		tok := mintALB(t, keys[kid], base64.URLEncoding, albHeaderAt(clock.Now(), map[string]any{"kid": kid}), albClaimsAt(clock.Now(), nil))
		if _, err := a.Authenticate(albRequest(tok)); err != nil {
			t.Fatalf("kid %s: %v", kid, err)
		}
	}
	a.mu.Lock()
	n, m := len(a.keys), len(a.order)
	a.mu.Unlock()
	if n != albMaxKeys || m != albMaxKeys {
		t.Fatalf("cache holds %d keys (%d in order), want %d", n, m, albMaxKeys)
	}
}

func TestNewALB(t *testing.T) {
	t.Parallel()
	a, err := NewALB(ALBConfig{ARN: testARN})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://public-keys.auth.elb.eu-west-1.amazonaws.com"; a.keysURL != want {
		t.Errorf("default keys URL = %q, want %q", a.keysURL, want)
	}
	if a.leeway != DefaultLeeway {
		t.Errorf("default leeway = %s", a.leeway)
	}

	gov := "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/media/50dc6c495c0c9188"
	if _, err := NewALB(ALBConfig{ARN: gov, KeysBaseURL: "https://keys.example.com/prefix/"}); err != nil {
		t.Errorf("GovCloud with KeysBaseURL: %v", err)
	}

	for _, tt := range []struct {
		name string
		cfg  ALBConfig
		want string
	}{
		{"no ARN", ALBConfig{}, "ARN"},
		{"network load balancer", ALBConfig{ARN: strings.Replace(testARN, "/app/", "/net/", 1)}, "application load balancer"},
		{"listener ARN", ALBConfig{ARN: strings.Replace(testARN, "loadbalancer/", "listener/", 1) + "/abc"}, "application load balancer"},
		{"another service", ALBConfig{ARN: strings.Replace(testARN, "elasticloadbalancing", "ec2", 1)}, "ARN"},
		{"bad account", ALBConfig{ARN: strings.Replace(testARN, "123456789012", "1234", 1)}, "account"},
		{"bad region", ALBConfig{ARN: strings.Replace(testARN, "eu-west-1", "eu-west-1.evil.com/x", 1)}, "region"},
		{"GovCloud without KeysBaseURL", ALBConfig{ARN: gov}, "KeysBaseURL"},
		{"plain http keys URL off loopback", ALBConfig{ARN: testARN, KeysBaseURL: "http://keys.example.com"}, "https"},
		{"negative leeway", ALBConfig{ARN: testARN, Leeway: -time.Second}, "negative"},
	} {
		if a, err := NewALB(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewALB = %v, %v; want an error about %q", tt.name, a, err, tt.want)
		}
	}
}
