package inbox

import (
	"context"
	"fmt"
	"io"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

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
// The title defaults to one made from the touch (crm.DealTitle); amount
// is in minor units (0: not known yet).
func (a *App) OpenDealForTouch(ctx context.Context, u crm.User, touchID int64, title string, amount int64) (crm.Deal, crm.Touch, error) {
	var d crm.Deal
	var t crm.Touch
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if _, err := crm.VisibleTouch(tx, u, touchID); err != nil {
			return err
		}
		var err error
		if d, t, err = crm.OpenDealFor(tx, touchID, a.opts.Currency, &u.ID, title, amount); err != nil {
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

// Touch is one touch for u.
func (a *App) Touch(ctx context.Context, u crm.User, id int64) (crm.Touch, error) {
	return crm.VisibleTouch(a.db.WithContext(ctx), u, id)
}

// Attachments lists a touch's files for u.
func (a *App) Attachments(ctx context.Context, u crm.User, touchID int64) ([]crm.Attachment, error) {
	tx := a.db.WithContext(ctx)
	if _, err := crm.VisibleTouch(tx, u, touchID); err != nil {
		return nil, err
	}
	return crm.TouchAttachments(tx, touchID)
}

// OpenAttachment is a stored file for u, with its bytes to read (the
// caller closes them). Not found for a file of a touch u may not see, and
// for one that was too large to keep.
func (a *App) OpenAttachment(ctx context.Context, u crm.User, id int64) (crm.Attachment, io.ReadCloser, error) {
	tx := a.db.WithContext(ctx)
	at, err := crm.GetAttachment(tx, id)
	if err != nil {
		return at, nil, err
	}
	if _, err := crm.VisibleTouch(tx, u, at.TouchID); err != nil {
		return at, nil, crm.NotFound("attachment", id)
	}
	if at.SHA256 == "" {
		return at, nil, fmt.Errorf("%w: attachment %d was too large to store", crm.ErrNotFound, id)
	}
	rc, err := a.opts.Blobs.Open(ctx, at.SHA256)
	return at, rc, err
}

// ParseErrors lists the messages that could not be parsed, newest first:
// each is stored with its raw bytes as an attachment, for the owner.
func (a *App) ParseErrors(ctx context.Context) ([]crm.Touch, error) {
	return crm.ParseErrorTouches(a.db.WithContext(ctx), 200)
}
