package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// The outbox's rows and statuses live in crm; these names are what the
// demo generator still uses until it moves.
type (
	Job        = crm.OutboxJob
	Attachment = crm.Attachment
)

// Delivery statuses (crm's).
const (
	Queued    = crm.Queued
	Sent      = crm.Sent
	Delivered = crm.Delivered
	Failed    = crm.Failed
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

// maxReplyFiles bounds the attachments of one reply.
const maxReplyFiles = 20 << 20

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
	if total > maxReplyFiles {
		return crm.Touch{}, crm.Invalid("attachments over %d MiB", maxReplyFiles>>20)
	}
	keys := make([]string, len(req.Attachments))
	for i, f := range req.Attachments {
		k, err := a.opts.Blobs.Put(f.Data)
		if err != nil {
			return crm.Touch{}, err
		}
		keys[i] = k
	}
	var out crm.Touch
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		conv, err := crm.VisibleConversation(tx, u, convID)
		if err != nil {
			return err
		}
		accID := req.AccountID
		if accID == 0 {
			accID = conv.AccountID
		}
		acc, err := crm.GetAccount(tx, accID)
		if err != nil {
			return crm.Invalid("account %d does not exist", accID)
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
			Meta: crm.MetaJSON(nil), AuthorID: &u.ID, DeliveryStatus: Queued, OccurredAt: now.Truncate(time.Microsecond)}
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("inbox: reply: %w", err)
		}
		for i, f := range req.Attachments {
			at := Attachment{TouchID: t.ID, Name: f.Name, ContentType: f.ContentType, Size: int64(len(f.Data)), SHA256: keys[i]}
			if err := tx.Create(&at).Error; err != nil {
				return err
			}
		}
		job := Job{TouchID: t.ID, AccountID: acc.ID, Status: Queued, NextAttemptAt: now, MessageID: ob.MessageID, Payload: payload}
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
		return ev.Add(crm.EventTouchAdded, &conv.ID, &t.ID, map[string]any{"contact_id": conv.ContactID, "direction": "out", "delivery_status": Queued, "deal_id": t.DealID, "unlinked": t.DealID == nil, "assignee_id": conv.AssigneeID})
	})
	if err == nil {
		select {
		case a.wake <- struct{}{}:
		default:
		}
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
		if last, ok := lastInbound(tx, conv.ID); ok {
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

// dispatchLoop sends due replies: at once when woken by Reply, and every
// second for retries and jobs whose sender died mid-send.
func (a *App) dispatchLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		a.kick(ctx)
		select {
		case <-ctx.Done():
			a.senders.wg.Wait()
			return
		case <-a.wake:
		case <-tick.C:
		}
	}
}

// sendLease is how long a claimed job is ours; a job still "sending" after
// it (its sender crashed) is claimed again and resent with the same
// Message-ID.
const sendLease = 2 * time.Minute

// senders runs one sender per account with due jobs, so a slow or hung
// server (an SMTP host that takes its timeout) delays only its own
// account's replies, and each account's replies go out in order.
type senders struct {
	mu   sync.Mutex
	busy map[int64]bool
	wg   sync.WaitGroup
	sent atomic.Int64 // jobs handled, for DispatchDue
}

// dueJobs is the condition of a job to send now: queued and due, or left
// "sending" by a sender that died.
const dueJobs = "((status = ? AND next_attempt_at <= ?) OR (status = ? AND locked_until < ?))"

// kick starts a sender for every account with due jobs that has none
// running, and returns how many it started.
func (a *App) kick(ctx context.Context) int {
	now := time.Now().UTC()
	var accs []int64
	if err := a.db.WithContext(ctx).Model(&Job{}).Distinct("account_id").Where(dueJobs, Queued, now, "sending", now).Pluck("account_id", &accs).Error; err != nil {
		a.log.Error("outbox: list due jobs", "err", err)
		return 0
	}
	started := 0
	a.senders.mu.Lock()
	defer a.senders.mu.Unlock()
	if a.senders.busy == nil {
		a.senders.busy = map[int64]bool{}
	}
	for _, acc := range accs {
		if a.senders.busy[acc] {
			continue
		}
		a.senders.busy[acc] = true
		a.senders.wg.Add(1)
		started++
		go a.drain(ctx, acc)
	}
	return started
}

// drain sends the account's due jobs, oldest first, until none is left.
func (a *App) drain(ctx context.Context, acc int64) {
	defer func() {
		a.senders.mu.Lock()
		delete(a.senders.busy, acc)
		a.senders.mu.Unlock()
		a.senders.wg.Done()
	}()
	for ctx.Err() == nil {
		now := time.Now().UTC()
		var jobs []Job
		if err := a.db.WithContext(ctx).Where("account_id = ? AND "+dueJobs, acc, Queued, now, "sending", now).Order("id").Limit(20).Find(&jobs).Error; err != nil {
			a.log.Error("outbox: list due jobs", "account", acc, "err", err)
			return
		}
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			if a.claim(ctx, j, now) {
				a.send(ctx, j)
				a.senders.sent.Add(1)
			}
		}
	}
}

// DispatchDue sends every due job once, each account's in its own sender,
// waits for them, and returns how many it handled.
func (a *App) DispatchDue(ctx context.Context) int {
	before := a.senders.sent.Load()
	for ctx.Err() == nil && a.kick(ctx) > 0 {
		a.senders.wg.Wait()
	}
	a.senders.wg.Wait()
	return int(a.senders.sent.Load() - before)
}

// claim takes a job for this sender; false when another took it first.
func (a *App) claim(ctx context.Context, j Job, now time.Time) bool {
	res := a.db.WithContext(ctx).Model(&Job{}).
		Where("id = ? AND "+dueJobs, j.ID, Queued, now, "sending", now).
		Updates(map[string]any{"status": "sending", "locked_until": now.Add(sendLease), "updated_at": now})
	return res.Error == nil && res.RowsAffected == 1
}

// send delivers one claimed job and records the outcome.
func (a *App) send(ctx context.Context, j Job) {
	log := a.log.With("job", j.ID, "touch_id", j.TouchID, "account", j.AccountID)
	var ob channels.Outbound
	err := json.Unmarshal(j.Payload, &ob)
	if err == nil {
		ob.TouchID = j.TouchID
		err = a.loadFiles(ctx, j.TouchID, &ob)
	}
	var nativeID string
	if err == nil {
		var ad channels.Adapter
		if ad, err = a.accts.Adapter(ctx, j.AccountID); err == nil {
			sctx, cancel := context.WithTimeout(ctx, sendLease-10*time.Second)
			nativeID, err = ad.Send(sctx, ob)
			cancel()
		}
	}
	if ctx.Err() != nil && err != nil {
		return // shutting down: the lease expires and the job is resent
	}
	now := time.Now().UTC()
	attempts := j.Attempts + 1
	upJob := map[string]any{"attempts": attempts, "locked_until": nil, "updated_at": now}
	upTouch := map[string]any{}
	status := Sent
	if err == nil {
		upJob["status"], upJob["last_error"] = "sent", ""
		upTouch["delivery_status"] = Sent
		if nativeID != "" {
			upTouch["external_id"] = nativeID
		}
		log.Info("outbox: sent", "native_id", nativeID, "attempt", attempts)
	} else {
		var part *channels.PartialSend
		if errors.As(err, &part) && part.Delivered > ob.Delivered {
			// Keep what was delivered, so the retry sends only the rest.
			ob.Delivered = part.Delivered
			ob.Attachments = nil // kept in the blob store, loaded per attempt
			if payload, perr := json.Marshal(ob); perr == nil {
				upJob["payload"] = payload
			}
		}
		var ra *channels.RetryAfter
		wait := backoffFor(attempts)
		if errors.As(err, &ra) && ra.After > wait {
			wait = ra.After
		}
		if errors.Is(err, channels.ErrPermanent) || attempts >= a.opts.MaxAttempts {
			status = Failed
			upJob["status"] = "failed"
			upTouch["delivery_status"] = Failed
			log.Warn("outbox: failed for good", "attempt", attempts, "err", err)
		} else {
			status = Queued
			upJob["status"], upJob["next_attempt_at"] = Queued, now.Add(wait)
			log.Info("outbox: send failed, will retry", "attempt", attempts, "retry_in", wait.String(), "err", err)
		}
		upJob["last_error"] = crm.Clip(err.Error(), 1000)
	}
	cerr := a.rt.Change(context.WithoutCancel(ctx), func(tx *gorm.DB, ev *realtime.Events) error {
		if err := tx.Model(&Job{ID: j.ID}).Updates(upJob).Error; err != nil {
			return err
		}
		if len(upTouch) > 0 {
			if err := tx.Model(&crm.Touch{ID: j.TouchID}).Updates(upTouch).Error; err != nil {
				return err
			}
		}
		t, err := crm.GetTouch(tx, j.TouchID)
		if err != nil {
			return err
		}
		data := map[string]any{"delivery_status": status, "attempts": attempts}
		if e, ok := upJob["last_error"].(string); ok && e != "" {
			data["error"] = e
		}
		return ev.Add(crm.EventTouchStatus, &t.ConversationID, &t.ID, data)
	})
	if cerr != nil {
		log.Error("outbox: record outcome", "err", cerr)
	}
}

// backoffFor is the wait before attempt n+1: 2 s doubling to 10 min.
func backoffFor(attempts int) time.Duration {
	d := 2 * time.Second << min(attempts-1, 9)
	return min(d, 10*time.Minute)
}

func (a *App) loadFiles(ctx context.Context, touchID int64, ob *channels.Outbound) error {
	var files []Attachment
	if err := a.db.WithContext(ctx).Where("touch_id = ?", touchID).Order("id").Find(&files).Error; err != nil {
		return err
	}
	ob.Attachments = nil
	for _, f := range files {
		rc, err := a.opts.Blobs.Open(f.SHA256)
		if err != nil {
			return channels.Permanent(fmt.Errorf("attachment %s: %w", f.Name, err))
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		ob.Attachments = append(ob.Attachments, channels.Attachment{Name: f.Name, ContentType: f.ContentType, Data: data})
	}
	return nil
}
