package main

// HLS video in real browsers: hls.js (vendored in web/) plays the emulated
// CloudFront's 30-second H.264 samples with the cookies cfcookies sets,
// through the helper's hlsConfig (cookies sent cross-origin) and attachHls
// (a denied playlist or segment refreshes the cookies once and resumes).

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// videoState is what probe.videoState reports of the page's <video> and
// its hls.js.
type videoState struct {
	CurrentTime float64
	Paused      bool
	Ended       bool
	MediaError  int // HTMLMediaElement.error.code, 0 for none
	Errors      []struct {
		Details string
		Fatal   bool
		Code    int // the response code hls.js saw, -1 for none
	}
	Fragments int     // segments hls.js loaded
	DeniedAt  float64 // currentTime when a segment first failed to load, -1 if none did
	PlayError string  // the error play() rejected with, if it did
}

func (s videoState) fatal() bool {
	for _, e := range s.Errors {
		if e.Fatal {
			return true
		}
	}
	return false
}

// waitVideo polls the page's video until done says so, failing the test
// after timeout with the last state.
func (p *page) waitVideo(what string, timeout time.Duration, done func(videoState) bool) videoState {
	p.t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		s := probeCall[videoState](p, "videoState")
		if done(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %s: not after %s; the video: %+v", p.browser, what, timeout, s)
		}
	}
}

// streamRequests are the request log's entries for a user's HLS stream,
// "host GET /media/USER/hls/FILE STATUS".
func streamRequests(tp *topology, user string) []string {
	var out []string
	for _, e := range tp.requests.all() {
		if strings.Contains(e, " GET /media/"+user+"/hls/") {
			out = append(out, e)
		}
	}
	return out
}

// TestBrowserVideo plays HLS in Chromium and in Firefox, in both
// topologies: the caller's stream plays; another user's is refused after
// one refresh, without a loop; and a stream whose cookies expire while it
// plays refreshes them once, when a segment is denied, and plays on in the
// same <video>.
//
// The expiring streams take 25 s of real time. go test runs GOMAXPROCS
// parallel tests at once, 2 on a 2-core machine, so each browser's test
// starts both of its expiring streams first, runs the short subtests while
// they play, and then checks them: about 30 s in all, not twice that.
func TestBrowserVideo(t *testing.T) {
	t.Parallel()
	for _, b := range bothBrowsers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			var tcs []browserTopology
			for _, tc := range crossBrowserTopologies() {
				if tc.browser == b {
					tc.name = strings.TrimPrefix(tc.name, b+"/")
					tcs = append(tcs, tc)
				}
			}

			// Cookies for 20 s and no scheduled refresh: they expire while
			// the 30-second stream plays. A small buffer keeps hls.js
			// fetching segments as it plays, so one is denied.
			type expiring struct {
				p     *page
				tp    *topology
				first issueResult
			}
			var exp []expiring
			for _, tc := range tcs {
				p, tp, first := startVideoPage(t, tc, directAPI(20*time.Second), false)
				probeCall[bool](p, "video", tp.media("/media/alice/hls/index.m3u8"),
					map[string]any{"maxBufferLength": 4, "maxMaxBufferLength": 6, "backBufferLength": 0})
				exp = append(exp, expiring{p, tp, first})
			}

			for _, tc := range tcs {
				t.Run(tc.name+"/own stream plays", func(t *testing.T) {
					p, tp, _ := startVideoPage(t, tc, nil, true)
					probeCall[bool](p, "video", tp.media("/media/alice/hls/index.m3u8"), map[string]any{})
					s := p.waitVideo("play to 4 s", 45*time.Second, func(s videoState) bool { return s.CurrentTime >= 4 || s.fatal() })
					if s.fatal() || s.MediaError != 0 || s.PlayError != "" {
						t.Fatalf("own stream failed: %+v", s)
					}
					reqs := streamRequests(tp, "alice")
					segments := 0
					for _, r := range reqs {
						if !strings.HasSuffix(r, " 200") {
							t.Errorf("the CDN did not answer 200: %s", r)
						}
						if strings.Contains(r, ".ts ") {
							segments++
						}
					}
					if segments < 3 || tp.requests.count("/media/alice/hls/index.m3u8 200") != 1 {
						t.Errorf("%d segments and %d playlists fetched, want at least 3 and 1: %v", segments, tp.requests.count("index.m3u8"), reqs)
					}
					if c := p.counts(); c.Retry != 0 || c.MediaError != 0 {
						t.Errorf("helper events while the stream plays: %+v, want no retry or mediaerror", c)
					}
					t.Logf("%.1f s played, %d segments loaded, %d stream requests", s.CurrentTime, s.Fragments, len(reqs))
				})

				t.Run(tc.name+"/another user's stream is refused", func(t *testing.T) {
					p, tp, _ := startVideoPage(t, tc, nil, true)
					before := posts(tp)
					probeCall[bool](p, "video", tp.media("/media/dev/hls/index.m3u8"), map[string]any{})
					p.waitVideo("a fatal error and mediaerror", 30*time.Second, func(s videoState) bool {
						return s.fatal() && p.counts().MediaError > 0
					})
					// Whatever hls.js or the helper might still do shows by now.
					time.Sleep(time.Second)
					s := probeCall[videoState](p, "videoState")
					if s.CurrentTime != 0 || s.Fragments != 0 {
						t.Errorf("another user's stream played: %+v", s)
					}
					// Same origin, hls.js sees CloudFront's 403; cross-origin
					// the 403 has no CORS headers and shows as 0.
					wantCode := http.StatusForbidden
					if tp.cdnOrigin != tp.appOrigin {
						wantCode = 0
					}
					for _, e := range s.Errors {
						if e.Details != "manifestLoadError" || e.Code != wantCode {
							t.Errorf("hls.js error %+v, want manifestLoadError with code %d", e, wantCode)
						}
					}
					reqs := streamRequests(tp, "dev")
					manifests := tp.requests.count("GET /media/dev/hls/index.m3u8 403")
					if manifests < 1 || manifests > 2 || len(reqs) != manifests {
						t.Errorf("requests for the stream: %v; want 1 or 2 playlist requests denied (one retry at most), nothing else", reqs)
					}
					if c := p.counts(); c.Retry > 1 || c.MediaError != 1 {
						t.Errorf("helper events: %+v, want at most 1 retry and 1 mediaerror", c)
					}
					if n := posts(tp) - before; n > 1 {
						t.Errorf("%d POSTs for another user's stream, want at most 1", n)
					}
					t.Logf("hls.js errors %+v; stream requests %v", s.Errors, reqs)
				})
			}

			for i, tc := range tcs {
				t.Run(tc.name+"/cookies expire mid-stream", func(t *testing.T) {
					p, tp, first := exp[i].p, exp[i].tp, exp[i].first
					p.t = t
					// By now the stream is well past its cookies' expiry: a fatal
					// error the helper resumed from is no failure.
					p.waitVideo("play to 2 s", 45*time.Second, func(s videoState) bool { return s.CurrentTime >= 2 })
					wait := time.Until(first.Answer.ExpiresAt) + 20*time.Second
					denied := p.waitVideo("a segment denied after expiry", wait, func(s videoState) bool { return s.DeniedAt >= 0 || s.Ended })
					if denied.DeniedAt < 0 {
						t.Fatalf("the stream ended without a denied segment: the cookies did not expire mid-stream: %+v", denied)
					}
					if time.Now().Before(first.Answer.ExpiresAt) {
						t.Errorf("a segment was denied before the cookies expired: %+v", denied)
					}
					s := p.waitVideo("play 4 s past the denial", 30*time.Second, func(s videoState) bool {
						return s.CurrentTime >= denied.DeniedAt+4 || p.counts().MediaError > 0
					})
					if s.CurrentTime < denied.DeniedAt+4 || s.MediaError != 0 {
						t.Errorf("after the denial at %.1f s the video: %+v, want it played on 4 s", denied.DeniedAt, s)
					}
					if c := p.counts(); c.Retry < 1 || c.Refresh != 2 || c.MediaError != 0 {
						t.Errorf("helper events: %+v, want a retry, 2 refreshes (issuance and the one after the denial), no mediaerror", c)
					}
					if n := posts(tp); n != 2 {
						t.Errorf("%d POSTs, want 2: issuance and one refresh", n)
					}
					reqs := streamRequests(tp, "alice")
					// The denied segment itself is served after the refresh:
					// playing on could also be a player skipping the gap.
					firstDenied := slices.IndexFunc(reqs, func(r string) bool { return strings.Contains(r, ".ts 403") })
					served := false
					if firstDenied >= 0 {
						again := strings.TrimSuffix(reqs[firstDenied], " 403") + " 200"
						served = slices.Contains(reqs[firstDenied:], again)
					}
					if !served {
						t.Errorf("requests for the stream: %v; want a segment denied, then that segment served", reqs)
					}
					t.Logf("denied at %.1f s, played on to %.1f s; hls.js errors %+v; %d stream requests",
						denied.DeniedAt, s.CurrentTime, s.Errors, len(reqs))
				})
			}
		})
	}
}

// startVideoPage opens the SPA of a new topology in a new page, with a
// helper for alice that got its cookies.
func startVideoPage(t *testing.T, tc browserTopology, api func(*testing.T, *topology) http.Handler, autoRefresh bool) (*page, *topology, issueResult) {
	t.Helper()
	p := newPageIn(t, tc.browser)
	tp := newTopology(t, topologyOptions{hosts: tc.hosts, env: tc.env, api: api})
	p.open(tp.appOrigin + "/")
	opts := tp.helperOptions(t, "alice")
	opts["autoRefresh"] = autoRefresh
	probeCall[bool](p, "start", opts)
	res := p.refresh()
	if !res.OK {
		t.Fatalf("POST /auth/media-cookies: %+v", res.Error)
	}
	return p, tp, res
}

func posts(tp *topology) int { return tp.requests.count("POST /auth/media-cookies") }
