package auth

import (
	"context"
	"errors"
)

// Reasons an Authenticator refuses a request: the values Reason returns, a
// small fixed set that is safe as a metric label.
const (
	ReasonMissing               = "missing"                  // no credential at all
	ReasonMalformed             = "malformed"                // a credential that is not a well-formed token
	ReasonBadSignature          = "bad_signature"            // the signature does not verify
	ReasonExpired               = "expired"                  // past exp, or before nbf
	ReasonWrongIssuerOrAudience = "wrong_issuer_or_audience" // signed, but not by or for us
	ReasonUnknownKey            = "unknown_key"              // names a key the issuer does not publish
	ReasonKeysUnavailable       = "keys_unavailable"         // the issuer's keys could not be fetched
	ReasonOther                 = "other"                    // any other error
)

// Reasons lists every value Reason returns for a non-nil error.
func Reasons() []string {
	return []string{ReasonMissing, ReasonMalformed, ReasonBadSignature, ReasonExpired,
		ReasonWrongIssuerOrAudience, ReasonUnknownKey, ReasonKeysUnavailable, ReasonOther}
}

// Reason classifies an Authenticator error as one of Reasons: "" for nil,
// ReasonOther for an error this package did not classify. It never returns
// anything taken from the request.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := errors.AsType[*failure](err); ok {
		return f.reason
	}
	return ReasonOther
}

// failure is an ErrUnauthenticated with its reason.
type failure struct {
	reason string
	detail string // for logs: never the token
}

func (f *failure) Error() string { return ErrUnauthenticated.Error() + ": " + f.detail }

func (f *failure) Unwrap() error { return ErrUnauthenticated }

// keySetOutcome records what the key set made of a token, for the one
// verification in flight: go-oidc formats the key set's error with %v,
// which loses the reason, so the reason travels in the context instead.
type keySetOutcome struct {
	reason   string // set when the key set refused the token
	payload  []byte // set when it verified the token
	verified bool
}

type keySetOutcomeKey struct{}

func withKeySetOutcome(ctx context.Context, o *keySetOutcome) context.Context {
	return context.WithValue(ctx, keySetOutcomeKey{}, o)
}

// recordKeySetOutcome notes a refusal (reason) or a verified payload in the
// context's outcome, if it carries one.
func recordKeySetOutcome(ctx context.Context, reason string, payload []byte) {
	o, ok := ctx.Value(keySetOutcomeKey{}).(*keySetOutcome)
	if !ok {
		return
	}
	if reason != "" {
		o.reason = reason
		return
	}
	o.verified, o.payload = true, payload
}
