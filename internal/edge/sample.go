package edge

import (
	"embed"
	"io/fs"
)

// sample is read-only data compiled into the binary.
//
//go:embed sample/media
var sample embed.FS

// SampleMedia is a small media tree for the emulated CDN in development,
// laid out as the default MEDIA_PATH (/media/{sub}/*) expects for the dev
// identity "dev" and for "alice" (a second user, to see a cross-user request
// denied):
//
//	media/{dev,alice}/image.svg          an SVG card naming its owner
//	media/{dev,alice}/image.png          a 48×48 PNG
//	media/{dev,alice}/hls/index.m3u8     an HLS VOD playlist of 15 segments, 30 s
//	media/{dev,alice}/hls/segment0.ts    2 s MPEG-TS segments (segment0.ts to
//	  ... segment14.ts                   segment14.ts), each starting on a keyframe
//
// The video is real: 192×108, 12 fps, H.264 Constrained Baseline (avc1.42C00C
// once hls.js transmuxes it, which Chromium's and Firefox's MSE play), no
// audio; dev's is ffmpeg's testsrc with a seconds counter, alice's SMPTE bars
// with a sliding square, each with the user's name in the corner. Long
// enough to outlive a short cookie TTL while playing. scripts/sample-media
// made them with Debian 12's ffmpeg 5.1.9 (libx264 0.164):
//
//	ffmpeg -f lavfi -i SOURCE -t 30 -an -c:v libx264 -profile:v baseline -pix_fmt yuv420p \
//	  -preset veryslow -crf 36 -g 24 -keyint_min 24 -sc_threshold 0 \
//	  -fflags +bitexact -flags:v +bitexact -map_metadata -1 \
//	  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename 'segment%d.ts' index.m3u8
//
// About 104 KB for dev, 93 KB for alice; all of it must stay under 300 KB.
func SampleMedia() fs.FS {
	sub, err := fs.Sub(sample, "sample")
	if err != nil {
		panic("edge: embedded sample media: " + err.Error()) // a constant, valid path
	}
	return sub
}
