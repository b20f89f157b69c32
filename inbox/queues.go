package inbox

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/crm"
)

// QueueCounts is the exact size of every queue as the list shows it to u.
func (a *App) QueueCounts(ctx context.Context, u crm.User) (crm.QueueCounts, error) {
	return crm.CountQueues(a.db.WithContext(ctx), u, time.Now().Add(-a.opts.OverdueAfter))
}

// reminderLimit is how many reminders one reply lists.
const reminderLimit = 50

// Reminders are the touches u was reminded of (touch.reminder) that are
// still unlinked, newest first, and how many there are. A reminder
// follows the conversation: it is the assignee's, or with none the
// contact's responsible manager's; leads and owners also get those of
// nobody.
func (a *App) Reminders(ctx context.Context, u crm.User) (crm.ReminderList, error) {
	return crm.Reminders(a.db.WithContext(ctx), u, reminderLimit)
}
