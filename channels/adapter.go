package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Adapter is one running channel account: it consumes what arrives and
// sends replies. It translates wire formats only; the sink decides
// contacts, deals and storage.
type Adapter interface {
	// Run consumes the account until ctx ends. It hands what arrives to sink
	// in batches, each Inbound carrying the account position after it
	// (Cursor) so the sink stores the position with the touches. It reports
	// its state as it changes. It returns nil when ctx ends, or an error the
	// caller retries with backoff (after reporting Failing).
	Run(ctx context.Context, sink Sink, report func(State)) error
	// Send delivers out and returns the channel-native id of what was sent.
	// Errors wrapped with Permanent are not retried; a *RetryAfter says when
	// to try again.
	Send(ctx context.Context, out Outbound) (string, error)
}

// Webhook is implemented by adapters that also receive pushes over HTTP
// (Telegram's webhook mode). The adapter checks the request's credentials
// and writes the response.
type Webhook interface {
	ServeWebhook(w http.ResponseWriter, r *http.Request, sink Sink)
}

// Account is what an adapter is built from: the stored account with its
// secret opened.
type Account struct {
	ID       int64
	Name     string
	Channel  Kind
	Settings json.RawMessage
	Secret   string
	// DefaultSource names the entry point of a web submission without
	// utm_source.
	DefaultSource string
	// Cursor is the stored position to resume from ("" on first start).
	Cursor string
}

// Factory builds the adapter of an account.
type Factory func(acc Account, log *slog.Logger) (Adapter, error)

// Phase is where a running account stands.
type Phase string

// Phases of an account.
const (
	Connecting Phase = "connecting"
	Syncing    Phase = "syncing"
	Live       Phase = "live"
	Failing    Phase = "failing"
	Stopped    Phase = "stopped"
	// Standby: another replica holds the account.
	Standby Phase = "standby"
	// Pairing: the account waits for its owner to link it by scanning
	// State.PairingCode as a QR code (WhatsApp's multi-device login). The
	// code rotates; each new code is a new report.
	Pairing Phase = "pairing"
	// Hook: nothing runs; the account receives through its signed HTTP
	// hook (the web channel).
	Hook Phase = "hook"
)

// WarnPhoneOffline: the phone of a linked device (WhatsApp) has not been
// online for days; WhatsApp ends the link after about 14.
const WarnPhoneOffline = "phone_offline"

// State is an account's condition as the UI shows it: "syncing 120 of 900",
// "failing: authentication failed, retrying at 12:03".
type State struct {
	Phase Phase  `json:"phase"`
	Done  int    `json:"done,omitempty"`
	Total int    `json:"total,omitempty"`
	Error string `json:"error,omitempty"`
	// ErrorKind names what Error means for the screens, which word it in
	// the reader's language (set by the supervisor: crm.AccountErrorKind).
	ErrorKind string    `json:"error_kind,omitempty"`
	RetryAt   time.Time `json:"retry_at,omitzero"`
	Since     time.Time `json:"since"`
	// LastReceived is when the account last received something (for a
	// Hook account: its last touch).
	LastReceived time.Time `json:"last_received,omitzero"`
	// Self is the account's own public name as its channel knows it (a
	// Telegram bot's username, without the @): what links to it are made
	// from (t.me/<Self>?start=<code>).
	Self string `json:"self,omitempty"`
	// Warning names something the owner should act on while the account
	// still works (WarnPhoneOffline); the UI words it. WarningSince is
	// when the condition began.
	Warning      string    `json:"warning,omitempty"`
	WarningSince time.Time `json:"warning_since,omitzero"`
	// PairingCode is the text to show as a QR code while Pairing. Whoever
	// scans it becomes the account, so it is a secret: it is never
	// serialized (no API reply, event or log carries it); the owner alone
	// gets it, drawn as an image.
	PairingCode string `json:"-"`
}

// ErrPermanent marks a send that will never succeed (unknown recipient, bot
// blocked by the user): the dispatcher marks it failed at once.
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err as ErrPermanent.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// PartialSend is a send that failed after delivering some of its parts (a
// Telegram reply of a text and two files whose second file was refused).
// Delivered counts every part delivered so far, the earlier attempts'
// included; the dispatcher keeps it in Outbound.Delivered so a retry sends
// only the rest and the client never gets a part twice. Err says why,
// and is what errors.Is / errors.As see (a RetryAfter, a permanent error).
type PartialSend struct {
	Delivered int
	Err       error
}

func (e *PartialSend) Error() string {
	return fmt.Sprintf("%v (after %d parts were delivered)", e.Err, e.Delivered)
}
func (e *PartialSend) Unwrap() error { return e.Err }

// RetryAfter is a send refused for now, to be tried again no sooner than
// After (Telegram's 429 retry_after).
type RetryAfter struct {
	After time.Duration
	Err   error
}

func (e *RetryAfter) Error() string { return fmt.Sprintf("retry after %s: %v", e.After, e.Err) }
func (e *RetryAfter) Unwrap() error { return e.Err }

// Unlinker is implemented by adapters of accounts linked as a device
// (WhatsApp): Unlink logs the device out and forgets its session, so the
// account must be linked again. Only the running adapter can unlink.
type Unlinker interface {
	Unlink(ctx context.Context) error
}

// Tester is implemented by adapters that can check their account before
// it is saved ("test connection"): connect and log in, consume nothing,
// and say what they reached ("logged in to imap.yandex.ru as sales@…").
// The error is the server's own, for the owner to read.
type Tester interface {
	Test(ctx context.Context) (string, error)
}
