// Package channels holds the contract between channel adapters and the
// application: the Inbound and Outbound values that an adapter produces and
// consumes. An adapter turns a wire format into Inbound and Outbound into a
// wire format; it never touches the database and never decides contacts or
// deals (that is inbox's ingest).
package channels

import (
	"context"
	"errors"
	"time"
)

// Kind is a communication channel.
type Kind string

// The channels Switchboard speaks.
const (
	Phone    Kind = "phone"
	Email    Kind = "email"
	Telegram Kind = "telegram"
	WhatsApp Kind = "whatsapp"
	Web      Kind = "web"
)

// Kinds lists every channel, in display order.
var Kinds = []Kind{Phone, Email, Telegram, WhatsApp, Web}

// Valid reports whether k is a known channel.
func (k Kind) Valid() bool {
	for _, c := range Kinds {
		if c == k {
			return true
		}
	}
	return false
}

// TouchKind says what a touch is on its channel.
type TouchKind string

// Touch kinds.
const (
	Message TouchKind = "message" // a chat message (Telegram, WhatsApp)
	Mail    TouchKind = "email"   // an email
	Call    TouchKind = "call"    // a phone call, answered or missed
	Form    TouchKind = "form"    // a web form submission or another system's lead
)

// TouchKind is what a touch on channel k is when its adapter does not say:
// a call on the phone, an email, a form on the web, else a message.
func (k Kind) TouchKind() TouchKind {
	switch k {
	case Phone:
		return Call
	case Email:
		return Mail
	case Web:
		return Form
	}
	return Message
}

// ReplyHandle is the identity kind a reply on channel k goes to ("email",
// "telegram", "whatsapp"); "" when the channel cannot send replies (a call
// is not a reply, a form cannot be answered).
func (k Kind) ReplyHandle() string {
	switch k {
	case Email, Telegram, WhatsApp:
		return string(k)
	}
	return ""
}

// Handle is a contact's handle on a channel as the wire gave it, not yet
// normalized: Kind is one of the identity kinds "phone", "email",
// "telegram", "whatsapp"; Value is raw ("8 (383) 234-90-96").
// Normalization (E.164, lower-casing) happens in ingest.
type Handle struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// CallInfo describes a phone call touch: one per call, however many
// channels, legs and transfers the PBX used for it. The direction is the
// Inbound's: an inbound call has the caller in From and the called number
// (the tracking number) in EntryPoint; a call a company extension placed is
// Outgoing, with the called party in From.
//
// A later Inbound with the same ExternalID and RecordingOnly set (a
// provider that reports the recording after the end of the call) adds
// RecordingURL to the stored call; so does a repeat of the call carrying
// a recording the stored one lacks. Any other repeat is a duplicate.
type CallInfo struct {
	Answered bool `json:"answered"`
	// Missed says why an unanswered call was not answered (Missed*).
	Missed string `json:"missed,omitempty"`
	// Ring is the time from the start of the call to the answer, or to its
	// end when it was not answered.
	Ring time.Duration `json:"ring"`
	// Duration is the talk time, from the answer to the end.
	Duration time.Duration `json:"duration"`
	// Extension is the company extension (or the provider's employee
	// number) that answered an inbound call or placed an outbound one; it
	// names the manager when a user has it in their settings.
	Extension string `json:"extension,omitempty"`
	// Queue is the call queue the caller waited in, if any.
	Queue string `json:"queue,omitempty"`
	// RecordingURL is where the recording can be fetched: an http(s) URL,
	// or a file:// path on a disk this process can read. Fetched into the
	// blob store in the background.
	RecordingURL string `json:"recording_url,omitempty"`
	// RecordingOnly marks an Inbound whose only news is the recording of a
	// call reported before (RecordingURL): it is added to that call, and
	// with no such call it is refused, never stored as a call of its own.
	RecordingOnly bool `json:"recording_only,omitempty"`
	// Incomplete marks a call whose events were partly lost (a PBX
	// connection dropped mid-call): what is known is stored, nothing is
	// invented.
	Incomplete bool `json:"incomplete,omitempty"`
}

// Why a call was missed (CallInfo.Missed).
const (
	MissedNoAnswer  = "no_answer" // rang until the PBX or the caller gave up
	MissedBusy      = "busy"      // every extension that was tried was busy
	MissedAbandoned = "abandoned" // the caller hung up while waiting in a queue
	MissedCancelled = "cancelled" // the caller hung up while it was ringing
	MissedFailed    = "failed"    // the PBX could not place the call (congestion, no route)
)

// Attachment is a file that came with a touch or goes with a reply. Ingest
// writes Data into the blob store.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	// ContentID is set for an inline part referenced from HTML (cid:…).
	ContentID string `json:"content_id,omitempty"`
	Inline    bool   `json:"inline,omitempty"`
	Data      []byte `json:"-"`
}

// Inbound is one incoming communication event, as an adapter hands it to
// the sink.
type Inbound struct {
	// AccountID is the configured account the event arrived on.
	AccountID int64
	// ExternalID is the channel-native id (Message-ID, update id, call id,
	// submission id). Ingest is idempotent on (AccountID, ExternalID); but
	// when Meta[MetaContentHash] is set and differs from the stored
	// touch's, the event is a different message reusing the id (mail
	// programs do reuse Message-IDs) and is stored as its own touch under
	// ExternalID + "#" + the hash's first 12 characters.
	ExternalID string
	Kind       TouchKind
	// At is when the event happened (zero means now).
	At time.Time
	// From are the sender's handles; at least one is required. The first
	// one is the primary handle. For an Outgoing event they are the
	// recipient's: the contact is always the other side. The one exception
	// is mail whose sender could not be read at all (ParseError set, no
	// From): ingest keeps it as unreadable mail, with no contact, and
	// nobody can answer it.
	From []Handle
	// Region is the phone region the sender said they are in (ISO 3166
	// alpha-2: a web form's country), which reads a phone in From written
	// the national way before the entry point's, the account's and the
	// server's region do. Empty: the sender said nothing.
	Region string
	// Outgoing marks a message the account itself sent outside Switchboard
	// (a reply written in a mail program, read from the mailbox): stored as
	// an outbound touch to the contact in From. It answers the contact
	// (nobody waits for a reply), never opens a deal or reopens a closed
	// conversation, and has no entry point.
	Outgoing bool
	// Name is the sender's display name, if the channel tells it.
	Name string
	// EntryPoint is the exact address the touch arrived at: a called number,
	// a To address, a bot start code, a utm_source.
	EntryPoint string
	// SourceHint names the ad source for an entry point seen for the first
	// time (web: utm_source). Empty leaves a new entry point unbound.
	SourceHint string
	// ThreadKey separates conversations between one contact and one account
	// (an email thread's root Message-ID). Empty: one conversation.
	ThreadKey string
	// Parents are the ExternalIDs of the messages this one answers, the
	// nearest first (email: In-Reply-To, then References from the last).
	// When the thread key finds no conversation, the one holding a parent
	// (the same contact's, on the same account) is used: mail programs that
	// cut References short still thread.
	Parents []string
	Subject string
	Text    string
	HTML    string
	// Meta is channel detail worth keeping (page URL, utm_* fields,
	// MetaContentHash).
	Meta map[string]string
	Call *CallInfo
	// Automated marks auto-replies, bounces and mailing lists: recorded,
	// never opening a deal.
	Automated bool
	// History marks a message imported from the channel's past (WhatsApp's
	// history sync on first pairing): recorded on its contact and
	// conversation, but it never opens a deal, never leaves anyone waiting
	// or reopens a conversation, never reminds, and a contact first seen
	// in history is not a new lead.
	History bool
	// EditOf is the ExternalID of the message this one edits (Telegram
	// edits): recorded as its own touch, linked to the original.
	EditOf string
	// ParseError is set when the message could not be parsed: the touch is
	// stored with the raw bytes as an attachment and shown to the owner.
	ParseError  string
	Attachments []Attachment
	// Cursor, when set, is the account's position after this event (IMAP
	// UIDVALIDITY+UID, Telegram update offset); it is stored in the same
	// transaction as the touch.
	Cursor string
}

// Outbound is a reply to send over a channel.
type Outbound struct {
	AccountID int64
	TouchID   int64
	// To is the recipient's normalized handle: an email address, a
	// Telegram user id, a WhatsApp JID, an E.164 phone.
	To Handle
	// ReplyTo is the ExternalID of the inbound being answered, if any
	// (Telegram reply_to_message_id).
	ReplyTo string
	Subject string
	Text    string
	HTML    string
	// InReplyTo and References thread an email reply.
	InReplyTo  string
	References []string
	// MessageID is fixed when the outbox job is written, so a resend after
	// a crash is the same message.
	MessageID   string
	Attachments []Attachment
	// Delivered is how many parts an earlier attempt already delivered
	// (see PartialSend): an adapter that sends in parts skips them.
	Delivered int `json:",omitempty"`
}

// Sink receives what an adapter reads. Ingest implements it.
type Sink interface {
	Ingest(ctx context.Context, batch []Inbound) ([]Result, error)
}

// ErrInvalid marks a Result.Err for an event that cannot be stored as it
// is (no sender, an unknown or disabled account, …): the sender is told,
// not asked to retry. Any other error is the store's.
var ErrInvalid = errors.New("invalid event")

// Invalid marks err as ErrInvalid, keeping its message.
func Invalid(err error) error { return invalidError{err} }

type invalidError struct{ error }

func (e invalidError) Is(target error) bool { return target == ErrInvalid }
func (e invalidError) Unwrap() error        { return e.error }

// Result is what became of one Inbound of a batch.
type Result struct {
	TouchID   int64
	Duplicate bool  // already ingested before: no new touch
	Err       error // validation or storage error; the rest of the batch went on
}

// Receipt statuses: what the channel says became of a message we sent.
const (
	ReceiptDelivered = "delivered" // it reached the client's device
	ReceiptRead      = "read"      // the client opened it
)

// Receipt is a channel's word on a message the account sent (WhatsApp's
// delivery and read receipts). ExternalID is the id Adapter.Send returned
// for it.
type Receipt struct {
	AccountID  int64
	ExternalID string
	Status     string // ReceiptDelivered or ReceiptRead
	At         time.Time
}

// ReceiptSink is implemented by sinks that record receipts (ingest does);
// an adapter whose channel reports them checks its sink for it. A receipt
// of a message unknown to the sink is no error.
type ReceiptSink interface {
	Receipts(ctx context.Context, rs []Receipt) error
}

// MetaContentHash is the Meta key of a digest of what an event says (its
// sender, date, subject, text and files), for channels whose ids are not
// always unique (see Inbound.ExternalID).
const MetaContentHash = "content_hash"
