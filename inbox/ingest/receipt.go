package ingest

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

var _ channels.ReceiptSink = (*Sink)(nil)

// Receipts moves outbound touches to delivered or read (never back), each
// change with a touch.status event for the screens, in one transaction
// (channels.ReceiptSink).
func (s *Sink) Receipts(ctx context.Context, rs []channels.Receipt) error {
	if len(rs) == 0 {
		return nil
	}
	err := s.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		for _, r := range rs {
			t, changed, err := crm.RecordReceipt(tx, r.AccountID, r.ExternalID, r.Status)
			if err != nil {
				return err
			}
			if changed {
				if err := ev.Add(crm.EventTouchStatus, &t.ConversationID, &t.ID, map[string]any{"delivery_status": t.DeliveryStatus}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ingest: receipts: %w", err)
	}
	return nil
}
