package edge

import (
	"crypto"
	"errors"
	"maps"
	"net/http"
	"sync"

	"github.com/cfcookies/cfcookies/signer"
)

// NewRotatingCDN returns the emulated distribution of NewCDN for a signing
// key that changes: its trusted key group is every key current has
// returned since, as a key group holds the old and the new key during a
// rotation, up to the signer.MaxKeys most recent (a key group holds no
// more). current is asked on every request (it is a key store's
// Signer method in `server --dev`); a new key rebuilds the Verifier. Until
// current returns a key, requests are answered 503.
//
// o.Verifier must be nil: the Verifiers are built from current's keys
// with the zero VerifierOptions. It returns an error when the first key
// is one CloudFront would not accept.
func NewRotatingCDN(current func() *signer.Signer, o CDNOptions) (http.Handler, error) {
	if current == nil {
		return nil, errors.New("edge: NewRotatingCDN needs a key source")
	}
	if o.Verifier != nil {
		return nil, errors.New("edge: NewRotatingCDN builds its own Verifier; leave CDNOptions.Verifier nil")
	}
	c := &rotatingCDN{current: current, opts: o, trusted: map[string]crypto.PublicKey{}}
	if _, err := c.handler(); err != nil {
		return nil, err
	}
	return c, nil
}

// rotatingCDN rebuilds the emulated CloudFront when current's key changes.
type rotatingCDN struct {
	current func() *signer.Signer
	opts    CDNOptions

	mu      sync.Mutex
	signer  *signer.Signer // the key cdn was last built for
	trusted map[string]crypto.PublicKey
	order   []string // the trusted key pair IDs, oldest first
	cdn     http.Handler
}

// handler returns the distribution for the current key, nil before the
// first one.
func (c *rotatingCDN) handler() (http.Handler, error) {
	sg := c.current()
	c.mu.Lock()
	defer c.mu.Unlock()
	if sg == nil || sg == c.signer {
		return c.cdn, nil
	}
	id := sg.KeyPairID()
	if _, ok := c.trusted[id]; !ok {
		c.order = append(c.order, id)
	}
	c.trusted[id] = sg.Public()
	if len(c.order) > signer.MaxKeys {
		delete(c.trusted, c.order[0])
		c.order = c.order[1:]
	}
	v, err := NewVerifier(maps.Clone(c.trusted), VerifierOptions{})
	if err != nil {
		return nil, err
	}
	opts := c.opts
	opts.Verifier = v
	c.signer, c.cdn = sg, NewCDN(opts)
	return c.cdn, nil
}

func (c *rotatingCDN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, err := c.handler()
	if err != nil || h == nil {
		http.Error(w, "no signing key loaded yet", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}
