package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// ReplyRequest is a manager's reply. AccountID chooses the channel account
// (default: the conversation's); the recipient is the contact's identity
// on that account's channel.
type ReplyRequest struct {
	AccountID   int64             `json:"account_id"`
	Subject     string            `json:"subject"`
	Text        string            `json:"text"`
	Attachments []ReplyAttachment `json:"attachments"`
}

// ReplyAttachment is a file sent with a reply (data base64 in JSON).
type ReplyAttachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// MaxReplyFiles bounds the attachments of one reply.
const MaxReplyFiles = 20 << 20

// Reply writes the outbound touch and its outbox job in one transaction;
// the dispatcher sends it. It never talks to a channel itself.
func (a *App) Reply(ctx context.Context, u crm.User, convID int64, req ReplyRequest) (crm.Touch, error) {
	req.Text = strings.TrimSpace(req.Text)
	if req.Text == "" && len(req.Attachments) == 0 {
		return crm.Touch{}, crm.Invalid("a reply needs text or a file")
	}
	var total int
	for _, f := range req.Attachments {
		total += len(f.Data)
	}
	if total > MaxReplyFiles {
		return crm.Touch{}, crm.Invalid("attachments over %d MiB", MaxReplyFiles>>20)
	}
	// Check before any file is written: a refused reply leaves nothing
	// on disk (the transaction checks again, with what it writes).
	if _, _, err := a.replyTarget(a.db.WithContext(ctx), u, convID, req); err != nil {
		return crm.Touch{}, err
	}
	keys := make([]string, len(req.Attachments))
	for i, f := range req.Attachments {
		k, err := blobs.PutBytes(ctx, a.opts.Blobs, f.Data)
		if err != nil {
			return crm.Touch{}, err
		}
		keys[i] = k
	}
	var out crm.Touch
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		conv, acc, err := a.replyTarget(tx, u, convID, req)
		if err != nil {
			return err
		}
		to, err := a.recipient(tx, conv, acc)
		if err != nil {
			return err
		}
		ob := channels.Outbound{AccountID: acc.ID, To: channels.Handle{Kind: string(to.Kind), Value: to.Value}, Text: req.Text}
		ch, _ := a.opts.Channels.Get(channels.Kind(acc.Channel))
		if ch.Threading != nil {
			ob.MessageID = ch.Threading.MessageID(channels.Account{ID: acc.ID, Name: acc.Name, Channel: channels.Kind(acc.Channel), Settings: acc.Settings})
		}
		if acc.ID != conv.AccountID { // replying on another channel: that account's conversation
			// Threaded (email): the contact's latest thread on that
			// mailbox, or a new thread rooted at this message's own id (the
			// key the client's answer comes back with, in References). A
			// chat has one conversation per account.
			thread, latest := "", false
			if ch.Threading != nil {
				thread, latest = ob.MessageID, true
			}
			if conv, err = a.openConversation(tx, conv.ContactID, acc, conv.DealID, thread, latest); err != nil {
				return err
			}
			if !u.SeesConversation(conv) { // another manager's: nothing is written
				return crm.NotFound("conversation", convID)
			}
		}
		if conv.DealID, err = replyDeal(tx, conv); err != nil {
			return err
		}
		var extID *string
		if ch.Threading != nil {
			ch.Threading.Thread(&ob, answered(tx, conv.ID), req.Subject, conv.Subject)
			extID = &ob.MessageID
		} else if last, ok := lastInbound(tx, conv.ID); ok && last.ExternalID != nil {
			ob.ReplyTo = *last.ExternalID
		}
		payload, _ := json.Marshal(ob)
		now := time.Now().UTC()
		t := crm.Touch{AccountID: acc.ID, Channel: acc.Channel, Kind: string(channels.Kind(acc.Channel).TouchKind()), Direction: crm.Outbound, ExternalID: extID,
			ContactID: conv.ContactID, ConversationID: conv.ID, DealID: conv.DealID, Handle: to.String(), Subject: ob.Subject, Body: req.Text,
			Meta: crm.MetaJSON(nil), AuthorID: &u.ID, DeliveryStatus: crm.Queued, OccurredAt: now.Truncate(time.Microsecond)}
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("inbox: reply: %w", err)
		}
		for i, f := range req.Attachments {
			at := crm.Attachment{TouchID: t.ID, Name: f.Name, ContentType: f.ContentType, Size: int64(len(f.Data)), SHA256: keys[i]}
			if err := tx.Create(&at).Error; err != nil {
				return err
			}
		}
		job := crm.OutboxJob{TouchID: t.ID, AccountID: acc.ID, Status: crm.Queued, NextAttemptAt: now, MessageID: ob.MessageID, Payload: payload}
		if err := tx.Create(&job).Error; err != nil {
			return fmt.Errorf("inbox: reply: outbox: %w", err)
		}
		upd := map[string]any{"waiting_since": nil, "last_text": crm.Preview(req.Text, "📎"), "last_touch_at": t.OccurredAt, "updated_at": now}
		if conv.Subject == "" && ob.Subject != "" {
			upd["subject"] = crm.Clip(ob.Subject, 300)
		}
		if conv.DealID != nil {
			upd["deal_id"] = *conv.DealID
		}
		if err := tx.Model(&crm.Conversation{ID: conv.ID}).Updates(upd).Error; err != nil {
			return err
		}
		out = t
		return ev.Add(crm.EventTouchAdded, &conv.ID, &t.ID, map[string]any{"contact_id": conv.ContactID, "direction": "out", "delivery_status": crm.Queued, "deal_id": t.DealID, "unlinked": t.DealID == nil, "assignee_id": conv.AssigneeID})
	})
	if err == nil && a.outbox != nil {
		a.outbox.Wake()
	}
	return out, err
}

// replyDeal is the deal a reply belongs to: the conversation's while it is
// open, else the contact's latest open deal (a returning client's new
// talk), else none — the reply is then unlinked, like any touch without a
// deal, and flagged for the manager.
func replyDeal(tx *gorm.DB, conv crm.Conversation) (*int64, error) {
	var ids []int64
	if conv.DealID != nil {
		if err := tx.Model(&crm.Deal{}).Where("id = ? AND status = ?", *conv.DealID, crm.DealOpen).Pluck("id", &ids).Error; err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		if err := tx.Model(&crm.Deal{}).Where("contact_id = ? AND status = ?", conv.ContactID, crm.DealOpen).Order("id DESC").Limit(1).Pluck("id", &ids).Error; err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return &ids[0], nil
}

// recipient is the contact's identity on the account's channel: the handle
// of the conversation's last inbound touch when it is that account's, else
// the contact's identity of the channel's kind.
func (a *App) recipient(tx *gorm.DB, conv crm.Conversation, acc crm.Account) (crm.Key, error) {
	kind := crm.IdentityKind(channels.Kind(acc.Channel).ReplyHandle())
	if kind == "" {
		return crm.Key{}, crm.Invalid("a %s account cannot send replies: answer by email, Telegram or WhatsApp", acc.Channel)
	}
	if acc.ID == conv.AccountID {
		// The handle the contact last wrote from: a colleague who wrote in
		// their thread is a participant, not whom the reply is for.
		var last crm.Touch
		err := tx.Where("conversation_id = ? AND direction = ? AND contact_id = ?", conv.ID, crm.Inbound, conv.ContactID).Order("occurred_at DESC, id DESC").Take(&last).Error
		if err == nil {
			if k, v, ok := strings.Cut(last.Handle, ":"); ok && crm.IdentityKind(k) == kind {
				return crm.Key{Kind: kind, Value: v}, nil
			}
		}
	}
	var id crm.Identity
	err := tx.Where("contact_id = ? AND kind = ?", conv.ContactID, kind).Order("id").Take(&id).Error
	if err == nil {
		return crm.Key{Kind: kind, Value: id.Value}, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return crm.Key{}, err
	}
	if kind == crm.WhatsAppID {
		// WhatsApp reaches a phone number: a caller's, or the number a
		// Telegram writer shared.
		if err := tx.Where("contact_id = ? AND kind = ?", conv.ContactID, crm.PhoneID).Order("id").Take(&id).Error; err == nil {
			return crm.Normalize(string(crm.WhatsAppID), id.Value, a.opts.Region)
		}
	}
	return crm.Key{}, crm.Invalid("the contact has no %s identity to reply to", kind)
}

func lastInbound(tx *gorm.DB, convID int64) (crm.Touch, bool) {
	var t crm.Touch
	err := tx.Where("conversation_id = ? AND direction = ?", convID, crm.Inbound).Order("occurred_at DESC, id DESC").Take(&t).Error
	return t, err == nil
}

// openConversation finds the contact's conversation on acc — in thread, or
// with latest the one touched last in any thread — or opens one in thread.
func (a *App) openConversation(tx *gorm.DB, contactID int64, acc crm.Account, dealID *int64, thread string, latest bool) (crm.Conversation, error) {
	var c crm.Conversation
	var err error
	if latest {
		err = tx.Where("contact_id = ? AND account_id = ?", contactID, acc.ID).Order("last_touch_at DESC, id DESC").Take(&c).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			err = crm.NotFound("conversation", thread)
		}
	} else {
		c, err = crm.FindConversation(tx, contactID, acc.ID, thread)
	}
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, crm.ErrNotFound) {
		return c, err
	}
	var assignee *int64
	tx.Table("contacts").Select("responsible_id").Where("id = ?", contactID).Scan(&assignee)
	now := time.Now().UTC()
	c = crm.Conversation{ContactID: contactID, AccountID: acc.ID, Channel: acc.Channel, ThreadKey: thread, AssigneeID: assignee, Status: crm.ConvOpen, DealID: dealID, LastTouchAt: now, CreatedAt: now, UpdatedAt: now}
	return c, tx.Create(&c).Error
}

// answered is the client's last message of the conversation, for a
// threaded reply (nil: none).
func answered(tx *gorm.DB, convID int64) *channels.Answered {
	last, ok := lastInbound(tx, convID)
	if !ok {
		return nil
	}
	an := &channels.Answered{Subject: last.Subject}
	json.Unmarshal(last.Meta, &an.Meta)
	if last.ExternalID != nil {
		an.ExternalID = *last.ExternalID
	}
	return an
}

// replyTarget is the conversation a reply answers and the account it goes
// out through, if u may reply there.
func (a *App) replyTarget(tx *gorm.DB, u crm.User, convID int64, req ReplyRequest) (crm.Conversation, crm.Account, error) {
	conv, err := crm.VisibleConversation(tx, u, convID)
	if err != nil {
		return conv, crm.Account{}, err
	}
	accID := req.AccountID
	if accID == 0 {
		accID = conv.AccountID
	}
	acc, err := crm.GetAccount(tx, accID)
	if err != nil {
		return conv, acc, crm.Invalid("account %d does not exist", accID)
	}
	if !acc.Enabled {
		return conv, acc, crm.Invalid("account %q is disabled: enable it on the accounts page or reply through another account", acc.Name)
	}
	return conv, acc, nil
}
