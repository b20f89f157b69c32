package phone

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func readAll(t *testing.T, r io.Reader) ([]*Message, []string, error) {
	t.Helper()
	var garbage []string
	w := newWireReader(r, func(l string) { garbage = append(garbage, l) })
	var out []*Message
	for {
		m := &Message{}
		if err := w.next(m); err != nil {
			if err == io.EOF {
				err = nil
			}
			return out, garbage, err
		}
		out = append(out, m)
	}
}

func fields(m *Message) []Field {
	var fs []Field
	for i := range m.Len() {
		fs = append(fs, m.Field(i))
	}
	return fs
}

// TestWireRepeatedKeysInOrder: repeated keys (ChanVariable, Variable) are
// all kept, in wire order; Get gives the first, case-insensitively.
func TestWireRepeatedKeysInOrder(t *testing.T) {
	in := "Event: Hangup\r\nChannel: PJSIP/101-00000001\r\nChanVariable: FROM_DID=73832349096\r\n" +
		"ChanVariable: MIXMONITOR_FILENAME=/x.wav\r\nVariable: A=1\r\nVariable: B=2\r\nValue:\r\nColon: a: b\r\n\r\n"
	ms, garbage, err := readAll(t, strings.NewReader(in))
	if err != nil || len(ms) != 1 || len(garbage) != 0 {
		t.Fatalf("%d messages, garbage %q, err %v", len(ms), garbage, err)
	}
	m := ms[0]
	want := []Field{{"Event", "Hangup"}, {"Channel", "PJSIP/101-00000001"}, {"ChanVariable", "FROM_DID=73832349096"},
		{"ChanVariable", "MIXMONITOR_FILENAME=/x.wav"}, {"Variable", "A=1"}, {"Variable", "B=2"}, {"Value", ""}, {"Colon", "a: b"}}
	if got := fields(m); !slices.Equal(got, want) {
		t.Errorf("fields %q\nwant %q", got, want)
	}
	if got := m.All("chanvariable"); !slices.Equal(got, []string{"FROM_DID=73832349096", "MIXMONITOR_FILENAME=/x.wav"}) {
		t.Errorf("All = %q", got)
	}
	if m.Get("variable") != "A=1" || m.Event() != "Hangup" || m.Get("Missing") != "" {
		t.Errorf("Get variable %q, Event %q", m.Get("variable"), m.Event())
	}
}

// TestWireLineEndingsAndNoise: CRLF, LF, trailing blanks, blank lines
// between messages and garbage lines give the same messages, the garbage
// reported; read one byte at a time, a message straddles every buffer
// boundary.
func TestWireLineEndingsAndNoise(t *testing.T) {
	block := "Event: Newchannel\nChannel: PJSIP/sipnet-00000001\nUniqueid: 1796288400.1\nTimestamp: 1796288400.250000\n\n"
	streams := map[string]string{
		"LF":       strings.Repeat(block, 3),
		"CRLF":     strings.ReplaceAll(strings.Repeat(block, 3), "\n", "\r\n"),
		"trailing": strings.ReplaceAll(strings.Repeat(block, 3), "\n", "  \t\r\n"),
		"noise":    "\n\r\n" + block + "garbage\n" + strings.Replace(block, "Channel", "no colon here\nChannel", 1) + "\n\n" + block,
	}
	for name, s := range streams {
		for _, slow := range []bool{false, true} {
			var r io.Reader = strings.NewReader(s)
			if slow {
				r = iotest.OneByteReader(r)
			}
			ms, garbage, err := readAll(t, r)
			if err != nil || len(ms) != 3 {
				t.Fatalf("%s (slow %v): %d messages, err %v", name, slow, len(ms), err)
			}
			for _, m := range ms {
				if m.Get("Channel") != "PJSIP/sipnet-00000001" || m.Get("Uniqueid") != "1796288400.1" || m.Len() != 4 {
					t.Errorf("%s: fields %q", name, fields(m))
				}
				if got := m.Time(time.Time{}); !got.Equal(time.Unix(1796288400, 250000000)) {
					t.Errorf("%s: Time %v", name, got)
				}
			}
			if name == "noise" && !slices.Equal(garbage, []string{"garbage", "no colon here"}) {
				t.Errorf("garbage %q", garbage)
			}
		}
	}
}

// TestWireLongLinesAndLargeMessages: a line longer than maxLine is
// skipped and reported, the message goes on; a large message (legacy
// output of many lines) grows the buffer; a message cut by EOF is an
// unexpected EOF.
func TestWireLongLinesAndLargeMessages(t *testing.T) {
	long := "Event: VarSet\r\nVariable: X\r\n" + strings.Repeat("y", 3*maxLine) + "\r\nValue: 1\r\n\r\nEvent: Ok\r\n\r\n"
	ms, garbage, err := readAll(t, iotest.HalfReader(strings.NewReader(long)))
	if err != nil || len(ms) != 2 || len(garbage) != 1 || ms[0].Get("Value") != "1" || ms[1].Event() != "Ok" {
		t.Fatalf("long line: %d messages, %d garbage, err %v", len(ms), len(garbage), err)
	}
	var big strings.Builder
	big.WriteString("Response: Follows\r\nPrivilege: Command\r\n")
	for i := range 20000 {
		big.WriteString("PJSIP/" + strings.Repeat("1", i%20) + " line of output\r\n")
	}
	big.WriteString("--END COMMAND--\r\n\r\nEvent: After\r\n\r\n")
	ms, garbage, err = readAll(t, strings.NewReader(big.String()))
	if err != nil || len(ms) != 2 || len(garbage) != 0 {
		t.Fatalf("large: %d messages, %d garbage, err %v", len(ms), len(garbage), err)
	}
	if out := ms[0].All("Output"); len(out) != 20000 || out[1] != "PJSIP/1 line of output" || ms[0].Response() != "Follows" {
		t.Errorf("legacy output: %d lines, second %q", len(out), out[1])
	}
	if ms[1].Event() != "After" {
		t.Errorf("after the output: %q", fields(ms[1]))
	}
	_, _, err = readAll(t, strings.NewReader("Event: Cut\r\nChannel: x"))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut message: err %v, want unexpected EOF", err)
	}
}

// FuzzWire: any bytes are read without a panic, whole or in pieces.
func FuzzWire(f *testing.F) {
	f.Add([]byte("Event: Hangup\r\nChannel: x\r\n\r\n"))
	f.Add([]byte("Response: Follows\nOutput\n--END COMMAND--\n\n"))
	f.Add([]byte(":\n: :\n\x00\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Whole, and in pieces of 1 to 13 bytes, sparsely indexed as the
		// client reads.
		for _, r := range []io.Reader{strings.NewReader(string(b)), &pieces{b: b}} {
			w := newWireReader(r, nil)
			w.want = eventKeys
			m := &Message{}
			for w.next(m) == nil {
				for i := range m.Len() {
					_ = m.Field(i)
				}
				_ = m.Get("Uniqueid")
				_ = m.Time(time.Time{})
			}
		}
	})
}

// FuzzScanLine: the reader's scan, from the start of each line of what it
// read, finds what bytes.IndexByte finds: the line ending, and the first
// colon before it; and classify marks what classifyGo marks.
func FuzzScanLine(f *testing.F) {
	for _, s := range []string{"", "\n", ":\n", "Key: Value\r\n", "ab\ncd:ef\n", "a:b", "\n\v:;\n", ":;:\n",
		strings.Repeat("k", 31) + "\n", strings.Repeat("k", 32) + "\n", strings.Repeat("k", 33) + ":\n",
		strings.Repeat("k", 63) + ":\n", strings.Repeat("k", 64) + "\n:", strings.Repeat("k:", 100) + "\n",
		"DestConnectedLineName: Ivan Petrov\r\nx:\n", strings.Repeat("y", 40) + ":v\n",
		// Lines across the 64-byte words: a line ending at a word's last
		// byte or the one before, a first colon a word after its line's start.
		strings.Repeat("k", 62) + "\nkkk:v\n", strings.Repeat("k", 62) + "\n:x\n", strings.Repeat("k", 63) + "\nkk:v\n\n",
		"a\n" + strings.Repeat("k", 100) + ":v\nb\n", strings.Repeat("k:", 40) + "\n" + strings.Repeat("q", 150) + "\n:\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w := &wireReader{buf: b, w: len(b)}
		w.index()
		for r := range len(b) + 1 {
			if r > 0 && b[r-1] != '\n' {
				continue // not the start of a line
			}
			wantI, wantN := bytes.IndexByte(b[r:], '\n'), -1
			if wantI >= 0 {
				wantN = bytes.IndexByte(b[r:r+wantI], ':')
			}
			if i, n := w.scan(r); i != wantI || n != wantN {
				t.Fatalf("scan(%q, %d) = %d, %d; want %d, %d", b, r, i, n, wantI, wantN)
			}
		}
		// Read in small pieces: each read classifies the bytes it brings
		// (lines carried over from the words before, the last word again).
		w = newWireReader(&pieces{b: b}, nil)
		for w.fill() == nil {
			for r := range w.w + 1 {
				if r > 0 && b[r-1] != '\n' {
					continue
				}
				wantI, wantN := bytes.IndexByte(b[r:w.w], '\n'), -1
				if wantI >= 0 {
					wantN = bytes.IndexByte(b[r:r+wantI], ':')
				}
				if i, n := w.scan(r); i != wantI || n != wantN {
					t.Fatalf("after reading %d bytes of %q: scan(%d) = %d, %d; want %d, %d", w.w, b, r, i, n, wantI, wantN)
				}
			}
		}
		full := len(b) &^ 63
		nl, colon := make([]uint64, full/64), make([]uint64, full/64)
		nl2, colon2 := make([]uint64, full/64), make([]uint64, full/64)
		classify(b[:full], nl, colon)
		classifyGo(b[:full], nl2, colon2)
		if !slices.Equal(nl, nl2) || !slices.Equal(colon, colon2) {
			t.Fatalf("classify(%q) = %x %x; classifyGo: %x %x", b[:full], nl, colon, nl2, colon2)
		}
	})
}

// pieces reads b in pieces of 1 to 13 bytes, in turn.
type pieces struct {
	b []byte
	n int
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.b) == 0 {
		return 0, io.EOF
	}
	p.n = p.n%13 + 1
	n := copy(b[:min(len(b), p.n)], p.b)
	p.b = p.b[n:]
	return n, nil
}

// TestParseTimestamp: Timestamp headers, and what is not one.
func TestParseTimestamp(t *testing.T) {
	for in, want := range map[string]int64{"1796288400.123456": 1796288400123456000, "1796288400": 1796288400000000000, "1796288400.5": 1796288400500000000} {
		got, ok := parseTimestamp(in)
		if !ok || got.UnixNano() != want {
			t.Errorf("parseTimestamp(%q) = %v %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "x", ".5", "12a", "99999999999999999.1", "1.x", "179628840x.123456", "1796288400.12345x", "-796288400.123456"} {
		if _, ok := parseTimestamp(bad); ok {
			t.Errorf("parseTimestamp(%q) ok", bad)
		}
	}
}

// FuzzParseTimestamp: the quick path for Asterisk's form (ten digits, a
// dot, six) answers as the general one does, for anything.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"1796288400.123456", "0000000000.000000", "9999999999.999999", "1796288400:123456",
		"179628840/.123456", "1796288400.12345:", "17962884000123456", "1796288400.1234567", "\xff796288400.123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTimestamp(s)
		want, wantOK := parseTimestampAny(s)
		if ok != wantOK || !got.Equal(want) || got.Location() != want.Location() {
			t.Errorf("parseTimestamp(%q) = %v %v; the general path: %v %v", s, got, ok, want, wantOK)
		}
	})
}
