package phone

import (
	"math/bits"
	"strings"
	"time"
)

// An AMI message as the wire reader leaves it: a view of the text it was
// read from, with the fields' bounds, and where the headers every message
// is asked for are.

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
	code evCode // the event's (see eventCode)
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
			if k := m.text[s.k0:s.k1]; k == keys[i] || sameFold(k, keys[i]) {
				vals[i] = m.text[s.v0:s.v1]
				byLen[n] &^= 1 << i // Get returns the first, even ""
				break
			}
		}
	}
}

// sameFold is strings.EqualFold(k, key) for a key of ASCII letters and
// digits as long as k (getAll's keys): a k folding to it is ASCII too (a
// rune folding to an ASCII letter is longer), so a second byte that
// differs other than by case rules it out without the call. Most near
// misses (Context and Channel, Event and Exten, Language and Linkedid)
// differ there. Not for other keys: σ and ς fold alike, and their second
// bytes differ in more than the case bit.
func sameFold(k, key string) bool {
	if len(k) > 1 && len(key) > 1 && k[1]|0x20 != key[1]|0x20 {
		return false
	}
	return strings.EqualFold(k, key)
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

// eventCode is Event's code (evOther for any event the adapter does not
// read, and for no event): what the reader found in the event's first
// line, else looked up now.
func (m *Message) eventCode() evCode {
	if m.code == evUnknown {
		m.code = readKeys[eventSlot(m.Event())].keys.ev
	}
	return m.code
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
		hi, ok1 := digits8(load8(s)) // the first eight digits of the seconds
		d8, d9 := s[8]-'0', s[9]-'0'
		// The microseconds, after two leading zeros.
		us, ok2 := digits8(0x3030 | load8(s[9:])&^0xFFFF)
		if ok1 && ok2 && d8 <= 9 && d9 <= 9 {
			sec := int64(hi)*100 + int64(d8)*10 + int64(d9)
			return time.Unix(sec, int64(us)*1000).UTC(), true
		}
	}
	return parseTimestampAny(s)
}

// load8 is the first eight bytes of s (at least eight), the first lowest.
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// digits8 reads eight ASCII digits packed in x (the first in the lowest
// byte) at once: false unless every byte is '0' to '9'.
func digits8(x uint64) (uint64, bool) {
	// A digit's high nibble is 3, and still is with 6 added (no byte
	// carries into the next once every high nibble is 3).
	const nib, threes, sixes = 0xF0F0F0F0F0F0F0F0, 0x3030303030303030, 0x0606060606060606
	if x&nib != threes || (x+sixes)&nib != threes {
		return 0, false
	}
	x &^= threes
	x = (x*10 + x>>8) & 0x00FF00FF00FF00FF      // pairs of digits
	x = (x*100 + x>>16) & 0x0000FFFF0000FFFF    // fours
	return (x*10000 + x>>32) & 0xFFFFFFFF, true // eight
}

// parseTimestampAny is parseTimestamp for any form: seconds, and maybe a
// dot and a fraction.
func parseTimestampAny(s string) (time.Time, bool) {
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

func (m *Message) reset() {
	m.text = ""
	m.fields = m.fields[:0]
	m.ev, m.resp, m.aid, m.ts, m.uid, m.lid, m.duid, m.dlid = -1, -1, -1, -1, -1, -1, -1, -1
	m.want = nil
	m.code = evUnknown
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
