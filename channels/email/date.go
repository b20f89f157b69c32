package email

import (
	"time"

	"github.com/switchboard/switchboard/channels"
)

// MetaDateHeader is the meta key of a message's raw Date header. Parse
// records it; the adapter keeps it only when the header was not believed
// (unreadable, or far from when the server got the message).
const MetaDateHeader = "date_header"

// How far a Date header may stray from the server's arrival time before
// the arrival time is used instead: a sender's clock a few hours off is
// common and harmless, a week ahead or years behind is a broken clock
// (year 3609 would pin the conversation to the top for ever).
const (
	maxDateAhead  = 7 * 24 * time.Hour
	maxDateBehind = 10 * 365 * 24 * time.Hour
)

// settleDate decides when a message happened: the Date header when it is
// plausible, else the server's arrival time (IMAP INTERNALDATE, RFC 9051
// section 2.3.3), else now. The raw header stays in meta only when it was
// overruled.
func settleDate(in *channels.Inbound, arrival, now time.Time) {
	if arrival.IsZero() {
		arrival = now
	}
	switch {
	case in.At.IsZero():
		in.At = arrival
	case in.At.After(arrival.Add(maxDateAhead)), in.At.Before(arrival.Add(-maxDateBehind)):
		in.At = arrival
	default:
		delete(in.Meta, MetaDateHeader)
	}
}
