package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ALBDataHeader is the header in which an Application Load Balancer with an
// authenticate-oidc or authenticate-cognito action passes the signed user
// claims to its targets.
const ALBDataHeader = "X-Amzn-Oidc-Data"

const (
	// albMaxBytes bounds the ALB header. ALB passes user claims of up to
	// about 11 KB, which base64 makes a third larger, so the bearer-token
	// limit would refuse real users.
	albMaxBytes = 16 << 10

	// albMaxKeys bounds the public-key cache. ALB signs with a handful of
	// keys per region; a kid is immutable, so a cached key never goes stale.
	albMaxKeys = 16

	albKeyMaxBytes = 16 << 10
	albKidMaxBytes = 128
)

// ALBConfig configures NewALB. ARN is required; the zero value of every
// other field is a safe default.
type ALBConfig struct {
	// ARN is the load balancer's ARN,
	// arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID.
	// The token's signer header must equal it.
	ARN string

	// KeysBaseURL serves the PEM public key for a kid at KeysBaseURL/<kid>.
	// Empty means https://public-keys.auth.elb.REGION.amazonaws.com with
	// REGION from ARN; it must be set for partitions other than "aws" (such
	// as GovCloud, whose key endpoint is listed in the ELB user guide).
	KeysBaseURL string

	// Leeway is the clock skew tolerated on exp. Zero means DefaultLeeway
	// (60s); negative is an error.
	Leeway time.Duration

	// HTTPClient fetches public keys. Nil means a client with a 10s timeout
	// that does not follow redirects.
	HTTPClient *http.Client

	// Now is the clock used for exp. Nil means time.Now.
	Now func() time.Time
}

// ALB authenticates a request by the x-amzn-oidc-data header that an AWS
// Application Load Balancer adds after authenticating the user itself. Use it
// only when the service is reachable through that load balancer alone: the
// header proves who the ALB let in, not who can reach the target directly.
//
// The header is a JWT signed ES256 whose header names the key (kid) and the
// load balancer (signer). Per the ELB user guide its base64 may carry padding,
// so each segment is decoded as base64url or standard base64, padded or not;
// the signature covers the segments as sent. Checked: the signer equals the
// configured ARN, alg is ES256, the signature verifies with the key published
// for kid, exp (in the JWT header, the payload, or both) has not passed give
// or take the leeway, and sub is a non-empty string.
//
// An ALB is safe for concurrent use.
type ALB struct {
	arn     string
	keysURL string
	client  *http.Client
	leeway  time.Duration
	now     func() time.Time

	mu    sync.Mutex
	keys  map[string]*ecdsa.PublicKey
	order []string // kids in insertion order, for eviction

	fetching chan struct{} // one key fetch at a time
}

var _ Authenticator = (*ALB)(nil)

// NewALB returns an authenticator for the load balancer cfg.ARN. It does no
// I/O: keys are fetched when a token first names them.
func NewALB(cfg ALBConfig) (*ALB, error) {
	partition, region, err := ParseALBARN(cfg.ARN)
	if err != nil {
		return nil, fmt.Errorf("auth: alb: ARN %q: %w", cfg.ARN, err)
	}
	base := cfg.KeysBaseURL
	if base == "" {
		if partition != "aws" {
			return nil, fmt.Errorf("auth: alb: KeysBaseURL is required for partition %q", partition)
		}
		base = "https://public-keys.auth.elb." + region + ".amazonaws.com"
	}
	if err := checkFetchURL(base); err != nil {
		return nil, fmt.Errorf("auth: alb keys URL: %w", err)
	}
	leeway, err := checkLeeway(cfg.Leeway)
	if err != nil {
		return nil, fmt.Errorf("auth: alb: %w", err)
	}
	client, now := orDefaults(cfg.HTTPClient, cfg.Now)
	return &ALB{
		arn:      cfg.ARN,
		keysURL:  strings.TrimRight(base, "/"),
		client:   client,
		leeway:   leeway,
		now:      now,
		keys:     make(map[string]*ecdsa.PublicKey),
		fetching: make(chan struct{}, 1),
	}, nil
}

// ParseALBARN checks that arn is an Application Load Balancer's,
// arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID,
// and returns its partition and region. The error says what is wrong,
// without repeating arn.
func ParseALBARN(arn string) (partition, region string, err error) {
	f := strings.Split(arn, ":")
	if len(f) != 6 || f[0] != "arn" || f[2] != "elasticloadbalancing" {
		return "", "", errors.New("not arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID")
	}
	partition, region, account, resource := f[1], f[3], f[4], f[5]
	if !isLowerDNSLabel(partition) || !isLowerDNSLabel(region) {
		return "", "", errors.New("malformed partition or region")
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", "", errors.New("malformed account id (12 digits)")
	}
	r := strings.Split(resource, "/")
	if len(r) != 4 || r[0] != "loadbalancer" || r[1] != "app" || r[2] == "" || r[3] == "" {
		return "", "", errors.New("not an application load balancer (loadbalancer/app/NAME/ID)")
	}
	return partition, region, nil
}

func isLowerDNSLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// albHeader is the JWT header ALB writes.
type albHeader struct {
	Alg    string          `json:"alg"`
	Kid    string          `json:"kid"`
	Signer string          `json:"signer"`
	Exp    json.RawMessage `json:"exp"`
}

// Authenticate implements Authenticator. Every error wraps
// ErrUnauthenticated; its text is safe to log and never holds the token.
func (a *ALB) Authenticate(r *http.Request) (Identity, error) {
	switch h := r.Header.Values(ALBDataHeader); len(h) {
	case 0:
		return Identity{}, unauthenticated(ReasonMissing, "no %s header", ALBDataHeader)
	case 1:
		return a.verify(r.Context(), h[0])
	default:
		return Identity{}, unauthenticated(ReasonMalformed, "%d %s headers", len(h), ALBDataHeader)
	}
}

func (a *ALB) verify(ctx context.Context, raw string) (Identity, error) {
	if err := checkTokenChars(raw, albMaxBytes, true); err != nil {
		return Identity{}, err
	}
	seg := strings.Split(raw, ".")
	if len(seg) != 3 {
		return Identity{}, unauthenticated(ReasonMalformed, "token has %d segments, want 3", len(seg))
	}
	hdrJSON, err := decodeSegment(seg[0])
	if err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "token header: %v", err)
	}
	var hdr albHeader
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "token header: malformed JSON")
	}
	// The header is not verified yet: these checks only decide whether a
	// key is worth fetching.
	if hdr.Signer != a.arn {
		return Identity{}, unauthenticated(ReasonWrongIssuerOrAudience, "signer %q is not the configured load balancer", clip(hdr.Signer))
	}
	if hdr.Alg != "ES256" {
		return Identity{}, unauthenticated(ReasonMalformed, "alg %q, want ES256", clip(hdr.Alg))
	}
	if err := checkKid(hdr.Kid); err != nil {
		return Identity{}, err
	}
	sig, err := decodeSegment(seg[2])
	if err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "token signature: %v", err)
	}
	if len(sig) != 64 {
		return Identity{}, unauthenticated(ReasonMalformed, "ES256 signature is %d bytes, want 64", len(sig))
	}
	key, err := a.key(ctx, hdr.Kid)
	if err != nil {
		return Identity{}, err
	}
	digest := sha256.Sum256([]byte(raw[:len(seg[0])+1+len(seg[1])]))
	rr, ss := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key, digest[:], rr, ss) {
		return Identity{}, unauthenticated(ReasonBadSignature, "signature does not verify with key %q", hdr.Kid)
	}

	payload, err := decodeSegment(seg[1])
	if err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "token payload: %v", err)
	}
	var reg struct {
		Sub json.RawMessage `json:"sub"`
		Exp json.RawMessage `json:"exp"`
		Nbf json.RawMessage `json:"nbf"`
		Iat json.RawMessage `json:"iat"`
	}
	if json.Unmarshal(payload, &reg) != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "token payload: malformed JSON")
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return Identity{}, unauthenticated(ReasonMalformed, "token payload: malformed JSON")
	}
	if err := a.checkDates(hdr.Exp, reg.Exp, reg.Nbf, reg.Iat); err != nil {
		return Identity{}, err
	}
	var sub string
	if len(reg.Sub) == 0 || json.Unmarshal(reg.Sub, &sub) != nil || sub == "" {
		return Identity{}, unauthenticated(ReasonMalformed, "token has no sub string")
	}
	return Identity{Subject: sub, Claims: claims}, nil
}

// checkDates requires exp in the header or the payload and checks each one
// present, then the payload's nbf and iat if any (see numericDate: a
// string is refused wherever it stands).
func (a *ALB) checkDates(hdrExp, payloadExp, nbf, iat json.RawMessage) error {
	_, inHeader, _ := numericDate(hdrExp)
	_, inPayload, _ := numericDate(payloadExp)
	if !inHeader && !inPayload {
		return unauthenticated(ReasonMalformed, "token has no exp")
	}
	now := a.now()
	for _, exp := range []json.RawMessage{hdrExp, payloadExp} {
		if err := checkExp(now, a.leeway, exp, true); err != nil {
			return err
		}
	}
	return checkNotBefore(now, a.leeway, nbf, iat)
}

// decodeSegment decodes one JWT segment leniently, as ALB's need: base64url
// or standard alphabet, with or without '=' padding.
func decodeSegment(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, errors.New("malformed base64")
}

// checkKid accepts a kid that is safe as one URL path segment.
func checkKid(kid string) error {
	if kid == "" {
		return unauthenticated(ReasonMalformed, "token header has no kid")
	}
	if len(kid) > albKidMaxBytes {
		return unauthenticated(ReasonMalformed, "kid is %d bytes, over %d", len(kid), albKidMaxBytes)
	}
	for i := 0; i < len(kid); i++ {
		if c := kid[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return unauthenticated(ReasonMalformed, "kid has a byte outside [A-Za-z0-9._-]")
		}
	}
	if kid == "." || strings.Contains(kid, "..") {
		return unauthenticated(ReasonMalformed, "kid %q is a path traversal", kid)
	}
	return nil
}

// key returns the public key for kid, fetching it on first use. Fetches run
// one at a time, so tokens naming made-up kids cost at most one outstanding
// request to the key endpoint.
func (a *ALB) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	if k := a.cachedKey(kid); k != nil {
		return k, nil
	}
	select {
	case a.fetching <- struct{}{}:
		defer func() { <-a.fetching }()
	case <-ctx.Done():
		return nil, unauthenticated(ReasonKeysUnavailable, "waiting for key %q: %v", kid, ctx.Err())
	}
	if k := a.cachedKey(kid); k != nil {
		return k, nil
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	k, err := a.fetchKey(ctx, kid)
	if err != nil {
		reason := ReasonKeysUnavailable
		if errors.Is(err, errNoSuchKey) {
			reason = ReasonUnknownKey
		}
		return nil, unauthenticated(reason, "key %q: %v", kid, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.order) >= albMaxKeys {
		delete(a.keys, a.order[0])
		a.order = a.order[1:]
	}
	a.keys[kid] = k
	a.order = append(a.order, kid)
	return k, nil
}

func (a *ALB) cachedKey(kid string) *ecdsa.PublicKey {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keys[kid]
}

// errNoSuchKey is a key endpoint's answer that it has no key by that kid.
var errNoSuchKey = errors.New("no such key")

// fetchKey GETs KeysBaseURL/<kid>: a PEM "PUBLIC KEY" holding a P-256 key.
func (a *ALB) fetchKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.keysURL+"/"+url.PathEscape(kid), nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusForbidden:
		// S3, behind the ALB key endpoint, answers 403 for a missing key.
		return nil, fmt.Errorf("fetch: %s: %w", resp.Status, errNoSuchKey)
	default:
		return nil, fmt.Errorf("fetch: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, albKeyMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if len(body) > albKeyMaxBytes {
		return nil, fmt.Errorf("key is over %d bytes", albKeyMaxBytes)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("response is not a PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("key is %T, want an ECDSA P-256 key", pub)
	}
	return k, nil
}
