package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Direction says whether a touch came to us or went from us.
type Direction string

// Directions.
const (
	Inbound  Direction = "in"
	Outbound Direction = "out"
)

// Touch is one communication event: a message, an email, a call, a form.
// It is stamped at capture with its entry point and that entry point's ad
// source at the time.
type Touch struct {
	ID             int64           `json:"id"`
	AccountID      int64           `json:"account_id"`
	Channel        string          `json:"channel"`
	Kind           string          `json:"kind"`
	Direction      Direction       `json:"direction"`
	ExternalID     *string         `json:"external_id"`
	ContactID      int64           `json:"contact_id"`
	ConversationID int64           `json:"conversation_id"`
	DealID         *int64          `json:"deal_id"`
	NotASale       string          `json:"not_a_sale"`
	EntryPointID   *int64          `json:"entry_point_id"`
	AdSourceID     *int64          `json:"ad_source_id"`
	Handle         string          `json:"handle"`
	Subject        string          `json:"subject"`
	Body           string          `json:"body"`
	HTML           string          `json:"html,omitempty"`
	Meta           json.RawMessage `json:"meta" gorm:"type:text;serializer:json"`
	Automated      bool            `json:"automated"`
	// History marks a touch imported from the channel's past (WhatsApp's
	// history sync): no deal opened, nobody waiting, never unlinked.
	History        bool   `json:"history,omitempty"`
	AuthorID       *int64 `json:"author_id"`
	DeliveryStatus string `json:"delivery_status"`
	ParseError     string `json:"parse_error,omitempty"`
	EditOf         string `json:"edit_of,omitempty"`
	// CallStatus is a call's outcome (CallAnswered, CallMissed); empty
	// for anything else.
	CallStatus string `json:"call_status,omitempty"`
	// RemindedAt is when the responsible manager was reminded that this
	// touch has no deal yet (once per touch).
	RemindedAt *time.Time `json:"reminded_at,omitempty"`
	OccurredAt time.Time  `json:"occurred_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Call outcomes (Touch.CallStatus).
const (
	CallAnswered = "answered"
	CallMissed   = "missed"
)

// Unlinked reports whether the touch still needs a deal or a "not a sale"
// (UnlinkedTouch): history and automated touches never do.
func (t Touch) Unlinked() bool {
	return t.DealID == nil && t.NotASale == "" && !t.History && !t.Automated
}

// GetTouch loads a touch.
func GetTouch(tx *gorm.DB, id int64) (Touch, error) {
	var t Touch
	if err := tx.Take(&t, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return t, NotFound("touch", id)
		}
		return t, err
	}
	return t, nil
}

// LastReceived is when an account last received a touch; the zero time
// when it has received none.
func LastReceived(tx *gorm.DB, accountID int64) (time.Time, error) {
	var at []time.Time
	err := tx.Model(&Touch{}).Where("account_id = ? AND direction = ?", accountID, Inbound).Order("created_at DESC").Limit(1).Pluck("created_at", &at).Error
	if err != nil || len(at) == 0 {
		return time.Time{}, err
	}
	return at[0].UTC(), nil
}

// ConversationTouches returns a conversation's touches in time order.
func ConversationTouches(tx *gorm.DB, conversationID int64, limit int) ([]Touch, error) {
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	var out []Touch
	return out, tx.Where("conversation_id = ?", conversationID).Order("occurred_at, id").Limit(limit).Find(&out).Error
}

// dealContact is whose deals a touch may take: its conversation's contact
// (the touch's own, or the client whose thread a participant wrote in).
func dealContact(tx *gorm.DB, t Touch) (int64, error) {
	var c int64
	if err := tx.Model(&Conversation{}).Select("contact_id").Where("id = ?", t.ConversationID).Scan(&c).Error; err != nil {
		return 0, fmt.Errorf("crm: conversation %d: %w", t.ConversationID, err)
	}
	if c == 0 {
		c = t.ContactID
	}
	return c, nil
}

// LinkDeal ties a touch to a deal of the same contact (or of the contact
// whose conversation it is in: a participant's touch takes the client's
// deal), and the touch's conversation too when it has no deal yet.
// Audited.
func LinkDeal(tx *gorm.DB, touchID, dealID int64, actor *int64) (Touch, error) {
	t, err := GetTouch(tx, touchID)
	if err != nil {
		return t, err
	}
	d, err := GetDeal(tx, dealID)
	if err != nil {
		return t, err
	}
	owner := t.ContactID
	if d.ContactID != t.ContactID {
		if owner, err = dealContact(tx, t); err != nil {
			return t, err
		}
	}
	if d.ContactID != owner {
		// As if it did not exist: the answer must not tell a manager that
		// another contact's deal is there.
		return t, NotFound("deal of this contact", dealID)
	}
	if err := tx.Model(&Touch{ID: touchID}).Updates(map[string]any{"deal_id": dealID, "not_a_sale": ""}).Error; err != nil {
		return t, err
	}
	if err := tx.Model(&Conversation{}).Where("id = ? AND deal_id IS NULL", t.ConversationID).Update("deal_id", dealID).Error; err != nil {
		return t, err
	}
	if _, err := Audit(tx, actor, "touch.link", "touch", touchID, map[string]any{"deal_id": dealID, "previous_deal_id": t.DealID}); err != nil {
		return t, err
	}
	return GetTouch(tx, touchID)
}

// MarkNotASale resolves an unlinked touch as spam, support, a supplier…
// Audited.
func MarkNotASale(tx *gorm.DB, touchID int64, reason string, actor *int64) (Touch, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Touch{}, Invalid("say why it is not a sale (spam, support, supplier…)")
	}
	t, err := GetTouch(tx, touchID)
	if err != nil {
		return t, err
	}
	if err := tx.Model(&Touch{ID: touchID}).Updates(map[string]any{"deal_id": nil, "not_a_sale": reason}).Error; err != nil {
		return t, err
	}
	if _, err := Audit(tx, actor, "touch.not_a_sale", "touch", touchID, map[string]any{"reason": reason, "previous_deal_id": t.DealID}); err != nil {
		return t, err
	}
	return GetTouch(tx, touchID)
}

// OpenDealFor opens a new deal for the touch's conversation's contact (the
// client, also for a participant's touch), with the touch's ad
// source, and links the touch to it. Audited.
func OpenDealFor(tx *gorm.DB, touchID int64, currency string, actor *int64, title string, amount int64) (Deal, Touch, error) {
	t, err := GetTouch(tx, touchID)
	if err != nil {
		return Deal{}, t, err
	}
	if amount < 0 {
		return Deal{}, t, Invalid("amount %d is negative", amount)
	}
	if title = strings.TrimSpace(title); title == "" {
		var name string
		tx.Model(&Contact{}).Select("name").Where("id = ?", t.ContactID).Scan(&name)
		var meta map[string]string
		_ = json.Unmarshal(t.Meta, &meta) // a call's meta has other shapes: no page then
		title = DealTitle(t.Channel, t.Subject, t.Body, meta["page_url"], name)
	}
	// A participant's touch opens the deal of the client whose thread it is.
	contact, err := dealContact(tx, t)
	if err != nil {
		return Deal{}, t, err
	}
	d := Deal{ContactID: contact, Title: Clip(title, 200), Amount: amount, AdSourceID: t.AdSourceID, Currency: currency, ResponsibleID: actor}
	if err := OpenDeal(tx, &d); err != nil {
		return d, t, err
	}
	if _, err := Audit(tx, actor, "deal.open", "deal", d.ID, map[string]any{"touch_id": touchID, "contact_id": contact}); err != nil {
		return d, t, err
	}
	t, err = LinkDeal(tx, touchID, d.ID, actor)
	return d, t, err
}

// MetaJSON marshals channel detail for a touch.
func MetaJSON(m map[string]string) json.RawMessage {
	if len(m) == 0 {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("crm: marshal meta: %v", err)) // map[string]string always marshals
	}
	return b
}
