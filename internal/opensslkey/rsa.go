//go:build openssl

package opensslkey

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"sync"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// libraries are the libcrypto sonames tried, newest first.
var libraries = []string{"libcrypto.so.3", "libcrypto.so.1.1"}

var (
	initOnce sync.Once
	initErr  error
)

// Init loads libcrypto; it is called by NewRSA and is safe to call more
// than once.
func Init() error {
	initOnce.Do(func() {
		for _, lib := range libraries {
			if ok, _ := openssl.CheckVersion(lib); ok {
				initErr = openssl.Init(lib)
				return
			}
		}
		initErr = fmt.Errorf("opensslkey: none of %v could be loaded; install OpenSSL's libcrypto (Debian: libssl3)", libraries)
	})
	return initErr
}

// Version names the loaded libcrypto, such as "OpenSSL 3.0.19 27 Jan 2026".
func Version() string {
	if Init() != nil {
		return ""
	}
	return openssl.VersionText()
}

// RSAKey is a crypto.Signer holding an RSA private key in libcrypto. It
// signs PKCS#1 v1.5 over SHA-1 or SHA-256 digests, what CloudFront
// checks, and is safe for concurrent use.
type RSAKey struct {
	pub *rsa.PublicKey
	key *openssl.PrivateKeyRSA
	// slots admits two signatures per GOMAXPROCS into libcrypto at once:
	// one running, one ready to run as soon as it returns. A cgo call
	// keeps its thread, so without a bound the runtime starts a thread
	// for every waiting request (34 under the load test's 32
	// connections, one per connection under real load), each with its
	// own C stack and malloc arena, only to time-share the same cores.
	slots chan struct{}
}

// NewRSA copies k into libcrypto.
func NewRSA(k *rsa.PrivateKey) (*RSAKey, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if len(k.Primes) != 2 {
		return nil, errors.New("opensslkey: only two-prime RSA keys are supported")
	}
	k.Precompute()
	if k.Precomputed.Dp == nil {
		return nil, errors.New("opensslkey: RSA key has no CRT values")
	}
	b := func(x *big.Int) openssl.BigInt { return bbig.Enc(x) }
	key, err := openssl.NewPrivateKeyRSA(b(k.N), b(big.NewInt(int64(k.E))), b(k.D), b(k.Primes[0]), b(k.Primes[1]),
		b(k.Precomputed.Dp), b(k.Precomputed.Dq), b(k.Precomputed.Qinv))
	if err != nil {
		return nil, fmt.Errorf("opensslkey: load RSA key: %w", err)
	}
	pub := k.PublicKey
	return &RSAKey{pub: &pub, key: key, slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}, nil
}

// Public returns the *rsa.PublicKey.
func (k *RSAKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest, a SHA-1 or SHA-256 hash, with PKCS#1 v1.5 padding.
// rand is unused: libcrypto blinds with its own generator.
func (k *RSAKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("opensslkey: PSS is not supported")
	}
	h := opts.HashFunc()
	if h != crypto.SHA1 && h != crypto.SHA256 {
		return nil, fmt.Errorf("opensslkey: hash %v is not supported (SHA-1 or SHA-256)", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("opensslkey: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	k.slots <- struct{}{}
	sig, err := openssl.SignRSAPKCS1v15(k.key, h, digest)
	<-k.slots
	if err != nil {
		return nil, fmt.Errorf("opensslkey: sign: %w", err)
	}
	return sig, nil
}
