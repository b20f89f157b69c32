package crm

import (
	"fmt"

	"gorm.io/gorm"
)

// Participant is someone else who wrote in a contact's conversation: a
// colleague of the client answering in their thread (a touch whose
// contact is not the conversation's). Handle is the identity they wrote
// from ("email:anna@client.ru").
type Participant struct {
	ContactID int64  `json:"contact_id"`
	Name      string `json:"name"`
	Handle    string `json:"handle"`
}

// Participants lists the contacts other than conv's own whose touches are
// in it, in the order they first wrote.
func Participants(tx *gorm.DB, conv Conversation) ([]Participant, error) {
	out := []Participant{}
	err := tx.Raw(`SELECT t.contact_id, c.name, MIN(t.handle) AS handle
		FROM touches t JOIN contacts c ON c.id = t.contact_id
		WHERE t.conversation_id = ? AND t.contact_id <> ?
		GROUP BY t.contact_id, c.name
		ORDER BY MIN(t.occurred_at), t.contact_id`, conv.ID, conv.ContactID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("crm: participants of conversation %d: %w", conv.ID, err)
	}
	return out, nil
}
