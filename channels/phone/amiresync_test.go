package phone

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/phone/amitest"

	"github.com/switchboard/switchboard/channels"
)

// liveChans waits until the adapter holds n channels.
func (e *env) liveChans(t *testing.T, n int) {
	t.Helper()
	waitFor(t, "channels in the assembler", func() bool { _, c := e.ami.Live(); return c == n })
}

// TestAMIDroppedMidCallRestored: the connection drops while a call is
// up; the adapter reports Failing, reconnects, CoreShowChannels lists the
// call's channels, and the hangups that follow finish it: one touch, with
// the caller's Linkedid as before, marked Incomplete.
func TestAMIDroppedMidCallRestored(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(5*time.Second).Answer(in, x, "b1")
	e.srv.Emit(s.Take()...)
	e.liveChans(t, 2)

	s.At(20 * time.Second)
	e.srv.SetChannels(s.CoreShowChannel(in, "b1"), s.CoreShowChannel(x, "b1"))
	e.srv.Drop()
	e.waitLive(t, 2)
	if e.rep.count(channels.Failing) != 1 {
		t.Errorf("reports %+v, want one Failing between the two Live", e.rep.list())
	}
	s.At(40*time.Second).Leave("b1", x, in)
	s.Hangup(x, in)
	want := answeredWant()
	want.Call.Incomplete = true
	one(t, e.play(t, s.Take()), want)
	if ok, _ := e.srv.Logins(); ok != 2 {
		t.Errorf("%d logins, want 2", ok)
	}
}

// TestAMICallEndedWhileAway: the call's channels are gone when the
// adapter reconnects (not listed): the call is stored with what was seen,
// ended when the connection dropped, Incomplete — never invented, never
// lost.
func TestAMICallEndedWhileAway(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(5*time.Second).Answer(in, x, "b1")
	e.srv.Emit(s.Take()...)
	e.liveChans(t, 2)
	e.srv.SetChannels()
	e.srv.Drop()
	e.waitLive(t, 2)
	want := answeredWant()
	want.Call.Incomplete = true
	want.Call.Duration = 0 // the last event seen was the answer
	one(t, e.settle(t), want)
}

// TestAMIStartMidCall: the adapter starts (a restart of Switchboard)
// while a call is up: CoreShowChannels gives its channels, and the call is
// stored once when it ends, under the same ExternalID (the Linkedid), its
// start taken from the listed Duration, marked Incomplete.
func TestAMIStartMidCall(t *testing.T) {
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(5*time.Second).Answer(in, x, "b1")
	s.Take() // happened before we started
	s.At(14 * time.Second)
	e := start(t, envOpt{channels: []string{s.CoreShowChannel(in, "b1"), s.CoreShowChannel(x, "b1")}})
	s.At(60*time.Second).Leave("b1", x, in)
	s.Hangup(x, in)
	want := answeredWant()
	want.Call.Incomplete = true
	want.Call.Ring = 20 * time.Second // the answer is known from the list only
	want.Call.Duration = 60 * time.Second
	one(t, e.play(t, s.Take()), want)
}
