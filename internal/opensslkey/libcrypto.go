//go:build openssl

package opensslkey

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/golang-fips/openssl/v2"
)

// libraries are the libcrypto sonames tried, newest first.
var libraries = []string{"libcrypto.so.3", "libcrypto.so.1.1"}

var (
	initOnce sync.Once
	initErr  error
)

// Init loads libcrypto; it is called by the key constructors and is safe
// to call more than once.
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

// slots admits two signatures per GOMAXPROCS into libcrypto at once: one
// running, one ready to run as soon as it returns. A cgo call keeps its
// thread, so without a bound the runtime starts a thread for every
// waiting request (34 under the load test's 32 connections, one per
// connection under real load), each with its own C stack and malloc
// arena, only to time-share the same cores. Every key has its own.
type slots chan struct{}

func newSlots() slots { return make(slots, 2*runtime.GOMAXPROCS(0)) }

// sign runs f, a signature in libcrypto, once a slot is free.
func (s slots) sign(f func() ([]byte, error)) ([]byte, error) {
	s <- struct{}{}
	sig, err := f()
	<-s
	if err != nil {
		return nil, fmt.Errorf("opensslkey: sign: %w", err)
	}
	return sig, nil
}
