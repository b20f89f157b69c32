package phone

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/switchboard/switchboard/channels/phone/amitest"
)

// sameSparse reads s twice, fully indexed and sparsely indexed (as the
// AMI client does), and fails unless every message answers alike.
func sameSparse(t *testing.T, s string, oneByte bool) {
	t.Helper()
	var garbage [2][]string
	var got [2][]Message
	var hot [2][]string
	for i := range 2 {
		var r = strings.NewReader(s)
		w := newWireReader(r, func(l string) { garbage[i] = append(garbage[i], l) })
		if oneByte {
			w = newWireReader(iotest.OneByteReader(r), func(l string) { garbage[i] = append(garbage[i], l) })
		}
		if i == 1 {
			w.want = eventKeys
		}
		m := &Message{}
		for w.next(m) == nil {
			// Ask the hot questions first (as the adapter does), then all.
			c := *m
			c.fields = slices.Clone(m.fields)
			uid, lid := c.channelIDs()
			ts, _ := c.stamp()
			d1, d2 := c.destIDs()
			if u, l := m.get2("Uniqueid", "Linkedid"); i == 0 && (uid != u || lid != l) {
				t.Errorf("indexed Uniqueid, Linkedid differ from get2 in %q", m.String())
			}
			if u, l := m.get2("DestUniqueid", "DestLinkedid"); i == 0 && (d1 != u || d2 != l) {
				t.Errorf("indexed DestUniqueid, DestLinkedid differ from get2 in %q", m.String())
			}
			var v [len(newChannelKeys)]string
			c.getAll(newChannelKeys[:], v[:])
			for k, key := range newChannelKeys {
				if g := c.Get(key); v[k] != g {
					t.Errorf("getAll: %s %q, Get %q in %q", key, v[k], g, m.String())
				}
			}
			code := c.eventCode()
			hot[i] = append(hot[i], uid+"|"+lid+"|"+ts+"|"+d1+"|"+d2+"|"+strings.Join(v[:], "|")+"|"+strconv.Itoa(int(code)))
			got[i] = append(got[i], c)
		}
	}
	if !slices.Equal(garbage[0], garbage[1]) {
		t.Errorf("garbage %q, sparse %q", garbage[0], garbage[1])
	}
	if !slices.Equal(hot[0], hot[1]) {
		t.Errorf("indexed headers %q, sparse %q", hot[0], hot[1])
	}
	if len(got[0]) != len(got[1]) {
		t.Fatalf("%d messages, sparse %d", len(got[0]), len(got[1]))
	}
	for j := range got[0] {
		full, sparse := &got[0][j], &got[1][j]
		if full.Event() != sparse.Event() || full.Response() != sparse.Response() || full.ActionID() != sparse.ActionID() {
			t.Errorf("message %d: event %q/%q", j, full.Event(), sparse.Event())
		}
		for _, k := range []string{"Uniqueid", "linkedid", "DestUniqueid", "Channel", "CHANNEL", "Variable", "Value", "Exten",
			"BridgeUniqueid", "DialStatus", "Queue", "Timestamp", "Privilege", "Missing", " Channel", "Output"} {
			if full.Get(k) != sparse.Get(k) || !slices.Equal(full.All(k), sparse.All(k)) {
				t.Errorf("message %d: Get(%q) = %q, sparse %q", j, k, full.Get(k), sparse.Get(k))
			}
		}
		if full.String() != sparse.String() || full.Len() != sparse.Len() {
			t.Errorf("message %d:\n%s\nsparse:\n%s", j, full.String(), sparse.String())
		}
	}
}

// TestSparseIndexAnswersAlike: an event indexed only for the keys the
// adapter reads answers every question as one fully indexed: transcripts
// of calls and noise, odd spacing and case, garbage and long lines in
// the middle of an event, a response.
func TestSparseIndexAnswersAlike(t *testing.T) {
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.Ext(in, "101")
	s.Answer(in, x, "b1")
	s.Ev("BlindTransfer", amitest.Cat(x.Snap("Transferer"), in.Snap("Transferee")...)...)
	s.Leave("b1", x, in)
	s.Hangup(x, in)
	for i := range 4 {
		s.Noise(i)
	}
	var b strings.Builder
	for _, blk := range s.Take() {
		b.WriteString(strings.ReplaceAll(blk, "\n", "\r\n") + "\r\n\r\n")
	}
	b.WriteString("Event: Newstate\r\nchannel: PJSIP/1\r\n  Channel  :  PJSIP/2\r\nno colon\r\n:x\r\nUNIQUEID: 1.1\r\n" +
		"Uniqueid: 1.2\r\nLinkedid:1.3 \r\nCHANNEL: PJSIP/3\r\n" + strings.Repeat("y", 2*maxLine) + ":\r\nValue: 1\r\n\r\n")
	b.WriteString("Event: Newchannel\r\nexten: 1\r\nExten: 2\r\nCallerIDNum:\r\nCallerIDNum: 3\r\nUniqueid\t: 4 \r\n" +
		"DestUniqueid: \r\nDestUniqueid: 5\r\nDestLinkedid:6\r\n\r\n")
	b.WriteString("Response: Success\r\nActionID: a1\r\nMessage: ok\r\n\r\nEvent: VarSet\nVariable: X\nvalue: 2\n\n")
	for _, one := range []bool{false, true} {
		sameSparse(t, b.String(), one)
	}
}

// FuzzSparseIndex: any bytes read sparsely answer as read fully.
func FuzzSparseIndex(f *testing.F) {
	f.Add("Event: Hangup\r\nChannel: x\r\nUniqueid: 1\r\n\r\n")
	f.Add("Event: DialBegin\nDestUniqueid: 2\n uniqueid : 3\nq\n\n")
	f.Add("Response: Follows\nOutput\n--END COMMAND--\n\n")
	f.Fuzz(func(t *testing.T, s string) { sameSparse(t, s, false) })
}

// TestEventCode: an event's code is its name's, exactly as written (the
// assembler compared names before), whether the reader found it in the
// first line, looked it up later, or indexed the whole message since.
func TestEventCode(t *testing.T) {
	codes := map[evCode]string{}
	for _, e := range readKeys {
		if e.name == "" {
			continue
		}
		if e.keys.ev <= evOther || codes[e.keys.ev] != "" {
			t.Errorf("%s: code %d (also %q)", e.name, e.keys.ev, codes[e.keys.ev])
		}
		codes[e.keys.ev] = e.name
	}
	if len(codes) != int(evOriginateResponse-evOther) {
		t.Errorf("%d events in the table, %d codes", len(codes), evOriginateResponse-evOther)
	}
	names := []string{"", "hangup", "HANGUP", "PeerStatus", "Newchannelx", "Originate"}
	for _, n := range codes {
		names = append(names, n)
	}
	for _, name := range names {
		want := evOther
		for c, n := range codes {
			if n == name {
				want = c
			}
		}
		if got := NewMessage(Field{"Event", name}, Field{"Uniqueid", "1.1"}).eventCode(); got != want {
			t.Errorf("%q: code %d, want %d", name, got, want)
		}
		w := newWireReader(strings.NewReader("Event: "+name+"\r\nUniqueid: 1.1\r\nPrivilege: call,all\r\n\r\n"), nil)
		w.want = eventKeys
		m := &Message{}
		if err := w.next(m); err != nil {
			t.Fatal(err)
		}
		if got := m.eventCode(); got != want {
			t.Errorf("%q read: code %d, want %d", name, got, want)
		}
		if m.Get("Privilege") != "call,all" || m.eventCode() != want { // every field indexed now
			t.Errorf("%q: code %d after parseAll, want %d", name, m.eventCode(), want)
		}
	}
}

// TestSameFold: sameFold answers as strings.EqualFold for the keys
// newChannel reads, whatever a header's key of the same length is.
func TestSameFold(t *testing.T) {
	for _, key := range newChannelKeys {
		for _, k := range []string{key, strings.ToLower(key), strings.ToUpper(key), "Context", "ChannelState", "Language",
			"Event", "exten", "EXTEN", "Uniqueid", "UNIQUEID", "CallerIDNam\u212a", "\u212aallerIDNum", "C\u212allerIDNum"[:11], "Ch\xffnnel"} {
			if len(k) != len(key) {
				continue
			}
			if got, want := sameFold(k, key), strings.EqualFold(k, key); got != want {
				t.Errorf("sameFold(%q, %q) = %v, EqualFold %v", k, key, got, want)
			}
		}
	}
}
