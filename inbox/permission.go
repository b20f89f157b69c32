package inbox

import (
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// Who sees what (DESIGN, security defaults): an owner and a lead see
// everything; a manager sees conversations assigned to them and the
// unassigned queue, and the contacts, touches and deals behind those. What
// a manager may not see answers "not found", never its content.

// canSeeConversation reports whether u may see c.
func canSeeConversation(u crm.User, c crm.Conversation) bool {
	return u.Role != crm.Manager || c.AssigneeID == nil || *c.AssigneeID == u.ID
}

// contactVisible is the SQL condition (on contacts.id) of contacts a
// manager may see: they are responsible for it, one of its conversations is
// theirs or unassigned, or nobody is responsible and no one else holds it.
const contactVisible = `(contacts.responsible_id = @me
	OR EXISTS (SELECT 1 FROM conversations cv WHERE cv.contact_id = contacts.id AND (cv.assignee_id = @me OR cv.assignee_id IS NULL))
	OR (contacts.responsible_id IS NULL AND NOT EXISTS (SELECT 1 FROM conversations cv WHERE cv.contact_id = contacts.id AND cv.assignee_id <> @me)))`

// canSeeContact reports whether u may see the contact id.
func canSeeContact(tx *gorm.DB, u crm.User, id int64) (bool, error) {
	if u.Role != crm.Manager {
		return true, nil
	}
	var n int64
	err := tx.Table("contacts").Where("contacts.id = @id AND "+contactVisible, map[string]any{"id": id, "me": u.ID}).Count(&n).Error
	return n > 0, err
}

// visibleContact loads a contact for u, or ErrNotFound.
func visibleContact(tx *gorm.DB, u crm.User, id int64) (crm.Contact, error) {
	c, err := crm.GetContact(tx, id)
	if err != nil {
		return c, err
	}
	ok, err := canSeeContact(tx, u, c.ID)
	if err != nil {
		return c, err
	}
	if !ok {
		return crm.Contact{}, crm.NotFound("contact", id)
	}
	return c, nil
}

// visibleConversation loads a conversation for u, or ErrNotFound.
func visibleConversation(tx *gorm.DB, u crm.User, id int64) (crm.Conversation, error) {
	c, err := crm.GetConversation(tx, id)
	if err != nil {
		return c, err
	}
	if !canSeeConversation(u, c) {
		return crm.Conversation{}, crm.NotFound("conversation", id)
	}
	return c, nil
}

// visibleTouch loads a touch for u (through its conversation), or ErrNotFound.
func visibleTouch(tx *gorm.DB, u crm.User, id int64) (crm.Touch, error) {
	t, err := crm.GetTouch(tx, id)
	if err != nil {
		return t, err
	}
	if _, err := visibleConversation(tx, u, t.ConversationID); err != nil {
		return crm.Touch{}, crm.NotFound("touch", id)
	}
	return t, nil
}

// visibleDeal loads a deal for u (through its contact), or ErrNotFound.
func visibleDeal(tx *gorm.DB, u crm.User, id int64) (crm.Deal, error) {
	d, err := crm.GetDeal(tx, id)
	if err != nil {
		return d, err
	}
	if u.Role == crm.Manager && (d.ResponsibleID == nil || *d.ResponsibleID != u.ID) {
		ok, err := canSeeContact(tx, u, d.ContactID)
		if err != nil {
			return d, err
		}
		if !ok {
			return crm.Deal{}, crm.NotFound("deal", id)
		}
	}
	return d, nil
}
