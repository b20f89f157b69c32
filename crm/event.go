package crm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/migrations"
)

// Event types.
const (
	EventTouchAdded          = "touch.added"
	EventTouchLinked         = "touch.linked"
	EventConversationChanged = "conversation.changed"
	EventDealChanged         = "deal.changed"
	EventContactChanged      = "contact.changed"
	EventTouchStatus         = "touch.status"
	// EventTouchRecording: a call's recording was stored or failed for good.
	EventTouchRecording = "touch.recording"
	EventAccountState   = "account.state"
	// EventTouchReminder tells a touch's responsible manager (data.user_id;
	// null: nobody is, so leads and owners) that it still has no deal.
	EventTouchReminder = "touch.reminder"
	// EventCallDial tells the manager who clicked to call (data.user_id)
	// how the PBX is placing the call: ringing, connected, failed.
	EventCallDial = "call.dial"
)

// EventsChannel is the PostgreSQL NOTIFY channel on which a transaction
// that wrote events announces, at commit, the highest event id it wrote
// (a decimal number: far below NOTIFY's 8000-byte payload limit). The
// replicas' hubs listen on it and read the events table from there.
const EventsChannel = "switchboard_events"

// eventsLock is the PostgreSQL advisory lock (pg_advisory_xact_lock) that a
// transaction holds from its first event insert to its commit.
const eventsLock = 0x5b0a_e7e0

// Event is a change that screens must learn about, written in the same
// transaction as the change and published after commit. IDs increase
// monotonically in commit order, so a client can resume from the last one
// it saw and a reader that follows "id > last" never skips one.
type Event struct {
	ID             int64           `json:"id"`
	At             time.Time       `json:"at"`
	Type           string          `json:"type"`
	ConversationID *int64          `json:"conversation_id,omitempty"`
	TouchID        *int64          `json:"touch_id,omitempty"`
	Data           json.RawMessage `json:"data,omitempty" gorm:"type:text;serializer:json"`
}

// NewEvent builds an event (not yet stored; see InsertEvents).
func NewEvent(typ string, conversationID, touchID *int64, data any) (Event, error) {
	e := Event{At: time.Now().UTC(), Type: typ, ConversationID: conversationID, TouchID: touchID, Data: json.RawMessage("{}")}
	if data != nil {
		raw, err := json.Marshal(data)
		if err != nil {
			return e, fmt.Errorf("crm: event %s: %w", typ, err)
		}
		e.Data = raw
	}
	return e, nil
}

// AddEvent records one event in tx (see InsertEvents).
func AddEvent(tx *gorm.DB, typ string, conversationID, touchID *int64, data any) (Event, error) {
	e, err := NewEvent(typ, conversationID, touchID, data)
	if err != nil {
		return e, err
	}
	evs := []Event{e}
	err = InsertEvents(tx, evs)
	return evs[0], err
}

// InsertEvents writes evs in tx, in order, and sets their ids. Call it as
// the last write of the transaction.
//
// Ids must follow commit order: the hubs and the WebSocket's ?since=
// replay read "id > last", so an id allocated before a higher one but
// committed after it would be skipped. SQLite has one writer at a time
// (BEGIN IMMEDIATE), so its ids follow commit order by themselves. On
// PostgreSQL the transaction first takes an advisory transaction lock that
// every event writer takes, so ids are allocated by one transaction at a
// time and the lock is released only after the commit is visible; then it
// queues a NOTIFY (delivered at commit, never on rollback) carrying the
// highest id. A rolled-back writer leaves a gap nobody waits for. The cost
// is that event writers serialize from this call to their commit, which
// is why it comes last.
func InsertEvents(tx *gorm.DB, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	pg := Dialect(tx) == migrations.Postgres
	if pg {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", eventsLock).Error; err != nil {
			return fmt.Errorf("crm: events lock: %w", err)
		}
	}
	args := make([]any, 0, 5*len(evs))
	for i := range evs {
		if len(evs[i].Data) == 0 {
			evs[i].Data = json.RawMessage("{}")
		}
		e := evs[i]
		args = append(args, e.At, e.Type, e.ConversationID, e.TouchID, string(e.Data))
	}
	ids := make([]int64, 0, len(evs))
	if err := bulk(tx, "INSERT INTO events (at, type, conversation_id, touch_id, data) VALUES ", "(?, ?, ?, ?, ?)", " RETURNING id", 5, args, &ids); err != nil {
		return fmt.Errorf("crm: events: %w", err)
	}
	for i := range evs {
		evs[i].ID = ids[i]
	}
	if pg {
		if err := tx.Exec("SELECT pg_notify(?, ?)", EventsChannel, strconv.FormatInt(evs[len(evs)-1].ID, 10)).Error; err != nil {
			return fmt.Errorf("crm: events notify: %w", err)
		}
	}
	return nil
}

// EventsSince returns up to limit events after id, oldest first.
func EventsSince(tx *gorm.DB, id int64, limit int) ([]Event, error) {
	var out []Event
	return out, tx.Where("id > ?", id).Order("id").Limit(limit).Find(&out).Error
}

// LastEventID is the highest event id stored (0 with none).
func LastEventID(tx *gorm.DB) (int64, error) {
	var id int64
	err := tx.Model(&Event{}).Select("COALESCE(MAX(id), 0)").Scan(&id).Error
	return id, err
}
