package crm

import (
	"time"

	"gorm.io/gorm"
)

// Reminder is an unlinked touch its manager was reminded of and that still
// has no deal.
type Reminder struct {
	TouchID        int64     `json:"touch_id"`
	ConversationID int64     `json:"conversation_id"`
	ContactID      int64     `json:"contact_id"`
	ContactName    string    `json:"contact_name"`
	Handle         string    `json:"handle"`
	Channel        string    `json:"channel"`
	Kind           string    `json:"kind"`
	Direction      Direction `json:"direction"`
	Preview        string    `json:"preview"`
	OccurredAt     time.Time `json:"occurred_at"`
	RemindedAt     time.Time `json:"reminded_at"`
}

// ReminderList is the user's open reminders, newest first, and how many
// there are in all.
type ReminderList struct {
	Reminders []Reminder `json:"reminders"`
	Total     int64      `json:"total"`
}

// Reminders lists the reminders of u (see inbox.App.Reminders), at most limit.
func Reminders(tx *gorm.DB, u User, limit int) (ReminderList, error) {
	recipient := "COALESCE(cv.assignee_id, ct.responsible_id) = @me"
	if u.SeesAll() {
		recipient = "(" + recipient + " OR COALESCE(cv.assignee_id, ct.responsible_id) IS NULL)"
	}
	q := tx.Table("touches").
		Joins("JOIN conversations cv ON cv.id = touches.conversation_id").
		Joins("JOIN contacts ct ON ct.id = touches.contact_id").
		Where("touches.reminded_at IS NOT NULL AND "+UnlinkedTouchOf("touches")).
		Where(recipient, map[string]any{"me": u.ID}).
		Session(&gorm.Session{}) // counted, then listed
	out := ReminderList{Reminders: []Reminder{}}
	err := q.Count(&out.Total).Error
	if err == nil && out.Total > 0 {
		err = q.Select(`touches.id AS touch_id, touches.conversation_id, touches.contact_id, ct.name AS contact_name, touches.handle,
			touches.channel, touches.kind, touches.direction, SUBSTR(COALESCE(NULLIF(touches.body, ''), touches.subject), 1, 140) AS preview,
			touches.occurred_at, touches.reminded_at`).
			Order("touches.occurred_at DESC, touches.id DESC").Limit(limit).Scan(&out.Reminders).Error
	}
	return out, err
}
