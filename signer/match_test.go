package signer

import (
	"strings"
	"testing"
)

func TestMatchResource(t *testing.T) {
	t.Parallel()
	const alice = "https://m.example.com/media/alice/*"
	cases := []struct {
		pattern, url string
		want         bool
	}{
		{alice, "https://m.example.com/media/alice/a.ts", true},
		{alice, "https://m.example.com/media/alice/a/b.ts", true},
		{alice, "https://m.example.com/media/alice/", true},
		{alice, "https://m.example.com/media/alice/hls/index.m3u8?token=1&x=2", true},
		{alice, "https://m.example.com/media/alice", false},
		{alice, "https://m.example.com/media/alicex/a.ts", false},
		{alice, "https://m.example.com/media/Alice/a.ts", false},
		{alice, "http://m.example.com/media/alice/a.ts", false},
		{alice, "https://m.example.com.evil.test/media/alice/a.ts", false},
		{alice, "https://M.example.com/media/alice/a.ts", false},
		{alice, "xhttps://m.example.com/media/alice/a.ts", false},

		{"https://m.example.com/a.ts", "https://m.example.com/a.ts", true},
		{"https://m.example.com/a.ts", "https://m.example.com/a.ts?v=1", false},
		{"https://m.example.com/a.ts", "https://m.example.com/a.tsx", false},
		{"https://m.example.com/a.ts", "https://m.example.com/a.t", false},

		{"https://m.example.com/seg?.ts", "https://m.example.com/seg1.ts", true},
		{"https://m.example.com/seg?.ts", "https://m.example.com/seg/.ts", true},
		{"https://m.example.com/seg?.ts", "https://m.example.com/seg.ts", false},
		{"https://m.example.com/seg?.ts", "https://m.example.com/seg12.ts", false},
		{"https://m.example.com/a.ts?v=1", "https://m.example.com/a.ts?v=1", true},
		{"https://m.example.com/a.ts?v=1", "https://m.example.com/a.tsXv=1", true},
		{"https://m.example.com/a.ts?v=1", "https://m.example.com/a.ts?v=12", false},

		{"http*://m.example.com/*", "http://m.example.com/x", true},
		{"http*://m.example.com/*", "https://m.example.com/x", true},
		{"https://*.example.com/*", "https://m.example.com/x", true},
		{"https://*.example.com/*", "https://example.com/x", false},
		{"*", "", true},
		{"*", "anything/at/all?q", true},
		{"**", "x", true},
		{"", "", true},
		{"", "x", false},
		{"?", "", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a*b*c", "acb", false},
		{"*.ts", "a.ts.m3u8", false},
		{"*.ts*", "a.ts.m3u8", true},
		{"https://m.example.com/*/hls/*.m3u8", "https://m.example.com/media/dev/hls/index.m3u8", true},
		{"https://m.example.com/*/hls/*.m3u8", "https://m.example.com/media/dev/hls/index.m3u8?x", false},
	}
	for _, tc := range cases {
		if got := MatchResource(tc.pattern, tc.url); got != tc.want {
			t.Errorf("MatchResource(%q, %q) = %v, want %v", tc.pattern, tc.url, got, tc.want)
		}
	}
}

// TestMatchResourceWorstCase guards against exponential backtracking.
func TestMatchResourceWorstCase(t *testing.T) {
	t.Parallel()
	pattern := strings.Repeat("*a", 200) + "b"
	url := strings.Repeat("a", 4000)
	if MatchResource(pattern, url) {
		t.Fatal("matched")
	}
}

func BenchmarkMatchResource(b *testing.B) {
	b.ReportAllocs()
	const pattern = "https://m.example.com/media/alice/*"
	const url = "https://m.example.com/media/alice/hls/1080p/segment00042.ts"
	for b.Loop() {
		if !MatchResource(pattern, url) {
			b.Fatal("no match")
		}
	}
}
