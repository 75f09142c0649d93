package sigcache

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cfcookies/cfcookies/signer"
)

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func readKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "signer", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.ParsePrivateKeyPEM(b, signer.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// countingKey counts private-key operations and, when gate is set, blocks
// each of them until gate is closed.
type countingKey struct {
	crypto.Signer
	signs atomic.Int64
	gate  chan struct{}
}

func (k *countingKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.signs.Add(1)
	if k.gate != nil {
		<-k.gate
	}
	return k.Signer.Sign(r, digest, opts)
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	cache *Cache
	key   *countingKey
	clock *clock
	cur   atomic.Pointer[signer.Signer]
}

func newFixture(t testing.TB, keyFile string, size int) *fixture {
	t.Helper()
	f := &fixture{key: &countingKey{Signer: readKey(t, keyFile)}, clock: newClock(testNow)}
	f.cur.Store(f.newSigner(t, "K1", f.key))
	c, err := New(f.cur.Load, Options{Size: size, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	f.cache = c
	return f
}

func (f *fixture) newSigner(t testing.TB, id string, key crypto.Signer) *signer.Signer {
	t.Helper()
	s, err := signer.New(id, key, signer.Options{Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func grant(user string, expires time.Time) signer.Grant {
	return signer.Grant{Resource: "https://media.example.com/media/" + user + "/*", Expires: expires}
}

func mustSign(t testing.TB, c *Cache, g signer.Grant) signer.Signed {
	t.Helper()
	s, err := c.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verify(t *testing.T, pub crypto.PublicKey, s signer.Signed) {
	t.Helper()
	policy, err := signer.DecodeBase64(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.Verify(pub, s.HashAlgorithm, policy, s.Signature); err != nil {
		t.Errorf("cached signature does not verify: %v", err)
	}
}

func TestHitSignsOnce(t *testing.T) {
	t.Parallel()
	for _, keyFile := range []string{"keys/rsa2048-pkcs8.pem", "vectors/test-ecdsa-key-sec1.pem"} {
		t.Run(keyFile, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, keyFile, 100)
			exp := testNow.Add(10 * time.Minute)
			first := mustSign(t, f.cache, grant("alice", exp))
			second := mustSign(t, f.cache, grant("alice", exp))
			if first != second {
				t.Errorf("second answer differs from the first:\n%v\n%v", first, second)
			}
			if n := f.key.signs.Load(); n != 1 {
				t.Errorf("signed %d times for one policy, want 1", n)
			}
			verify(t, f.key.Public(), second)
			if !second.Expires.Equal(exp) || second.KeyPairID != "K1" {
				t.Errorf("cached Signed = %v", second)
			}

			// Another policy (another user, or the same user with
			// another expiry) is signed afresh.
			other := mustSign(t, f.cache, grant("bob", exp))
			later := mustSign(t, f.cache, grant("alice", exp.Add(time.Minute)))
			if n := f.key.signs.Load(); n != 3 {
				t.Errorf("signed %d times for three policies, want 3", n)
			}
			if other.Signature == first.Signature || later.Signature == first.Signature || later.Policy == first.Policy {
				t.Error("different policies share a signature")
			}
			verify(t, f.key.Public(), other)
			verify(t, f.key.Public(), later)
		})
	}
}

// The cache answers exactly what the signer would: byte-identical values
// for deterministic RSA.
func TestMatchesSigner(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 10)
	g := grant("alice", testNow.Add(time.Hour))
	mustSign(t, f.cache, g)
	cached := mustSign(t, f.cache, g)
	direct, err := f.cur.Load().Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	if cached != direct {
		t.Errorf("cached %v\nwant     %v", cached, direct)
	}
}

func TestConcurrentMissesSignOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 10)
	f.key.gate = make(chan struct{})
	const n = 16
	g := grant("alice", testNow.Add(time.Hour))
	results := make([]signer.Signed, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := f.cache.Sign(g)
			if err != nil {
				t.Error(err)
			}
			results[i] = s
		})
	}
	// Every caller has missed before the one signature is let through.
	deadline := time.Now().Add(10 * time.Second)
	for f.cache.misses.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(f.key.gate)
	wg.Wait()
	if s := f.key.signs.Load(); s != 1 {
		t.Errorf("%d concurrent misses signed %d times, want 1", n, s)
	}
	for i, r := range results {
		if r != results[0] {
			t.Errorf("caller %d got another answer", i)
		}
	}
}

func TestRotationEmptiesCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 10)
	g := grant("alice", testNow.Add(time.Hour))
	old := mustSign(t, f.cache, g)

	tests := []struct {
		name string
		id   string
		key  crypto.Signer
	}{
		{"new key pair ID, same key", "K2", f.key.Signer},
		{"same key pair ID, new key", "K2", readKey(t, "vectors/test-ecdsa-key-sec1.pem")},
		{"same key pair ID and key, new signer", "K2", readKey(t, "vectors/test-ecdsa-key-sec1.pem")},
	}
	for _, tt := range tests {
		ck := &countingKey{Signer: tt.key}
		f.cur.Store(f.newSigner(t, tt.id, ck))
		got := mustSign(t, f.cache, g)
		if ck.signs.Load() != 1 {
			t.Errorf("%s: the new signer signed %d times, want 1 (the old entry was served)", tt.name, ck.signs.Load())
		}
		if got.KeyPairID != tt.id {
			t.Errorf("%s: key pair ID %q, want %q", tt.name, got.KeyPairID, tt.id)
		}
		verify(t, tt.key.Public(), got)
		if n := f.cache.Len(); n != 1 {
			t.Errorf("%s: %d entries after rotation and one signature, want 1", tt.name, n)
		}
	}
	if old.KeyPairID != "K1" {
		t.Errorf("first answer %v", old)
	}

	f.cur.Store(nil)
	if _, err := f.cache.Sign(g); !errors.Is(err, ErrNoSigner) {
		t.Errorf("no signer: err = %v, want ErrNoSigner", err)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 10)
	exp := testNow.Add(10 * time.Minute)
	mustSign(t, f.cache, grant("alice", exp))
	mustSign(t, f.cache, grant("bob", exp.Add(time.Hour)))

	// At its expiry an entry is no longer served: the grant is refused as
	// the signer refuses it.
	f.clock.set(exp)
	if _, err := f.cache.Sign(grant("alice", exp)); !errors.Is(err, signer.ErrExpired) {
		t.Errorf("expired grant: err = %v, want ErrExpired", err)
	}
	if n := f.key.signs.Load(); n != 2 {
		t.Errorf("signed %d times, want 2", n)
	}

	// A miss after sweepEvery drops every expired entry.
	f.clock.add(sweepEvery)
	mustSign(t, f.cache, grant("carol", exp.Add(time.Hour)))
	if n := f.cache.Len(); n != 2 {
		t.Errorf("%d entries after the sweep, want 2 (bob and carol)", n)
	}
}

func TestBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 2)
	exp := testNow.Add(time.Hour)
	// b is least recently used when c comes. A hit marks its entry used
	// at most once per promoteEvery, so the clock moves on between calls.
	for _, u := range []string{"a", "b", "a", "c"} {
		mustSign(t, f.cache, grant(u, exp))
		f.clock.add(promoteEvery)
	}
	if n := f.cache.Len(); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	signs := f.key.signs.Load()
	mustSign(t, f.cache, grant("a", exp))
	mustSign(t, f.cache, grant("c", exp))
	if d := f.key.signs.Load() - signs; d != 0 {
		t.Errorf("a and c re-signed %d times; they should be cached", d)
	}
	mustSign(t, f.cache, grant("b", exp))
	if d := f.key.signs.Load() - signs; d != 1 {
		t.Errorf("b signed %d times; it should have been evicted", d)
	}
}

func TestShardedBound(t *testing.T) {
	t.Parallel()
	c, err := New(func() *signer.Signer { return nil }, Options{Size: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if c.shardCount != maxShards || c.shardCount*c.shardLength < 10000 || c.shardCount*c.shardLength >= 10000+maxShards {
		t.Errorf("%d shards of %d for 10000 entries", c.shardCount, c.shardLength)
	}
	f := newFixture(t, "vectors/test-ecdsa-key-sec1.pem", 1000)
	for i := range 3000 {
		mustSign(t, f.cache, grant(fmt.Sprint("u", i), testNow.Add(time.Hour)))
	}
	if n := f.cache.Len(); n > 1000 || n < 900 {
		t.Errorf("%d entries in a cache of 1000", n)
	}
}

func TestInvalidGrant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 10)
	if _, err := f.cache.Sign(signer.Grant{Resource: "https://media.example.com/*"}); !errors.Is(err, signer.ErrInvalidGrant) {
		t.Errorf("err = %v, want ErrInvalidGrant", err)
	}
	if _, err := New(nil, Options{Size: 1}); err == nil {
		t.Error("nil source accepted")
	}
	if _, err := New(f.cur.Load, Options{}); err == nil {
		t.Error("size 0 accepted")
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 10)
	exp := testNow.Add(time.Hour)
	for _, u := range []string{"a", "a", "a", "b"} {
		mustSign(t, f.cache, grant(u, exp))
	}
	want := `
# HELP cfcookies_signature_cache_entries Signed policies held in the signature cache.
# TYPE cfcookies_signature_cache_entries gauge
cfcookies_signature_cache_entries 2
# HELP cfcookies_signature_cache_hits_total Grants answered from the signature cache, without signing.
# TYPE cfcookies_signature_cache_hits_total counter
cfcookies_signature_cache_hits_total 2
# HELP cfcookies_signature_cache_misses_total Grants not found in the signature cache (signed, or waiting for the same policy's signature).
# TYPE cfcookies_signature_cache_misses_total counter
cfcookies_signature_cache_misses_total 2
`
	if err := testutil.CollectAndCompare(f.cache, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// A pinned Sign keeps the key it was pinned with through a rotation.
func TestPin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keys/rsa2048-pkcs8.pem", 10)
	g := grant("alice", testNow.Add(time.Hour))
	pinned := f.cache.Pin()
	f.cur.Store(f.newSigner(t, "K2", f.key.Signer))
	if s, err := pinned(g); err != nil || s.KeyPairID != "K1" {
		t.Errorf("pinned Sign after rotation: %v, %v; want K1", s, err)
	}
	if s := mustSign(t, f.cache, g); s.KeyPairID != "K2" {
		t.Errorf("Sign after rotation: key pair ID %s, want K2", s.KeyPairID)
	}

	f.cur.Store(nil)
	if _, err := f.cache.Pin()(g); !errors.Is(err, ErrNoSigner) {
		t.Errorf("pinned with no signer: err = %v, want ErrNoSigner", err)
	}
}
