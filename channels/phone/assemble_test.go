package phone

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// The call scenarios, each played by the amitest server to a running
// adapter; every field of the resulting touch is checked.

func inboundCall(ring, talk time.Duration, ext string) channels.Inbound {
	in := channels.Inbound{ExternalID: "ami:1796288400.1", At: t0, From: from(caller), Name: "Ivan Petrov", EntryPoint: did,
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
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	x := s.at(time.Second).ext(in, "101")
	s.at(20*time.Second).dialEnd(in, x, "NOANSWER")
	s.hangup(x)
	s.at(2 * time.Second).hangup(in)
	one(t, e.play(t, s.take()), missedCall(23*time.Second, channels.MissedNoAnswer))
}

// TestCallBusy: the extension answers busy; the caller hears the busy
// tone for 3 s and hangs up.
func TestCallBusy(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	x := s.at(time.Second).ext(in, "101")
	s.at(time.Second).dialEnd(in, x, "BUSY")
	s.hangup(x)
	s.at(3 * time.Second).hangup(in)
	one(t, e.play(t, s.take()), missedCall(5*time.Second, channels.MissedBusy))
}

// TestCallCancelled: the caller hangs up while the extension rings.
func TestCallCancelled(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	in := s.trunkIn(caller, "", did)
	x := s.at(time.Second).ext(in, "101")
	s.at(8*time.Second).dialEnd(in, x, "CANCEL")
	s.hangup(x, in)
	want := missedCall(9*time.Second, channels.MissedCancelled)
	want.Name = ""
	one(t, e.play(t, s.take()), want)
}

// queueScript: the caller waits in queue 400; the queue rings member
// Local/102@from-queue/n, whose second half rings PJSIP/102.
func queueScript(answer bool) *script {
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	s.at(time.Second).state(in, "6", "Up")
	s.queueJoin(in, "400")
	l1, l2 := s.at(2*time.Second).local(in, "102", "from-queue")
	x := s.ext(l2, "102")
	if !answer {
		s.at(15*time.Second).queueAbandon(in, "400", 17)
		s.dialEnd(in, l1, "CANCEL")
		s.dialEnd(l2, x, "CANCEL")
		s.hangup(x, l2, l1, in)
		return s
	}
	s.at(5*time.Second).answer(l2, x, "b2")
	s.dialEnd(in, l1, "ANSWER")
	s.agentConnect(in, l1, "400", "Local/102@from-queue/n", "Anna", 8, 5)
	s.enter("b1", in, l1)
	s.at(90*time.Second).agentComplete(in, l1, "400", "Local/102@from-queue/n", "Anna", 8, 90)
	s.leave("b1", in, l1)
	s.leave("b2", x, l2)
	s.hangup(in, l1, l2, x)
	return s
}

// TestCallAbandonedInQueue: the caller hangs up after 17 s in the queue
// while an agent's phone rings: missed, abandoned, in queue 400.
func TestCallAbandonedInQueue(t *testing.T) {
	e := start(t, envOpt{})
	want := missedCall(18*time.Second, channels.MissedAbandoned)
	want.Call.Queue = "400"
	one(t, e.play(t, queueScript(false).take()), want)
}

// TestCallAnsweredByQueueAgent: the agent on 102 answers (AgentConnect
// through a Local channel): answered by 102, in queue 400, one touch for
// the five channels.
func TestCallAnsweredByQueueAgent(t *testing.T) {
	e := start(t, envOpt{})
	want := inboundCall(8*time.Second, 90*time.Second, "102")
	want.Call.Queue = "400"
	one(t, e.play(t, queueScript(true).take()), want)
}

// TestCallRingGroup: 101, 102 and 103 ring together; 101 is busy, 102
// answers after 7 s, 103 is cancelled: one touch, answered by 102.
func TestCallRingGroup(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	x1, x2, x3 := s.ext(in, "101"), s.ext(in, "102"), s.ext(in, "103")
	s.at(time.Second).dialEnd(in, x1, "BUSY")
	s.hangup(x1)
	s.at(6*time.Second).answer(in, x2, "b1")
	s.dialEnd(in, x3, "CANCEL")
	s.hangup(x3)
	s.at(30*time.Second).leave("b1", x2, in)
	s.hangup(x2, in)
	one(t, e.play(t, s.take()), inboundCall(7*time.Second, 30*time.Second, "102"))
}

// TestCallBlindTransfer: 101 answers and blind-transfers the caller to
// 102 (BlindTransfer), who talks on: one touch, answered by 101, the talk
// time running to the end of the call.
func TestCallBlindTransfer(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	x1 := s.at(time.Second).ext(in, "101")
	s.at(4*time.Second).answer(in, x1, "b1")
	s.at(30*time.Second).ev("BlindTransfer", cat(cat(cat([]string{"Result: Success"}, x1.snap("Transferer")...),
		in.snap("Transferee")...), "IsExternal: No", "Context: from-internal", "Extension: 102")...)
	s.leave("b1", x1, in)
	s.hangup(x1)
	x2 := s.ext(in, "102")
	s.at(3*time.Second).answer(in, x2, "b2")
	s.at(40*time.Second).leave("b2", x2, in)
	s.hangup(x2, in)
	one(t, e.play(t, s.take()), inboundCall(5*time.Second, 73*time.Second, "101"))
}

// TestCallAttendedTransfer: 101 answers, calls 102 on a second line (a
// call of its own, another Linkedid), then completes the transfer
// (AttendedTransfer); the caller ends up bridged with 102. One touch,
// keyed by the caller's Linkedid, answered by 101.
func TestCallAttendedTransfer(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	x1 := s.at(time.Second).ext(in, "101")
	s.at(4*time.Second).answer(in, x1, "b1")
	s.at(20 * time.Second)
	x1b := s.newChan(s.seqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "102", nil)
	x2 := s.ext(x1b, "102")
	s.at(5*time.Second).answer(x1b, x2, "b2")
	s.at(10*time.Second).ev("AttendedTransfer", cat(cat(cat(cat([]string{"Result: Success"},
		x1.snap("OrigTransferer")...), x1b.snap("SecondTransferer")...), in.snap("Transferee")...),
		"OrigBridgeUniqueid: b1", "SecondBridgeUniqueid: b2", "DestType: Bridge", "DestBridgeUniqueid: b2", "IsExternal: No")...)
	s.leave("b1", x1, in)
	s.leave("b2", x1b)
	s.hangup(x1, x1b)
	s.enter("b2", in)
	s.at(50*time.Second).leave("b2", in, x2)
	s.hangup(x2, in)
	one(t, e.play(t, s.take()), inboundCall(5*time.Second, 85*time.Second, "101"))
}

// TestCallLocalOptimization: the trunk dials a Local channel whose second
// half dials 101; after the answer the Local pair is optimized away
// (LocalOptimizationEnd) and 101 moves into the caller's bridge; the
// Local channels' hangups do not end or split the call.
func TestCallLocalOptimization(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	l1, l2 := s.at(time.Second).local(in, "101", "from-did-direct")
	x := s.ext(l2, "101")
	s.at(3*time.Second).answer(l2, x, "b2")
	s.dialEnd(in, l1, "ANSWER")
	s.state(in, "6", "Up")
	s.enter("b1", l1, in)
	s.localOptimize(l1, l2, x)
	s.leave("b2", x, l2)
	s.leave("b1", l1)
	s.enter("b1", x)
	s.hangup(l1, l2)
	s.at(42*time.Second).leave("b1", x, in)
	s.hangup(x, in)
	one(t, e.play(t, s.take()), inboundCall(4*time.Second, 42*time.Second, "101"))
}

// TestCallForwardedOutside: the inbound route forwards to a mobile
// through the trunk (a follow-me to an outside number), which answers:
// answered, no extension, still the caller's inbound touch.
func TestCallForwardedOutside(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	in := s.trunkIn(caller, "Ivan Petrov", did)
	out := s.newChan(s.seqName("PJSIP", "sipnet"), did, "", "from-internal", "89990001122", in)
	s.dial(in, out, "89990001122@sipnet")
	s.at(12*time.Second).answer(in, out, "b1")
	s.at(50*time.Second).leave("b1", out, in)
	s.hangup(out, in)
	want := inboundCall(12*time.Second, 50*time.Second, "")
	want.Call.Answered = true
	one(t, e.play(t, s.take()), want)
}

// TestCallTwoAtOnce: two callers on two tracking numbers at the same
// time, events interleaved: two touches, each with its own fields.
func TestCallTwoAtOnce(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	a := s.trunkIn(caller, "Ivan Petrov", did)
	b := s.trunkIn("79990001122", "", "74950000001")
	xa := s.at(time.Second).ext(a, "101")
	xb := s.ext(b, "102")
	s.at(2*time.Second).answer(b, xb, "bb")
	s.at(2*time.Second).answer(a, xa, "ba")
	s.at(10*time.Second).leave("bb", xb, b)
	s.hangup(b, xb)
	s.at(10*time.Second).leave("ba", xa, a)
	s.hangup(xa, a)
	got := e.play(t, s.take())
	if len(got) != 2 {
		t.Fatalf("got %d calls, want 2:\n%s", len(got), dump(got))
	}
	wantB := channels.Inbound{ExternalID: "ami:1796288400.2", At: t0, From: from("79990001122"), EntryPoint: "74950000001",
		Call: &channels.CallInfo{Answered: true, Ring: 3 * time.Second, Duration: 12 * time.Second, Extension: "102"}}
	same(t, got[0], wantB)
	same(t, got[1], inboundCall(5*time.Second, 20*time.Second, "101"))
}

// TestCallOutbound: extension 101 dials 89131234567 through the trunk:
// an Outgoing touch to that number, placed by 101, no entry point.
func TestCallOutbound(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	x := s.newChan(s.seqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "89131234567", nil)
	tr := s.newChan(s.seqName("PJSIP", "sipnet"), "73832349096", "", "from-internal", "89131234567", x)
	s.dial(x, tr, "89131234567@sipnet")
	s.at(9*time.Second).answer(x, tr, "b1")
	s.at(45*time.Second).leave("b1", tr, x)
	s.hangup(tr, x)
	one(t, e.play(t, s.take()), channels.Inbound{ExternalID: "ami:1796288400.1", At: t0, From: from("89131234567"), Outgoing: true,
		Call: &channels.CallInfo{Answered: true, Ring: 9 * time.Second, Duration: 45 * time.Second, Extension: "101"}})
}

// TestCallInternalIgnored: 101 calls 102 (no trunk): no touch; the
// inbound call after it is the only one stored.
func TestCallInternalIgnored(t *testing.T) {
	e := start(t, envOpt{})
	s := newScript()
	x := s.newChan(s.seqName("PJSIP", "101"), "101", "Ext 101", "from-internal", "102", nil)
	y := s.ext(x, "102")
	s.at(2*time.Second).answer(x, y, "b9")
	s.at(30*time.Second).leave("b9", y, x)
	s.hangup(y, x)
	if got := e.play(t, s.take()); len(got) != 0 {
		t.Fatalf("an internal call was stored: %s", dump(got))
	}
	one(t, e.play(t, answeredScript().take()), answeredWant())
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
			s := newScript()
			in := s.trunkIn(caller, "Ivan Petrov", did)
			s.varSet(in, "MIXMONITOR_FILENAME", file)
			x := s.at(time.Second).ext(in, "101")
			s.at(5*time.Second).answer(in, x, "b1")
			s.at(60*time.Second).leave("b1", x, in)
			s.hangup(x, in)
			want := answeredWant()
			want.Call.RecordingURL = tc.want
			one(t, e.play(t, s.take()), want)
		})
	}
}
