package edge

import (
	"embed"
	"io/fs"
)

// sample is read-only data compiled into the binary.
//
//go:embed sample/media
var sample embed.FS

// SampleMedia is a tiny media tree for the emulated CDN in development, laid
// out as the default MEDIA_PATH (/media/{sub}/*) expects for the dev
// identity "dev" and for "alice" (a second user, to see a cross-user request
// denied):
//
//	media/{dev,alice}/image.svg        an SVG card naming its owner
//	media/{dev,alice}/image.png        a 48×48 PNG
//	media/{dev,alice}/hls/index.m3u8   a VOD playlist of the two segments
//	media/{dev,alice}/hls/segment0.ts  placeholders: one MPEG-TS null packet
//	media/{dev,alice}/hls/segment1.ts  each, so players fetch them but play nothing
func SampleMedia() fs.FS {
	sub, err := fs.Sub(sample, "sample")
	if err != nil {
		panic("edge: embedded sample media: " + err.Error()) // a constant, valid path
	}
	return sub
}
