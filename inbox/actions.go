package inbox

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// The app's verbs. Each runs in one transaction, checks what the user may
// do, audits what DESIGN says is audited, records events, and publishes
// them after commit.

func ptr[T any](v T) *T { return &v }

// AssignConversation assigns, transfers or (assignee nil) returns a
// conversation to the queue. Leads and owners assign anyone; a manager may
// take an unassigned conversation and hand on their own. Audited.
func (a *App) AssignConversation(ctx context.Context, u crm.User, id int64, assignee *int64) (crm.Conversation, error) {
	var out crm.Conversation
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		c, err := crm.VisibleConversation(tx, u, id)
		if err != nil {
			return err
		}
		if u.Role == crm.Manager && c.AssigneeID == nil && (assignee == nil || *assignee != u.ID) {
			return crm.Invalid("a manager can take an unassigned conversation only for themselves")
		}
		if out, err = crm.AssignConversation(tx, id, assignee); err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, "conversation.assign", "conversation", id, map[string]any{"from": c.AssigneeID, "to": assignee}); err != nil {
			return err
		}
		return ev.Add(crm.EventConversationChanged, &id, nil, map[string]any{"assignee_id": assignee, "previous_assignee_id": c.AssigneeID, "status": out.Status})
	})
	return out, err
}

// SetConversationStatus opens, snoozes (until a time, when it comes back by
// itself: see RunTimers) or closes a conversation.
func (a *App) SetConversationStatus(ctx context.Context, u crm.User, id int64, st crm.ConversationStatus, until *time.Time) (crm.Conversation, error) {
	var out crm.Conversation
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if _, err := crm.VisibleConversation(tx, u, id); err != nil {
			return err
		}
		var err error
		if out, err = crm.SetConversationStatus(tx, id, st, until); err != nil {
			return err
		}
		return ev.Add(crm.EventConversationChanged, &id, nil, map[string]any{"status": st, "snoozed_until": out.SnoozedUntil, "assignee_id": out.AssigneeID})
	})
	return out, err
}

// LinkTouch ties a touch to a deal of its contact.
func (a *App) LinkTouch(ctx context.Context, u crm.User, touchID, dealID int64) (crm.Touch, error) {
	var out crm.Touch
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if _, err := crm.VisibleTouch(tx, u, touchID); err != nil {
			return err
		}
		var err error
		if out, err = crm.LinkDeal(tx, touchID, dealID, &u.ID); err != nil {
			return err
		}
		return ev.Add(crm.EventTouchLinked, &out.ConversationID, &touchID, map[string]any{"deal_id": dealID})
	})
	return out, err
}

// OpenDealForTouch opens a new deal from a touch and links it.
func (a *App) OpenDealForTouch(ctx context.Context, u crm.User, touchID int64) (crm.Deal, crm.Touch, error) {
	var d crm.Deal
	var t crm.Touch
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if _, err := crm.VisibleTouch(tx, u, touchID); err != nil {
			return err
		}
		var err error
		if d, t, err = crm.OpenDealFor(tx, touchID, a.opts.Currency, &u.ID); err != nil {
			return err
		}
		return ev.Add(crm.EventTouchLinked, &t.ConversationID, &touchID, map[string]any{"deal_id": d.ID, "new_deal": true})
	})
	return d, t, err
}

// MarkNotASale resolves an unlinked touch without a deal.
func (a *App) MarkNotASale(ctx context.Context, u crm.User, touchID int64, reason string) (crm.Touch, error) {
	var out crm.Touch
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if _, err := crm.VisibleTouch(tx, u, touchID); err != nil {
			return err
		}
		var err error
		if out, err = crm.MarkNotASale(tx, touchID, reason, &u.ID); err != nil {
			return err
		}
		return ev.Add(crm.EventTouchLinked, &out.ConversationID, &touchID, map[string]any{"not_a_sale": out.NotASale})
	})
	return out, err
}

// MergeContacts merges mergedID into survivorID; the user must see both.
func (a *App) MergeContacts(ctx context.Context, u crm.User, survivorID, mergedID int64) (crm.AuditEntry, error) {
	var out crm.AuditEntry
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		for _, id := range []int64{survivorID, mergedID} {
			ok, err := crm.CanSeeContact(tx, u, id)
			if err != nil {
				return err
			}
			if !ok {
				return crm.NotFound("contact", id)
			}
		}
		var err error
		if out, err = crm.MergeContacts(tx, survivorID, mergedID, &u.ID); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": survivorID, "merged_id": mergedID})
	})
	return out, err
}

// DismissDuplicate says a suggested pair of contacts are different
// people; the user must see both (like a merge). The contact.changed event
// names both, so panels showing either reload.
func (a *App) DismissDuplicate(ctx context.Context, u crm.User, id, otherID int64) (crm.AuditEntry, error) {
	var out crm.AuditEntry
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		c, err := crm.VisibleContact(tx, u, id)
		if err != nil {
			return err
		}
		o, err := crm.VisibleContact(tx, u, otherID)
		if err != nil {
			return err
		}
		if out, err = crm.DismissDuplicate(tx, c.ID, o.ID, &u.ID); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID, "other_id": o.ID, "not_duplicate": true})
	})
	return out, err
}

// UndoMerge reverses a merge from its audit entry. A lead or the owner
// undoes any merge; a manager only one they made, of a contact they see.
func (a *App) UndoMerge(ctx context.Context, u crm.User, auditID int64) (crm.AuditEntry, error) {
	var out crm.AuditEntry
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if u.Role == crm.Manager {
			var e crm.AuditEntry
			if err := tx.Take(&e, auditID).Error; err != nil || e.Action != "contact.merge" {
				return crm.NotFound("merge", auditID)
			}
			if ok, err := crm.CanSeeContact(tx, u, e.ObjectID); err != nil || !ok {
				if err != nil {
					return err
				}
				return crm.NotFound("merge", auditID)
			}
			if e.ActorID == nil || *e.ActorID != u.ID {
				return fmt.Errorf("%w: a manager undoes only their own merges; ask a team lead", crm.ErrForbidden)
			}
		}
		var err error
		if out, err = crm.UndoMerge(tx, auditID, &u.ID); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": out.ObjectID, "unmerged": true})
	})
	return out, err
}

// dealChange runs a deal edit for a user who may see the deal, audits it
// and records an event.
func (a *App) dealChange(ctx context.Context, u crm.User, id int64, action string, fn func(tx *gorm.DB) (crm.Deal, error)) (crm.Deal, error) {
	var out crm.Deal
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		before, err := crm.VisibleDeal(tx, u, id)
		if err != nil {
			return err
		}
		if out, err = fn(tx); err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, action, "deal", id, map[string]any{"stage_id": out.StageID, "status": out.Status, "amount": out.Amount, "previous_stage_id": before.StageID}); err != nil {
			return err
		}
		return ev.Add(crm.EventDealChanged, nil, nil, out)
	})
	return out, err
}
