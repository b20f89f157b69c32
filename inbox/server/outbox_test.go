package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// scripted is a channel whose sends fail as a script says; it stands in
// for a remote service (a WhatsApp server) here, not for our own code. The
// real adapters' Send is tested against in-test SMTP and Bot API servers.
type scripted struct {
	mu    sync.Mutex
	errs  []error // returned by successive sends; nil = success
	sent  []channels.Outbound
	calls int
}

func (s *scripted) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	report(channels.State{Phase: channels.Live})
	<-ctx.Done()
	return nil
}

func (s *scripted) Send(ctx context.Context, out channels.Outbound) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return "", err
		}
	}
	s.sent = append(s.sent, out)
	return "wamid." + out.To.Value, nil
}

func newOutboxApp(t *testing.T, ch *scripted, set ...func(*Options)) (*testApp, crm.User, crm.Conversation) {
	t.Helper()
	ta := newTestAppWith(t, func(o *Options) {
		for _, f := range set {
			f(o)
		}
	})
	ta.useAdapters(map[channels.Kind]channels.Factory{
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return ch, nil },
	})
	m := ta.user("m@example.ru", crm.Manager)
	acc := ta.account("whatsapp", "wa")
	r := ta.ingest(channels.Inbound{AccountID: acc.ID, ExternalID: "in-1", From: []channels.Handle{{Kind: "whatsapp", Value: "79131234567@s.whatsapp.net"}}, Text: "Сколько стоит?"})
	tch, _ := crm.GetTouch(ta.db, r[0].TouchID)
	conv, err := ta.AssignConversation(context.Background(), m, tch.ConversationID, &m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ta, m, conv
}

func (ta *testApp) job(touchID int64) crm.OutboxJob {
	ta.t.Helper()
	var j crm.OutboxJob
	if err := ta.db.Where("touch_id = ?", touchID).Take(&j).Error; err != nil {
		ta.t.Fatal(err)
	}
	return j
}

// due makes a queued job due now, standing in for waiting out its backoff.
func (ta *testApp) due(id int64) {
	ta.db.Model(&crm.OutboxJob{}).Where("id = ?", id).Update("next_attempt_at", time.Now().UTC().Add(-time.Second))
}

func TestReplyIsQueuedWithItsTouchAndSentByTheDispatcher(t *testing.T) {
	ch := &scripted{}
	ta, m, conv := newOutboxApp(t, ch)
	sub := ta.Hub().Subscribe(16)
	defer sub.Close()
	tch, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "15 000 ₽", Attachments: []inbox.ReplyAttachment{{Name: "price.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4")}}})
	if err != nil {
		t.Fatal(err)
	}
	if tch.Direction != crm.Outbound || tch.DeliveryStatus != crm.Queued || tch.AuthorID == nil || *tch.AuthorID != m.ID || tch.DealID == nil {
		t.Errorf("outbound touch = %+v", tch)
	}
	if ch.calls != 0 {
		t.Fatal("the request itself must never send")
	}
	c, _ := crm.GetConversation(ta.db, conv.ID)
	if c.WaitingSince != nil {
		t.Error("our reply must clear 'waiting for reply'")
	}
	if n := ta.DispatchDue(context.Background()); n != 1 {
		t.Fatalf("dispatched %d jobs", n)
	}
	got, _ := crm.GetTouch(ta.db, tch.ID)
	if got.DeliveryStatus != crm.Sent || got.ExternalID == nil || *got.ExternalID != "wamid.79131234567@s.whatsapp.net" {
		t.Errorf("after send: status %q, external id %v", got.DeliveryStatus, got.ExternalID)
	}
	if len(ch.sent) != 1 || ch.sent[0].Text != "15 000 ₽" || len(ch.sent[0].Attachments) != 1 || string(ch.sent[0].Attachments[0].Data) != "%PDF-1.4" {
		t.Errorf("sent = %+v", ch.sent)
	}
	// The reply's events (on PostgreSQL the hub gets them, and the setup's,
	// from the relay, a moment later).
	var types []string
	timeout := time.After(5 * time.Second)
	for len(types) < 2 {
		select {
		case e := <-sub.C:
			if e.TouchID != nil && *e.TouchID == tch.ID {
				types = append(types, e.Type)
			}
			continue
		case <-timeout:
		}
		break
	}
	if len(types) != 2 || types[0] != crm.EventTouchAdded || types[1] != crm.EventTouchStatus {
		t.Errorf("events = %v, want touch.added then touch.status", types)
	}
	if ta.DispatchDue(context.Background()) != 0 || ch.calls != 1 {
		t.Error("a sent job must not be sent again")
	}
}

func TestDispatcherRetriesWithBackoffThenFails(t *testing.T) {
	down := errors.New("connection refused")
	ch := &scripted{errs: []error{down, &channels.RetryAfter{After: time.Hour, Err: errors.New("429")}, down}}
	ta, m, conv := newOutboxApp(t, ch, func(o *Options) { o.MaxAttempts = 3 })
	tch, _ := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "hi"})

	ta.DispatchDue(context.Background())
	j := ta.job(tch.ID)
	if j.Status != crm.Queued || j.Attempts != 1 || j.LastError == "" || !j.NextAttemptAt.After(time.Now()) {
		t.Fatalf("after a failure: %+v", j)
	}
	if ta.DispatchDue(context.Background()) != 0 {
		t.Error("a job in backoff must wait")
	}
	ta.due(j.ID)
	ta.DispatchDue(context.Background())
	j = ta.job(tch.ID)
	if wait := time.Until(j.NextAttemptAt); wait < 50*time.Minute {
		t.Errorf("retry_after of an hour gave a wait of %s", wait)
	}
	ta.due(j.ID)
	ta.DispatchDue(context.Background())
	j = ta.job(tch.ID)
	got, _ := crm.GetTouch(ta.db, tch.ID)
	if j.Status != "failed" || got.DeliveryStatus != crm.Failed || j.LastError != "connection refused" {
		t.Errorf("after the last attempt: job %+v, touch %q", j, got.DeliveryStatus)
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	ch := &scripted{errs: []error{channels.Permanent(errors.New("recipient blocked the bot"))}}
	ta, m, conv := newOutboxApp(t, ch)
	tch, _ := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "hi"})
	ta.DispatchDue(context.Background())
	if j := ta.job(tch.ID); j.Status != "failed" || j.Attempts != 1 {
		t.Errorf("job = %+v", j)
	}
}

func TestAJobWhoseSenderDiedIsResentWithTheSameMessageID(t *testing.T) {
	ch := &scripted{}
	ta, m, conv := newOutboxApp(t, ch)
	tch, _ := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "hi"})
	j := ta.job(tch.ID)
	// Another replica claimed it and died: the lease is still running.
	if ok, err := crm.ClaimOutboxJob(ta.db, j.ID, time.Now().UTC(), 2*time.Minute); !ok || err != nil {
		t.Fatal("claim", err)
	}
	if ta.DispatchDue(context.Background()) != 0 {
		t.Fatal("a leased job must not be sent twice at once")
	}
	ta.db.Model(&crm.OutboxJob{}).Where("id = ?", j.ID).Update("locked_until", time.Now().UTC().Add(-time.Second))
	if ta.DispatchDue(context.Background()) != 1 || len(ch.sent) != 1 {
		t.Fatal("an expired lease must be resent")
	}
	if ch.sent[0].MessageID != j.MessageID {
		t.Errorf("resent with message id %q, written as %q", ch.sent[0].MessageID, j.MessageID)
	}
}

func TestReplyChecksWhatTheManagerMaySee(t *testing.T) {
	ch := &scripted{}
	ta, _, conv := newOutboxApp(t, ch)
	other := ta.user("o@example.ru", crm.Manager)
	_, err := ta.Reply(context.Background(), other, conv.ID, inbox.ReplyRequest{Text: "hi"})
	if !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("another manager's reply: %v, want not found", err)
	}
	if n := ta.count("outbox", ""); n != 0 {
		t.Errorf("outbox rows = %d", n)
	}
}

// Answering a WhatsApp writer by email starts an email thread whose root
// is our message: the client's answer (References: <our Message-ID>)
// comes back into that conversation, and a second email goes to the same
// thread, not a new one each time.
func TestAnEmailReplyFromAnotherChannelThreadsTheClientsAnswer(t *testing.T) {
	ta, m, conv := newOutboxApp(t, &scripted{})
	if _, err := crm.AddIdentity(ta.db, conv.ContactID, crm.Key{Kind: crm.EmailID, Value: "client@example.ru"}, ""); err != nil {
		t.Fatal(err)
	}
	mail := ta.account("email", "mail")
	out, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{AccountID: mail.ID, Subject: "Коммерческое предложение", Text: "Отправляю КП"})
	if err != nil {
		t.Fatal(err)
	}
	j := ta.job(out.ID)
	thread, _ := crm.GetConversation(ta.db, out.ConversationID)
	if out.ConversationID == conv.ID || thread.AccountID != mail.ID || thread.ThreadKey != j.MessageID || j.MessageID == "" {
		t.Fatalf("email conversation %+v, job Message-ID %q", thread, j.MessageID)
	}
	if thread.Subject != "Re: Коммерческое предложение" && thread.Subject != "Коммерческое предложение" {
		t.Errorf("subject %q", thread.Subject)
	}
	// The client answers: the parser keys the thread by References[0].
	res := ta.ingest(channels.Inbound{AccountID: mail.ID, ExternalID: "answer-1@example.ru", Kind: channels.Mail, ThreadKey: j.MessageID,
		From: []channels.Handle{{Kind: "email", Value: "client@example.ru"}}, Subject: "Re: Коммерческое предложение", Text: "Спасибо"})
	ans, _ := crm.GetTouch(ta.db, res[0].TouchID)
	if ans.ConversationID != thread.ID {
		t.Errorf("the answer went to conversation %d, want the thread %d", ans.ConversationID, thread.ID)
	}
	again, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{AccountID: mail.ID, Text: "И ещё"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ConversationID != thread.ID {
		t.Errorf("a second email opened conversation %d, want the thread %d", again.ConversationID, thread.ID)
	}
}

// A reply belongs to the open deal: after the client's deal was won and
// they came back with a new one, replies in the old conversation link to
// the new deal; with no open deal at all, a reply is unlinked (flagged),
// not filed under a closed deal.
func TestAReplyLinksToTheOpenDealNotAClosedOne(t *testing.T) {
	ta, m, conv := newOutboxApp(t, &scripted{})
	first := *conv.DealID
	if _, err := crm.WinDeal(ta.db, first, 150000_00); err != nil {
		t.Fatal(err)
	}
	out, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "Спасибо за заказ!"})
	if err != nil {
		t.Fatal(err)
	}
	if out.DealID != nil {
		t.Errorf("with no open deal the reply is on deal %d; want unlinked", *out.DealID)
	}
	d, _, err := ta.OpenDealForTouch(context.Background(), m, out.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "Пришлём замерщика"})
	if err != nil {
		t.Fatal(err)
	}
	if again.DealID == nil || *again.DealID != d.ID {
		t.Errorf("reply on deal %v, want the open deal %d (the won one is %d)", again.DealID, d.ID, first)
	}
	c, _ := crm.GetConversation(ta.db, conv.ID)
	if c.DealID == nil || *c.DealID != d.ID {
		t.Errorf("conversation on deal %v, want %d", c.DealID, d.ID)
	}
}

// blocking is a channel whose server hangs until released (an SMTP host
// taking its timeout); it stands in for the remote server.
type blocking struct{ release chan struct{} }

func (b *blocking) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	<-ctx.Done()
	return nil
}

func (b *blocking) Send(ctx context.Context, out channels.Outbound) (string, error) {
	select {
	case <-b.release:
		return "late-1", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// A hung server delays only its own account's replies: a WhatsApp reply
// goes out while the Telegram account's send is still stuck.
func TestAHungChannelDoesNotHoldUpAnotherChannelsReplies(t *testing.T) {
	wa := &scripted{}
	ta, m, conv := newOutboxApp(t, wa)
	tg := &blocking{release: make(chan struct{})}
	ta.useAdapters(map[channels.Kind]channels.Factory{
		channels.WhatsApp: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return wa, nil },
		channels.Telegram: func(channels.Account, *slog.Logger) (channels.Adapter, error) { return tg, nil },
	})
	bot := ta.account("telegram", "bot")
	if _, err := crm.AddIdentity(ta.db, conv.ContactID, crm.Key{Kind: crm.TelegramID, Value: "5550001"}, ""); err != nil {
		t.Fatal(err)
	}
	stuck, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{AccountID: bot.ID, Text: "Через Telegram"})
	if err != nil {
		t.Fatal(err)
	}
	quick, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "Через WhatsApp"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- ta.DispatchDue(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := crm.GetTouch(ta.db, quick.ID)
		if got.DeliveryStatus == crm.Sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the WhatsApp reply is %q while Telegram hangs; want sent", got.DeliveryStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, _ := crm.GetTouch(ta.db, stuck.ID); got.DeliveryStatus == crm.Sent {
		t.Fatal("the hung Telegram send cannot have finished")
	}
	close(tg.release)
	if n := <-done; n != 2 {
		t.Errorf("DispatchDue handled %d jobs, want 2", n)
	}
	if got, _ := crm.GetTouch(ta.db, stuck.ID); got.DeliveryStatus != crm.Sent {
		t.Errorf("after the server answers: %q, want sent", got.DeliveryStatus)
	}
}

// WhatsApp reaches a phone number: a Telegram writer who shared their
// number (a phone identity, no WhatsApp one) is answered on WhatsApp at
// that number's JID.
func TestAWhatsAppReplyReachesAContactKnownOnlyByPhone(t *testing.T) {
	wa := &scripted{}
	ta, m, _ := newOutboxApp(t, wa)
	bot := ta.account("telegram", "bot")
	r := ta.ingest(channels.Inbound{AccountID: bot.ID, ExternalID: "tg-1", From: []channels.Handle{{Kind: "telegram", Value: "5550002"}, {Kind: "phone", Value: "+7 923 555-66-77"}}, Text: "Мой номер"})
	tch, _ := crm.GetTouch(ta.db, r[0].TouchID)
	var waAcc crm.Account
	if err := ta.db.Where("channel = ?", "whatsapp").Take(&waAcc).Error; err != nil {
		t.Fatal(err)
	}
	out, err := ta.Reply(context.Background(), m, tch.ConversationID, inbox.ReplyRequest{AccountID: waAcc.ID, Text: "Пишем вам в WhatsApp"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Handle != "whatsapp:79235556677@s.whatsapp.net" {
		t.Errorf("reply to %q, want the phone's WhatsApp JID", out.Handle)
	}
	ta.DispatchDue(context.Background())
	if len(wa.sent) != 1 || wa.sent[0].To.Value != "79235556677@s.whatsapp.net" {
		t.Errorf("sent = %+v", wa.sent)
	}
}

// Disabling an account stops its sends at once: what was queued waits, a
// new reply through it is refused with the reason, and enabling it again
// sends what waited (issue 14, item 4).
func TestADisabledAccountSendsNothingUntilEnabledAgain(t *testing.T) {
	ch := &scripted{}
	ta, m, conv := newOutboxApp(t, ch)
	owner := ta.user("owner@example.ru", crm.Owner)
	ctx := context.Background()
	queued, err := ta.Reply(ctx, m, conv.ID, inbox.ReplyRequest{Text: "Цена 15 000 ₽"})
	if err != nil {
		t.Fatal(err)
	}
	off, on := false, true
	if _, err := ta.SaveAccount(ctx, owner, conv.AccountID, crm.AccountInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if n := ta.DispatchDue(ctx); n != 0 || ch.calls != 0 {
		t.Fatalf("a disabled account sent: %d dispatched, %d sends", n, ch.calls)
	}
	if got, _ := crm.GetTouch(ta.db, queued.ID); got.DeliveryStatus != crm.Queued {
		t.Errorf("the waiting reply is %q, want queued", got.DeliveryStatus)
	}
	_, err = ta.Reply(ctx, m, conv.ID, inbox.ReplyRequest{Text: "Ещё одно"})
	if !errors.Is(err, crm.ErrInvalid) || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("a reply through a disabled account: %v; want refused as disabled", err)
	}
	if n := ta.count("touches", "body = ?", "Ещё одно"); n != 0 {
		t.Errorf("the refused reply was stored (%d)", n)
	}
	if _, err := ta.SaveAccount(ctx, owner, conv.AccountID, crm.AccountInput{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if n := ta.DispatchDue(ctx); n != 1 || len(ch.sent) != 1 || ch.sent[0].Text != "Цена 15 000 ₽" {
		t.Fatalf("after enabling: %d dispatched, sent %+v", n, ch.sent)
	}
}

// A channel id that another touch of the account already has (a channel
// that reuses ids) must not undo the record of a send that went out: the
// reply is sent once, marked sent, and never sent again (issue 14, item 18).
func TestASentReplyWhoseChannelIDCollidesIsSentOnce(t *testing.T) {
	ch := &scripted{}
	ta, m, conv := newOutboxApp(t, ch)
	// The id the channel will answer with is already a stored touch's.
	ta.ingest(channels.Inbound{AccountID: conv.AccountID, ExternalID: "wamid.79131234567@s.whatsapp.net",
		From: []channels.Handle{{Kind: "whatsapp", Value: "79131234567@s.whatsapp.net"}}, Text: "ещё вопрос"})
	tch, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	ta.DispatchDue(context.Background())
	j := ta.job(tch.ID)
	ta.db.Model(&crm.OutboxJob{}).Where("id = ?", j.ID).Update("locked_until", time.Now().UTC().Add(-time.Second))
	ta.DispatchDue(context.Background())
	if j = ta.job(tch.ID); j.Status != crm.Sent || len(ch.sent) != 1 {
		t.Fatalf("job %s after %d sends, want sent once", j.Status, len(ch.sent))
	}
	if got, _ := crm.GetTouch(ta.db, tch.ID); got.DeliveryStatus != crm.Sent {
		t.Errorf("touch status %q", got.DeliveryStatus)
	}
}

// A job whose sends keep being interrupted before their result is
// recorded fails after crm.MaxInterrupted, saying why, instead of being
// sent again every lease (issue 14, item 18).
func TestAJobInterruptedTooOftenFailsInsteadOfResending(t *testing.T) {
	ch := &scripted{}
	ta, m, conv := newOutboxApp(t, ch)
	tch, _ := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "hi"})
	j := ta.job(tch.ID)
	for i := 0; i < crm.MaxInterrupted; i++ { // a sender claims it and dies, again and again
		if ok, err := crm.ClaimOutboxJob(ta.db, j.ID, time.Now().UTC(), 2*time.Minute); !ok || err != nil {
			t.Fatal("claim", err)
		}
		ta.db.Model(&crm.OutboxJob{}).Where("id = ?", j.ID).Update("locked_until", time.Now().UTC().Add(-time.Second))
	}
	ta.DispatchDue(context.Background())
	j = ta.job(tch.ID)
	if j.Status != crm.Failed || len(ch.sent) != 0 || !strings.Contains(j.LastError, "not sent again") {
		t.Fatalf("job %s, %d sends, error %q: want failed unsent", j.Status, len(ch.sent), j.LastError)
	}
	if got, _ := crm.GetTouch(ta.db, tch.ID); got.DeliveryStatus != crm.Failed {
		t.Errorf("touch status %q", got.DeliveryStatus)
	}
}

// A reply whose send keeps failing says why over REST too (attempts, the
// last error, the next try survive a reload), and the account whose
// sending fails shows failing, not live, until a send goes through
// (issue 14, item 15).
func TestSendFailuresShowOnTheTimelineAndTheAccount(t *testing.T) {
	ch := &scripted{errs: []error{errors.New("smtp: 421 service not available")}}
	ta, m, conv := newOutboxApp(t, ch)
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); ta.Wait() }()
	if err := ta.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitState(t, ta, conv.AccountID, channels.Live)
	tch, err := ta.Reply(ctx, m, conv.ID, inbox.ReplyRequest{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ta, conv.AccountID, channels.Failing)
	if !strings.Contains(st.Error, "sending: smtp: 421") {
		t.Errorf("account state %+v", st)
	}
	var d inbox.ConversationDetail
	must(t, ta.login("m@example.ru"), 200, "GET", fmt.Sprintf("/api/v1/conversations/%d", conv.ID), nil, &d)
	if len(d.Sending) != 1 || d.Sending[0].TouchID != tch.ID || d.Sending[0].Attempts != 1 || !strings.Contains(d.Sending[0].LastError, "421") || d.Sending[0].NextAttemptAt == nil {
		t.Fatalf("sending states over REST: %+v", d.Sending)
	}
	ta.db.Model(&crm.OutboxJob{}).Where("touch_id = ?", tch.ID).Update("next_attempt_at", time.Now().UTC().Add(-time.Second))
	ta.s.Outbox.Wake()
	waitState(t, ta, conv.AccountID, channels.Live)
	if j := ta.job(tch.ID); j.Status != crm.Sent {
		t.Errorf("job %s", j.Status)
	}
}
