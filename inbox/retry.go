package inbox

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// RetryReply sends a failed reply again: the same touch and job go back
// to the outbox, due now with their attempts forgotten (the dispatcher
// sends it as if it were new). Whoever may reply in the conversation may
// retry; the account must be enabled and able to send, else the answer
// says to send it another way.
func (a *App) RetryReply(ctx context.Context, u crm.User, touchID int64) (crm.Touch, error) {
	var out crm.Touch
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		t, err := crm.VisibleTouch(tx, u, touchID)
		if err != nil {
			return err
		}
		if t.Direction != crm.Outbound || t.DeliveryStatus != crm.Failed {
			return crm.Invalid("only a reply that failed is sent again")
		}
		acc, err := crm.GetAccount(tx, t.AccountID)
		if err != nil {
			return err
		}
		if !acc.Enabled {
			return crm.Invalid("account %q is disabled: send the reply another way", acc.Name)
		}
		if channels.Kind(acc.Channel).ReplyHandle() == "" {
			return crm.Invalid("a %s account cannot send replies: send it another way", acc.Channel)
		}
		if _, err := crm.RequeueReply(tx, t.ID, time.Now().UTC()); err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, "touch.retry", "touch", t.ID, nil); err != nil {
			return err
		}
		t.DeliveryStatus = crm.Queued
		out = t
		return ev.Add(crm.EventTouchStatus, &t.ConversationID, &t.ID, map[string]any{"delivery_status": crm.Queued, "attempts": 0})
	})
	if err == nil && a.outbox != nil {
		a.outbox.Wake()
	}
	return out, err
}
