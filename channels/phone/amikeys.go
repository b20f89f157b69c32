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
// The set is kept by first letter, last letter and length: a line is
// indexed unless its key starts with an ASCII letter and no key of the
// set has that first letter (in either case) and that length in bytes,
// or ends with an ASCII letter and no key of the set has that last
// letter and that length. The first occurrence of a wanted key
// (case-insensitively, as Get compares; a key of other bytes than ASCII
// letters has fewer runes than bytes, so it never folds to one of the
// same length) is therefore always indexed. The last letter tells apart
// the keys of a channel snapshot that share the first letter and length
// of a key read of every event: Language and Linkedid, Exten and Event.

// keySet is a set of keys by first letter, last letter and length; nil
// is every key.
type keySet struct {
	byLen   [32]uint32 // byLen[n] has bit c-'a' for a key n bytes long starting with c
	lastLen [32]uint32 // lastLen[n] has bit e-'a' for a key n bytes long ending with e
	first   uint32     // bit c-'a' for each first letter c
	ev      evCode     // the event whose keys these are (evOther: any other)
}

// keysOf is the set of keys (nil, every key, if one does not start and
// end with an ASCII letter or is 32 bytes long or more).
func keysOf(keys ...string) *keySet {
	s := &keySet{}
	for _, k := range keys {
		c, e := k[0]|0x20, k[len(k)-1]|0x20
		if c < 'a' || c > 'z' || e < 'a' || e > 'z' || len(k) >= len(s.byLen) {
			return nil
		}
		s.byLen[len(k)] |= 1 << (c - 'a')
		s.lastLen[len(k)] |= 1 << (e - 'a')
		s.first |= 1 << (c - 'a')
	}
	return s
}

// skips tells whether a key n bytes long starting with c and ending with
// e is left out of s (a key that is not, or a nil s, is indexed).
func (s *keySet) skips(c, e byte, n int) bool {
	if s == nil || n >= len(s.byLen) {
		return false
	}
	c, e = c|0x20, e|0x20
	return c >= 'a' && c <= 'z' && s.byLen[n]&(1<<(c-'a')) == 0 ||
		e >= 'a' && e <= 'z' && s.lastLen[n]&(1<<(e-'a')) == 0
}

// endsLike tells whether a key n bytes long (n < 32) ending with e may
// be in s as far as its last letter goes.
func (s *keySet) endsLike(e byte, n int) bool {
	e |= 0x20
	return e < 'a' || e > 'z' || s.lastLen[n]&(1<<(e-'a')) != 0
}

// need makes sure key is indexed.
func (m *Message) need(key string) {
	if m.want != nil && key != "" && m.want.skips(key[0], key[len(key)-1], len(key)) {
		m.parseAll()
	}
}

// evCode names the events the adapter reads (evOther: any other), so
// that it tells them apart without comparing names again (see
// Message.eventCode).
type evCode uint8

const (
	evUnknown evCode = iota // not looked up yet
	evOther
	evNewchannel
	evCoreShowChannel
	evCoreShowChannelsComplete
	evHangup
	evRename
	evVarSet
	evDialBegin
	evDialEnd
	evBridgeEnter
	evBridgeLeave
	evQueueCallerJoin
	evQueueCallerAbandon
	evAgentConnect
	evLocalOptimizationEnd
	evBlindTransfer
	evAttendedTransfer
	evPickup
	evOriginateResponse
)

// eventKeys is what the adapter reads of each event (Event below and
// AMI.onEvent): the keys the AMI client's reader indexes while reading
// (see keySet), and the event's code. A key missing here is still found,
// only slower.
func eventKeys(event []byte) *keySet {
	return readKeys[eventSlot(unsafe.String(unsafe.SliceData(event), len(event)))].keys
}

// eventSlot is where the event named name is in readKeys (0: not
// there). An open-addressed table: quicker than a map, which hashes the
// name.
func eventSlot(name string) int {
	if len(name) == 0 {
		return 0
	}
	for h := eventHash(name); ; h = (h + 1) % eventSlots {
		switch e := &readKeys[h]; {
		case e.name == name:
			return h
		case e.name == "":
			return 0 // the keys read of any event
		}
	}
}

func eventHash(name string) int {
	return (len(name)*31 + int(name[0])*7 + int(name[len(name)-1])) % eventSlots
}

// readKeys: slot 0 holds the keys read of any event (base), never a name.
const eventSlots = 64

var readKeys = func() (t [eventSlots]struct {
	name string
	keys *keySet
}) {
	base := []string{"Event", "Timestamp", "Uniqueid", "Linkedid"}
	dest := []string{"DestUniqueid", "DestLinkedid"}
	t[0].keys = keysOf(base...)
	t[0].keys.ev = evOther
	for ev, e := range map[string]struct {
		code evCode
		keys []string
	}{
		"Newchannel":               {evNewchannel, []string{"Channel", "CallerIDNum", "CallerIDName", "Exten"}},
		"CoreShowChannel":          {evCoreShowChannel, []string{"Channel", "CallerIDNum", "CallerIDName", "Exten", "Duration", "BridgeId"}},
		"CoreShowChannelsComplete": {evCoreShowChannelsComplete, nil},
		"Hangup":                   {evHangup, nil},
		"Rename":                   {evRename, []string{"Newname"}},
		"VarSet":                   {evVarSet, []string{"Variable", "Value"}},
		"DialBegin":                {evDialBegin, append(dest, "DestExten", "DialString")},
		"DialEnd":                  {evDialEnd, append(dest, "DialStatus")},
		"BridgeEnter":              {evBridgeEnter, []string{"BridgeUniqueid"}},
		"BridgeLeave":              {evBridgeLeave, []string{"BridgeUniqueid"}},
		"QueueCallerJoin":          {evQueueCallerJoin, []string{"Queue"}},
		"QueueCallerAbandon":       {evQueueCallerAbandon, []string{"Queue"}},
		"AgentConnect":             {evAgentConnect, append(dest, "Interface", "Queue")},
		"LocalOptimizationEnd": {evLocalOptimizationEnd, []string{"LocalOneUniqueid", "LocalOneLinkedid",
			"LocalTwoUniqueid", "LocalTwoLinkedid"}},
		"BlindTransfer": {evBlindTransfer, []string{"TransfererUniqueid", "TransfererLinkedid",
			"TransfereeUniqueid", "TransfereeLinkedid"}},
		"AttendedTransfer": {evAttendedTransfer, []string{"OrigTransfererUniqueid", "OrigTransfererLinkedid",
			"SecondTransfererUniqueid", "SecondTransfererLinkedid", "TransferTargetUniqueid",
			"TransferTargetLinkedid", "TransfereeUniqueid", "TransfereeLinkedid"}},
		"Pickup":            {evPickup, []string{"TargetUniqueid", "TargetLinkedid"}},
		"OriginateResponse": {evOriginateResponse, []string{"ActionID", "Response", "Reason"}},
	} {
		h := eventHash(ev)
		for t[h].name != "" || h == 0 {
			h = (h + 1) % eventSlots
		}
		t[h].name, t[h].keys = ev, keysOf(append(e.keys, base...)...)
		t[h].keys.ev = e.code // (every key above starts with a letter and is short)
	}
	return t
}()

// parseAll indexes every field of a sparsely indexed message, by the
// rules the reader follows (its garbage lines were reported when read).
func (m *Message) parseAll() {
	if m.want == nil {
		return
	}
	text, code := m.text, m.code
	m.reset()
	m.text, m.code = text, code
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
		k0, k1, v0 := keyBounds(l, i)
		m.addAt(l[k0:k1], l0+k0, l0+k1, l0+v0, l1)
	}
}
