package auth

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestDev(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers []string
		want    string
		wantErr bool
	}{
		{"no header is dev", nil, "dev", false},
		{"header names the user", []string{"alice"}, "alice", false},
		{"empty header", []string{""}, "", true},
		{"two headers", []string{"alice", "bob"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/auth/media-cookies", nil)
			for _, h := range tt.headers {
				r.Header.Add(DevUserHeader, h)
			}
			id, err := Dev{}.Authenticate(r)
			if tt.wantErr {
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("err = %v, want ErrUnauthenticated", err)
				}
				return
			}
			if err != nil || id.Subject != tt.want {
				t.Fatalf("got %q, %v; want %q", id.Subject, err, tt.want)
			}
		})
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"classified", unauthenticated(ReasonExpired, "token expired %s ago", "1m"), ReasonExpired},
		{"classified and wrapped", fmt.Errorf("bearer: %w", unauthenticated(ReasonMalformed, "empty token")), ReasonMalformed},
		{"bare sentinel", ErrUnauthenticated, ReasonOther},
		{"unrelated error", errors.New("boom"), ReasonOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Reason(tt.err); got != tt.want {
				t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if got := Reason(tt.err); tt.err != nil && !slices.Contains(Reasons(), got) {
				t.Errorf("Reason(%v) = %q, not one of Reasons()", tt.err, got)
			}
		})
	}
	if err := unauthenticated(ReasonMissing, "no bearer token"); !errors.Is(err, ErrUnauthenticated) ||
		err.Error() != "auth: unauthenticated: no bearer token" {
		t.Errorf("unauthenticated = %q, want it to wrap ErrUnauthenticated with the detail", err)
	}
}
