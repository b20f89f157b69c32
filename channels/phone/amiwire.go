package phone

import (
	"bytes"
	"errors"
	"io"
	"math/bits"
	"unsafe"
)

// The AMI wire format (https://docs.asterisk.org/Configuration/Interfaces/Asterisk-Manager-Interface-AMI/):
// after a one-line banner ("Asterisk Call Manager/9.0.0"), every message
// is a block of "Key: Value" lines ended by an empty line. Keys repeat
// (Variable, ChanVariable, Output), so a message is an ordered list, never
// a map. Lines end in CRLF; LF alone, trailing spaces and lines without a
// colon are tolerated here (the last are reported to the caller and
// skipped, the message goes on).

// maxLine is the longest line read; a longer one is skipped as garbage.
const maxLine = 64 << 10

// wireReader splits an AMI stream into messages. It reads into buffers
// of its own and parses each message where it lies: a message's text is a
// view of the buffer, its fields offsets into it; nothing is copied.
type wireReader struct {
	rd   io.Reader
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	// start is where the message being read begins; the bytes from there
	// are kept when the buffer is refilled.
	start int
	// garbage is called with each line that is not "Key: Value" (at most
	// 200 bytes); it is skipped.
	garbage func(line string)
	follows bool // inside a legacy "Response: Follows" command output
	// reuse: the caller keeps nothing of a message (nor any string read
	// from it) once it asks for the next one, so a full buffer is reused
	// (the current message moved to its start) instead of replaced. It
	// stays in the CPU cache, and no garbage is made per 64 KiB read.
	reuse bool
	// want, when set, gives the keys of an event (named on its first
	// line) to index; the rest is indexed when asked for (see keySet).
	want func(event []byte) *keySet
	// Bitmaps of buf[:w], a bit per byte (see lines): nl has the line
	// endings, colon the first colon of each line, noColon the endings of
	// lines without one. The first classified bytes' are final, the
	// block after them is redone when more is read into it; state is what
	// the final ones leave to it.
	nl, colon, noColon []uint64
	classified         int
	state              lineState
}

const (
	readSize = 64 << 10 // the buffer; it grows for a larger message
	maxBlock = 8 << 20  // a larger message ends the connection
)

var errTooLarge = errors.New("an AMI message larger than 8 MiB")

func newWireReader(r io.Reader, garbage func(string)) *wireReader {
	if garbage == nil {
		garbage = func(string) {}
	}
	return &wireReader{rd: r, buf: make([]byte, readSize), garbage: garbage}
}

// fill reads more. When the buffer is full, the current message moves to
// a new buffer (twice as large if it fills a buffer alone): a buffer is
// never written again once a message was read from it, since messages'
// texts are views of it (see next); unless reuse is set, when the message
// moves to the start of the same buffer (if it fits).
func (w *wireReader) fill() error {
	if w.w == len(w.buf) {
		size := readSize
		if w.w-w.start > readSize/2 {
			size = 2 * len(w.buf)
		}
		if size > maxBlock {
			return errTooLarge
		}
		nb := w.buf
		if !w.reuse || size != len(w.buf) {
			nb = make([]byte, size)
		}
		n := copy(nb, w.buf[w.start:w.w])
		w.buf = nb
		w.r -= w.start
		w.w = n
		w.start = 0
		w.classified = 0
	}
	for range 100 {
		n, err := w.rd.Read(w.buf[w.w:])
		w.w += n
		if n > 0 {
			w.index()
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// line returns the next line's bounds in buf, without its line ending and
// trailing blanks. A line longer than maxLine is skipped (reported as
// garbage) and cut out of the buffer.
func (w *wireReader) line() (l0, l1 int, err error) {
	skipping := false
	for {
		if i := bytes.IndexByte(w.buf[w.r:w.w], '\n'); i >= 0 {
			l0, l1 = w.r, w.r+i
			if skipping {
				// Cut the line's end out too (only bytes after the
				// message's start move), so the message's text holds
				// none of it.
				w.w = w.r + copy(w.buf[w.r:], w.buf[l1+1:w.w])
				w.classified = 0 // (rare) all again
				w.index()
				skipping = false
				continue
			}
			w.r = l1 + 1
			for l1 > l0 && (w.buf[l1-1] == ' ' || w.buf[l1-1] == '\t' || w.buf[l1-1] == '\r') {
				l1--
			}
			return l0, l1, nil
		}
		if w.w-w.r > maxLine {
			if !skipping {
				w.garbage(string(w.buf[w.r:w.r+200]) + "…")
			}
			skipping = true
			w.w = w.r // forget what was read of it
			w.classified = 0
		}
		if err := w.fill(); err != nil {
			if err == io.EOF && w.r < w.w && !skipping {
				l0, l1 = w.r, w.w // a last line without a line ending
				w.r = w.w
				return l0, l1, nil
			}
			return 0, 0, err
		}
	}
}

// banner reads the greeting line.
func (w *wireReader) banner() (string, error) {
	l0, l1, err := w.line()
	if err != nil {
		return "", err
	}
	w.start = w.r
	return string(w.buf[l0:l1]), nil
}

var endCommand = []byte("--END COMMAND--")

// next reads the next message into m (whose previous content it
// replaces). Empty lines between messages are skipped.
func (w *wireReader) next(m *Message) error {
	w.start = w.r
	m.reset()
	for {
		var l0, l1, c int
		i, n := -1, -1
		if m.want != nil {
			i, n = w.skip(m) // sparse: the keys not wanted (see keySet)
		}
		if i < 0 {
			i, n = w.scan(w.r)
		}
		if i >= 0 {
			l0, l1 = w.r, w.r+i
			w.r = l1 + 1
			for l1 > l0 && (w.buf[l1-1] == ' ' || w.buf[l1-1] == '\t' || w.buf[l1-1] == '\r') {
				l1--
			}
			if n < 0 {
				n = bytes.IndexByte(w.buf[l0:l1], ':')
			}
			if c = n; c >= 0 {
				c += l0
			}
		} else { // no whole line buffered: read more
			var err error
			if l0, l1, err = w.line(); err != nil {
				if len(m.fields) > 0 && err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			if m.want != nil && w.unwanted(m.want, l0, l1) {
				continue
			}
			if c = bytes.IndexByte(w.buf[l0:l1], ':'); c >= 0 {
				c += l0
			}
		}
		if l0 == l1 {
			if len(m.fields) == 0 {
				w.start = w.r
				continue
			}
			w.follows = false
			text := w.buf[w.start:l0]
			// text is never written again (see fill). A string read from
			// m keeps the whole buffer alive: whoever keeps one long (the
			// assembler's live calls) clones it.
			m.text = unsafe.String(unsafe.SliceData(text), len(text))
			return nil
		}
		w.field(m, l0, l1, c)
		if len(m.fields) == 1 && m.ev == 0 && w.want != nil {
			s := m.fields[0]
			if m.want = w.want(w.buf[w.start+int(s.v0) : w.start+int(s.v1)]); m.want != nil {
				m.code = m.want.ev
			}
		}
	}
}

// skip passes over the buffered lines that are "Key: Value" with a key
// that want leaves out (a line whose first letter no wanted key has is
// passed over at one look at the bitmaps, before its colon is looked
// for), and adds those whose key it does not to m; it returns at any
// other line (the first line, an empty one, one not "Key: Value", one
// with blanks around a key that may be wanted, one not whole in the
// buffer) where its line ending is (-1: not buffered) and its first
// colon (-1: none).
func (w *wireReader) skip(m *Message) (i, n int) {
	buf, r, want := w.buf[:w.w], w.r, m.want
	if w.follows || r >= len(buf) {
		return -1, -1
	}
	// A cursor over the line endings: the word holding r, the bits below
	// r (and those used) cleared.
	k := r >> 6
	x := w.nl[k] &^ (1<<(r&63) - 1)
	for {
		for x == 0 {
			if k++; k<<6 >= len(buf) {
				w.r = r
				return -1, -1
			}
			x = w.nl[k]
		}
		e := k<<6 + bits.TrailingZeros64(x)
		if e >= len(buf) {
			w.r = r
			return -1, -1
		}
		x &= x - 1
		if e == r || w.noColon[e>>6]&(1<<(e&63)) != 0 {
			w.r = r
			return e - r, -1 // empty, or not "Key: Value"
		}
		l := buf[r:e]
		ch := l[0] | 0x20
		if ch >= 'a' && ch <= 'z' && want.first&(1<<(ch-'a')) == 0 {
			r = e + 1 // no key wanted starts with that letter
			continue
		}
		n := nextBit(w.colon, r, e) - r
		if ch < 'a' || ch > 'z' || n == 0 || l[n-1] == ' ' || l[n-1] == '\t' || n >= len(want.byLen) {
			w.r = r
			return e - r, n
		}
		if want.byLen[n]&(1<<(ch-'a')) != 0 && want.endsLike(l[n-1], n) {
			// A wanted key: what field does, for this plain line.
			for len(l) > n+1 && (l[len(l)-1] == ' ' || l[len(l)-1] == '\t' || l[len(l)-1] == '\r') {
				l = l[:len(l)-1]
			}
			v0 := n + 1
			for v0 < len(l) && (l[v0] == ' ' || l[v0] == '\t') {
				v0++
			}
			o := r - w.start
			m.addAt(l[:n], o, o+n, o+v0, o+len(l))
		}
		r = e + 1
	}
}

// index classifies what was read since the last call (see nl).
func (w *wireReader) index() {
	if need := (len(w.buf) + 63) >> 6; len(w.nl) < need {
		w.nl, w.colon, w.noColon = make([]uint64, need), make([]uint64, need), make([]uint64, need)
		w.classified = 0
	}
	if w.classified == 0 {
		w.state = lineState{start: 1} // the buffer begins a line
	}
	full := w.w &^ 63
	if k0, k1 := w.classified>>6, full>>6; k1 > k0 {
		classify(w.buf[w.classified:full], w.nl[k0:k1], w.colon[k0:k1])
		w.state = lines(w.nl[k0:k1], w.colon[k0:k1], w.noColon[k0:k1], w.state)
		w.classified = full
	}
	if full < w.w { // the last block, with zeros after the bytes read
		var tail [64]byte
		copy(tail[:], w.buf[full:w.w])
		k := full >> 6
		classify(tail[:], w.nl[k:k+1], w.colon[k:k+1])
		lines(w.nl[k:k+1], w.colon[k:k+1], w.noColon[k:k+1], w.state)
	}
}

// scan finds the line that starts at r in buf[:w]: where its line ending
// is (-1: no whole line buffered) and its first colon (-1: none), both
// from r.
func (w *wireReader) scan(r int) (i, n int) {
	e := nextBit(w.nl, r, w.w)
	if e < 0 {
		return -1, -1
	}
	if w.noColon[e>>6]&(1<<(e&63)) != 0 {
		return e - r, -1
	}
	return e - r, nextBit(w.colon, r, e) - r
}

// nextBit is the first bit set in bits from from up to (not including)
// to; -1 if none.
func nextBit(set []uint64, from, to int) int {
	if from >= to {
		return -1
	}
	k := from >> 6
	x := set[k] >> (from & 63)
	p := from
	for x == 0 {
		k++
		if k<<6 >= to {
			return -1
		}
		x, p = set[k], k<<6
	}
	if p += bits.TrailingZeros64(x); p < to {
		return p
	}
	return -1
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func zeroByte(x uint64) uint64 { return (x - ones) &^ x & highs }

// unwanted tells whether the line buf[l0:l1] is "Key: Value" with a key
// that want leaves out.
func (w *wireReader) unwanted(want *keySet, l0, l1 int) bool {
	l := w.buf[l0:l1]
	if len(l) == 0 || l[0] == ' ' || l[0] == '\t' {
		return false
	}
	n := bytes.IndexByte(l, ':')
	return n > 0 && l[n-1] != ' ' && l[n-1] != '\t' && want.skips(l[0], l[n-1], n)
}

// field adds the line buf[l0:l1], whose first colon is at c (-1: none),
// to m.
func (w *wireReader) field(m *Message, l0, l1, c int) {
	l := w.buf[l0:l1]
	o := l0 - w.start // offsets in the message's text
	i := c - l0
	if c < 0 {
		i = -1
	}
	if w.follows && (i < 0 || bytes.Equal(l, endCommand)) {
		// Legacy command output (Asterisk < 14): raw lines up to
		// --END COMMAND--, kept as Output fields.
		if !bytes.Equal(l, endCommand) {
			m.fields = append(m.fields, span{-1, -1, int32(o), int32(o + len(l))})
		}
		return
	}
	if i <= 0 {
		if len(l) > 200 {
			l = l[:200]
		}
		w.garbage(string(l))
		return
	}
	k0, k1, v0 := keyBounds(l, i)
	m.addAt(l[k0:k1], o+k0, o+k1, o+v0, o+len(l))
	if len(m.fields) == 1 && m.resp == 0 && string(l[v0:]) == "Follows" {
		w.follows = true
	}
}

// keyBounds are where the key of header line l (its colon at i) starts
// and ends, and where its value starts, spaces and tabs around them left
// out.
func keyBounds(l []byte, i int) (k0, k1, v0 int) {
	k0, k1, v0 = 0, i, i+1
	for k0 < k1 && (l[k0] == ' ' || l[k0] == '\t') {
		k0++
	}
	for k1 > k0 && (l[k1-1] == ' ' || l[k1-1] == '\t') {
		k1--
	}
	for v0 < len(l) && (l[v0] == ' ' || l[v0] == '\t') {
		v0++
	}
	return k0, k1, v0
}
