package phone

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"time"
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
	// the hot path does not scan: Event, Response, ActionID, Timestamp.
	ev, resp, aid, ts int16
}

type span struct{ k0, k1, v0, v1 int32 }

// Field is one "Key: Value" header.
type Field struct{ Key, Value string }

// NewMessage builds a message from fields, in order (tests, actions).
func NewMessage(fields ...Field) *Message {
	var b msgBuilder
	for _, f := range fields {
		b.add([]byte(f.Key), []byte(f.Value))
	}
	m := &Message{}
	b.finish(m)
	return m
}

// Len is the number of fields.
func (m *Message) Len() int { return len(m.fields) }

// Field returns the i-th field.
func (m *Message) Field(i int) Field {
	s := m.fields[i]
	return Field{m.text[s.k0:s.k1], m.text[s.v0:s.v1]}
}

// Get returns the value of the first field named key (case-insensitive),
// "" when there is none.
func (m *Message) Get(key string) string {
	for _, s := range m.fields {
		if int(s.k1-s.k0) == len(key) {
			k := m.text[s.k0:s.k1]
			if k == key || strings.EqualFold(k, key) {
				return m.text[s.v0:s.v1]
			}
		}
	}
	return ""
}

// All returns the values of every field named key, in order.
func (m *Message) All(key string) []string {
	var out []string
	for _, s := range m.fields {
		if strings.EqualFold(m.text[s.k0:s.k1], key) {
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
func (m *Message) Event() string { return m.at(m.ev) }

// Response is a response's status (Success, Error, Follows, Goodbye; ""
// for an event).
func (m *Message) Response() string { return m.at(m.resp) }

// ActionID is the ActionID header.
func (m *Message) ActionID() string { return m.at(m.aid) }

// String renders the message in wire form (CRLF lines, empty line last).
func (m *Message) String() string {
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
	if t, ok := parseTimestamp(m.at(m.ts)); ok {
		return t
	}
	return recv
}

// parseTimestamp reads "1733212800.123456" without allocating.
func parseTimestamp(s string) (time.Time, bool) {
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

// msgBuilder accumulates a block's fields before they become a Message.
type msgBuilder struct {
	buf               []byte
	fields            []span
	ev, resp, aid, ts int16
}

func (b *msgBuilder) add(k, v []byte) {
	if len(b.fields) == 0 {
		b.ev, b.resp, b.aid, b.ts = -1, -1, -1, -1
	}
	if len(b.fields) < 1<<15 {
		b.mark(k)
	}
	k0 := len(b.buf)
	b.buf = append(b.buf, k...)
	v0 := len(b.buf)
	b.buf = append(b.buf, v...)
	b.fields = append(b.fields, span{int32(k0), int32(v0), int32(v0), int32(len(b.buf))})
}

// addLine adds the field of line l whose key is l[k0:k1] and value
// l[v0:], copying the line once.
func (b *msgBuilder) addLine(l []byte, k0, k1, v0 int) {
	if len(b.fields) == 0 {
		b.ev, b.resp, b.aid, b.ts = -1, -1, -1, -1
	}
	if len(b.fields) < 1<<15 {
		b.mark(l[k0:k1])
	}
	o := len(b.buf)
	b.buf = append(b.buf, l...)
	b.fields = append(b.fields, span{int32(o + k0), int32(o + k1), int32(o + v0), int32(len(b.buf))})
}

// mark notes where the fields every message is asked for are.
func (b *msgBuilder) mark(k []byte) {
	i := int16(len(b.fields))
	switch string(k) {
	case "Event":
		b.ev = first16(b.ev, i)
	case "Response":
		b.resp = first16(b.resp, i)
	case "ActionID":
		b.aid = first16(b.aid, i)
	case "Timestamp":
		b.ts = first16(b.ts, i)
	}
}

func first16(old, i int16) int16 {
	if old >= 0 {
		return old
	}
	return i
}

// finish moves the fields into m (reusing m's slice) and resets b.
func (b *msgBuilder) finish(m *Message) {
	m.text = string(b.buf)
	m.fields = append(m.fields[:0], b.fields...)
	m.ev, m.resp, m.aid, m.ts = b.ev, b.resp, b.aid, b.ts
	if len(m.fields) == 0 {
		m.ev, m.resp, m.aid, m.ts = -1, -1, -1, -1
	}
	b.buf = b.buf[:0]
	b.fields = b.fields[:0]
}

// wireReader splits an AMI stream into messages.
type wireReader struct {
	r *bufio.Reader
	b msgBuilder
	// garbage is called with each line that is not "Key: Value" (trimmed,
	// at most 200 bytes); it is skipped.
	garbage func(line string)
	follows bool // inside a legacy "Response: Follows" command output
}

func newWireReader(r io.Reader, garbage func(string)) *wireReader {
	if garbage == nil {
		garbage = func(string) {}
	}
	return &wireReader{r: bufio.NewReaderSize(r, maxLine), garbage: garbage}
}

// line reads one line without its line ending and trailing blanks. A line
// longer than maxLine is skipped (reported as garbage).
func (w *wireReader) line() ([]byte, error) {
	l, err := w.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		w.garbage(string(l[:200]) + "…")
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = w.r.ReadSlice('\n')
		}
		if err != nil {
			return nil, err
		}
		return w.line()
	}
	if err != nil && (len(l) == 0 || err != io.EOF) {
		return nil, err
	}
	return trimRight(l), nil
}

// trimRight cuts the line ending and trailing blanks.
func trimRight(l []byte) []byte {
	for len(l) > 0 {
		switch l[len(l)-1] {
		case ' ', '\t', '\r', '\n':
			l = l[:len(l)-1]
			continue
		}
		break
	}
	return l
}

func trimLeft(l []byte) []byte {
	for len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
		l = l[1:]
	}
	return l
}

// banner reads the greeting line.
func (w *wireReader) banner() (string, error) {
	l, err := w.line()
	return string(l), err
}

var endCommand = []byte("--END COMMAND--")

// next reads the next message into m (whose previous content it
// replaces). Empty lines between messages are skipped.
func (w *wireReader) next(m *Message) error {
	for {
		l, err := w.line()
		if err != nil {
			if len(w.b.fields) > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(l) == 0 {
			if len(w.b.fields) == 0 {
				continue
			}
			w.follows = false
			w.b.finish(m)
			return nil
		}
		i := bytes.IndexByte(l, ':')
		if w.follows && (i < 0 || bytes.Equal(l, endCommand)) {
			// Legacy command output (Asterisk < 14): raw lines up to
			// --END COMMAND--, kept as Output fields.
			if !bytes.Equal(l, endCommand) {
				w.b.add([]byte("Output"), l)
			}
			continue
		}
		if i <= 0 {
			if len(l) > 200 {
				l = l[:200]
			}
			w.garbage(string(l))
			continue
		}
		k0, k1, v0 := 0, i, i+1
		for k0 < k1 && (l[k0] == ' ' || l[k0] == '\t') {
			k0++
		}
		for k1 > k0 && (l[k1-1] == ' ' || l[k1-1] == '\t') {
			k1--
		}
		for v0 < len(l) && (l[v0] == ' ' || l[v0] == '\t') {
			v0++
		}
		w.b.addLine(l, k0, k1, v0)
		k, v := l[k0:k1], l[v0:]
		if len(w.b.fields) == 1 && string(k) == "Response" && string(v) == "Follows" {
			w.follows = true
		}
	}
}
