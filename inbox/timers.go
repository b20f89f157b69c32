package inbox

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// The clock's work: snoozed conversations come back when their time is up,
// and the manager responsible for an unlinked touch is reminded once it is
// older than Options.RemindAfter. Every replica runs the timers; each
// wake-up and each reminder is taken with a conditional update in the
// transaction that records its event, so it happens exactly once.

// RemindHorizon: a touch that was already this much older than
// RemindAfter when its reminder fell due (history imported from a
// mailbox, a server down for a day) gets no reminder; the Unlinked queue
// still lists it. A day keeps a first import's reminders to yesterday's
// mail, which still wants an answer, not a flood of last week's.
const RemindHorizon = 24 * time.Hour

// timerBatch bounds the work of one tick; the rest waits for the next.
const timerBatch = 200

// Timers runs the clock's work every TimerEvery until ctx ends.
func (a *App) Timers(ctx context.Context) {
	tick := time.NewTicker(a.opts.TimerEvery)
	defer tick.Stop()
	var swept time.Time
	for {
		if _, _, err := a.RunTimers(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Error("timers", "err", err)
		}
		if time.Since(swept) > time.Hour {
			swept = time.Now()
			if n, err := a.SweepBlobs(ctx, BlobGrace); err != nil && ctx.Err() == nil {
				a.log.Error("timers: sweep blobs", "err", err)
			} else if n > 0 {
				a.log.Info("timers: swept unreferenced blobs", "removed", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RunTimers wakes the conversations whose snooze ended by now and sends
// the reminders due by now; it returns how many of each.
//
// Each part opens its write transaction only when a read finds work due:
// an idle tick, every TimerEvery on every replica, writes nothing (on
// SQLite a write transaction takes the database's one write lock).
func (a *App) RunTimers(ctx context.Context, now time.Time) (woke, reminded int, err error) {
	db := a.db.WithContext(ctx)
	var due []int64
	if err := db.Model(&crm.Conversation{}).Where("status = ? AND snoozed_until <= ?", crm.ConvSnoozed, now.UTC()).Limit(1).Pluck("id", &due).Error; err != nil {
		return 0, 0, fmt.Errorf("inbox: wake snoozed: %w", err)
	}
	if len(due) > 0 {
		if woke, err = a.wakeSnoozed(ctx, now); err != nil {
			return 0, 0, err
		}
	}
	var remind []int64
	if err := a.reminders(db, now).Limit(1).Pluck("touches.id", &remind).Error; err != nil {
		return woke, 0, fmt.Errorf("inbox: reminders: %w", err)
	}
	if len(remind) == 0 {
		return woke, 0, nil
	}
	err = a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		n, err := a.remind(tx, ev, now)
		reminded = n
		return err
	})
	if err != nil {
		return woke, 0, fmt.Errorf("inbox: reminders: %w", err)
	}
	return woke, reminded, nil
}

// wakeSnoozed reopens the conversations whose snooze ended by now.
func (a *App) wakeSnoozed(ctx context.Context, now time.Time) (woke int, err error) {
	err = a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		convs, err := crm.WakeSnoozed(tx, now, timerBatch)
		if err != nil {
			return err
		}
		for _, c := range convs {
			id := c.ID
			if err := ev.Add(crm.EventConversationChanged, &id, nil, map[string]any{"status": c.Status, "woke": true, "assignee_id": c.AssigneeID}); err != nil {
				return err
			}
		}
		woke = len(convs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: wake snoozed: %w", err)
	}
	return woke, nil
}

// dueReminder is an unlinked touch whose reminder is due, with who gets it.
type dueReminder struct {
	ID             int64
	ConversationID int64
	ContactID      int64
	OccurredAt     time.Time
	AssigneeID     *int64
	ResponsibleID  *int64
}

// reminders selects the unlinked touches whose reminder is due by now.
func (a *App) reminders(tx *gorm.DB, now time.Time) *gorm.DB {
	due := now.Add(-a.opts.RemindAfter)
	return tx.Table("touches").
		Where("touches.reminded_at IS NULL AND "+crm.UnlinkedTouchOf("touches")+" AND touches.direction = ?", crm.Inbound).
		Where("touches.occurred_at <= ? AND touches.occurred_at > ?", due.UTC(), due.Add(-RemindHorizon).UTC())
}

// remind marks the due unlinked touches reminded and records a
// touch.reminder event for each. The reminder goes to the conversation's
// assignee, or else to the contact's responsible manager (who can see the
// unassigned conversation); with neither, to nobody in particular: leads
// and owners see those.
func (a *App) remind(tx *gorm.DB, ev *realtime.Events, now time.Time) (int, error) {
	var rows []dueReminder
	err := a.reminders(tx, now).
		Select("touches.id, touches.conversation_id, touches.contact_id, touches.occurred_at, cv.assignee_id, ct.responsible_id").
		Joins("JOIN conversations cv ON cv.id = touches.conversation_id").
		Joins("JOIN contacts ct ON ct.id = touches.contact_id").
		Order("touches.occurred_at, touches.id").Limit(timerBatch).Scan(&rows).Error
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		res := tx.Model(&crm.Touch{}).Where("id = ? AND reminded_at IS NULL", r.ID).Update("reminded_at", now.UTC())
		if res.Error != nil {
			return n, res.Error
		}
		if res.RowsAffected != 1 {
			continue // another replica reminded first
		}
		to := r.AssigneeID
		if to == nil {
			to = r.ResponsibleID
		}
		conv, touch := r.ConversationID, r.ID
		if err := ev.Add(crm.EventTouchReminder, &conv, &touch, map[string]any{
			"user_id": to, "contact_id": r.ContactID, "assignee_id": r.AssigneeID, "occurred_at": r.OccurredAt.UTC(),
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// BlobGrace is how old an unreferenced blob must be before it is swept: a
// file written for a reply or an ingest whose transaction has not yet
// committed is referenced a moment later.
const BlobGrace = 24 * time.Hour

// SweepBlobs removes the stored files that no attachment references and
// that were written more than grace ago (a refused reply's files, the
// files of deleted touches), on whichever backend keeps them.
func (a *App) SweepBlobs(ctx context.Context, grace time.Duration) (int, error) {
	return blobs.Sweep(ctx, a.opts.Blobs, time.Now().Add(-grace), func(keys []string) (map[string]bool, error) {
		return crm.ReferencedBlobs(a.db.WithContext(ctx), keys)
	})
}
