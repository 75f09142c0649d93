package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// ErrMalformedPolicy is wrapped by every ParsePolicy and DecodePolicy
// error: the policy is not one CloudFront would accept.
var ErrMalformedPolicy = errors.New("signer: malformed policy")

// A Policy is the one statement of a custom policy, read back from its
// JSON by [ParsePolicy] or from a CloudFront-Policy cookie by
// [DecodePolicy]. Its fields are those of [Grant], so Grant(p) and
// Policy(g) convert between them.
//
// A parsed Policy says what a policy claims, not that anyone signed it:
// trust it only once its signature has verified ([Verify], or
// [Verifier.Check], which checks the signature before it parses).
type Policy struct {
	// Resource is the URL pattern, "*" and "?" being wildcards (see
	// [MatchResource]).
	Resource string
	// Expires is DateLessThan, in UTC: access is allowed strictly before it.
	Expires time.Time
	// NotBefore is DateGreaterThan, in UTC, the zero Time when absent:
	// access is allowed strictly after it.
	NotBefore time.Time
	// IPRange is IpAddress.AWS:SourceIp, masked, the zero (invalid) Prefix
	// when absent.
	IPRange netip.Prefix
}

// DecodePolicy reads a CloudFront-Policy cookie value: CloudFront base64
// (see [DecodeBase64]) of policy JSON, which it parses as [ParsePolicy]
// does. Errors wrap ErrMalformedPolicy and never quote the value.
func DecodePolicy(cookieValue string) (Policy, error) {
	b, err := DecodeBase64(cookieValue)
	if err != nil {
		return Policy{}, malformed("policy is not CloudFront base64")
	}
	return ParsePolicy(b)
}

// maxEpochDigits bounds AWS:EpochTime; 12 digits reach past the year 30000.
const maxEpochDigits = 12

// ParsePolicy parses custom policy JSON strictly: a top-level object holding
// only "Statement", an array of exactly one object holding only "Resource"
// (a string) and "Condition", which holds "DateLessThan" (required),
// "DateGreaterThan" and "IpAddress"; each date is {"AWS:EpochTime": integer
// seconds} and IpAddress is {"AWS:SourceIp": "IPv4 CIDR"}. Names are
// case-sensitive; unknown or repeated names, other JSON types, fractions,
// exponents, negative epochs, IPv6 ranges and trailing data are refused.
// Whitespace between tokens is allowed, as in AWS's documentation examples.
// Errors wrap ErrMalformedPolicy and never quote the policy.
func ParsePolicy(b []byte) (Policy, error) {
	top, err := object(b, "policy", "Statement")
	if err != nil {
		return Policy{}, err
	}
	stmtsRaw, ok := top["Statement"]
	if !ok {
		return Policy{}, malformed("policy has no Statement")
	}
	var stmts []json.RawMessage
	if err := strictUnmarshal(stmtsRaw, &stmts); err != nil || stmts == nil {
		return Policy{}, malformed("Statement is not an array")
	}
	if len(stmts) != 1 {
		return Policy{}, malformed(fmt.Sprintf("policy has %d statements; CloudFront takes exactly one", len(stmts)))
	}
	stmt, err := object(stmts[0], "statement", "Resource", "Condition")
	if err != nil {
		return Policy{}, err
	}
	var p Policy
	resRaw, ok := stmt["Resource"]
	if !ok {
		return Policy{}, malformed("statement has no Resource")
	}
	if err := strictUnmarshal(resRaw, &p.Resource); err != nil || p.Resource == "" {
		return Policy{}, malformed("Resource is not a non-empty string")
	}
	condRaw, ok := stmt["Condition"]
	if !ok {
		return Policy{}, malformed("statement has no Condition")
	}
	cond, err := object(condRaw, "Condition", "DateLessThan", "DateGreaterThan", "IpAddress")
	if err != nil {
		return Policy{}, err
	}
	dlt, ok := cond["DateLessThan"]
	if !ok {
		return Policy{}, malformed("Condition has no DateLessThan, which CloudFront requires")
	}
	if p.Expires, err = epoch(dlt, "DateLessThan"); err != nil {
		return Policy{}, err
	}
	if dgt, ok := cond["DateGreaterThan"]; ok {
		if p.NotBefore, err = epoch(dgt, "DateGreaterThan"); err != nil {
			return Policy{}, err
		}
	}
	if ipRaw, ok := cond["IpAddress"]; ok {
		if p.IPRange, err = sourceIP(ipRaw); err != nil {
			return Policy{}, err
		}
	}
	return p, nil
}

func malformed(msg string) error {
	return fmt.Errorf("%w: %s", ErrMalformedPolicy, msg)
}

// object decodes raw as a JSON object whose member names are all in
// allowed, each at most once, with nothing after it.
func object(raw []byte, what string, allowed ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, malformed(what + " is not a JSON object")
	}
	fields := make(map[string]json.RawMessage, len(allowed))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(what + " is not valid JSON")
		}
		name, _ := tok.(string)
		if !contains(allowed, name) {
			return nil, malformed(fmt.Sprintf("%s has an unknown field (allowed: %v)", what, allowed))
		}
		if _, dup := fields[name]; dup {
			return nil, malformed(fmt.Sprintf("%s has %s twice", what, name))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed(what + " is not valid JSON")
		}
		fields[name] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, malformed(what + " is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed(what + " has data after its closing brace")
	}
	return fields, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// strictUnmarshal decodes raw into v, refusing a JSON null (which
// json.Unmarshal would accept as "no value").
func strictUnmarshal(raw json.RawMessage, v any) error {
	if string(bytes.TrimSpace(raw)) == "null" {
		return errors.New("null")
	}
	return json.Unmarshal(raw, v)
}

// epoch parses {"AWS:EpochTime": N} with N a non-negative integer.
func epoch(raw json.RawMessage, what string) (time.Time, error) {
	obj, err := object(raw, what, "AWS:EpochTime")
	if err != nil {
		return time.Time{}, err
	}
	n, ok := obj["AWS:EpochTime"]
	if !ok {
		return time.Time{}, malformed(what + " has no AWS:EpochTime")
	}
	digits := bytes.TrimSpace(n)
	if len(digits) == 0 || len(digits) > maxEpochDigits {
		return time.Time{}, malformed(what + ".AWS:EpochTime is not whole epoch seconds")
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return time.Time{}, malformed(what + ".AWS:EpochTime is not whole epoch seconds (integer, no quotes, sign, fraction or exponent)")
		}
	}
	sec, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return time.Time{}, malformed(what + ".AWS:EpochTime is out of range")
	}
	return time.Unix(sec, 0).UTC(), nil
}

// sourceIP parses {"AWS:SourceIp": "192.0.2.0/24"}.
func sourceIP(raw json.RawMessage) (netip.Prefix, error) {
	obj, err := object(raw, "IpAddress", "AWS:SourceIp")
	if err != nil {
		return netip.Prefix{}, err
	}
	v, ok := obj["AWS:SourceIp"]
	if !ok {
		return netip.Prefix{}, malformed("IpAddress has no AWS:SourceIp")
	}
	var s string
	if err := strictUnmarshal(v, &s); err != nil {
		return netip.Prefix{}, malformed("IpAddress.AWS:SourceIp is not a string")
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, malformed("IpAddress.AWS:SourceIp is not a CIDR range such as 192.0.2.0/24")
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, malformed("IpAddress.AWS:SourceIp is not IPv4; CloudFront's IpAddress takes only IPv4")
	}
	return p.Masked(), nil
}
