package signer

import "strings"

// MatchResource reports whether url matches a policy Resource the way
// CloudFront matches it: the whole string, case-sensitively, where "*"
// matches any run of bytes (empty, and "/" included) and "?" matches
// exactly one byte. There is no escape: a "?" in the pattern is a wildcard
// even where it is meant as a query separator, and matches that separator.
// Matching is on bytes; request URLs are ASCII once escaped.
//
// It runs in O(len(pattern) × len(url)) time at worst and allocates nothing.
func MatchResource(pattern, url string) bool {
	p, u := 0, 0
	star, starU := -1, 0 // last '*' seen in pattern, and where in url it resumed
	for u < len(url) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, starU = p, u
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == url[u]):
			p++
			u++
		case star >= 0:
			// Let the last '*' swallow one more byte and retry.
			starU++
			p, u = star+1, starU
		default:
			return false
		}
	}
	return strings.Trim(pattern[p:], "*") == ""
}
