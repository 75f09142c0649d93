package mediacookies

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

func cacheFixture(t *testing.T, size int) (*countingKey, *signer.Signer, *sigCache, *time.Time) {
	t.Helper()
	key := &countingKey{Signer: rsaKey}
	now := testNow
	s := newSigner(t, "K2JCJMDEHXQW5F", key, func() time.Time { return now })
	return key, s, newSigCache(size, func() time.Time { return now }), &now
}

func grantFor(user string, exp time.Time) signer.Grant {
	return signer.Grant{Resource: "https://media.example.com/media/" + user + "/*", Expires: exp}
}

func TestCacheHitSignsOnce(t *testing.T) {
	t.Parallel()
	key, s, c, _ := cacheFixture(t, 16)
	g := grantFor("alice", testNow.Add(time.Hour))
	first, err := c.sign(t.Context(), s, g)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.sign(t.Context(), s, g)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.Sign(g)
	if first != second || first != want || key.n.Load() != 2 {
		t.Errorf("hit differs or signed again (%d signatures)", key.n.Load())
	}
	if st := c.stats(); st.Hits != 1 || st.Misses != 1 || st.Entries != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestCacheConcurrentMissesSignOnce(t *testing.T) {
	t.Parallel()
	key, s, c, _ := cacheFixture(t, 16)
	g := grantFor("alice", testNow.Add(time.Hour))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.sign(t.Context(), s, g); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := key.n.Load(); n != 1 {
		t.Errorf("%d signatures for one policy", n)
	}
}

// gateKey is a remote key that signs with a context: each signature
// announces itself on entered and waits for release or the end of its
// context.
type gateKey struct {
	crypto.Signer
	entered, release chan struct{}
	n                atomic.Int32
}

func (k *gateKey) SignContext(ctx context.Context, d []byte, o crypto.SignerOpts) ([]byte, error) {
	k.n.Add(1)
	k.entered <- struct{}{}
	select {
	case <-k.release:
		return k.Sign(rand.Reader, d, o)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func newGateKey() *gateKey {
	return &gateKey{Signer: rsaKey, entered: make(chan struct{}, 2), release: make(chan struct{})}
}

// A request waiting for another's signature of the same policy stops when
// its own context ends; the signature under way goes on.
func TestCacheWaiterHonoursItsContext(t *testing.T) {
	t.Parallel()
	key := newGateKey()
	s := newSigner(t, "K2JCJMDEHXQW5F", key, func() time.Time { return testNow })
	c := newSigCache(16, func() time.Time { return testNow })
	g := grantFor("alice", testNow.Add(time.Hour))
	leader := make(chan error, 1)
	go func() {
		_, err := c.sign(t.Context(), s, g)
		leader <- err
	}()
	<-key.entered
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.sign(gone, s, g); !errors.Is(err, context.Canceled) {
		t.Errorf("waiter with a cancelled context: err = %v, want context.Canceled", err)
	}
	close(key.release)
	if err := <-leader; err != nil {
		t.Errorf("the signature under way: %v", err)
	}
	if n := key.n.Load(); n != 1 {
		t.Errorf("%d signatures, want 1", n)
	}
}

// When the request signing a policy gives up, one waiting for the same
// policy signs it itself instead of failing with the other's error.
func TestCacheSignsWhenTheLeaderGaveUp(t *testing.T) {
	t.Parallel()
	key := newGateKey()
	s := newSigner(t, "K2JCJMDEHXQW5F", key, func() time.Time { return testNow })
	c := newSigCache(16, func() time.Time { return testNow })
	g := grantFor("alice", testNow.Add(time.Hour))
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leader := make(chan error, 1)
	go func() {
		_, err := c.sign(leaderCtx, s, g)
		leader <- err
	}()
	<-key.entered
	type result struct {
		signed signer.Signed
		err    error
	}
	follower := make(chan result, 1)
	go func() {
		signed, err := c.sign(t.Context(), s, g)
		follower <- result{signed, err}
	}()
	for c.misses.Load() < 2 {
		runtime.Gosched() // the follower has missed; it waits or signs
	}
	cancelLeader()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: err = %v, want context.Canceled", err)
	}
	<-key.entered
	close(key.release)
	r := <-follower
	if r.err != nil {
		t.Fatalf("follower: %v", r.err)
	}
	policy, err := signer.DecodeBase64(r.signed.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.Verify(rsaKey.Public(), r.signed.HashAlgorithm, policy, r.signed.Signature); err != nil {
		t.Errorf("follower's signature: %v", err)
	}
	if n := key.n.Load(); n != 2 {
		t.Errorf("%d signatures, want 2", n)
	}
	if st := c.stats(); st.Entries != 1 {
		t.Errorf("stats %+v, want the follower's signature cached", st)
	}
}

func TestCacheNewKeyEmpties(t *testing.T) {
	t.Parallel()
	_, s, c, _ := cacheFixture(t, 16)
	g := grantFor("alice", testNow.Add(time.Hour))
	if _, err := c.sign(t.Context(), s, g); err != nil {
		t.Fatal(err)
	}
	other := newSigner(t, "KOTHER", rsaKey, func() time.Time { return testNow })
	got, err := c.sign(t.Context(), other, g)
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyPairID != "KOTHER" || c.stats().Entries != 1 {
		t.Errorf("after rotation: key %s, %d entries", got.KeyPairID, c.stats().Entries)
	}
}

func TestCacheExpiryAndBound(t *testing.T) {
	t.Parallel()
	key, s, c, now := cacheFixture(t, 4)
	g := grantFor("alice", testNow.Add(time.Minute))
	if _, err := c.sign(t.Context(), s, g); err != nil {
		t.Fatal(err)
	}
	*now = testNow.Add(time.Minute) // the entry has expired
	if _, err := c.sign(t.Context(), s, g); err == nil {
		t.Fatal("an expired grant was answered")
	}
	*now = testNow
	for i := range 10 {
		if _, err := c.sign(t.Context(), s, grantFor(string(rune('a'+i)), testNow.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.stats().Entries; n > 4 {
		t.Errorf("%d entries, bound 4", n)
	}
	if key.n.Load() != 11 {
		t.Errorf("%d signatures, want 11", key.n.Load())
	}
}

// Through the handler: two requests in one granularity window sign once.
func TestSignatureCacheOption(t *testing.T) {
	t.Parallel()
	key := &countingKey{Signer: ecKey}
	c := testConfig(t, newSigner(t, "K2JCJMDEHXQW5F", key, func() time.Time { return testNow }))
	c.SignatureCache, c.ExpiryGranularity = 16, time.Minute
	h := newHandler(t, c)
	var sigs []string
	for range 2 {
		w := serve(h, "POST", "", "X-User", "alice")
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		sigs = append(sigs, cookiesByName(w)[signer.CookieSignature][0].Value)
	}
	if sigs[0] != sigs[1] || key.n.Load() != 1 {
		t.Errorf("%d signatures; same signature: %v", key.n.Load(), sigs[0] == sigs[1])
	}
	if st := h.CacheStats(); st.Hits != 1 || st.Misses != 1 {
		t.Errorf("stats %+v", st)
	}
}

// BenchmarkCacheHit is the cache-hit path: every iteration builds the
// policy and finds its signature. Run with -cpu 1,2: "one" is a single hot
// policy, "many" 1024 of them. (internal/sigcache's BenchmarkHit measured
// the lock-free, sharded cache this one replaced.)
func BenchmarkCacheHit(b *testing.B) {
	for _, tc := range []struct {
		name  string
		users int
	}{{"one", 1}, {"many", 1024}} {
		b.Run(tc.name, func(b *testing.B) {
			key := &countingKey{Signer: rsaKey}
			s := newSigner(b, "K2JCJMDEHXQW5F", key, func() time.Time { return testNow })
			c := newSigCache(4096, func() time.Time { return testNow })
			grants := make([]signer.Grant, tc.users)
			for i := range grants {
				grants[i] = grantFor(fmt.Sprint("user", i), testNow.Add(time.Hour))
				if _, err := c.sign(b.Context(), s, grants[i]); err != nil {
					b.Fatal(err)
				}
			}
			signs := key.n.Load()
			var next atomic.Uint64
			ctx := b.Context()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1) * 7919
				for pb.Next() {
					i++
					if _, err := c.sign(ctx, s, grants[i%uint64(len(grants))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if key.n.Load() != signs {
				b.Fatal("a hit signed")
			}
		})
	}
}

type requestMarker struct{}

// markKey records the marker of the context each signature was given.
type markKey struct {
	crypto.Signer
	mu   sync.Mutex
	seen []any
}

func (k *markKey) SignContext(ctx context.Context, d []byte, o crypto.SignerOpts) ([]byte, error) {
	k.mu.Lock()
	k.seen = append(k.seen, ctx.Value(requestMarker{}))
	k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return k.Sign(rand.Reader, d, o)
}

// The request's context reaches a key that signs with one, with and
// without the signature cache; a request whose context has ended gets no
// cookie.
func TestRequestContextReachesTheKey(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 16} {
		t.Run(fmt.Sprint("cache ", size), func(t *testing.T) {
			t.Parallel()
			key := &markKey{Signer: ecKey}
			c := testConfig(t, newSigner(t, "K2JCJMDEHXQW5F", key, func() time.Time { return testNow }))
			c.SignatureCache = size
			h := newHandler(t, c)

			ctx := context.WithValue(t.Context(), requestMarker{}, "request 1")
			r := httptest.NewRequest("POST", "/auth/media-cookies", nil).WithContext(ctx)
			r.Header.Set("X-User", "alice")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			key.mu.Lock()
			seen := slices.Clone(key.seen)
			key.mu.Unlock()
			if len(seen) != 1 || seen[0] != "request 1" {
				t.Errorf("key saw contexts marked %v, want the request's once", seen)
			}

			ended, cancel := context.WithCancel(context.WithValue(t.Context(), requestMarker{}, "request 2"))
			cancel()
			r = httptest.NewRequest("POST", "/auth/media-cookies", nil).WithContext(ended)
			r.Header.Set("X-User", "bob")
			w = httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code == http.StatusOK || len(w.Result().Cookies()) != 0 {
				t.Errorf("request with an ended context: status %d, %d cookies; want a refusal without cookies", w.Code, len(w.Result().Cookies()))
			}
		})
	}
}
