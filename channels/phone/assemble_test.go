package phone

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/phone/amitest"

	"github.com/switchboard/switchboard/channels"
)

// The call scenarios, each played by the amitest server to a running
// adapter; every field of the resulting touch is checked.

func inboundCall(ring, talk time.Duration, ext string) channels.Inbound {
	in := channels.Inbound{ExternalID: "ami:1796288400.1", At: amitest.T0, From: from(caller), Name: "Ivan Petrov", EntryPoint: did,
		Call: &channels.CallInfo{Ring: ring, Duration: talk, Extension: ext, Answered: talk > 0 || ext != ""}}
	return in
}

func missedCall(ring time.Duration, why string) channels.Inbound {
	in := inboundCall(ring, 0, "")
	in.Call.Answered = false
	in.Call.Missed = why
	return in
}

// TestCallMissedNoAnswer: extension 101 rings 20 s, the dial times out,
// the caller hangs up 2 s later: missed, no answer, 23 s of ringing.
func TestCallMissedNoAnswer(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(20*time.Second).DialEnd(in, x, "NOANSWER")
	s.Hangup(x)
	s.At(2 * time.Second).Hangup(in)
	one(t, e.play(t, s.Take()), missedCall(23*time.Second, channels.MissedNoAnswer))
}

// TestCallBusy: the extension answers busy; the caller hears the busy
// tone for 3 s and hangs up.
func TestCallBusy(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(time.Second).DialEnd(in, x, "BUSY")
	s.Hangup(x)
	s.At(3 * time.Second).Hangup(in)
	one(t, e.play(t, s.Take()), missedCall(5*time.Second, channels.MissedBusy))
}

// TestCallCancelled: the caller hangs up while the extension rings.
func TestCallCancelled(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(8*time.Second).DialEnd(in, x, "CANCEL")
	s.Hangup(x, in)
	want := missedCall(9*time.Second, channels.MissedCancelled)
	want.Name = ""
	one(t, e.play(t, s.Take()), want)
}

// queueScript: the caller waits in queue 400; the queue rings member
// Local/102@from-queue/n, whose second half rings PJSIP/102.
func queueScript(answer bool) *amitest.Script {
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	s.At(time.Second).State(in, "6", "Up")
	s.QueueJoin(in, "400")
	l1, l2 := s.At(2*time.Second).Local(in, "102", "from-queue")
	x := s.Ext(l2, "102")
	if !answer {
		s.At(15*time.Second).QueueAbandon(in, "400", 17)
		s.DialEnd(in, l1, "CANCEL")
		s.DialEnd(l2, x, "CANCEL")
		s.Hangup(x, l2, l1, in)
		return s
	}
	s.At(5*time.Second).Answer(l2, x, "b2")
	s.DialEnd(in, l1, "ANSWER")
	s.AgentConnect(in, l1, "400", "Local/102@from-queue/n", "Anna", 8, 5)
	s.Enter("b1", in, l1)
	s.At(90*time.Second).AgentComplete(in, l1, "400", "Local/102@from-queue/n", "Anna", 8, 90)
	s.Leave("b1", in, l1)
	s.Leave("b2", x, l2)
	s.Hangup(in, l1, l2, x)
	return s
}

// TestCallAbandonedInQueue: the caller hangs up after 17 s in the queue
// while an agent's phone rings: missed, abandoned, in queue 400.
func TestCallAbandonedInQueue(t *testing.T) {
	e := start(t, envOpt{})
	want := missedCall(18*time.Second, channels.MissedAbandoned)
	want.Call.Queue = "400"
	one(t, e.play(t, queueScript(false).Take()), want)
}

// TestCallAnsweredByQueueAgent: the agent on 102 answers (AgentConnect
// through a Local channel): answered by 102, in queue 400, one touch for
// the five channels.
func TestCallAnsweredByQueueAgent(t *testing.T) {
	e := start(t, envOpt{})
	want := inboundCall(8*time.Second, 90*time.Second, "102")
	want.Call.Queue = "400"
	one(t, e.play(t, queueScript(true).Take()), want)
}

// TestCallRingGroup: 101, 102 and 103 ring together; 101 is busy, 102
// answers after 7 s, 103 is cancelled: one touch, answered by 102.
func TestCallRingGroup(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x1, x2, x3 := s.Ext(in, "101"), s.Ext(in, "102"), s.Ext(in, "103")
	s.At(time.Second).DialEnd(in, x1, "BUSY")
	s.Hangup(x1)
	s.At(6*time.Second).Answer(in, x2, "b1")
	s.DialEnd(in, x3, "CANCEL")
	s.Hangup(x3)
	s.At(30*time.Second).Leave("b1", x2, in)
	s.Hangup(x2, in)
	one(t, e.play(t, s.Take()), inboundCall(7*time.Second, 30*time.Second, "102"))
}

// TestCallBlindTransfer: 101 answers and blind-transfers the caller to
// 102 (BlindTransfer), who talks on: one touch, answered by 101, the talk
// time running to the end of the call.
func TestCallBlindTransfer(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x1 := s.At(time.Second).Ext(in, "101")
	s.At(4*time.Second).Answer(in, x1, "b1")
	s.At(30*time.Second).Ev("BlindTransfer", amitest.Cat(amitest.Cat(amitest.Cat([]string{"Result: Success"}, x1.Snap("Transferer")...),
		in.Snap("Transferee")...), "IsExternal: No", "Context: from-internal", "Extension: 102")...)
	s.Leave("b1", x1, in)
	s.Hangup(x1)
	x2 := s.Ext(in, "102")
	s.At(3*time.Second).Answer(in, x2, "b2")
	s.At(40*time.Second).Leave("b2", x2, in)
	s.Hangup(x2, in)
	one(t, e.play(t, s.Take()), inboundCall(5*time.Second, 73*time.Second, "101"))
}

// TestCallAttendedTransfer: 101 answers, calls 102 on a second line (a
// call of its own, another Linkedid), then completes the transfer
// (AttendedTransfer); the caller ends up bridged with 102. One touch,
// keyed by the caller's Linkedid, answered by 101.
func TestCallAttendedTransfer(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x1 := s.At(time.Second).Ext(in, "101")
	s.At(4*time.Second).Answer(in, x1, "b1")
	s.At(20 * time.Second)
	x1b := s.NewChan(s.SeqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "102", nil)
	x2 := s.Ext(x1b, "102")
	s.At(5*time.Second).Answer(x1b, x2, "b2")
	s.At(10*time.Second).Ev("AttendedTransfer", amitest.Cat(amitest.Cat(amitest.Cat(amitest.Cat([]string{"Result: Success"},
		x1.Snap("OrigTransferer")...), x1b.Snap("SecondTransferer")...), in.Snap("Transferee")...),
		"OrigBridgeUniqueid: b1", "SecondBridgeUniqueid: b2", "DestType: Bridge", "DestBridgeUniqueid: b2", "IsExternal: No")...)
	s.Leave("b1", x1, in)
	s.Leave("b2", x1b)
	s.Hangup(x1, x1b)
	s.Enter("b2", in)
	s.At(50*time.Second).Leave("b2", in, x2)
	s.Hangup(x2, in)
	one(t, e.play(t, s.Take()), inboundCall(5*time.Second, 85*time.Second, "101"))
}

// TestCallLocalOptimization: the trunk dials a Local channel whose second
// half dials 101; after the answer the Local pair is optimized away
// (LocalOptimizationEnd) and 101 moves into the caller's bridge; the
// Local channels' hangups do not end or split the call.
func TestCallLocalOptimization(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	l1, l2 := s.At(time.Second).Local(in, "101", "from-did-direct")
	x := s.Ext(l2, "101")
	s.At(3*time.Second).Answer(l2, x, "b2")
	s.DialEnd(in, l1, "ANSWER")
	s.State(in, "6", "Up")
	s.Enter("b1", l1, in)
	s.LocalOptimize(l1, l2, x)
	s.Leave("b2", x, l2)
	s.Leave("b1", l1)
	s.Enter("b1", x)
	s.Hangup(l1, l2)
	s.At(42*time.Second).Leave("b1", x, in)
	s.Hangup(x, in)
	one(t, e.play(t, s.Take()), inboundCall(4*time.Second, 42*time.Second, "101"))
}

// TestCallForwardedOutside: the inbound route forwards to a mobile
// through the trunk (a follow-me to an outside number), which answers:
// answered, no extension, still the caller's inbound touch.
func TestCallForwardedOutside(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	out := s.NewChan(s.SeqName("PJSIP", "sipnet"), did, "", "from-internal", "89990001122", in)
	s.Dial(in, out, "89990001122@sipnet")
	s.At(12*time.Second).Answer(in, out, "b1")
	s.At(50*time.Second).Leave("b1", out, in)
	s.Hangup(out, in)
	want := inboundCall(12*time.Second, 50*time.Second, "")
	want.Call.Answered = true
	one(t, e.play(t, s.Take()), want)
}

// TestCallTwoAtOnce: two callers on two tracking numbers at the same
// time, events interleaved: two touches, each with its own fields.
func TestCallTwoAtOnce(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	a := s.TrunkIn(caller, "Ivan Petrov", did)
	b := s.TrunkIn("79990001122", "", "74950000001")
	xa := s.At(time.Second).Ext(a, "101")
	xb := s.Ext(b, "102")
	s.At(2*time.Second).Answer(b, xb, "bb")
	s.At(2*time.Second).Answer(a, xa, "ba")
	s.At(10*time.Second).Leave("bb", xb, b)
	s.Hangup(b, xb)
	s.At(10*time.Second).Leave("ba", xa, a)
	s.Hangup(xa, a)
	got := e.play(t, s.Take())
	if len(got) != 2 {
		t.Fatalf("got %d calls, want 2:\n%s", len(got), dump(got))
	}
	wantB := channels.Inbound{ExternalID: "ami:1796288400.2", At: amitest.T0, From: from("79990001122"), EntryPoint: "74950000001",
		Call: &channels.CallInfo{Answered: true, Ring: 3 * time.Second, Duration: 12 * time.Second, Extension: "102"}}
	same(t, got[0], wantB)
	same(t, got[1], inboundCall(5*time.Second, 20*time.Second, "101"))
}

// TestCallOutbound: extension 101 dials 89131234567 through the trunk:
// an Outgoing touch to that number, placed by 101, no entry point.
func TestCallOutbound(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	x := s.NewChan(s.SeqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "89131234567", nil)
	tr := s.NewChan(s.SeqName("PJSIP", "sipnet"), "73832349096", "", "from-internal", "89131234567", x)
	s.Dial(x, tr, "89131234567@sipnet")
	s.At(9*time.Second).Answer(x, tr, "b1")
	s.At(45*time.Second).Leave("b1", tr, x)
	s.Hangup(tr, x)
	one(t, e.play(t, s.Take()), channels.Inbound{ExternalID: "ami:1796288400.1", At: amitest.T0, From: from("89131234567"), Outgoing: true,
		Call: &channels.CallInfo{Answered: true, Ring: 9 * time.Second, Duration: 45 * time.Second, Extension: "101"}})
}

// TestCallInternalIgnored: 101 calls 102 (no trunk): no touch; the
// inbound call after it is the only one stored.
func TestCallInternalIgnored(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	x := s.NewChan(s.SeqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "102", nil)
	y := s.Ext(x, "102")
	s.At(2*time.Second).Answer(x, y, "b9")
	s.At(30*time.Second).Leave("b9", y, x)
	s.Hangup(y, x)
	if got := e.play(t, s.Take()); len(got) != 0 {
		t.Fatalf("an internal call was stored: %s", dump(got))
	}
	one(t, e.play(t, answeredScript().Take()), answeredWant())
}

// TestCallRecordingURL: MIXMONITOR_FILENAME (FreePBX's absolute path)
// becomes a URL under RecordingBaseURL, or a file:// URL under
// RecordingDir.
func TestCallRecordingURL(t *testing.T) {
	const file = "/var/spool/asterisk/monitor/2026/12/03/in-73832349096-79131234567-20261203-090000-1796288400.1.wav"
	for _, tc := range []struct {
		name string
		set  func(*Settings)
		want string
	}{
		{"base URL", func(s *Settings) { s.RecordingBaseURL = "https://pbx.example.ru/recordings/" },
			"https://pbx.example.ru/recordings/2026/12/03/in-73832349096-79131234567-20261203-090000-1796288400.1.wav"},
		{"shared directory", func(s *Settings) { s.RecordingDir = "/mnt/pbx-monitor" },
			"file:///mnt/pbx-monitor/2026/12/03/in-73832349096-79131234567-20261203-090000-1796288400.1.wav"},
		{"neither", func(s *Settings) {}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, envOpt{set: tc.set})
			s := amitest.NewScript()
			in := s.TrunkIn(caller, "Ivan Petrov", did)
			s.VarSet(in, "MIXMONITOR_FILENAME", file)
			x := s.At(time.Second).Ext(in, "101")
			s.At(5*time.Second).Answer(in, x, "b1")
			s.At(60*time.Second).Leave("b1", x, in)
			s.Hangup(x, in)
			want := answeredWant()
			want.Call.RecordingURL = tc.want
			one(t, e.play(t, s.Take()), want)
		})
	}
}
