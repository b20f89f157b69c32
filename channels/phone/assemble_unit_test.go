package phone

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/phone/amitest"

	"github.com/switchboard/switchboard/channels"
)

// feed plays a script's blocks into a bare assembler (no I/O), then
// moves its clock past the grace; it returns what it emitted.
func feed(t *testing.T, a *Assembler, blocks []string) []channels.Inbound {
	t.Helper()
	var out []channels.Inbound
	for _, b := range blocks {
		m := parseBlock(t, b)
		out = a.Event(m, m.Time(time.Time{}), out)
	}
	return a.Tick(a.now.Add(time.Minute), out)
}

func parseBlock(t *testing.T, b string) *Message {
	t.Helper()
	w := newWireReader(strings.NewReader(b+"\n\n"), func(l string) { t.Errorf("garbage %q in %q", l, b) })
	m := &Message{}
	if err := w.next(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func assertEmpty(t *testing.T, a *Assembler) {
	t.Helper()
	if calls, chans, bridges := a.Live(); calls+chans+bridges != 0 {
		t.Errorf("assembler keeps %d calls, %d channels, %d bridges", calls, chans, bridges)
	}
}

// TestAssemblerGraceWaitsForLateChannel: a channel joining the call's
// Linkedid within the grace (a callback leg) keeps it one call; the call
// is emitted only when the clock passes the grace after the last hangup.
func TestAssemblerGraceWaitsForLateChannel(t *testing.T) {
	a := NewAssembler(AssemblerOptions{Grace: 2 * time.Second})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(5*time.Second).Answer(in, x, "b1")
	s.At(60*time.Second).Leave("b1", x, in)
	s.Hangup(x)
	var out []channels.Inbound
	for _, b := range s.Take() {
		m := parseBlock(t, b)
		out = a.Event(m, m.Time(time.Time{}), out)
	}
	// The trunk is still up: nothing yet, whatever the clock says.
	if out = a.Tick(s.Now.Add(time.Hour), out); len(out) != 0 {
		t.Fatalf("emitted before the last hangup: %s", dump(out))
	}
	a.now = s.Now // back to event time for the rest
	s.Hangup(in)
	for _, b := range s.Take() {
		m := parseBlock(t, b)
		out = a.Event(m, m.Time(time.Time{}), out)
	}
	if out = a.Tick(s.Now.Add(1900*time.Millisecond), out); len(out) != 0 {
		t.Fatalf("emitted within the grace: %s", dump(out))
	}
	if out = a.Tick(s.Now.Add(2*time.Second), out); len(out) != 1 || out[0].ExternalID != "ami:1796288400.1" {
		t.Fatalf("after the grace: %s", dump(out))
	}
	assertEmpty(t, a)
}

// TestAssemblerMergesOnLinkedidChange: a channel that shows up in a later
// event with another call's Linkedid (Asterisk moving it, a pickup)
// merges the two groups; the call keeps the older key and the state is
// empty afterwards.
func TestAssemblerMergesOnLinkedidChange(t *testing.T) {
	a := NewAssembler(AssemblerOptions{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(3*time.Second).DialEnd(in, x, "NOANSWER")
	s.Hangup(x)
	// 102 picks the call up from its own line (its own Linkedid), then
	// Asterisk reports it with the caller's.
	y := s.NewChan(s.SeqName("PJSIP", "102"), "102", "Ext 102", "from-internal", "*8", nil)
	s.Ev("Pickup", amitest.Cat(y.Snap(""), in.Snap("Target")...)...)
	y.Linked = in.Linked
	s.Enter("b1", y, in)
	s.At(20*time.Second).Leave("b1", y, in)
	s.Hangup(y, in)
	out := feed(t, a, s.Take())
	if len(out) != 1 {
		t.Fatalf("%d calls, want 1: %s", len(out), dump(out))
	}
	want := inboundCall(4*time.Second, 20*time.Second, "102")
	want.AccountID = testAccount // set by the adapter, not the assembler
	out[0].AccountID = testAccount
	same(t, out[0], want)
	assertEmpty(t, a)
}

// TestAssemblerResyncGap: after Gap, a channel the CoreShowChannels list
// does not mention and no event confirms is taken as hung up at the time
// of the last event seen; a channel that sends an event is alive.
func TestAssemblerResyncGap(t *testing.T) {
	a := NewAssembler(AssemblerOptions{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(5*time.Second).Answer(in, x, "b1")
	var out []channels.Inbound
	for _, b := range s.Take() {
		m := parseBlock(t, b)
		out = a.Event(m, m.Time(time.Time{}), out)
	}
	a.Gap()
	s.At(time.Minute).State(in, "6", "Up") // the trunk speaks: alive
	s.Ev("CoreShowChannelsComplete", "EventList: Complete", "ListItems: 0")
	for _, b := range s.Take() {
		m := parseBlock(t, b)
		out = a.Event(m, m.Time(time.Time{}), out)
	}
	if _, chans, _ := a.Live(); chans != 2 {
		t.Fatalf("%d channels held, want 2 (the extension hung up, not yet forgotten)", chans)
	}
	s.At(time.Minute).Hangup(in)
	out = feed(t, a, s.Take())
	if len(out) != 1 || !out[0].Call.Incomplete || out[0].Call.Duration != 2*time.Minute {
		t.Fatalf("got %s, want one incomplete call of 2 minutes' talk", dump(out))
	}
	assertEmpty(t, a)
}

// TestClassifyChannels: the extension rule.
func TestClassifyChannels(t *testing.T) {
	o := AssemblerOptions{ExtensionDigits: 5, Trunks: []string{"4951"}}
	for name, want := range map[string]chanKind{
		"PJSIP/101-0000002a":                 kindExt,
		"SIP/20001-00000001":                 kindExt,
		"IAX2/102-1234":                      kindExt,
		"PJSIP/200001-0000002a":              kindTrunk, // six digits
		"PJSIP/sipnet-0000002b":              kindTrunk,
		"SIP/74951234567-00000001":           kindTrunk,
		"PJSIP/4951-00000001":                kindTrunk, // listed in Trunks
		"DAHDI/i1/89131234567-1":             kindTrunk,
		"Local/101@from-queue-00000001;1":    kindLocal,
		"ConfBridge/0x5600":                  kindOther,
		"Message/ast_msg_queue":              kindOther,
		"garbage":                            kindOther,
		"PJSIP/101":                          kindExt, // no sequence
		"WebRTC/abc-1":                       kindTrunk,
		"Parked/PJSIP/101-00000001-00000002": kindOther,
	} {
		if got, _ := o.classify(name); got != want {
			t.Errorf("classify(%q) = %d, want %d", name, got, want)
		}
	}
}

// TestRecordingURLPaths: relative names, absolute paths outside the
// monitor directory, and escapes.
func TestRecordingURLPaths(t *testing.T) {
	o := AssemblerOptions{RecordingBaseURL: "http://pbx/rec"}
	for in, want := range map[string]string{
		"2026/12/03/a b.wav":                      "http://pbx/rec/2026/12/03/a%20b.wav",
		"/var/spool/asterisk/monitor/q/x.wav":     "http://pbx/rec/q/x.wav",
		"/srv/recordings/x.wav":                   "http://pbx/rec/x.wav",
		"../../etc/passwd":                        "http://pbx/rec/etc/passwd",
		"/var/spool/asterisk/monitor/../../x.wav": "http://pbx/rec/x.wav",
		"": "",
		"/var/spool/asterisk/monitor/2026/#1?.wav": "http://pbx/rec/2026/%231%3F.wav",
	} {
		if got := o.recordingURL(in); got != want {
			t.Errorf("recordingURL(%q) = %q, want %q", in, got, want)
		}
	}
}
