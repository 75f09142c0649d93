package mediacookies

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// CacheStats counts the signature cache's work (see
// Config.SignatureCache).
type CacheStats struct {
	Hits    uint64 // grants answered from memory
	Misses  uint64 // grants signed, or waiting for the same policy's signature
	Entries int    // signed policies held now
}

// CacheStats returns the signature cache's counts; all zero without a
// cache.
func (h *Handler[ID]) CacheStats() CacheStats {
	if h.cache == nil {
		return CacheStats{}
	}
	return h.cache.stats()
}

// sigCache keeps signed policies by their bytes. RSA PKCS#1 v1.5 is
// deterministic, so one key, hash and policy always give one signature; an
// ECDSA signature is random but just as valid for its policy. A policy
// holds its expiry, which is why ExpiryGranularity makes it pay: requests
// inside one window build byte-identical policies.
//
// Entries belong to one signer (a generation); another signer starts an
// empty generation, so a signature of the old key never answers for the
// new one. Entries go at their policy's expiry; when the cache is full,
// a new entry first drops every expired one, then, if none has, an
// arbitrary one. Concurrent misses for one policy sign once.
type sigCache struct {
	size int
	now  func() time.Time
	gen  atomic.Pointer[cacheGen]
	mu   sync.Mutex // serialises the creation of generations

	hits, misses atomic.Uint64
}

type cacheGen struct {
	signer  *signer.Signer
	mu      sync.RWMutex
	entries map[string]signer.Signed
	flight  map[string]*flight // under mu
}

// flight is one signing under way; done closes when signed and err are
// set.
type flight struct {
	done   chan struct{}
	signed signer.Signed
	err    error
}

func newSigCache(size int, now func() time.Time) *sigCache {
	return &sigCache{size: size, now: now}
}

func (c *sigCache) generation(sg *signer.Signer) *cacheGen {
	if g := c.gen.Load(); g != nil && g.signer == sg {
		return g
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.gen.Load(); g != nil && g.signer == sg {
		return g
	}
	g := &cacheGen{signer: sg, entries: map[string]signer.Signed{}, flight: map[string]*flight{}}
	c.gen.Store(g)
	return g
}

// sign returns the cached signature of g's policy or signs it with sg,
// passing ctx to the key (signer.Signer.SignContext). A request waiting
// for another's signature of the same policy stops waiting when its own
// ctx ends, and signs itself when the other gave up because its context
// ended.
func (c *sigCache) sign(ctx context.Context, sg *signer.Signer, g signer.Grant) (signer.Signed, error) {
	policy, err := g.Policy()
	if err != nil {
		return signer.Signed{}, err
	}
	gen := c.generation(sg)
	now := c.now()
	gen.mu.RLock()
	s, ok := gen.entries[string(policy)]
	gen.mu.RUnlock()
	if ok && now.Before(s.Expires) {
		c.hits.Add(1)
		return s, nil
	}
	c.misses.Add(1)
	key := string(policy)
	for {
		gen.mu.Lock()
		if s, ok := gen.entries[key]; ok && now.Before(s.Expires) {
			gen.mu.Unlock() // signed since the lookup
			return s, nil
		}
		if f, ok := gen.flight[key]; ok {
			gen.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return signer.Signed{}, fmt.Errorf("mediacookies: waiting for the signature of the same policy: %w", context.Cause(ctx))
			}
			if f.err != nil && ctx.Err() == nil &&
				(errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue // its request gave up, not the key: sign for this one
			}
			return f.signed, f.err
		}
		f := &flight{done: make(chan struct{})}
		gen.flight[key] = f
		gen.mu.Unlock()

		f.signed, f.err = sg.SignContext(ctx, g)

		gen.mu.Lock()
		delete(gen.flight, key)
		if f.err == nil {
			gen.add(key, f.signed, c.size, now)
		}
		gen.mu.Unlock()
		close(f.done)
		return f.signed, f.err
	}
}

// add stores an entry, making room first when the cache is full. The
// caller holds mu.
func (g *cacheGen) add(key string, s signer.Signed, size int, now time.Time) {
	if len(g.entries) >= size {
		for k, e := range g.entries {
			if !now.Before(e.Expires) {
				delete(g.entries, k)
			}
		}
		for k := range g.entries {
			if len(g.entries) < size {
				break
			}
			delete(g.entries, k)
		}
	}
	g.entries[key] = s
}

func (c *sigCache) stats() CacheStats {
	st := CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	if g := c.gen.Load(); g != nil {
		g.mu.RLock()
		st.Entries = len(g.entries)
		g.mu.RUnlock()
	}
	return st
}
