package crm

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Event types.
const (
	EventTouchAdded          = "touch.added"
	EventTouchLinked         = "touch.linked"
	EventConversationChanged = "conversation.changed"
	EventDealChanged         = "deal.changed"
	EventContactChanged      = "contact.changed"
	EventTouchStatus         = "touch.status"
	EventAccountState        = "account.state"
	// EventTouchReminder tells a touch's responsible manager (data.user_id;
	// null: nobody is, so leads and owners) that it still has no deal.
	EventTouchReminder = "touch.reminder"
)

// Event is a change that screens must learn about, written in the same
// transaction as the change and published after commit. IDs increase
// monotonically, so a client can resume from the last one it saw.
type Event struct {
	ID             int64           `json:"id"`
	At             time.Time       `json:"at"`
	Type           string          `json:"type"`
	ConversationID *int64          `json:"conversation_id,omitempty"`
	TouchID        *int64          `json:"touch_id,omitempty"`
	Data           json.RawMessage `json:"data,omitempty" gorm:"type:text;serializer:json"`
}

// AddEvent records an event in tx.
func AddEvent(tx *gorm.DB, typ string, conversationID, touchID *int64, data any) (Event, error) {
	e := Event{At: time.Now().UTC(), Type: typ, ConversationID: conversationID, TouchID: touchID}
	if data != nil {
		raw, err := json.Marshal(data)
		if err != nil {
			return e, fmt.Errorf("crm: event %s: %w", typ, err)
		}
		e.Data = raw
	} else {
		e.Data = json.RawMessage("{}")
	}
	if err := tx.Create(&e).Error; err != nil {
		return e, fmt.Errorf("crm: event %s: %w", typ, err)
	}
	return e, nil
}

// EventsSince returns up to limit events after id, oldest first.
func EventsSince(tx *gorm.DB, id int64, limit int) ([]Event, error) {
	var out []Event
	return out, tx.Where("id > ?", id).Order("id").Limit(limit).Find(&out).Error
}
