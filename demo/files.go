package demo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/bits"
	"strings"
)

// The demo's files are made here, in Go, so that studio needs nothing
// downloaded or shipped to show a channel: each is small but real, a file
// that a browser or Kolibri plays or shows.

// VideoSeconds and AudioSeconds are how long Video and Audio play.
const (
	VideoSeconds = 3
	AudioSeconds = 2
)

// Video is an MP4 (H.264 constrained baseline) of VideoSeconds frames at
// one frame a second, 64×48 pixels: frame k shows k white dots on blue,
// counting to three. Each frame is made of uncompressed I_PCM macroblocks,
// which needs no encoder: a few headers and the pixels themselves.
func Video() []byte {
	const w, h = 64, 48
	var samples [][]byte
	for k := 1; k <= VideoSeconds; k++ {
		y, cb, cr := dotsFrame(w, h, k)
		// Consecutive IDR pictures need different idr_pic_ids.
		samples = append(samples, lengthPrefixed(h264IDR(w, h, y, cb, cr, uint64(k%2))))
	}
	return mp4(w, h, h264SPS(w, h), h264PPS(), samples, 1000)
}

// dotsFrame draws n white dots on blue, in YCbCr 4:2:0 (every sample in
// 16–235: old decoders refuse PCM samples of 0).
func dotsFrame(w, h, n int) (y, cb, cr []byte) {
	y = bytes.Repeat([]byte{60}, w*h)
	cb = bytes.Repeat([]byte{190}, w*h/4)
	cr = bytes.Repeat([]byte{110}, w*h/4)
	for i := range n {
		cx, cy := w*(i+1)/(n+1), h/2
		inside := func(px, py int) bool { return (px-cx)*(px-cx)+(py-cy)*(py-cy) <= 36 }
		for py := range h {
			for px := range w {
				if inside(px, py) {
					y[py*w+px] = 235
				}
				// A chroma sample covers 2×2 pixels: white where its centre is.
				if px%2 == 0 && py%2 == 0 && inside(px+1, py+1) {
					cb[(py/2)*(w/2)+px/2] = 128
					cr[(py/2)*(w/2)+px/2] = 128
				}
			}
		}
	}
	return y, cb, cr
}

// bitWriter writes H.264's bit fields, most significant bit first.
type bitWriter struct {
	out   []byte
	cur   byte
	nbits int
}

func (b *bitWriter) bit(v uint64) {
	b.cur = b.cur<<1 | byte(v&1)
	if b.nbits++; b.nbits == 8 {
		b.out, b.cur, b.nbits = append(b.out, b.cur), 0, 0
	}
}

// u writes v in n bits.
func (b *bitWriter) u(n int, v uint64) {
	for i := n - 1; i >= 0; i-- {
		b.bit(v >> i)
	}
}

// ue writes v as an unsigned Exp-Golomb code; se(0) is ue(0) too.
func (b *bitWriter) ue(v uint64) {
	n := bits.Len64(v + 1)
	b.u(n-1, 0)
	b.u(n, v+1)
}

// align pads with zero bits to the next byte.
func (b *bitWriter) align() {
	for b.nbits != 0 {
		b.bit(0)
	}
}

// trailing ends an RBSP: a one bit, then zero bits to the byte.
func (b *bitWriter) trailing() []byte {
	b.bit(1)
	b.align()
	return b.out
}

// nal makes a NAL unit of an RBSP, inserting the emulation prevention
// bytes that keep 00 00 0x (x ≤ 3) out of its payload.
func nal(header byte, rbsp []byte) []byte {
	out := []byte{header}
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			out, zeros = append(out, 3), 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// h264SPS is the sequence parameter set for a w×h picture (multiples of 16).
func h264SPS(w, h int) []byte {
	var b bitWriter
	b.u(8, 66)   // profile_idc: baseline
	b.u(8, 0xC0) // constraint_set0_flag and set1: constrained baseline
	b.u(8, 20)   // level_idc: 2.0
	b.ue(0)      // seq_parameter_set_id
	b.ue(0)      // log2_max_frame_num_minus4
	b.ue(2)      // pic_order_cnt_type 2: output order is decoding order
	b.ue(1)      // max_num_ref_frames
	b.u(1, 0)    // gaps_in_frame_num_value_allowed_flag
	b.ue(uint64(w/16 - 1))
	b.ue(uint64(h/16 - 1))
	b.u(1, 1) // frame_mbs_only_flag
	b.u(1, 1) // direct_8x8_inference_flag
	b.u(1, 0) // frame_cropping_flag
	b.u(1, 0) // vui_parameters_present_flag
	return nal(0x67, b.trailing())
}

// h264PPS is the picture parameter set: CAVLC, one slice group, defaults.
func h264PPS() []byte {
	var b bitWriter
	b.ue(0)   // pic_parameter_set_id
	b.ue(0)   // seq_parameter_set_id
	b.u(1, 0) // entropy_coding_mode_flag: CAVLC
	b.u(1, 0) // bottom_field_pic_order_in_frame_present_flag
	b.ue(0)   // num_slice_groups_minus1
	b.ue(0)   // num_ref_idx_l0_default_active_minus1
	b.ue(0)   // num_ref_idx_l1_default_active_minus1
	b.u(1, 0) // weighted_pred_flag
	b.u(2, 0) // weighted_bipred_idc
	b.ue(0)   // pic_init_qp_minus26: se(0)
	b.ue(0)   // pic_init_qs_minus26: se(0)
	b.ue(0)   // chroma_qp_index_offset: se(0)
	b.u(1, 0) // deblocking_filter_control_present_flag
	b.u(1, 0) // constrained_intra_pred_flag
	b.u(1, 0) // redundant_pic_cnt_present_flag
	return nal(0x68, b.trailing())
}

// h264IDR is one IDR picture, a single slice of I_PCM macroblocks: the
// samples y (w×h), cb and cr (w/2×h/2) as they are.
func h264IDR(w, h int, y, cb, cr []byte, idrPicID uint64) []byte {
	var b bitWriter
	b.ue(0)        // first_mb_in_slice
	b.ue(7)        // slice_type: I, as every slice of the picture
	b.ue(0)        // pic_parameter_set_id
	b.u(4, 0)      // frame_num (log2_max_frame_num is 4)
	b.ue(idrPicID) // idr_pic_id
	b.u(1, 0)      // no_output_of_prior_pics_flag
	b.u(1, 0)      // long_term_reference_flag
	b.ue(0)        // slice_qp_delta: se(0)
	for my := 0; my < h/16; my++ {
		for mx := 0; mx < w/16; mx++ {
			b.ue(25) // mb_type: I_PCM
			b.align()
			for r := range 16 {
				for c := range 16 {
					b.u(8, uint64(y[(my*16+r)*w+mx*16+c]))
				}
			}
			for _, plane := range [][]byte{cb, cr} {
				for r := range 8 {
					for c := range 8 {
						b.u(8, uint64(plane[(my*8+r)*(w/2)+mx*8+c]))
					}
				}
			}
		}
	}
	return nal(0x65, b.trailing())
}

// lengthPrefixed is a NAL unit as MP4 samples carry it: after its length.
func lengthPrefixed(unit []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(unit))), unit...)
}

// box is an ISO base media file box; fullBox adds a version, always 0
// (32-bit times and durations), and flags.
func box(typ string, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(body))), typ...), body...)
}

func fullBox(typ string, flags uint32, parts ...[]byte) []byte {
	return box(typ, append([]byte{0, byte(flags >> 16), byte(flags >> 8), byte(flags)}, bytes.Join(parts, nil)...))
}

// be writes big-endian unsigned integers: 16-bit for uint16, else 32-bit.
func be(vs ...any) []byte {
	var out []byte
	for _, v := range vs {
		switch v := v.(type) {
		case uint16:
			out = binary.BigEndian.AppendUint16(out, v)
		case int:
			out = binary.BigEndian.AppendUint32(out, uint32(v))
		default:
			panic(fmt.Sprintf("demo: be(%T)", v))
		}
	}
	return out
}

// unityMatrix is the identity transformation of mvhd and tkhd.
var unityMatrix = be(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)

// mp4 puts H.264 samples of delta milliseconds each into an MP4 file: ftyp,
// then moov (first, so that players start at once), then mdat.
func mp4(w, h int, sps, pps []byte, samples [][]byte, delta int) []byte {
	duration := delta * len(samples)
	ftyp := box("ftyp", []byte("isom"), be(0x200), []byte("isomiso2avc1mp41"))
	avcC := box("avcC", []byte{1, sps[1], sps[2], sps[3], 0xFF, 0xE1}, be(uint16(len(sps))), sps, []byte{1}, be(uint16(len(pps))), pps)
	compressor := make([]byte, 32)
	compressor[0] = byte(copy(compressor[1:], "studio demo"))
	avc1 := box("avc1", make([]byte, 6), be(uint16(1)), make([]byte, 16), be(uint16(w), uint16(h)),
		be(0x00480000, 0x00480000, 0), be(uint16(1)), compressor, be(uint16(0x18), uint16(0xFFFF)), avcC)
	sizes := be(0, len(samples))
	for _, s := range samples {
		sizes = append(sizes, be(len(s))...)
	}
	moov := func(chunkOffset int) []byte {
		stbl := box("stbl",
			fullBox("stsd", 0, be(1), avc1),
			fullBox("stts", 0, be(1, len(samples), delta)),
			fullBox("stsc", 0, be(1, 1, len(samples), 1)),
			fullBox("stsz", 0, sizes),
			fullBox("stco", 0, be(1, chunkOffset)))
		minf := box("minf",
			fullBox("vmhd", 1, make([]byte, 8)),
			box("dinf", fullBox("dref", 0, be(1), fullBox("url ", 1))),
			stbl)
		mdia := box("mdia",
			fullBox("mdhd", 0, be(0, 0, 1000, duration), be(uint16(0x55C4), uint16(0))), // language "und"
			fullBox("hdlr", 0, be(0), []byte("vide"), be(0, 0, 0), []byte("VideoHandler\x00")),
			minf)
		trak := box("trak",
			fullBox("tkhd", 3, be(0, 0, 1, 0, duration, 0, 0), be(uint16(0), uint16(0), uint16(0), uint16(0)),
				unityMatrix, be(w<<16, h<<16)),
			mdia)
		mvhd := fullBox("mvhd", 0, be(0, 0, 1000, duration, 0x00010000), be(uint16(0x0100), uint16(0)),
			be(0, 0), unityMatrix, make([]byte, 24), be(2))
		return box("moov", mvhd, trak)
	}
	// The chunk offset does not change moov's size: measure, then write.
	offset := len(ftyp) + len(moov(0)) + 8
	return bytes.Join([][]byte{ftyp, moov(offset), box("mdat", samples...)}, nil)
}

// Audio is an MP3 of AudioSeconds of silence: MPEG-1 Layer III frames,
// mono, 32 kHz, 32 kbit/s, each a header, side information of zeros (no
// sound coded) and padding.
func Audio() []byte {
	const frameSize = 144 * 32000 / 32000 // 144 × bit rate / sample rate
	const samplesPerFrame = 1152
	frames := (AudioSeconds*32000 + samplesPerFrame - 1) / samplesPerFrame
	frame := make([]byte, frameSize)
	// Sync word, MPEG-1, Layer III, no CRC; 32 kbit/s, 32 kHz; mono.
	copy(frame, []byte{0xFF, 0xFB, 0x18, 0xC0})
	return bytes.Repeat(frame, frames)
}

// PDF is a one-page PDF with a title and lines of text in Helvetica, with a
// correct cross-reference table. Text is ASCII.
func PDF(title string, lines []string) []byte {
	esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
	var content strings.Builder
	fmt.Fprintf(&content, "BT /F1 20 Tf 50 780 Td (%s) Tj ET\n", esc.Replace(title))
	content.WriteString("BT /F1 12 Tf 16 TL 50 740 Td\n")
	for _, l := range lines {
		fmt.Fprintf(&content, "(%s) Tj T*\n", esc.Replace(l))
	}
	content.WriteString("ET")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// Thumbnail is a 160×90 PNG (Kolibri's 16:9): three white dots on a blue
// gradient, like the video's last frame.
func Thumbnail() []byte {
	const w, h = 160, 90
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: 30, G: uint8(60 + x/4), B: uint8(140 + y), A: 255}
			for i := 1; i <= 3; i++ {
				if dx, dy := x-w*i/4, y-h/2; dx*dx+dy*dy <= 14*14 {
					c = color.RGBA{R: 250, G: 250, B: 250, A: 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory image does not fail
	}
	return b.Bytes()
}
