package phone

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"strings"
	"time"
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

// Message is one AMI message (an event, or a response to an action): its
// fields in wire order, repeated keys kept.
type Message struct {
	text   string // the block's keys and values, back to back
	fields []span
	// Where the fields every message is asked for are (-1: absent), so
	// the hot path does not scan: Event, Response, ActionID, Timestamp,
	// and the Uniqueid and Linkedid of the event's channel, which the
	// assembler looks up in every event, and of its Dest channel (dials).
	ev, resp, aid, ts, uid, lid, duid, dlid int16
	// want is the keys indexed in fields (nil: all; an event read with a
	// sparse index, see keySet); the rest is parsed from text when first
	// asked for (parseAll).
	want *keySet
}

type span struct{ k0, k1, v0, v1 int32 }

// Field is one "Key: Value" header.
type Field struct{ Key, Value string }

// NewMessage builds a message from fields, in order (tests, actions).
func NewMessage(fields ...Field) *Message {
	m := &Message{}
	m.reset()
	var buf []byte
	for _, f := range fields {
		k0 := len(buf)
		buf = append(buf, f.Key...)
		v0 := len(buf)
		buf = append(buf, f.Value...)
		m.addAt(buf[k0:v0], k0, v0, v0, len(buf))
	}
	m.text = string(buf)
	return m
}

// Len is the number of fields.
func (m *Message) Len() int {
	m.parseAll()
	return len(m.fields)
}

// Field returns the i-th field.
func (m *Message) Field(i int) Field {
	m.parseAll()
	s := m.fields[i]
	return Field{m.key(s), m.text[s.v0:s.v1]}
}

func (m *Message) key(s span) string {
	if s.k0 < 0 {
		return "Output" // a line of legacy command output
	}
	return m.text[s.k0:s.k1]
}

// Get returns the value of the first field named key (case-insensitive),
// "" when there is none.
func (m *Message) Get(key string) string {
	m.need(key)
	for _, s := range m.fields {
		if int(s.k1-s.k0) == len(key) && s.k0 >= 0 {
			k := m.text[s.k0:s.k1]
			if k == key || strings.EqualFold(k, key) {
				return m.text[s.v0:s.v1]
			}
		}
	}
	return ""
}

// getAll is Get of each of keys (at most 8, shorter than 32 bytes) in
// one pass over the fields: vals[i] is what Get(keys[i]) returns.
func (m *Message) getAll(keys []string, vals []string) {
	var byLen [32]uint8 // bit i: keys[i] has that length
	for i, k := range keys {
		m.need(k)
		byLen[len(k)&31] |= 1 << i
	}
	for _, s := range m.fields {
		n := int(s.k1 - s.k0)
		if s.k0 < 0 || n >= len(byLen) {
			continue
		}
		for c := byLen[n]; c != 0; c &= c - 1 {
			i := bits.TrailingZeros8(c)
			if k := m.text[s.k0:s.k1]; k == keys[i] || strings.EqualFold(k, keys[i]) {
				vals[i] = m.text[s.v0:s.v1]
				byLen[n] &^= 1 << i // Get returns the first, even ""
				break
			}
		}
	}
}

// get2 is Get of two keys in one pass (exact case: our own lookups).
func (m *Message) get2(k1, k2 string) (v1, v2 string) {
	m.need(k1)
	m.need(k2)
	found := 0
	for _, s := range m.fields {
		if s.k0 < 0 {
			continue
		}
		switch n := int(s.k1 - s.k0); {
		case n == len(k1) && v1 == "" && m.text[s.k0:s.k1] == k1:
			v1 = m.text[s.v0:s.v1]
			found++
		case n == len(k2) && v2 == "" && m.text[s.k0:s.k1] == k2:
			v2 = m.text[s.v0:s.v1]
			found++
		}
		if found == 2 {
			break
		}
	}
	return v1, v2
}

// All returns the values of every field named key, in order.
func (m *Message) All(key string) []string {
	m.parseAll()
	var out []string
	for _, s := range m.fields {
		if strings.EqualFold(m.key(s), key) {
			out = append(out, m.text[s.v0:s.v1])
		}
	}
	return out
}

func (m *Message) at(i int16) string {
	if i < 0 {
		return ""
	}
	s := m.fields[i]
	return m.text[s.v0:s.v1]
}

// Event is the event's name ("" for a response).
func (m *Message) Event() string {
	if m.ev < 0 { // when indexed, it is the first (see keySet)
		m.need("Event")
	}
	return m.at(m.ev)
}

// Response is a response's status (Success, Error, Follows, Goodbye; ""
// for an event).
func (m *Message) Response() string {
	if m.resp < 0 { // when indexed, it is the first (see keySet)
		m.need("Response")
	}
	return m.at(m.resp)
}

// ActionID is the ActionID header.
func (m *Message) ActionID() string {
	if m.aid < 0 { // when indexed, it is the first (see keySet)
		m.need("ActionID")
	}
	return m.at(m.aid)
}

// stamp is the Timestamp header's value; ok is false without one.
func (m *Message) stamp() (v string, ok bool) {
	if m.ts < 0 { // when indexed, it is the first (see keySet)
		m.need("Timestamp")
	}
	return m.at(m.ts), m.ts >= 0
}

// channelIDs are the event channel's Uniqueid and Linkedid: what
// get2("Uniqueid", "Linkedid") gives (exact case, the first non-empty
// value of each), from the index.
func (m *Message) channelIDs() (uid, linked string) {
	return m.ids(&m.uid, &m.lid, "Uniqueid", "Linkedid")
}

// destIDs are DestUniqueid and DestLinkedid, as channelIDs.
func (m *Message) destIDs() (uid, linked string) {
	return m.ids(&m.duid, &m.dlid, "DestUniqueid", "DestLinkedid")
}

// ids is get2(ku, kl) from the index: u and l are where ku and kl are.
func (m *Message) ids(u, l *int16, ku, kl string) (uid, linked string) {
	if *u < 0 || *l < 0 {
		m.need(ku) // (indexes them, moving u and l)
		m.need(kl)
	}
	uid, linked = m.at(*u), m.at(*l)
	if (uid == "" && *u >= 0) || (linked == "" && *l >= 0) {
		return m.get2(ku, kl) // an empty one first: rare
	}
	return uid, linked
}

// String renders the message in wire form (CRLF lines, empty line last).
func (m *Message) String() string {
	m.parseAll()
	var b strings.Builder
	for i := range m.fields {
		f := m.Field(i)
		b.WriteString(f.Key)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// Time is when the event happened: its Timestamp header (manager.conf
// timestampevents=yes; seconds since the epoch with microseconds), else
// recv.
func (m *Message) Time(recv time.Time) time.Time {
	v, _ := m.stamp()
	if t, ok := parseTimestamp(v); ok {
		return t
	}
	return recv
}

// parseTimestamp reads "1733212800.123456" without allocating.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) == 17 && s[10] == '.' { // what Asterisk sends: quicker
		sec, ok1 := decimal(s[:10])
		us, ok2 := decimal(s[11:])
		if ok1 && ok2 {
			return time.Unix(sec, us*1000).UTC(), true
		}
	}
	if s == "" {
		return time.Time{}, false
	}
	var sec, frac int64
	digits := 0
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		c := s[i]
		if c < '0' || c > '9' || i > 12 {
			return time.Time{}, false
		}
		sec = sec*10 + int64(c-'0')
	}
	if i == 0 {
		return time.Time{}, false
	}
	if i < len(s) {
		for i++; i < len(s) && digits < 9; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			frac = frac*10 + int64(c-'0')
			digits++
		}
	}
	for ; digits < 9; digits++ {
		frac *= 10
	}
	return time.Unix(sec, frac).UTC(), true
}

// decimal reads a short string of digits (false: something else).
func decimal(s string) (int64, bool) {
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	return n, true
}

func (m *Message) reset() {
	m.text = ""
	m.fields = m.fields[:0]
	m.ev, m.resp, m.aid, m.ts, m.uid, m.lid, m.duid, m.dlid = -1, -1, -1, -1, -1, -1, -1, -1
	m.want = nil
}

// addAt adds a field whose key k lies at [k0,k1) and value at [v0,v1) of
// the text.
func (m *Message) addAt(k []byte, k0, k1, v0, v1 int) {
	if len(m.fields) < 1<<15 {
		m.mark(k)
	}
	m.fields = append(m.fields, span{int32(k0), int32(k1), int32(v0), int32(v1)})
}

// mark notes where the fields every message is asked for are.
func (m *Message) mark(k []byte) {
	i := int16(len(m.fields))
	switch len(k) {
	case 5:
		if string(k) == "Event" {
			m.ev = first16(m.ev, i)
		}
	case 8:
		switch string(k) {
		case "Uniqueid":
			m.uid = first16(m.uid, i)
		case "Linkedid":
			m.lid = first16(m.lid, i)
		case "Response":
			m.resp = first16(m.resp, i)
		case "ActionID":
			m.aid = first16(m.aid, i)
		}
	case 9:
		if string(k) == "Timestamp" {
			m.ts = first16(m.ts, i)
		}
	case 12:
		switch string(k) {
		case "DestUniqueid":
			m.duid = first16(m.duid, i)
		case "DestLinkedid":
			m.dlid = first16(m.dlid, i)
		}
	}
}

func first16(old, i int16) int16 {
	if old >= 0 {
		return old
	}
	return i
}

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
	}
	for range 100 {
		n, err := w.rd.Read(w.buf[w.w:])
		w.w += n
		if n > 0 {
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
			i, n = scanLine(w.buf[w.r:w.w])
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
			m.want = w.want(w.buf[w.start+int(s.v0) : w.start+int(s.v1)])
		}
	}
}

// skip passes over the buffered lines that are "Key: Value" with a key
// that want leaves out, and adds those whose key it does not to m; it
// returns at any other line (the first line, an empty one, one not
// "Key: Value" or with blanks around its key, one not whole in the
// buffer) where its line ending is (-1: not buffered) and its first
// colon (-1: none).
func (w *wireReader) skip(m *Message) (i, n int) {
	buf, r, want := w.buf[:w.w], w.r, m.want
	for {
		i, n := scanLine(buf[r:])
		if i <= 0 || n <= 0 || w.follows {
			w.r = r
			return i, n
		}
		l := buf[r : r+i]
		c := l[0] | 0x20
		if c < 'a' || c > 'z' || l[n-1] == ' ' || l[n-1] == '\t' || n >= len(want.byLen) {
			w.r = r
			return i, n
		}
		if want.byLen[n]&(1<<(c-'a')) != 0 {
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
		r += i + 1
	}
}

// scanLine finds the first line of b: where its line ending is (-1: b
// holds no whole line) and its first colon (-1: none before the line
// ending). The first 32 bytes (a short line, or a long line's key) are
// scanned eight at a time for both bytes at once, which is quicker than
// a call of bytes.IndexByte for each: ones*c has c in every byte;
// zeroByte(x) has the high bit set in the lowest zero byte of x (maybe in
// later ones too, never in earlier), so the lowest bit of each mask is
// exact.
func scanLine(b []byte) (i, n int) {
	n = -1
	p := 0
	for ; p < 32 && p+8 <= len(b); p += 8 {
		x := binary.LittleEndian.Uint64(b[p:])
		nl := zeroByte(x ^ (ones * '\n'))
		if n < 0 {
			// A colon before the line ending: below nl's lowest bit.
			if c := zeroByte(x ^ (ones * ':')); c != 0 && (nl == 0 || c&(nl&-nl-1) != 0) {
				n = p + bits.TrailingZeros64(c)>>3
			}
		}
		if nl != 0 {
			return p + bits.TrailingZeros64(nl)>>3, n
		}
	}
	j := bytes.IndexByte(b[p:], '\n')
	if j < 0 {
		return -1, -1
	}
	if n < 0 {
		n = bytes.IndexByte(b[:p+j], ':')
	}
	return p + j, n
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
	return n > 0 && l[n-1] != ' ' && l[n-1] != '\t' && want.skips(l[0], n)
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
