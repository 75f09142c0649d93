package mediacookies

import (
	"fmt"
	"net/http"
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
	first, err := c.sign(s, g)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.sign(s, g)
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
			if _, err := c.sign(s, g); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := key.n.Load(); n != 1 {
		t.Errorf("%d signatures for one policy", n)
	}
}

func TestCacheNewKeyEmpties(t *testing.T) {
	t.Parallel()
	_, s, c, _ := cacheFixture(t, 16)
	g := grantFor("alice", testNow.Add(time.Hour))
	if _, err := c.sign(s, g); err != nil {
		t.Fatal(err)
	}
	other := newSigner(t, "KOTHER", rsaKey, func() time.Time { return testNow })
	got, err := c.sign(other, g)
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
	if _, err := c.sign(s, g); err != nil {
		t.Fatal(err)
	}
	*now = testNow.Add(time.Minute) // the entry has expired
	if _, err := c.sign(s, g); err == nil {
		t.Fatal("an expired grant was answered")
	}
	*now = testNow
	for i := range 10 {
		if _, err := c.sign(s, grantFor(string(rune('a'+i)), testNow.Add(time.Hour))); err != nil {
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
				if _, err := c.sign(s, grants[i]); err != nil {
					b.Fatal(err)
				}
			}
			signs := key.n.Load()
			var next atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1) * 7919
				for pb.Next() {
					i++
					if _, err := c.sign(s, grants[i%uint64(len(grants))]); err != nil {
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
