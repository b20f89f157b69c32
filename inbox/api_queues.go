package inbox

import (
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// queueCounts answers GET /api/v1/queues/counts: the exact size of every
// queue as the list shows it to this user.
func (h *api) queueCounts(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	c, err := crm.CountQueues(h.app.db.WithContext(r.Context()), u.User, time.Now().Add(-h.app.opts.OverdueAfter))
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// Reminder is an unlinked touch its manager was reminded of and that still
// has no deal.
type Reminder struct {
	TouchID        int64         `json:"touch_id"`
	ConversationID int64         `json:"conversation_id"`
	ContactID      int64         `json:"contact_id"`
	ContactName    string        `json:"contact_name"`
	Handle         string        `json:"handle"`
	Channel        string        `json:"channel"`
	Kind           string        `json:"kind"`
	Direction      crm.Direction `json:"direction"`
	Preview        string        `json:"preview"`
	OccurredAt     time.Time     `json:"occurred_at"`
	RemindedAt     time.Time     `json:"reminded_at"`
}

// ReminderList is the user's open reminders, newest first, and how many
// there are in all.
type ReminderList struct {
	Reminders []Reminder `json:"reminders"`
	Total     int64      `json:"total"`
}

// reminderLimit is how many reminders one reply lists.
const reminderLimit = 50

// reminders answers GET /api/v1/reminders: the touches the user was
// reminded of (touch.reminder) that are still unlinked. A reminder follows
// the conversation: it is the assignee's, or with none the contact's
// responsible manager's; leads and owners also get those of nobody.
func (h *api) reminders(w http.ResponseWriter, r *http.Request) {
	u := userOf(r)
	recipient := "COALESCE(cv.assignee_id, ct.responsible_id) = @me"
	if u.Role != crm.Manager {
		recipient = "(" + recipient + " OR COALESCE(cv.assignee_id, ct.responsible_id) IS NULL)"
	}
	q := h.app.db.WithContext(r.Context()).Table("touches").
		Joins("JOIN conversations cv ON cv.id = touches.conversation_id").
		Joins("JOIN contacts ct ON ct.id = touches.contact_id").
		Where("touches.reminded_at IS NOT NULL AND touches.deal_id IS NULL AND touches.not_a_sale = ''").
		Where(recipient, map[string]any{"me": u.ID}).
		Session(&gorm.Session{}) // counted, then listed
	out := ReminderList{Reminders: []Reminder{}}
	err := q.Count(&out.Total).Error
	if err == nil && out.Total > 0 {
		err = q.Select(`touches.id AS touch_id, touches.conversation_id, touches.contact_id, ct.name AS contact_name, touches.handle,
			touches.channel, touches.kind, touches.direction, SUBSTR(COALESCE(NULLIF(touches.body, ''), touches.subject), 1, 140) AS preview,
			touches.occurred_at, touches.reminded_at`).
			Order("touches.occurred_at DESC, touches.id DESC").Limit(reminderLimit).Scan(&out.Reminders).Error
	}
	if err != nil {
		writeError(w, r, h.app.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
