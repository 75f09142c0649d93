package config

import (
	"fmt"
	"strings"
)

// FieldError is one configuration problem: the variable, the value it held (never a
// secret: secrets read "[redacted]") and the rule it broke.
type FieldError struct {
	Var   string // environment variable, e.g. "COOKIE_SAMESITE"
	Value string // offending value, "" when unset or irrelevant, redacted for secrets
	Rule  string // lower-case prose: what is required and why
}

// Error renders `VAR="value": rule`, or `VAR: rule` when there is no value to show.
func (e FieldError) Error() string {
	switch e.Value {
	case "":
		return e.Var + ": " + e.Rule
	case redacted:
		return e.Var + "=" + redacted + ": " + e.Rule
	default:
		return fmt.Sprintf("%s=%q: %s", e.Var, e.Value, e.Rule)
	}
}

// Errors is every problem found in the environment, in a stable order. Load returns it
// whenever the configuration is invalid, so errors.As(err, new(Errors)) tells a
// configuration problem (exit code 2) from anything else.
type Errors []FieldError

// Error renders "config: N problems:" followed by one indented line per problem.
func (es Errors) Error() string {
	var b strings.Builder
	if len(es) == 1 {
		b.WriteString("config: 1 problem:")
	} else {
		fmt.Fprintf(&b, "config: %d problems:", len(es))
	}
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes the individual problems to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}
