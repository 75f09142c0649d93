package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"testing"
)

// TestSampleMediaIsRealHLS checks that each sample user's playlist is a
// complete VOD playlist of about 30 s of 2 s MPEG-TS segments, each
// carrying H.264 (Baseline or Main, which hls.js turns into avc1 fMP4 that
// Chromium and Firefox play) and starting with a keyframe, so that a
// player really plays them, across a cookie expiry.
func TestSampleMediaIsRealHLS(t *testing.T) {
	t.Parallel()
	files := SampleMedia()
	for _, user := range []string{"dev", "alice"} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			dir := "media/" + user + "/hls"
			playlist, err := fs.ReadFile(files, dir+"/index.m3u8")
			if err != nil {
				t.Fatal(err)
			}
			segs, total, err := parsePlaylist(string(playlist))
			if err != nil {
				t.Fatalf("index.m3u8: %v", err)
			}
			if total < 28 {
				t.Errorf("index.m3u8 lists %.1f s of video; the browser tests need at least 28 s", total)
			}
			for _, name := range segs {
				seg, err := fs.ReadFile(files, path.Join(dir, name))
				if err != nil {
					t.Errorf("index.m3u8 lists %s: %v", name, err)
					continue
				}
				if err := checkH264TS(seg); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}

// parsePlaylist checks the tags a VOD media playlist of 2 s segments needs
// and returns its segment URIs and the sum of their #EXTINF durations.
func parsePlaylist(p string) (segs []string, total float64, err error) {
	lines := strings.Split(strings.TrimRight(p, "\n"), "\n")
	if lines[0] != "#EXTM3U" {
		return nil, 0, errors.New("does not start with #EXTM3U")
	}
	if !strings.Contains(p, "\n#EXT-X-TARGETDURATION:2\n") {
		return nil, 0, errors.New("no #EXT-X-TARGETDURATION:2")
	}
	if lines[len(lines)-1] != "#EXT-X-ENDLIST" {
		return nil, 0, errors.New("does not end with #EXT-X-ENDLIST")
	}
	inf := false
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, "#EXTINF:"):
			d, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			f, err := strconv.ParseFloat(d, 64)
			if err != nil || f <= 0 || f > 2.5 {
				return nil, 0, fmt.Errorf("bad segment duration %q", line)
			}
			total += f
			inf = true
		case line == "" || strings.HasPrefix(line, "#"):
		case !inf:
			return nil, 0, fmt.Errorf("%s has no #EXTINF", line)
		default:
			segs = append(segs, line)
			inf = false
		}
	}
	if len(segs) == 0 {
		return nil, 0, errors.New("no segments")
	}
	return segs, total, nil
}

// checkH264TS checks that b is MPEG-TS (188-byte packets, each starting with
// the 0x47 sync byte) whose PMT declares an H.264 stream (stream_type 0x1b),
// and that the stream holds an SPS of the Baseline (66) or Main (77) profile
// and an IDR picture.
func checkH264TS(b []byte) error {
	if len(b) == 0 || len(b)%188 != 0 {
		return fmt.Errorf("%d bytes, not a whole number of 188-byte TS packets", len(b))
	}
	pmtPID, videoPID := -1, -1
	var es []byte // the video PID's payloads, concatenated
	for off := 0; off < len(b); off += 188 {
		pkt := b[off : off+188]
		if pkt[0] != 0x47 {
			return fmt.Errorf("no sync byte at offset %d", off)
		}
		pid := int(pkt[1]&0x1f)<<8 | int(pkt[2])
		payload := tsPayload(pkt)
		if payload == nil {
			continue
		}
		switch pid {
		case 0: // PAT: the first program's PMT PID
			if sec := psiSection(pkt, payload); len(sec) >= 12 {
				pmtPID = int(sec[10]&0x1f)<<8 | int(sec[11])
			}
		case pmtPID:
			if sec := psiSection(pkt, payload); len(sec) >= 12 {
				videoPID = pmtStream(sec, 0x1b)
			}
		case videoPID:
			es = append(es, payload...)
		}
	}
	switch {
	case pmtPID < 0:
		return errors.New("no PAT")
	case videoPID < 0:
		return errors.New("the PMT declares no H.264 stream (stream_type 0x1b)")
	}
	sps := bytes.Index(es, []byte{0, 0, 1, 0x67})
	if sps < 0 || sps+4 >= len(es) {
		return errors.New("no H.264 SPS")
	}
	if profile := es[sps+4]; profile != 66 && profile != 77 {
		return fmt.Errorf("H.264 profile_idc %d, want Baseline (66) or Main (77)", profile)
	}
	if !bytes.Contains(es, []byte{0, 0, 1, 0x65}) {
		return errors.New("no IDR picture: the segment does not start with a keyframe")
	}
	return nil
}

// tsPayload is a TS packet's payload after any adaptation field, nil when
// it has none.
func tsPayload(pkt []byte) []byte {
	afc := pkt[3] >> 4 & 3
	switch afc {
	case 1:
		return pkt[4:]
	case 3:
		if n := 5 + int(pkt[4]); n < len(pkt) {
			return pkt[n:]
		}
	}
	return nil
}

// psiSection is the PSI section starting in a packet (payload_unit_start
// set), after its pointer field.
func psiSection(pkt, payload []byte) []byte {
	if pkt[1]&0x40 == 0 || len(payload) < 1 || 1+int(payload[0]) >= len(payload) {
		return nil
	}
	return payload[1+int(payload[0]):]
}

// pmtStream is the elementary PID of the first stream of type streamType in
// a PMT section, -1 when there is none.
func pmtStream(sec []byte, streamType byte) int {
	if sec[0] != 0x02 {
		return -1
	}
	end := 3 + (int(sec[1]&0x0f)<<8 | int(sec[2])) - 4 // before the CRC
	i := 12 + (int(sec[10]&0x0f)<<8 | int(sec[11]))
	for end <= len(sec) && i+5 <= end {
		if sec[i] == streamType {
			return int(sec[i+1]&0x1f)<<8 | int(sec[i+2])
		}
		i += 5 + (int(sec[i+3]&0x0f)<<8 | int(sec[i+4]))
	}
	return -1
}

// TestCheckH264TSRefusesPlaceholders shows that the media check fails for
// what the sample media used to be: one MPEG-TS null packet per segment.
func TestCheckH264TSRefusesPlaceholders(t *testing.T) {
	t.Parallel()
	null := make([]byte, 188)
	null[0], null[1], null[2], null[3] = 0x47, 0x1f, 0xff, 0x10
	if err := checkH264TS(null); err == nil {
		t.Error("a null packet passed as an H.264 segment")
	}
	if err := checkH264TS(null[:100]); err == nil {
		t.Error("a truncated packet passed")
	}
	old := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		"#EXTINF:2.000,\nsegment0.ts\n#EXTINF:2.000,\nsegment1.ts\n#EXT-X-ENDLIST\n"
	segs, total, err := parsePlaylist(old)
	if err != nil || len(segs) != 2 || total != 4 {
		t.Errorf("parsePlaylist(old) = %v, %v, %v; want 2 segments, 4 s", segs, total, err)
	}
	for _, bad := range []string{
		"#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n",
		"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n",
		"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n",
		"#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n#EXT-X-ENDLIST\n",
	} {
		if _, _, err := parsePlaylist(bad); err == nil {
			t.Errorf("parsePlaylist accepted %q", bad)
		}
	}
}
