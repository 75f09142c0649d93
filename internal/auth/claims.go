package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
)

// decodeClaims decodes a token payload into claims whose numbers are
// json.Number, exactly as the token wrote them: float64 would turn
// 9007199254740993 into 9007199254740992 and 1000000 into 1e+06.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return claims, nil
}

// maxExactFloat bounds the integers a float64 claim may stand for: from
// 2^53 on, a float64 is also the rounding of its odd neighbours.
const maxExactFloat = 1<<53 - 1

// integerText returns the decimal digits of an integer claim value: a JSON
// number written as an integer in plain decimal, of any size ("-5",
// "9007199254740993"), or a Go integer, or a float64 that holds an integer
// of magnitude below 2^53 exactly. Anything else is refused rather than
// guessed at: a fraction ("1.5", "1.0"), an exponent ("1e6"), negative zero,
// a string.
func integerText(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		if isDecimalInteger(string(n)) {
			return string(n), true
		}
	case float64:
		if n == math.Trunc(n) && math.Abs(n) <= maxExactFloat && !(n == 0 && math.Signbit(n)) {
			return strconv.FormatInt(int64(n), 10), true
		}
	case int:
		return strconv.Itoa(n), true
	case int64:
		return strconv.FormatInt(n, 10), true
	case int32:
		return strconv.FormatInt(int64(n), 10), true
	case uint:
		return strconv.FormatUint(uint64(n), 10), true
	case uint64:
		return strconv.FormatUint(n, 10), true
	case uint32:
		return strconv.FormatUint(uint64(n), 10), true
	}
	return "", false
}

// isDecimalInteger reports whether s is an integer in canonical decimal: an
// optional "-", then "0" or digits without a leading zero; "-0" is not.
func isDecimalInteger(s string) bool {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if digits == "" || digits[0] == '0' && (len(digits) > 1 || len(s) > 1) {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// IsDecimalInteger reports whether s is an integer written as an integer
// claim expands: an optional "-", then "0" or digits without a leading
// zero, no "+", fraction, exponent or "-0". A rule value that is a number
// must be written so to match a number claim.
func IsDecimalInteger(s string) bool { return isDecimalInteger(s) }

// claimText is a claim value as a path template sees it: a string as is,
// an integer as its decimal digits.
func claimText(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	return integerText(v)
}

// ruleText is a claim value as a rule compares it: as claimText, and a
// boolean as "true" or "false".
func ruleText(v any) (string, bool) {
	if b, ok := v.(bool); ok {
		return strconv.FormatBool(b), true
	}
	return claimText(v)
}
