package channels

import (
	"context"
	"io"
)

// Dialer is implemented by phone adapters that can place a call for a
// manager (click-to-call): the PBX rings the manager's extension first and,
// when the manager answers, the contact. The call itself then arrives like
// any other, as an outbound call Inbound.
type Dialer interface {
	// CanDial reports whether this account is configured to place calls
	// (a cloud PBX without a callback API, or without its keys, cannot).
	CanDial() bool
	// Dial asks the PBX to place the call and returns once the PBX has
	// accepted or refused the request. What happens next is reported
	// through req.Progress, from any goroutine, until a final state.
	Dial(ctx context.Context, req DialRequest) error
}

// DialRequest is one click-to-call.
type DialRequest struct {
	// ID is the caller's id for this attempt, echoed in every progress
	// report (AMI: the ActionID of the Originate).
	ID string
	// Extension is the manager's extension, rung first.
	Extension string
	// To is the contact's number in E.164 (+79131234567).
	To string
	// Progress receives the attempt's states; may be nil.
	Progress func(DialProgress)
}

// DialState is where a click-to-call attempt stands.
type DialState string

// Click-to-call states. Connected and Failed are final.
const (
	DialRinging   DialState = "ringing"   // the PBX accepted; the manager's phone rings
	DialConnected DialState = "connected" // the manager answered and the contact is being dialled
	DialFailed    DialState = "failed"    // the PBX refused or the manager did not answer
)

// DialProgress is one state change of a click-to-call attempt.
type DialProgress struct {
	ID    string    `json:"id"`
	State DialState `json:"state"`
	// Error says why a failed attempt failed, in the PBX's words.
	Error string `json:"error,omitempty"`
}

// RecordingOpener is implemented by phone adapters whose calls carry
// recordings (CallInfo.RecordingURL): it opens one for the background
// fetch, with the account's settings and credentials, and refuses links
// the account has no business following (a file outside its recording
// directory). It returns the body and its content type.
type RecordingOpener interface {
	OpenRecording(ctx context.Context, url string) (io.ReadCloser, string, error)
}
