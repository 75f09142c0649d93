package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Mode names the way callers are identified: which Authenticator New
// builds. Its values are AUTH_MODE's.
type Mode string

// The modes.
const (
	ModeOIDC Mode = "oidc" // a JWT from an OpenID Connect issuer: OIDC
	ModeALB  Mode = "alb"  // the header an Application Load Balancer signs: ALB
	ModeDev  Mode = "dev"  // the X-Dev-User header, trusted blindly: Dev
)

// DefaultDiscoveryTimeout bounds New's fetch of the OIDC discovery document.
const DefaultDiscoveryTimeout = 15 * time.Second

// Options choose the Authenticator New builds and configure it.
type Options struct {
	// Mode selects the Authenticator; empty means ModeOIDC.
	Mode Mode

	// AllowDev must be true for ModeDev, which lets anyone claim any
	// identity: `server --dev` sets it, nothing else should.
	AllowDev bool

	// OIDC configures ModeOIDC (see NewOIDC).
	OIDC OIDCConfig

	// ALB configures ModeALB (see NewALB).
	ALB ALBConfig

	// DiscoveryTimeout bounds fetching the OIDC discovery document; zero
	// means DefaultDiscoveryTimeout.
	DiscoveryTimeout time.Duration
}

// New returns the Authenticator o.Mode names: NewOIDC's, NewALB's or Dev.
// For ModeOIDC it fetches the issuer's discovery document once, within
// o.DiscoveryTimeout: an unreachable issuer is an error, so a server never
// starts without being able to verify tokens. ModeDev without o.AllowDev
// is an error.
func New(ctx context.Context, o Options) (Authenticator, error) {
	switch o.Mode {
	case ModeDev:
		if !o.AllowDev {
			return nil, errors.New("auth: AUTH_MODE=dev is only available with --dev")
		}
		return Dev{}, nil
	case ModeALB:
		return NewALB(o.ALB)
	case ModeOIDC, "":
		timeout := o.DiscoveryTimeout
		if timeout <= 0 {
			timeout = DefaultDiscoveryTimeout
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return NewOIDC(dctx, o.OIDC)
	}
	return nil, fmt.Errorf("auth: unknown mode %q: want %s, %s or %s", o.Mode, ModeOIDC, ModeALB, ModeDev)
}
