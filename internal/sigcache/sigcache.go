// Package sigcache signs less: it caches signed CloudFront policies, so a
// grant that was signed a moment ago is answered without a private-key
// operation.
//
// RSA PKCS#1 v1.5 is deterministic, so the same key, hash and policy bytes
// always give the same signature; an ECDSA signature is random but just as
// valid for its policy, so it is cached too. A policy includes its expiry,
// which is why callers round expiries (EXPIRY_GRANULARITY): requests inside
// one window then build byte-identical policies and share one signature.
package sigcache

import (
	"errors"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/cfcookies/cfcookies/signer"
)

// ErrNoSigner is returned by Cache.Sign while the signer source has none.
var ErrNoSigner = errors.New("sigcache: no signer loaded")

// Options are a Cache's settings.
type Options struct {
	// Size bounds the number of cached policies (least recently used go
	// first). It must be positive; to disable caching, do not use a Cache.
	Size int

	// Now is the clock that decides whether an entry has expired. Nil
	// means time.Now.
	Now func() time.Time
}

// A Cache signs grants with the current signer, answering a grant whose
// policy it has already signed from memory. Entries are dropped at their
// policy's expiry (when next seen or by a sweep on a later miss) or when
// the cache is full, least recently used first (a hit counts as a use at
// most once a second per entry, so that hits only read); a change of
// signer (key rotation) empties it. Concurrent misses for the same policy
// sign once. It is safe for concurrent use, and a Prometheus collector of
// its hit and miss counts.
//
// A hit takes no lock and writes no memory shared with other cores: the
// entry is found in a sync.Map, and the hit is counted in one of several
// padded counters picked at random.
type Cache struct {
	current func() *signer.Signer
	now     func() time.Time

	gen      atomic.Pointer[generation]
	rotateMu sync.Mutex // serialises the creation of generations

	hits                 [counterStripes]paddedCounter
	misses               atomic.Uint64
	hitsDesc, missesDesc *prometheus.Desc
	entriesDesc          *prometheus.Desc

	seed        maphash.Seed
	shardCount  int
	shardShift  uint // a key's shard is the top bits of its hash: hash >> shardShift
	shardLength int
}

const counterStripes = 8

type paddedCounter struct {
	n atomic.Uint64
	_ [56]byte // one cache line each
}

// A generation is the cache of one signer: it is replaced whole, never
// emptied in place, so a signature of the old key that completes after a
// rotation lands in a generation nobody reads any more.
type generation struct {
	signer    *signer.Signer
	shards    []*shard
	flight    singleflight.Group
	nextSweep atomic.Int64 // unix nanoseconds
}

// A shard is an LRU list (the library's, under mu) that decides what to
// evict, and a sync.Map index of the same entries that hits read without
// locking. The LRU's eviction callback keeps the index in step.
type shard struct {
	index sync.Map // string -> *entry
	mu    sync.Mutex
	order *simplelru.LRU[string, *entry]
}

type entry struct {
	signed   signer.Signed
	promoted atomic.Int64 // unix nanoseconds of the last move to the LRU front
}

const (
	// promoteEvery limits how often a hit takes its shard's lock to mark
	// its entry recently used: a hot entry is marked at most once a
	// second, and every other hit only reads.
	promoteEvery = time.Second
	// sweepEvery is how often a miss also drops every expired entry.
	sweepEvery = time.Minute
	// minShardLength keeps small caches in one shard, so their bound is
	// exact.
	minShardLength = 256
	maxShards      = 16
)

// New returns a Cache signing with whatever current returns at the time of
// each call (keys.Store.Signer, for example).
func New(current func() *signer.Signer, opts Options) (*Cache, error) {
	if current == nil {
		return nil, errors.New("sigcache: nil signer source")
	}
	if opts.Size <= 0 {
		return nil, errors.New("sigcache: size must be positive")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	shards, shift := 1, uint(64)
	for shards < maxShards && opts.Size/(shards*2) >= minShardLength {
		shards, shift = shards*2, shift-1
	}
	return &Cache{
		current:     current,
		now:         now,
		seed:        maphash.MakeSeed(),
		shardCount:  shards,
		shardShift:  shift,
		shardLength: (opts.Size + shards - 1) / shards,
		hitsDesc: prometheus.NewDesc("cfcookies_signature_cache_hits_total",
			"Grants answered from the signature cache, without signing.", nil, nil),
		missesDesc: prometheus.NewDesc("cfcookies_signature_cache_misses_total",
			"Grants not found in the signature cache (signed, or waiting for the same policy's signature).", nil, nil),
		entriesDesc: prometheus.NewDesc("cfcookies_signature_cache_entries",
			"Signed policies held in the signature cache.", nil, nil),
	}, nil
}

// Sign returns the signed policy of g: from the cache when the current
// signer has signed the same policy and it has not expired, otherwise
// freshly signed (and cached).
func (c *Cache) Sign(g signer.Grant) (signer.Signed, error) {
	gen, err := c.generation()
	if err != nil {
		return signer.Signed{}, err
	}
	return c.sign(gen, g)
}

// Pin returns Sign bound to the signer current now and its cache: every
// grant signed through it uses that one key even if the key rotates
// meanwhile, so the scopes of one answer never mix keys.
func (c *Cache) Pin() func(signer.Grant) (signer.Signed, error) {
	gen, err := c.generation()
	if err != nil {
		return func(signer.Grant) (signer.Signed, error) { return signer.Signed{}, err }
	}
	return func(g signer.Grant) (signer.Signed, error) { return c.sign(gen, g) }
}

func (c *Cache) sign(gen *generation, g signer.Grant) (signer.Signed, error) {
	policy, err := g.Policy()
	if err != nil {
		return signer.Signed{}, err
	}
	// policy is ours and never written again, so the key can share its
	// bytes instead of copying them. The key pair ID and hash algorithm
	// are fixed per generation (one signer), so the policy alone is the
	// key.
	key := unsafe.String(unsafe.SliceData(policy), len(policy)) //nolint:gosec // G103: audited: policy is local and never written again
	sh := gen.shards[c.shardIndex(key)]
	now := c.now()
	if e, ok := sh.lookup(key, now); ok {
		c.hits[rand.Uint32()%counterStripes].n.Add(1) //nolint:gosec // G404: picks a counter stripe, no secret
		if n := now.UnixNano(); n-e.promoted.Load() >= int64(promoteEvery) {
			e.promoted.Store(n)
			sh.promote(key)
		}
		return e.signed, nil
	}
	c.misses.Add(1)
	v, err, _ := gen.flight.Do(key, func() (any, error) {
		// A flight for this policy may have finished since the lookup.
		if e, ok := sh.lookup(key, now); ok {
			return e.signed, nil
		}
		s, err := gen.signer.Sign(g)
		if err != nil {
			return nil, err
		}
		e := &entry{signed: s}
		e.promoted.Store(now.UnixNano())
		sh.add(key, e)
		return s, nil
	})
	if err != nil {
		return signer.Signed{}, err
	}
	gen.sweep(now)
	return v.(signer.Signed), nil
}

// generation returns the cache of the current signer, starting an empty
// one when the signer has changed.
func (c *Cache) generation() (*generation, error) {
	sg := c.current()
	if sg == nil {
		return nil, ErrNoSigner
	}
	if gen := c.gen.Load(); gen != nil && gen.signer == sg {
		return gen, nil
	}
	c.rotateMu.Lock()
	defer c.rotateMu.Unlock()
	if gen := c.gen.Load(); gen != nil && gen.signer == sg {
		return gen, nil
	}
	gen := &generation{signer: sg, shards: make([]*shard, c.shardCount)}
	for i := range gen.shards {
		gen.shards[i] = newShard(c.shardLength)
	}
	gen.nextSweep.Store(c.now().Add(sweepEvery).UnixNano())
	c.gen.Store(gen)
	return gen, nil
}

func (c *Cache) shardIndex(key string) uint64 {
	if c.shardCount == 1 {
		return 0
	}
	return maphash.String(c.seed, key) >> c.shardShift
}

func newShard(size int) *shard {
	sh := &shard{}
	// NewLRU fails only for a size below 1.
	sh.order, _ = simplelru.NewLRU(size, func(key string, _ *entry) { sh.index.Delete(key) })
	return sh
}

// lookup returns the entry of key if it has not expired at now.
func (sh *shard) lookup(key string, now time.Time) (*entry, bool) {
	v, ok := sh.index.Load(key)
	if !ok {
		return nil, false
	}
	e := v.(*entry)
	return e, now.Before(e.signed.Expires)
}

func (sh *shard) add(key string, e *entry) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.order.Add(key, e) // may evict, deleting the evicted key from index
	sh.index.Store(key, e)
}

func (sh *shard) promote(key string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.order.Get(key)
}

// sweep drops every expired entry, at most once per sweepEvery. Entries
// that can no longer be hit also drift to the LRU end and are evicted
// first when the cache is full; the sweep returns their memory sooner.
func (gen *generation) sweep(now time.Time) {
	next := gen.nextSweep.Load()
	if now.UnixNano() < next || !gen.nextSweep.CompareAndSwap(next, now.Add(sweepEvery).UnixNano()) {
		return
	}
	for _, sh := range gen.shards {
		sh.mu.Lock()
		for _, k := range sh.order.Keys() {
			// A key is a policy, which holds its expiry: an entry under
			// an expired key cannot have been replaced by a live one.
			if e, ok := sh.order.Peek(k); ok && !now.Before(e.signed.Expires) {
				sh.order.Remove(k) // and from index, by the callback
			}
		}
		sh.mu.Unlock()
	}
}

// Len returns the number of cached policies of the current generation.
func (c *Cache) Len() int {
	gen := c.gen.Load()
	if gen == nil {
		return 0
	}
	n := 0
	for _, sh := range gen.shards {
		sh.mu.Lock()
		n += sh.order.Len()
		sh.mu.Unlock()
	}
	return n
}

// Describe implements prometheus.Collector.
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hitsDesc
	ch <- c.missesDesc
	ch <- c.entriesDesc
}

// Collect implements prometheus.Collector.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	var hits uint64
	for i := range c.hits {
		hits += c.hits[i].n.Load()
	}
	ch <- prometheus.MustNewConstMetric(c.hitsDesc, prometheus.CounterValue, float64(hits))
	ch <- prometheus.MustNewConstMetric(c.missesDesc, prometheus.CounterValue, float64(c.misses.Load()))
	ch <- prometheus.MustNewConstMetric(c.entriesDesc, prometheus.GaugeValue, float64(c.Len()))
}
