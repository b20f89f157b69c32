package crm

import (
	"encoding/json"

	"gorm.io/gorm"
)

// Who sees what (DESIGN, security defaults), written once: an owner and a
// lead see everything; a manager sees the conversations assigned to them
// and the unassigned queue, and the contacts, touches and deals behind
// those. What a manager may not see answers "not found", never its
// content. The inbox list and its counters (queue.go), the application's
// verbs and handlers, and the WebSocket's event filter all read it from
// here, so they cannot disagree.

// SeesAll reports whether the user sees every conversation (a lead or the owner).
func (u User) SeesAll() bool { return u.Role != Manager }

// SeesConversation reports whether u may see c.
func (u User) SeesConversation(c Conversation) bool {
	return u.SeesAll() || c.AssigneeID == nil || *c.AssigneeID == u.ID
}

// visibleToManager is the SQL condition (on conversations) of a manager's
// conversations: their own and the unassigned ones; @me is the manager.
const visibleToManager = "(conversations.assignee_id = @me OR conversations.assignee_id IS NULL)"

// contactVisible is the SQL condition (on contacts.id) of contacts a
// manager may see: they are responsible for it, one of its conversations is
// theirs or unassigned, or nobody is responsible and no one else holds it.
const contactVisible = `(contacts.responsible_id = @me
	OR EXISTS (SELECT 1 FROM conversations cv WHERE cv.contact_id = contacts.id AND (cv.assignee_id = @me OR cv.assignee_id IS NULL))
	OR (contacts.responsible_id IS NULL AND NOT EXISTS (SELECT 1 FROM conversations cv WHERE cv.contact_id = contacts.id AND cv.assignee_id <> @me)))`

// VisibleConversations is a query scope (on conversations) keeping those u may see.
func VisibleConversations(u User) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if u.SeesAll() {
			return db
		}
		return db.Where(visibleToManager, map[string]any{"me": u.ID})
	}
}

// VisibleContacts is a query scope (on contacts) keeping those u may see.
func VisibleContacts(u User) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if u.SeesAll() {
			return db
		}
		return db.Where(contactVisible, map[string]any{"me": u.ID})
	}
}

// CanSeeContact reports whether u may see the contact id.
func CanSeeContact(tx *gorm.DB, u User, id int64) (bool, error) {
	if u.SeesAll() {
		return true, nil
	}
	var n int64
	err := tx.Table("contacts").Where("contacts.id = ?", id).Scopes(VisibleContacts(u)).Count(&n).Error
	return n > 0, err
}

// VisibleContact loads a contact for u, or ErrNotFound.
func VisibleContact(tx *gorm.DB, u User, id int64) (Contact, error) {
	c, err := GetContact(tx, id)
	if err != nil {
		return c, err
	}
	ok, err := CanSeeContact(tx, u, c.ID)
	if err != nil {
		return c, err
	}
	if !ok {
		return Contact{}, NotFound("contact", id)
	}
	return c, nil
}

// VisibleConversation loads a conversation for u, or ErrNotFound.
func VisibleConversation(tx *gorm.DB, u User, id int64) (Conversation, error) {
	c, err := GetConversation(tx, id)
	if err != nil {
		return c, err
	}
	if !u.SeesConversation(c) {
		return Conversation{}, NotFound("conversation", id)
	}
	return c, nil
}

// VisibleTouch loads a touch for u (through its conversation), or ErrNotFound.
func VisibleTouch(tx *gorm.DB, u User, id int64) (Touch, error) {
	t, err := GetTouch(tx, id)
	if err != nil {
		return t, err
	}
	if _, err := VisibleConversation(tx, u, t.ConversationID); err != nil {
		return Touch{}, NotFound("touch", id)
	}
	return t, nil
}

// VisibleDeal loads a deal for u (their own, or through its contact), or ErrNotFound.
func VisibleDeal(tx *gorm.DB, u User, id int64) (Deal, error) {
	d, err := GetDeal(tx, id)
	if err != nil {
		return d, err
	}
	if !u.SeesAll() && (d.ResponsibleID == nil || *d.ResponsibleID != u.ID) {
		ok, err := CanSeeContact(tx, u, d.ContactID)
		if err != nil {
			return d, err
		}
		if !ok {
			return Deal{}, NotFound("deal", id)
		}
	}
	return d, nil
}

// EventScope is what the visibility rule reads of an event, decoded once
// per event however many screens it is checked for.
type EventScope struct {
	typ                             string
	conversation                    bool
	assignee, previous, responsible *int64
	previousResponsible             *int64 // a deal.changed that took the deal from this manager
	user                            *int64 // whom a touch.reminder is for
	leftQueue                       bool   // a conversation.changed whose previous_assignee_id is null: it left the unassigned queue
}

// ScopeOf decodes an event's scope.
func ScopeOf(e Event) EventScope {
	var d struct {
		AssigneeID         *int64          `json:"assignee_id"`
		PreviousAssigneeID json.RawMessage `json:"previous_assignee_id"`
		ResponsibleID      *int64          `json:"responsible_id"`
		PrevResponsibleID  *int64          `json:"previous_responsible_id"`
		UserID             *int64          `json:"user_id"`
	}
	json.Unmarshal(e.Data, &d)
	s := EventScope{typ: e.Type, conversation: e.ConversationID != nil, assignee: d.AssigneeID, responsible: d.ResponsibleID, previousResponsible: d.PrevResponsibleID, user: d.UserID}
	if string(d.PreviousAssigneeID) == "null" {
		s.leftQueue = e.Type == EventConversationChanged
	} else if len(d.PreviousAssigneeID) > 0 {
		var p int64
		if json.Unmarshal(d.PreviousAssigneeID, &p) == nil {
			s.previous = &p
		}
	}
	return s
}

// LeftUser reports whether the event only says that a conversation left
// u or the unassigned queue (ids, no content): u gets it even when the
// conversation is no longer theirs to see.
func (s EventScope) LeftUser(u User) bool {
	return s.typ == EventConversationChanged && (s.leftQueue || (s.previous != nil && *s.previous == u.ID))
}

// SeesEvent applies the rule to an event: a manager gets what concerns
// conversations assigned to them or unassigned (and hears that one was
// taken away: from them, or from the unassigned queue they were looking
// at), their own deals, their reminders, and account states.
func (u User) SeesEvent(e Event) bool { return ScopeOf(e).VisibleTo(u) }

// VisibleTo reports whether u may see the event of this scope.
func (s EventScope) VisibleTo(u User) bool {
	if u.SeesAll() {
		return true
	}
	mine := func(p *int64) bool { return p != nil && *p == u.ID }
	switch s.typ {
	case EventAccountState:
		return true
	case EventDealChanged:
		return mine(s.responsible) || mine(s.previousResponsible)
	case EventTouchReminder, EventCallDial:
		return mine(s.user) // for the manager reminded, or calling
	}
	if !s.conversation {
		return false
	}
	if s.leftQueue {
		return true // it left the unassigned queue: only ids, no content
	}
	return s.assignee == nil || mine(s.assignee) || mine(s.previous)
}
