package phone

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/channels"
)

// CanDial reports whether the PBX is connected (channels.Dialer).
func (a *AMI) CanDial() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.client != nil
}

// Dial places a click-to-call (channels.Dialer) with the Originate action
// (https://docs.asterisk.org/Latest_API/API_Documentation/AMI_Actions/Originate/):
//
//	Action: Originate
//	Channel: Local/<extension>@<originate context>
//	Exten: <contact, E.164 as given: +79131234567>
//	Context: <originate context>
//	Priority: 1
//	Timeout: 30000
//	CallerID: "<contact>" <extension>
//	Variable: SWITCHBOARD_DIAL=<request id>
//	Async: true
//	ActionID: <request id>
//
// The Local channel runs the extension through the dialplan (on FreePBX,
// from-internal: follow-me, DND and the device type of the extension are
// respected, PJSIP or chan_sip alike); when the manager answers, the other
// half of the Local channel dials the contact's number in the same
// context, through the outbound routes, with the extension as caller
// (CallerID's number), so the route applies that extension's outbound
// caller ID; the manager's phone shows the contact's number as the name.
//
// Dial returns once Asterisk has queued the call (Ringing is reported) or
// refused it (the error, and Failed). The OriginateResponse event reports
// Connected (the manager answered) or Failed with its reason. The call
// itself arrives as an outbound call Inbound like any other.
func (a *AMI) Dial(ctx context.Context, req channels.DialRequest) error {
	progress := req.Progress
	if progress == nil {
		progress = func(channels.DialProgress) {}
	}
	fail := func(err error) error {
		progress(channels.DialProgress{ID: req.ID, State: channels.DialFailed, Error: err.Error()})
		return err
	}
	switch {
	case req.ID == "" || strings.ContainsAny(req.ID, "\r\n"):
		return fail(errors.New("phone: dial: no request id"))
	case !allDigits(req.Extension):
		return fail(fmt.Errorf("phone: dial: extension %q is not digits", req.Extension))
	case !isNumber(req.To) || len(req.To) > 16:
		return fail(fmt.Errorf("phone: dial: %q is not a phone number", req.To))
	}
	a.mu.Lock()
	c := a.client
	if c == nil {
		a.mu.Unlock()
		return fail(errNotConnected)
	}
	if _, dup := a.dials[req.ID]; dup {
		a.mu.Unlock()
		return fmt.Errorf("phone: dial: request %q is already in progress", req.ID)
	}
	d := &dialing{progress: progress}
	a.dials[req.ID] = d
	a.mu.Unlock()

	_, err := c.action(ctx, "Originate",
		Field{"Channel", "Local/" + req.Extension + "@" + a.context},
		Field{"Exten", req.To},
		Field{"Context", a.context},
		Field{"Priority", "1"},
		Field{"Timeout", "30000"},
		Field{"CallerID", `"` + req.To + `" <` + req.Extension + `>`},
		Field{"Variable", "SWITCHBOARD_DIAL=" + req.ID},
		Field{"Async", "true"},
		Field{"ActionID", req.ID},
	)
	a.mu.Lock()
	if err != nil {
		delete(a.dials, req.ID)
		a.mu.Unlock()
		return fail(err)
	}
	d.accepted = true
	final := d.final
	if final != nil {
		delete(a.dials, req.ID)
	}
	a.mu.Unlock()
	progress(channels.DialProgress{ID: req.ID, State: channels.DialRinging})
	if final != nil {
		progress(*final)
	}
	return nil
}

// originateResponse handles an OriginateResponse event (a.mu held); it
// returns the progress report to make once the lock is released.
func (a *AMI) originateResponse(m *Message) func() {
	d := a.dials[m.ActionID()]
	if d == nil {
		return nil
	}
	id := strings.Clone(m.ActionID())
	p := channels.DialProgress{ID: id, State: channels.DialConnected}
	if !strings.EqualFold(m.Get("Response"), "Success") { // the event's own Response header
		p.State = channels.DialFailed
		p.Error = originateReason(m.Get("Reason"))
	}
	if !d.accepted {
		d.final = &p
		return nil
	}
	delete(a.dials, id)
	return func() { d.progress(p) }
}

// originateReason words OriginateResponse's Reason (the AST_CONTROL_* code
// the outgoing channel ended with).
func originateReason(code string) string {
	switch code {
	case "0":
		return "the PBX could not place the call (no such extension or number)"
	case "1":
		return "the extension hung up"
	case "3":
		return "the extension did not answer"
	case "5":
		return "the extension is busy"
	case "8":
		return "the extension is unavailable (congestion)"
	}
	return "the call failed (reason " + code + ")"
}
