package main

import (
	"fmt"

	"github.com/cfcookies/cfcookies/internal/config"
	"github.com/cfcookies/cfcookies/internal/handlers"
	"github.com/cfcookies/cfcookies/internal/keys"
	"github.com/cfcookies/cfcookies/internal/sigcache"
)

// newIssuer is the key store behind a signature cache of
// SIGNATURE_CACHE_SIZE entries (none when 0). The cache asks the store for
// its current signer on every call, so a key rotation empties it.
func newIssuer(cfg *config.Config, store *keys.Store, metrics *handlers.Metrics) (handlers.CookieIssuer, error) {
	if cfg.SignatureCacheSize == 0 {
		return store, nil
	}
	cache, err := sigcache.New(store.Signer, sigcache.Options{Size: cfg.SignatureCacheSize})
	if err != nil {
		return nil, err
	}
	if err := metrics.Register(cache); err != nil {
		return nil, fmt.Errorf("register signature cache metrics: %w", err)
	}
	return cache, nil
}

var _ handlers.CookieIssuer = (*sigcache.Cache)(nil)
