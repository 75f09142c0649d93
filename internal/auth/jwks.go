package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// keysMinRefresh is the shortest time between two fetches of the key
	// set. A token naming an unknown kid triggers a refetch (the issuer may
	// have rotated its keys), but a stream of made-up kids must not turn
	// every request into a request to the issuer.
	keysMinRefresh = 30 * time.Second

	// keysWait bounds how long a request waits for a refetch its unknown
	// kid started. The fetch itself may take up to fetchTimeout and goes on
	// in the background for later requests; a request whose token names a
	// key the issuer may have just published should not hang on an issuer
	// that is down or slow.
	keysWait = 2 * time.Second

	// keysMaxBytes bounds a key set document.
	keysMaxBytes = 1 << 20
)

// signingAlgs are the only algorithms accepted on an OIDC token: asymmetric
// ones, so "none" and HS256 (with the public key as the HMAC secret) never
// reach a key.
var signingAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.PS256}

// algFits reports whether a token whose header names alg may be verified
// with key (RFC 8725, section 3.1: a key is used with one algorithm): the
// alg the key declares, or when it declares none, an accepted algorithm its
// type is for (RSA: RS* and PS*; ECDSA: the ES* of its curve).
func algFits(alg string, key *jose.JSONWebKey) bool {
	if key.Algorithm != "" && alg != key.Algorithm {
		return false
	}
	return slices.Contains(signingAlgs, jose.SignatureAlgorithm(alg)) && keyTypeFits(jose.SignatureAlgorithm(alg), key.Key)
}

func keyTypeFits(alg jose.SignatureAlgorithm, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return alg == jose.ES256
		case elliptic.P384():
			return alg == jose.ES384
		case elliptic.P521():
			return alg == jose.ES512
		}
	}
	return false
}

// usable reports whether key can verify any token here: one it declares
// the algorithm of, an accepted one its type fits; without alg, any
// accepted one its type fits.
func usable(key *jose.JSONWebKey) bool {
	if key.Algorithm != "" {
		return algFits(key.Algorithm, key)
	}
	return slices.ContainsFunc(signingAlgs, func(a jose.SignatureAlgorithm) bool { return keyTypeFits(a, key.Key) })
}

// remoteKeys is an oidc.KeySet over an issuer's jwks_uri. Like go-oidc's
// RemoteKeySet it caches the keys and refetches them when a token names a kid
// it does not know, with one fetch shared by concurrent callers; unlike it,
// it refetches at most once per keysMinRefresh and keeps only public RSA and
// ECDSA signing keys.
type remoteKeys struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	lastTry  time.Time // start of the last fetch; zero before the first
	inflight *keysFetch
}

type keysFetch struct {
	done chan struct{}
	err  error
	// waitUntil is when callers stop waiting for this fetch: keysWait
	// after it started, on the wall clock, however late they joined.
	waitUntil time.Time
}

var errKeysThrottled = errors.New("key set fetched too recently to fetch again")

// VerifySignature implements oidc.KeySet: it returns the payload of a token
// signed by one of the issuer's keys, and records why it refused one in the
// context's keySetOutcome.
func (k *remoteKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, reason, err := k.verifySignature(ctx, raw)
	recordKeySetOutcome(ctx, reason, payload)
	return payload, err
}

func (k *remoteKeys) verifySignature(ctx context.Context, raw string) (payload []byte, reason string, err error) {
	jws, err := jose.ParseSignedCompact(raw, signingAlgs)
	if err != nil {
		return nil, ReasonMalformed, fmt.Errorf("malformed token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, ReasonMalformed, errors.New("token does not have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID

	payload, known, wrongAlg := verifyWith(jws, k.cached(), kid)
	if payload != nil {
		return payload, "", nil
	}
	if known && kid != "" {
		// The key is the one the token names and it does not match:
		// fetching again will not change that.
		if wrongAlg {
			return nil, ReasonBadSignature, fmt.Errorf("token alg %s is not an algorithm of key %q", jws.Signatures[0].Header.Algorithm, clip(kid))
		}
		return nil, ReasonBadSignature, errors.New("signature does not verify")
	}
	if err := k.refresh(ctx); err != nil {
		// A throttled refetch is the key set answering "still no such
		// key"; any other failure leaves the question open.
		unavailable := !errors.Is(err, errKeysThrottled)
		if known {
			reason := ReasonBadSignature
			if unavailable {
				reason = ReasonKeysUnavailable
			}
			return nil, reason, fmt.Errorf("signature does not verify with any key (refetch: %w)", err)
		}
		reason := ReasonUnknownKey
		if unavailable {
			reason = ReasonKeysUnavailable
		}
		return nil, reason, fmt.Errorf("unknown key id %q (refetch: %w)", clip(kid), err)
	}
	payload, known, _ = verifyWith(jws, k.cached(), kid)
	switch {
	case payload != nil:
		return payload, "", nil
	case known:
		return nil, ReasonBadSignature, errors.New("signature does not verify")
	}
	return nil, ReasonUnknownKey, fmt.Errorf("unknown key id %q", clip(kid))
}

// verifyWith tries the keys the token's kid selects (all of them when it has
// none) whose algorithm is the token's (algFits). known reports whether any
// key was selected, wrongAlg whether one was passed over for its algorithm.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) (payload []byte, known, wrongAlg bool) {
	alg := jws.Signatures[0].Header.Algorithm
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		known = true
		if !algFits(alg, &keys[i]) {
			wrongAlg = true
			continue
		}
		if p, err := jws.Verify(&keys[i]); err == nil {
			return p, true, wrongAlg
		}
	}
	return nil, known, wrongAlg
}

func (k *remoteKeys) cached() []jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys
}

// refresh fetches the key set, unless a fetch started less than
// keysMinRefresh ago. Concurrent callers share one fetch, which runs on its
// own deadline so that a caller going away does not waste it; callers wait
// for it until keysWait after it started.
func (k *remoteKeys) refresh(ctx context.Context) error {
	k.mu.Lock()
	f := k.inflight
	if f == nil {
		now := k.now()
		if !k.lastTry.IsZero() && now.Sub(k.lastTry) < keysMinRefresh {
			k.mu.Unlock()
			return errKeysThrottled
		}
		k.lastTry = now
		f = &keysFetch{done: make(chan struct{}), waitUntil: time.Now().Add(keysWait)}
		k.inflight = f
		// The fetch is shared by every waiting request, so no one request's
		// context may cancel it; fetch bounds itself with its own timeout.
		go k.fetch(f) // #nosec G118
	}
	k.mu.Unlock()
	wait := time.NewTimer(time.Until(f.waitUntil))
	defer wait.Stop()
	select {
	case <-f.done:
		return f.err
	case <-wait.C:
		return fmt.Errorf("key set fetch still running after %s", keysWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (k *remoteKeys) fetch(f *keysFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	keys, err := k.get(ctx)
	k.mu.Lock()
	if err == nil {
		k.keys = keys
	}
	k.inflight = nil
	k.mu.Unlock()
	f.err = err
	close(f.done)
}

// get fetches and parses the key set. Keys of a type go-jose does not know,
// encryption keys, anything but an RSA or ECDSA public key, and keys that
// declare an algorithm not accepted here or not of their type (an RSA key
// with "alg":"ES256", "RSA-OAEP", "PS512") are skipped, as RFC 7517 section 5
// asks; a set left with no key is an error.
func (k *remoteKeys) get(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get key set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get key set: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, keysMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read key set: %w", err)
	}
	if len(body) > keysMaxBytes {
		return nil, fmt.Errorf("key set is over %d bytes", keysMaxBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decode key set: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || key.Use == "enc" {
			continue
		}
		switch key.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			if usable(&key) {
				keys = append(keys, key)
			}
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("key set has no RSA or ECDSA public signing key")
	}
	return keys, nil
}
