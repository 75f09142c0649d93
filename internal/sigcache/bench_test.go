package sigcache

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfcookies/cfcookies/signer"
)

// BenchmarkHit is the cache-hit path: every iteration builds the policy and
// finds its signature. Run with -cpu 1,2: "one" is a single hot policy (one
// shard, one entry), "many" spreads 1024 policies over the shards.
func BenchmarkHit(b *testing.B) {
	for _, tc := range []struct {
		name  string
		users int
	}{{"one", 1}, {"many", 1024}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b, "keys/rsa2048-pkcs8.pem", 4096)
			exp := testNow.Add(time.Hour)
			grants := make([]signer.Grant, tc.users)
			for i := range grants {
				grants[i] = grant(fmt.Sprint("user", i), exp)
				mustSign(b, f.cache, grants[i])
			}
			signs := f.key.signs.Load()
			var next atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1) * 7919
				for pb.Next() {
					i++
					if _, err := f.cache.Sign(grants[i%uint64(len(grants))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if f.key.signs.Load() != signs {
				b.Fatal("a hit signed")
			}
		})
	}
}
