package phone

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/phone/amitest"
)

type progressLog struct {
	mu sync.Mutex
	ps []channels.DialProgress
}

func (p *progressLog) add(d channels.DialProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ps = append(p.ps, d)
}

func (p *progressLog) list() []channels.DialProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ps)
}

const contact = "+79131234567"

// originated is what Asterisk sends after the Originate a of
// Local/101@from-internal to contact (amitest.Originated).
func originated(a amitest.Action, answered bool) []string {
	return amitest.Originated(a, "101", contact, answered)
}

// TestDialConnected: Dial sends Originate (Local channel to the
// extension, the contact as Exten, async, ActionID = the request id),
// reports Ringing then Connected from OriginateResponse; the call that
// follows is an outbound touch to the contact placed by 101.
func TestDialConnected(t *testing.T) {
	e := start(t, envOpt{})
	e.srv.OnOriginate(func(a amitest.Action) amitest.Originate { return amitest.Originate{Later: originated(a, true)} })
	if !e.ami.CanDial() {
		t.Fatal("CanDial = false while connected")
	}
	var p progressLog
	if err := e.ami.Dial(context.Background(), channels.DialRequest{ID: "dial-1", Extension: "101", To: contact, Progress: p.add}); err != nil {
		t.Fatal(err)
	}
	got := e.settle(t)
	want := []channels.DialProgress{{ID: "dial-1", State: channels.DialRinging}, {ID: "dial-1", State: channels.DialConnected}}
	if !slices.Equal(p.list(), want) {
		t.Errorf("progress %+v, want %+v", p.list(), want)
	}
	o := e.srv.Actions("Originate")[0]
	for k, v := range map[string]string{"Channel": "Local/101@from-internal", "Exten": contact, "Context": "from-internal",
		"Priority": "1", "Async": "true", "ActionID": "dial-1", "CallerID": `"` + contact + `" <101>`, "Variable": "SWITCHBOARD_DIAL=dial-1"} {
		if o.Get(k) != v {
			t.Errorf("Originate %s = %q, want %q", k, o.Get(k), v)
		}
	}
	one(t, got, channels.Inbound{ExternalID: "ami:1796288400.1", At: amitest.T0, From: from(contact), Outgoing: true,
		Call: &channels.CallInfo{Answered: true, Ring: 10 * time.Second, Duration: 30 * time.Second, Extension: "101"}})
}

// TestDialNotAnswered: the manager does not pick up: Ringing, then Failed
// with the reason in words; no touch (the contact was never called).
func TestDialNotAnswered(t *testing.T) {
	e := start(t, envOpt{})
	e.srv.OnOriginate(func(a amitest.Action) amitest.Originate { return amitest.Originate{Later: originated(a, false)} })
	var p progressLog
	if err := e.ami.Dial(context.Background(), channels.DialRequest{ID: "dial-2", Extension: "101", To: contact, Progress: p.add}); err != nil {
		t.Fatal(err)
	}
	if got := e.settle(t); len(got) != 0 {
		t.Errorf("a click-to-call the manager missed was stored: %s", dump(got))
	}
	waitFor(t, "two progress reports", func() bool { return len(p.list()) == 2 })
	want := []channels.DialProgress{{ID: "dial-2", State: channels.DialRinging},
		{ID: "dial-2", State: channels.DialFailed, Error: "the extension did not answer"}}
	if !slices.Equal(p.list(), want) {
		t.Errorf("progress %+v, want %+v", p.list(), want)
	}
}

// TestDialRefused: Asterisk refuses the Originate: Dial returns its
// message and reports Failed; a bad request and a disconnected PBX fail
// without asking Asterisk.
func TestDialRefused(t *testing.T) {
	e := start(t, envOpt{})
	e.srv.OnOriginate(func(amitest.Action) amitest.Originate { return amitest.Originate{Error: "Extension does not exist."} })
	var p progressLog
	err := e.ami.Dial(context.Background(), channels.DialRequest{ID: "dial-3", Extension: "101", To: contact, Progress: p.add})
	if err == nil || !strings.Contains(err.Error(), "Extension does not exist.") {
		t.Errorf("Dial = %v, want Asterisk's message", err)
	}
	if ps := p.list(); len(ps) != 1 || ps[0].State != channels.DialFailed || !strings.Contains(ps[0].Error, "Extension does not exist.") {
		t.Errorf("progress %+v, want one Failed with Asterisk's message", ps)
	}
	for _, req := range []channels.DialRequest{
		{ID: "x", Extension: "10a", To: contact},
		{ID: "x", Extension: "101", To: "call me"},
		{ID: "", Extension: "101", To: contact},
	} {
		if err := e.ami.Dial(context.Background(), req); err == nil {
			t.Errorf("Dial(%+v) = nil, want an error", req)
		}
	}
	if n := len(e.srv.Actions("Originate")); n != 1 {
		t.Errorf("%d Originate actions, want 1 (bad requests are not sent)", n)
	}
	e.stop()
	waitFor(t, "CanDial false after stop", func() bool { return !e.ami.CanDial() })
	if err := e.ami.Dial(context.Background(), channels.DialRequest{ID: "y", Extension: "101", To: contact}); err == nil {
		t.Error("Dial while disconnected = nil")
	}
}
