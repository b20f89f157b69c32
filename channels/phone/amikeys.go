package phone

import (
	"bytes"
	"unsafe"
)

// A sparse index. Most of an event's lines are never asked for: the
// assembler reads three to six headers of a twenty-line channel snapshot.
// So an event whose first line names it (Asterisk's always does) is
// indexed only for the keys its reader declared (wireReader.want): every
// line is still read and checked ("Key: Value", or reported as garbage),
// but a line whose key cannot be one of those keys is not indexed. Any
// other key asked for later parses the whole message then (parseAll), so
// a Message answers every question as if fully indexed.
//
// The set is kept by first letter: a line is indexed when the first byte
// of its key, in lower case, is one of the set's, or is no ASCII letter
// at all. The first occurrence of a wanted key (case-insensitively, as
// Get compares) is therefore always indexed.

// keySet is a set of keys' first letters: bit c-'a' for the letter c.
type keySet uint32

const allKeys = ^keySet(0)

// keysOf is the set of the keys' first letters.
func keysOf(keys ...string) keySet {
	var s keySet
	for _, k := range keys {
		if c := k[0] | 0x20; c >= 'a' && c <= 'z' {
			s |= 1 << (c - 'a')
		} else {
			return allKeys
		}
	}
	return s
}

// has tells whether a key starting with the byte c may be in s.
func (s keySet) has(c byte) bool {
	c |= 0x20
	return c < 'a' || c > 'z' || s&(1<<(c-'a')) != 0
}

// need makes sure the keys starting with c are indexed.
func (m *Message) need(c byte) {
	if !m.want.has(c) {
		m.parseAll()
	}
}

// parseAll indexes every field of a sparsely indexed message, by the
// rules the reader follows (its garbage lines were reported when read).
func (m *Message) parseAll() {
	if m.want == allKeys {
		return
	}
	text := m.text
	m.reset()
	m.text = text
	t := unsafe.Slice(unsafe.StringData(text), len(text)) // only read
	for p := 0; p < len(t); {
		l0, l1 := p, len(t)
		if e := bytes.IndexByte(t[p:], '\n'); e >= 0 {
			l1 = p + e
		}
		p = l1 + 1
		for l1 > l0 && (t[l1-1] == ' ' || t[l1-1] == '\t' || t[l1-1] == '\r') {
			l1--
		}
		l := t[l0:l1]
		i := bytes.IndexByte(l, ':')
		if i <= 0 {
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
		m.addAt(l[k0:k1], l0+k0, l0+k1, l0+v0, l1)
	}
}
