// Package whatsapp is the adapter for a company's WhatsApp number, linked
// as a companion device (WhatsApp's multi-device protocol) through
// go.mau.fi/whatsmeow.
//
// An account is one linked device. Its session (keys, contacts, the LID ↔
// phone map) lives in the application's own database, in whatsmeow's
// whatsmeow_* tables beside ours (see Store). The account has no secret;
// Account.Settings is JSON (see Settings):
//
//	{"download_limit": 20971520, "groups": false, "first_messages": false, "history_days": 14}
//	{"pair_phone": "+79131234567"}
//
// Run links the device when it is not linked yet: it reports the Pairing
// phase with each QR code to scan in WhatsApp → Settings → Linked devices,
// or, with pair_phone set, the 8-character code to type on that phone. A
// linked device connects and reports Live.
//
// Private chats' messages become channels.Inbound values handed to the
// sink (groups, broadcasts and status updates are skipped unless the
// groups setting is on). Send writes text and files to a chat that wrote
// first, at most about one message a second.
//
// whatsmeow is used only through Client, the narrow interface this
// package declares; tests put a double of WhatsApp's servers behind it and
// feed it whatsmeow's own event types.
//
// The adapter only translates: it never decides contacts or deals. Its
// only database use is whatsmeow's session store.
package whatsapp

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/switchboard/switchboard/channels"
)

// Defaults of Settings.
const (
	DefaultDownloadLimit  = 20 << 20
	DefaultSendInterval   = time.Second
	DefaultFirstPerMinute = 5
	DefaultHistoryDays    = 14
)

// Settings is an account's Settings JSON.
type Settings struct {
	// Number is the account's own number as printed in ads ("+7 913 …"):
	// the entry point of its chats. Default: the linked device's number.
	Number string `json:"number,omitempty"`
	// PairPhone, when set, links the device by a code typed on this phone
	// (WhatsApp → Linked devices → Link with phone number) instead of a QR
	// code. International format.
	PairPhone string `json:"pair_phone,omitempty"`
	// DownloadLimit is the largest attachment downloaded, in bytes; a
	// larger one is recorded by name and size only. Default 20 MiB.
	DownloadLimit int64 `json:"download_limit,omitempty"`
	// Groups records group chats' messages too (default: private chats
	// only).
	Groups bool `json:"groups,omitempty"`
	// FirstMessages allows a reply to a chat that never wrote to the
	// account. Off by default: unsolicited messages get numbers banned.
	FirstMessages bool `json:"first_messages,omitempty"`
	// SendInterval is the least time between two messages sent, as a Go
	// duration ("1s" by default, at least "200ms").
	SendInterval string `json:"send_interval,omitempty"`
	// FirstPerMinute caps the first messages (to chats that never wrote)
	// sent in any minute, with first_messages on. Default 5.
	FirstPerMinute int `json:"first_per_minute,omitempty"`
	// HistoryDays is how many days of past chats the phone's history sync
	// (sent on the first pairing) imports, as history: recorded, but no
	// deals, no waiting, no reminders, no new leads. Default 14; 0 imports
	// none.
	HistoryDays *int `json:"history_days,omitempty"`
}

// Client is what the adapter uses of a whatsmeow client
// (*whatsmeow.Client behind the session store, see Store). It is the one
// place where a double may stand in for WhatsApp's servers.
type Client interface {
	// AddEventHandler registers h for every event (events.Message,
	// events.Connected, events.LoggedOut …), called in order.
	AddEventHandler(h whatsmeow.EventHandler) uint32
	Connect() error
	Disconnect()
	// IsLoggedIn reports whether the device is linked (has a session).
	IsLoggedIn() bool
	// GetQRChannel must be called before Connect on a device not linked.
	GetQRChannel(ctx context.Context) (<-chan whatsmeow.QRChannelItem, error)
	// PairPhone asks for a pairing code for phone, after Connect.
	PairPhone(ctx context.Context, phone string) (string, error)
	SendMessage(ctx context.Context, to types.JID, msg *waE2E.Message) (whatsmeow.SendResponse, error)
	Upload(ctx context.Context, data []byte, kind whatsmeow.MediaType) (whatsmeow.UploadResponse, error)
	Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error)
	// Logout unlinks the device (it leaves the phone's Linked devices)
	// and deletes its session.
	Logout(ctx context.Context) error
	// OwnJID is the linked device's JID (empty before linking).
	OwnJID() types.JID
	// PhoneOf is the phone-number JID of a LID from the session's LID map
	// (empty when unknown).
	PhoneOf(ctx context.Context, lid types.JID) (types.JID, error)
	// ParseWebMessage reads a message of a history sync as the message
	// event it was (chat: the conversation's JID).
	ParseWebMessage(chat types.JID, msg *waWeb.WebMessageInfo) (*events.Message, error)
}

// Opener builds the client of an account: the session of its device.
type Opener func(ctx context.Context, account int64, log *slog.Logger) (Client, error)

// Adapter is one WhatsApp account. Send may run while Run consumes.
type Adapter struct {
	account  int64
	log      *slog.Logger
	settings Settings
	limit    int64
	interval time.Duration
	open     Opener

	mu       sync.Mutex
	client   Client    // the connected client while Run runs, else nil
	live     bool      // connected and linked
	banUntil time.Time // sending paused by a temporary ban
	lastSend time.Time
	unlinked chan struct{}   // closed by Unlink: Run ends, to pair anew
	chats    map[string]bool // chats that wrote since Run started
	firsts   []time.Time     // when the first messages of the last minute went
	sendMu   sync.Mutex      // one send at a time: the rate limit

	seenLog   SeenLog   // where the phone's last sighting is kept (nil: memory only)
	seen      time.Time // when the phone was last seen
	seenSaved time.Time // … as last written to seenLog
	warned    bool      // the phone-offline warning is reported
}

var (
	_ channels.Adapter  = (*Adapter)(nil)
	_ channels.Unlinker = (*Adapter)(nil)
)

// NewAdapter builds the adapter of acc over the clients open gives. It
// checks the settings and connects nothing: Run does.
func NewAdapter(acc channels.Account, log *slog.Logger, open Opener) (*Adapter, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := parseSettings(acc.Settings)
	if err != nil {
		return nil, err
	}
	a := &Adapter{account: acc.ID, log: log.With("account", acc.ID, "channel", "whatsapp"), settings: s,
		limit: s.DownloadLimit, interval: DefaultSendInterval, open: open, chats: map[string]bool{}, unlinked: make(chan struct{})}
	if a.limit == 0 {
		a.limit = DefaultDownloadLimit
	}
	if a.settings.FirstPerMinute == 0 {
		a.settings.FirstPerMinute = DefaultFirstPerMinute
	}
	if s.SendInterval != "" {
		a.interval, _ = time.ParseDuration(s.SendInterval)
	}
	return a, nil
}

func parseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return s, fmt.Errorf("whatsapp: settings: %w", err)
		}
	}
	if s.DownloadLimit < 0 {
		return s, fmt.Errorf("whatsapp: settings: download_limit %d is negative", s.DownloadLimit)
	}
	if s.FirstPerMinute < 0 || s.FirstPerMinute > 60 {
		return s, fmt.Errorf("whatsapp: settings: first_per_minute %d is not from 1 to 60", s.FirstPerMinute)
	}
	if d := s.HistoryDays; d != nil && (*d < 0 || *d > 365) {
		return s, fmt.Errorf("whatsapp: settings: history_days %d is not from 0 to 365", *d)
	}
	if s.SendInterval != "" {
		d, err := time.ParseDuration(s.SendInterval)
		if err != nil || d < 200*time.Millisecond || d > time.Hour {
			return s, fmt.Errorf("whatsapp: settings: send_interval %q is not a duration from 200ms to 1h", s.SendInterval)
		}
	}
	if s.PairPhone != "" {
		if d := digits(s.PairPhone); len(d) < 8 || len(d) > 15 {
			return s, fmt.Errorf("whatsapp: settings: pair_phone %q is not an international phone number", s.PairPhone)
		}
	}
	if s.Number != "" {
		if d := digits(s.Number); len(d) < 8 || len(d) > 15 {
			return s, fmt.Errorf("whatsapp: settings: number %q is not an international phone number", s.Number)
		}
	}
	return s, nil
}

// digits keeps the digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Channel registers WhatsApp with its sessions in db, the application's
// database of dialect "sqlite" or "postgres" (see Store).
func Channel(db *sql.DB, dialect string) channels.Channel {
	st := NewStore(db, dialect)
	return channels.Channel{Kind: channels.WhatsApp,
		New: func(acc channels.Account, log *slog.Logger) (channels.Adapter, error) {
			a, err := NewAdapter(acc, log, st.Open)
			if err != nil {
				return nil, err
			}
			a.SetSeenLog(st)
			return a, nil
		},
		Check: func(raw json.RawMessage) error {
			_, err := parseSettings(raw)
			return err
		}}
}

// connected is the running client, or an error saying why there is none.
func (a *Adapter) connected() (Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if until := a.banUntil; time.Now().Before(until) {
		return nil, &channels.RetryAfter{After: time.Until(until), Err: errors.New("whatsapp: the number is temporarily banned; sending is paused")}
	}
	if a.client == nil || !a.live {
		// Never connect for a send: a second connection of one session
		// makes WhatsApp drop both (StreamReplaced).
		return nil, errors.New("whatsapp: the account is not connected on this server")
	}
	return a.client, nil
}

// entryPoint is the account's own number: its chats' entry point.
func (a *Adapter) entryPoint(c Client) string {
	if d := digits(a.settings.Number); d != "" {
		return "+" + d
	}
	if jid := c.OwnJID(); jid.User != "" && jid.Server == types.DefaultUserServer {
		return "+" + jid.User
	}
	return ""
}

// Unlink logs the linked device out (channels.Unlinker): it leaves the
// phone's Linked devices, its session is deleted, and Run ends so that the
// account starts again with a new QR code. Only a running account can.
func (a *Adapter) Unlink(ctx context.Context) error {
	a.mu.Lock()
	cli := a.client
	a.mu.Unlock()
	if cli == nil || !cli.IsLoggedIn() {
		return errors.New("whatsapp: the account is not linked and running on this server")
	}
	if err := cli.Logout(ctx); err != nil {
		return fmt.Errorf("whatsapp: unlink: %w", err)
	}
	a.log.Info("whatsapp: unlinked from Switchboard")
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-a.unlinked:
	default:
		close(a.unlinked)
	}
	return nil
}
