package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

func phoneIn(acc int64, ext, phone string) channels.Inbound {
	return channels.Inbound{AccountID: acc, ExternalID: ext, From: []channels.Handle{{Kind: "phone", Value: phone}}, Text: "hello " + ext}
}

func (ta *testApp) ingest(ins ...channels.Inbound) []channels.Result {
	ta.t.Helper()
	res, err := ta.Ingest(context.Background(), ins)
	if err != nil {
		ta.t.Fatalf("ingest: %v", err)
	}
	return res
}

func (ta *testApp) count(table, where string, args ...any) int64 {
	ta.t.Helper()
	var n int64
	q := ta.db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		ta.t.Fatal(err)
	}
	return n
}

func TestIngestFirstTouchCreatesContactConversationAndDeal(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	sub := ta.Hub().Subscribe(16)
	defer sub.Close()

	in := phoneIn(acc.ID, "call-1", "8 (383) 234-90-96")
	in.EntryPoint, in.SourceHint, in.Name, in.Cursor = "+73832000000", "Yandex Direct", "Иван Петров", "evt-1"
	res := ta.ingest(in)
	if res[0].Err != nil || res[0].TouchID == 0 || res[0].Duplicate {
		t.Fatalf("result = %+v", res[0])
	}
	tch, err := crm.GetTouch(ta.db, res[0].TouchID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := crm.GetContact(ta.db, tch.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Иван Петров" || len(c.Identities) != 1 || c.Identities[0].Handle() != "phone:+73832349096" {
		t.Errorf("contact = %+v", c)
	}
	src, err := crm.AdSourceByName(ta.db, "Yandex Direct", false)
	if err != nil {
		t.Fatalf("ad source from the entry point's hint: %v", err)
	}
	if tch.AdSourceID == nil || *tch.AdSourceID != src.ID || tch.EntryPointID == nil {
		t.Errorf("touch not stamped with entry point and source: %+v", tch)
	}
	if tch.Kind != "call" || tch.Channel != "phone" || tch.Direction != crm.Inbound {
		t.Errorf("touch kind/channel/direction = %s/%s/%s", tch.Kind, tch.Channel, tch.Direction)
	}
	if tch.DealID == nil {
		t.Fatal("a new contact's first touch must open a deal (rule 2)")
	}
	d, _ := crm.GetDeal(ta.db, *tch.DealID)
	if d.Status != crm.DealOpen || d.AdSourceID == nil || *d.AdSourceID != src.ID || d.Currency != "RUB" {
		t.Errorf("deal = %+v", d)
	}
	conv, _ := crm.GetConversation(ta.db, tch.ConversationID)
	if conv.WaitingSince == nil || conv.Status != crm.ConvOpen || conv.DealID == nil || *conv.DealID != d.ID || conv.Channel != "phone" {
		t.Errorf("conversation = %+v", conv)
	}
	if got, _ := crm.GetAccount(ta.db, acc.ID); got.Cursor != "evt-1" {
		t.Errorf("cursor = %q, want it stored with the touch", got.Cursor)
	}
	for _, action := range []string{"contact.create", "deal.open"} {
		if n := ta.count("audit_log", "action = ?", action); n != 1 {
			t.Errorf("audit %s rows = %d", action, n)
		}
	}
	if _, err := crm.VerifyAudit(ta.db); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	select {
	case ev := <-sub.C:
		if ev.Type != crm.EventTouchAdded || ev.TouchID == nil || *ev.TouchID != tch.ID || ev.ID == 0 {
			t.Errorf("event = %+v", ev)
		}
	case <-time.After(time.Second):
		t.Fatal("no event published after commit")
	}
}

func TestIngestIsIdempotent(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	first := ta.ingest(phoneIn(acc.ID, "call-1", "+7 383 234 90 96"))
	// Redelivered alone, and twice inside one batch.
	again := ta.ingest(phoneIn(acc.ID, "call-1", "+7 383 234 90 96"))
	batch := ta.ingest(phoneIn(acc.ID, "call-2", "73832349096"), phoneIn(acc.ID, "call-2", "73832349096"))
	if !again[0].Duplicate || again[0].TouchID != first[0].TouchID {
		t.Errorf("redelivery = %+v, want duplicate of %d", again[0], first[0].TouchID)
	}
	if batch[0].Duplicate || !batch[1].Duplicate || batch[0].TouchID != batch[1].TouchID {
		t.Errorf("in-batch duplicate = %+v", batch)
	}
	if n := ta.count("touches", ""); n != 2 {
		t.Errorf("touches = %d, want 2", n)
	}
	if n := ta.count("contacts", ""); n != 1 {
		t.Errorf("three formats of one number made %d contacts", n)
	}
	if n := ta.count("deals", ""); n != 1 {
		t.Errorf("deals = %d, want 1", n)
	}
	// The same external id on another account is another touch.
	other := ta.account("phone", "pbx-2")
	if r := ta.ingest(phoneIn(other.ID, "call-1", "+73832349096")); r[0].Duplicate {
		t.Error("external ids are per account")
	}
}

func TestIngestDealLinkRules(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	ctx := context.Background()
	touch := func(ext, phone string) crm.Touch {
		t.Helper()
		r := ta.ingest(phoneIn(acc.ID, ext, phone))
		if r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
		tch, _ := crm.GetTouch(ta.db, r[0].TouchID)
		return tch
	}
	// Rule 1: one open deal → linked to it.
	t1 := touch("a1", "+79131111111")
	t2 := touch("a2", "+79131111111")
	if t2.DealID == nil || *t2.DealID != *t1.DealID {
		t.Errorf("rule 1: second touch deal %v, want %v", t2.DealID, *t1.DealID)
	}
	// Rule 3: several open deals → unlinked.
	extra := crm.Deal{ContactID: t1.ContactID, Currency: "RUB"}
	if err := crm.OpenDeal(ta.db, &extra); err != nil {
		t.Fatal(err)
	}
	if t3 := touch("a3", "+79131111111"); t3.DealID != nil || !t3.Unlinked() {
		t.Errorf("rule 3 (two open deals): touch linked to %v", *t3.DealID)
	}
	// Rule 3: only closed deals → unlinked.
	t4 := touch("b1", "+79132222222")
	if _, err := crm.LoseDeal(ta.db, *t4.DealID, "no budget"); err != nil {
		t.Fatal(err)
	}
	if t5 := touch("b2", "+79132222222"); t5.DealID != nil {
		t.Errorf("rule 3 (only closed deals): touch linked to %d", *t5.DealID)
	}
	// An entry point that does not open deals, and automated mail.
	ep, err := crm.CreateEntryPoint(ta.db, acc.ID, "+73830000000", false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := phoneIn(acc.ID, "c1", "+79133333333")
	in.EntryPoint = ep.Address
	auto := phoneIn(acc.ID, "d1", "+79134444444")
	auto.Automated = true
	res, _ := ta.Ingest(ctx, []channels.Inbound{in, auto})
	for i, r := range res {
		if tch, _ := crm.GetTouch(ta.db, r.TouchID); tch.DealID != nil {
			t.Errorf("touch %d opened a deal despite auto_deal=false / automated", i)
		}
	}
	if n := ta.count("deals", "contact_id IN (SELECT contact_id FROM touches WHERE external_id IN ('c1','d1'))"); n != 0 {
		t.Errorf("deals for no-auto-deal touches = %d", n)
	}
}

func TestIngestRejectsBadEventsAndKeepsTheRest(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	batch := []channels.Inbound{
		phoneIn(acc.ID, "ok-1", "+79135555555"),
		phoneIn(acc.ID, "bad-phone", "2349096"),
		phoneIn(acc.ID, "", "+79136666666"),
		{AccountID: acc.ID, ExternalID: "no-sender"},
		phoneIn(9999, "no-account", "+79137777777"),
		phoneIn(acc.ID, "ok-2", "+79138888888"),
	}
	batch[5].Text = "nul\x00byte"
	batch[5].Cursor = "after-ok-2"
	res, err := ta.Ingest(context.Background(), batch)
	if err != nil {
		t.Fatalf("batch error %v: one bad event must not fail the batch", err)
	}
	for i, want := range []bool{true, false, false, false, false, true} {
		if stored := res[i].Err == nil && res[i].TouchID != 0; stored != want {
			t.Errorf("event %d (%s): stored=%v err=%v, want stored=%v", i, batch[i].ExternalID, stored, res[i].Err, want)
		}
		if !want && !errors.Is(res[i].Err, crm.ErrInvalid) {
			t.Errorf("event %d: error %v is not ErrInvalid", i, res[i].Err)
		}
	}
	if n := ta.count("touches", ""); n != 2 {
		t.Errorf("touches = %d, want 2", n)
	}
	if got, _ := crm.GetAccount(ta.db, acc.ID); got.Cursor != "after-ok-2" {
		t.Errorf("cursor = %q", got.Cursor)
	}
}

func TestConcurrentFirstMessagesFromOneNumberMakeOneContactAndOneDeal(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	for round := 0; round < 8; round++ {
		phone := fmt.Sprintf("+7913%07d", 1000000+round)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := ta.Ingest(context.Background(), []channels.Inbound{phoneIn(acc.ID, fmt.Sprintf("r%d-g%d", round, g), phone)})
				if err == nil {
					err = res[0].Err
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		contacts := ta.count("identities", "kind = 'phone' AND value = ?", phone)
		var deals int64
		ta.db.Table("deals").Where("contact_id IN (SELECT contact_id FROM identities WHERE value = ?)", phone).Count(&deals)
		var touches int64
		ta.db.Table("touches").Where("contact_id IN (SELECT contact_id FROM identities WHERE value = ?)", phone).Count(&touches)
		if contacts != 1 || deals != 1 || touches != 4 {
			t.Fatalf("round %d: %d contacts, %d deals, %d touches; want 1, 1, 4", round, contacts, deals, touches)
		}
	}
	if n := ta.count("contacts", ""); n != 8 {
		t.Errorf("contacts = %d, want 8", n)
	}
}

func TestWhatsAppWriterAndCallerAreOneContact(t *testing.T) {
	ta := newTestApp(t)
	wa := ta.account("whatsapp", "wa")
	pbx := ta.account("phone", "pbx")
	r1 := ta.ingest(channels.Inbound{AccountID: wa.ID, ExternalID: "wamid-1", From: []channels.Handle{{Kind: "whatsapp", Value: "79131234567@s.whatsapp.net"}}, Text: "Здравствуйте"})
	r2 := ta.ingest(phoneIn(pbx.ID, "call-9", "8 913 123-45-67"))
	t1, _ := crm.GetTouch(ta.db, r1[0].TouchID)
	t2, _ := crm.GetTouch(ta.db, r2[0].TouchID)
	if t1.ContactID != t2.ContactID {
		t.Fatalf("WhatsApp writer %d and caller %d are different contacts", t1.ContactID, t2.ContactID)
	}
	c, _ := crm.GetContact(ta.db, t1.ContactID)
	if len(c.Identities) != 2 {
		t.Errorf("identities = %+v, want whatsapp + phone", c.Identities)
	}
	if t1.ConversationID == t2.ConversationID {
		t.Error("a conversation is per account: WhatsApp and phone must be two")
	}
	if t2.DealID == nil || *t2.DealID != *t1.DealID {
		t.Error("the call must join the deal the WhatsApp message opened")
	}
}

func TestTouchesAreAttributedByTheBindingInForceAtTheirTime(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	yandex, _ := crm.CreateAdSource(ta.db, "Yandex")
	avito, _ := crm.CreateAdSource(ta.db, "Avito")
	ep, err := crm.CreateEntryPoint(ta.db, acc.ID, "+73832000000", true, &yandex.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := crm.Bind(ta.db, ep.ID, &avito.ID, march, nil); err != nil {
		t.Fatal(err)
	}
	before := phoneIn(acc.ID, "feb", "+79131000001")
	before.EntryPoint, before.At = ep.Address, march.Add(-time.Minute)
	after := phoneIn(acc.ID, "mar", "+79131000002")
	after.EntryPoint, after.At = ep.Address, march.Add(time.Minute)
	res := ta.ingest(before, after)
	for i, want := range []int64{yandex.ID, avito.ID} {
		tch, _ := crm.GetTouch(ta.db, res[i].TouchID)
		if tch.AdSourceID == nil || *tch.AdSourceID != want {
			t.Errorf("touch %d source = %v, want %d", i, tch.AdSourceID, want)
		}
		d, _ := crm.GetDeal(ta.db, *tch.DealID)
		if d.AdSourceID == nil || *d.AdSourceID != want {
			t.Errorf("deal %d source = %v, want %d", i, d.AdSourceID, want)
		}
	}
}

func TestInboundReopensAClosedConversationAndWaitsForReply(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("telegram", "bot")
	in := channels.Inbound{AccountID: acc.ID, ExternalID: "1", From: []channels.Handle{{Kind: "telegram", Value: "123456789"}}, Text: "привет"}
	r := ta.ingest(in)
	tch, _ := crm.GetTouch(ta.db, r[0].TouchID)
	if _, err := crm.SetConversationStatus(ta.db, tch.ConversationID, crm.ConvClosed, nil); err != nil {
		t.Fatal(err)
	}
	ta.db.Exec("UPDATE conversations SET waiting_since = NULL WHERE id = ?", tch.ConversationID)
	in.ExternalID, in.Text = "2", "ещё вопрос"
	r2 := ta.ingest(in)
	t2, _ := crm.GetTouch(ta.db, r2[0].TouchID)
	conv, _ := crm.GetConversation(ta.db, t2.ConversationID)
	if conv.ID != tch.ConversationID || conv.Status != crm.ConvOpen || conv.WaitingSince == nil || conv.LastText != "ещё вопрос" {
		t.Errorf("conversation after a new message: %+v", conv)
	}
}

func TestResponsibleManagerGetsTheConversation(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	m := ta.user("m@example.ru", crm.Manager)
	r := ta.ingest(phoneIn(acc.ID, "1", "+79131000003"))
	tch, _ := crm.GetTouch(ta.db, r[0].TouchID)
	if _, err := crm.UpdateContact(ta.db, tch.ContactID, crm.ContactPatch{ResponsibleID: &m.ID}); err != nil {
		t.Fatal(err)
	}
	other := ta.account("email", "mail")
	r2 := ta.ingest(channels.Inbound{AccountID: other.ID, ExternalID: "<x@y>", From: []channels.Handle{{Kind: "phone", Value: "+79131000003"}}})
	t2, _ := crm.GetTouch(ta.db, r2[0].TouchID)
	conv, _ := crm.GetConversation(ta.db, t2.ConversationID)
	if conv.AssigneeID == nil || *conv.AssigneeID != m.ID {
		t.Errorf("new conversation of a contact with a responsible manager: assignee %v, want %d", conv.AssigneeID, m.ID)
	}
}

// A batch item can reach a stored contact only through an identity an
// earlier item of the same batch added; it must still find that contact's
// conversation on its thread, not open a second one.
func TestIngestFindsConversationThroughAnIdentityAddedInTheBatch(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("email", "mail")
	first := channels.Inbound{AccountID: acc.ID, ExternalID: "m1", ThreadKey: "thread-a", Kind: channels.Mail,
		From: []channels.Handle{{Kind: "email", Value: "ivan@example.ru"}}, Subject: "Quote", Text: "hello"}
	r := ta.ingest(first)
	stored, _ := crm.GetTouch(ta.db, r[0].TouchID)

	// One batch: the first item names the stored address and a new phone;
	// the second comes from that phone only, on the stored thread.
	a := channels.Inbound{AccountID: acc.ID, ExternalID: "m2", ThreadKey: "thread-b", Kind: channels.Mail,
		From: []channels.Handle{{Kind: "email", Value: "ivan@example.ru"}, {Kind: "phone", Value: "+7 913 000-11-22"}}, Text: "new thread"}
	b := channels.Inbound{AccountID: acc.ID, ExternalID: "m3", ThreadKey: "thread-a", Kind: channels.Mail,
		From: []channels.Handle{{Kind: "phone", Value: "+7 913 000-11-22"}}, Text: "back on the first thread"}
	res := ta.ingest(a, b)
	ta2, _ := crm.GetTouch(ta.db, res[0].TouchID)
	tb, _ := crm.GetTouch(ta.db, res[1].TouchID)
	if ta2.ContactID != stored.ContactID || tb.ContactID != stored.ContactID {
		t.Fatalf("contacts %d, %d; want both %d", ta2.ContactID, tb.ContactID, stored.ContactID)
	}
	if tb.ConversationID != stored.ConversationID {
		t.Errorf("second item opened conversation %d; want the stored thread's %d", tb.ConversationID, stored.ConversationID)
	}
	if ta2.ConversationID == stored.ConversationID {
		t.Error("a new thread joined the old conversation")
	}
	if n := ta.count("conversations", ""); n != 2 {
		t.Errorf("%d conversations, want 2", n)
	}
}

// A backfill of old mail dates the clients, deals and conversations it
// creates by their first message, not by the import; a clock ahead of ours
// never dates them in the future.
func TestIngestDatesWhatItCreatesByTheTouch(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("email", "mail")
	old := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	in := channels.Inbound{AccountID: acc.ID, ExternalID: "old-1", Kind: channels.Mail, At: old,
		From: []channels.Handle{{Kind: "email", Value: "old@example.ru"}}, Subject: "Кухня", Text: "Сколько стоит?"}
	ahead := channels.Inbound{AccountID: acc.ID, ExternalID: "ahead-1", Kind: channels.Mail, At: time.Now().Add(48 * time.Hour),
		From: []channels.Handle{{Kind: "email", Value: "ahead@example.ru"}}, Text: "Hello"}
	res := ta.ingest(in, ahead)
	for i, want := range []time.Time{old, time.Now()} {
		tch, err := crm.GetTouch(ta.db, res[i].TouchID)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := crm.GetContact(ta.db, tch.ContactID)
		d, _ := crm.GetDeal(ta.db, *tch.DealID)
		conv, _ := crm.GetConversation(ta.db, tch.ConversationID)
		for what, got := range map[string]time.Time{"contact": c.CreatedAt, "deal": d.CreatedAt, "conversation": conv.CreatedAt, "identity": c.Identities[0].CreatedAt} {
			if got.Sub(want).Abs() > time.Minute {
				t.Errorf("touch %d: %s created %v, want %v", i, what, got, want)
			}
		}
	}
}

// A conversation is about the deal its latest touch is on: when a won
// client's next message links to their new open deal, the conversation
// moves to it; an unlinked message leaves it where it was.
func TestIngestMovesTheConversationToTheLatestTouchsDeal(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("phone", "pbx")
	r1 := ta.ingest(phoneIn(acc.ID, "c-1", "+7 913 111-22-33"))
	t1, _ := crm.GetTouch(ta.db, r1[0].TouchID)
	if _, err := crm.WinDeal(ta.db, *t1.DealID, 99_000_00); err != nil {
		t.Fatal(err)
	}
	// Only a closed deal: the next call is unlinked, the conversation keeps its deal.
	r2 := ta.ingest(phoneIn(acc.ID, "c-2", "+7 913 111-22-33"))
	t2, _ := crm.GetTouch(ta.db, r2[0].TouchID)
	conv, _ := crm.GetConversation(ta.db, t1.ConversationID)
	if t2.ConversationID != t1.ConversationID || t2.DealID != nil || conv.DealID == nil || *conv.DealID != *t1.DealID {
		t.Fatalf("unlinked call: touch %+v, conversation deal %v", t2, conv.DealID)
	}
	// A new deal is opened for them; the next call links to it, and so does the conversation.
	d := crm.Deal{ContactID: t1.ContactID, Title: "Шкаф-купе", Currency: "RUB"}
	if err := crm.OpenDeal(ta.db, &d); err != nil {
		t.Fatal(err)
	}
	r3 := ta.ingest(phoneIn(acc.ID, "c-3", "+7 913 111-22-33"))
	t3, _ := crm.GetTouch(ta.db, r3[0].TouchID)
	conv, _ = crm.GetConversation(ta.db, t1.ConversationID)
	if t3.DealID == nil || *t3.DealID != d.ID || conv.DealID == nil || *conv.DealID != d.ID {
		t.Errorf("touch on deal %v, conversation on %v; want both on the new deal %d", t3.DealID, conv.DealID, d.ID)
	}
}

// Threading by the messages a reply answers: when a mail program cut
// References short (the thread key names no known thread), the reply joins
// the conversation holding its parent — stored, or opened earlier in the
// same batch — but only the same contact's.
func TestIngestThreadsARepliesByItsParentsWhenTheThreadKeyIsUnknown(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("email", "mail")
	mail := func(id, thread, from string, parents ...string) channels.Inbound {
		return channels.Inbound{AccountID: acc.ID, ExternalID: id, Kind: channels.Mail, ThreadKey: thread, Parents: parents,
			From: []channels.Handle{{Kind: "email", Value: from}}, Subject: "Кухня", Text: id}
	}
	conv := func(r channels.Result) int64 {
		tch, err := crm.GetTouch(ta.db, r.TouchID)
		if err != nil {
			t.Fatal(err)
		}
		return tch.ConversationID
	}
	root := ta.ingest(mail("a@x", "a@x", "ivan@example.ru"))[0]
	// b answers a reply we never got (b's References start at r@x), with a@x further up.
	b := ta.ingest(mail("b@x", "r@x", "ivan@example.ru", "r@x", "a@x"))[0]
	if conv(b) != conv(root) {
		t.Errorf("b opened conversation %d; want a's %d", conv(b), conv(root))
	}
	// In one batch: a new thread, and a reply to it whose key is cut short.
	batch := ta.ingest(mail("c@x", "c@x", "olga@example.ru"), mail("d@x", "zz@x", "olga@example.ru", "c@x"))
	if conv(batch[1]) != conv(batch[0]) {
		t.Errorf("d opened conversation %d; want c's %d (same batch)", conv(batch[1]), conv(batch[0]))
	}
	// Someone else answering Ivan's thread (a colleague in CC) joins it as
	// a participant (issue 15, item 10: thread_people_test.go).
	other := ta.ingest(mail("e@x", "q@x", "boss@example.ru", "a@x"))[0]
	if conv(other) != conv(root) {
		t.Error("a colleague's reply in Ivan's thread opened a conversation of its own")
	}
}

func mailIn(acc int64, ext, from, thread, text string) channels.Inbound {
	return channels.Inbound{AccountID: acc, ExternalID: ext, Kind: channels.Mail, From: []channels.Handle{{Kind: "email", Value: from}},
		ThreadKey: thread, Subject: "Кухня", Text: text, EntryPoint: "sales@company.ru"}
}

// Mail the mailbox sent outside Switchboard (a manager's reply from a mail
// program, read from the crm.Sent folder) is an outbound touch to the contact:
// it answers the client, never opens a deal or reopens a closed
// conversation, and is never "waiting" or reminded of.
func TestIngestOutgoingMailIsOurAnswer(t *testing.T) {
	ta := newTestApp(t)
	acc := ta.account("email", "sales")
	ta.opts.RemindAfter = 30 * time.Minute
	start := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)

	q := mailIn(acc.ID, "q-1@client.ru", "ivan@client.ru", "q-1@client.ru", "Сколько стоит?")
	q.At = start
	res := ta.ingest(q)
	asked, _ := crm.GetTouch(ta.db, res[0].TouchID)
	conv, _ := crm.GetConversation(ta.db, asked.ConversationID)
	if conv.WaitingSince == nil || asked.DealID == nil {
		t.Fatalf("the client's question: waiting %v, deal %v", conv.WaitingSince, asked.DealID)
	}

	ans := mailIn(acc.ID, "a-1@company.ru", "ivan@client.ru", "q-1@client.ru", "120 000 ₽, замер бесплатно.")
	ans.Outgoing, ans.EntryPoint, ans.At, ans.Parents = true, "", start.Add(10*time.Minute), []string{"q-1@client.ru"}
	res = ta.ingest(ans)
	out, _ := crm.GetTouch(ta.db, res[0].TouchID)
	if out.Direction != crm.Outbound || out.DeliveryStatus != crm.Sent || out.ContactID != asked.ContactID || out.ConversationID != conv.ID ||
		out.DealID == nil || *out.DealID != *asked.DealID || out.EntryPointID != nil || out.AuthorID != nil {
		t.Errorf("the answer from a mail program: %+v", out)
	}
	conv, _ = crm.GetConversation(ta.db, conv.ID)
	if conv.WaitingSince != nil || conv.LastText != "120 000 ₽, замер бесплатно." {
		t.Errorf("after our answer: waiting %v, last text %q", conv.WaitingSince, conv.LastText)
	}
	if n := ta.count("deals", ""); n != 1 {
		t.Errorf("%d deals, want the client's one", n)
	}
	// The same answer read again (the crm.Sent folder re-synced) is the same touch.
	if res = ta.ingest(ans); !res[0].Duplicate || res[0].TouchID != out.ID {
		t.Errorf("re-read: %+v", res[0])
	}

	// The client writes again; our mailbox's vacation notice answers nothing.
	q2 := mailIn(acc.ID, "q-2@client.ru", "ivan@client.ru", "q-1@client.ru", "А доставка?")
	q2.At = start.Add(12 * time.Minute)
	ta.ingest(q2)
	vac := mailIn(acc.ID, "vac-1@company.ru", "ivan@client.ru", "q-1@client.ru", "Я в отпуске.")
	vac.Outgoing, vac.Automated, vac.EntryPoint, vac.At = true, true, "", start.Add(13*time.Minute)
	res = ta.ingest(vac)
	if auto, _ := crm.GetTouch(ta.db, res[0].TouchID); auto.Direction != crm.Outbound || !auto.Automated {
		t.Errorf("our automatic reply: %+v", auto)
	}
	if conv, _ = crm.GetConversation(ta.db, conv.ID); conv.WaitingSince == nil || !conv.WaitingSince.Equal(q2.At) {
		t.Errorf("after our automatic reply the client still waits since %v; got %v", q2.At, conv.WaitingSince)
	}

	// Closed, then another answer from the mail program: it stays closed.
	if err := ta.db.Model(&crm.Conversation{}).Where("id = ?", conv.ID).Update("status", crm.ConvClosed).Error; err != nil {
		t.Fatal(err)
	}
	more := mailIn(acc.ID, "a-2@company.ru", "ivan@client.ru", "q-1@client.ru", "Договор во вложении.")
	more.Outgoing, more.EntryPoint, more.At = true, "", start.Add(20*time.Minute)
	ta.ingest(more)
	if conv, _ = crm.GetConversation(ta.db, conv.ID); conv.Status != crm.ConvClosed || conv.LastText != "Договор во вложении." {
		t.Errorf("closed conversation after our mail: %s, %q", conv.Status, conv.LastText)
	}

	// A first mail to a new address: a contact of the company, a
	// conversation nobody waits on, no deal, no reminder.
	cold := mailIn(acc.ID, "cold-1@company.ru", "new@partner.ru", "cold-1@company.ru", "Предлагаем сотрудничество.")
	cold.Outgoing, cold.EntryPoint, cold.Name, cold.At = true, "", "Пётр", start.Add(30*time.Minute)
	res = ta.ingest(cold)
	first, _ := crm.GetTouch(ta.db, res[0].TouchID)
	c, _ := crm.GetContact(ta.db, first.ContactID)
	fc, _ := crm.GetConversation(ta.db, first.ConversationID)
	if c.Name != "Пётр" || first.DealID != nil || fc.WaitingSince != nil || fc.Status != crm.ConvOpen || first.Direction != crm.Outbound {
		t.Errorf("first mail to a new address: contact %q, deal %v, waiting %v, status %s, direction %s", c.Name, first.DealID, fc.WaitingSince, fc.Status, first.Direction)
	}
	if n := ta.count("deals", ""); n != 1 {
		t.Errorf("%d deals after an outgoing first mail, want 1", n)
	}
	if _, n, err := ta.RunTimers(context.Background(), time.Now()); err != nil || n != 0 {
		t.Errorf("reminders for our own mail: %d, %v", n, err)
	}

	// The new address answers: that opens the deal, and our first mail,
	// unlinked so far, takes the conversation's deal with it.
	back := mailIn(acc.ID, "re-cold-1@partner.ru", "new@partner.ru", "cold-1@company.ru", "Интересно, пришлите условия.")
	back.At = start.Add(40 * time.Minute)
	res = ta.ingest(back)
	reply, _ := crm.GetTouch(ta.db, res[0].TouchID)
	first, _ = crm.GetTouch(ta.db, first.ID)
	if reply.DealID == nil || reply.ConversationID != first.ConversationID || first.DealID == nil || *first.DealID != *reply.DealID {
		t.Errorf("after the answer: our first mail's deal %v, the answer's %v (conversation %d, %d)", first.DealID, reply.DealID, first.ConversationID, reply.ConversationID)
	}
	// The same in one batch: a cold mail and its answer read together.
	cold2 := mailIn(acc.ID, "cold-2@company.ru", "new2@partner.ru", "cold-2@company.ru", "Предлагаем поставки.")
	cold2.Outgoing, cold2.EntryPoint, cold2.At = true, "", start.Add(45*time.Minute)
	back2 := mailIn(acc.ID, "re-cold-2@partner.ru", "new2@partner.ru", "cold-2@company.ru", "Давайте обсудим.")
	back2.At = start.Add(46 * time.Minute)
	res = ta.ingest(cold2, back2)
	ours, _ := crm.GetTouch(ta.db, res[0].TouchID)
	theirs, _ := crm.GetTouch(ta.db, res[1].TouchID)
	if theirs.DealID == nil || ours.DealID == nil || *ours.DealID != *theirs.DealID {
		t.Errorf("one batch: our mail's deal %v, the answer's %v", ours.DealID, theirs.DealID)
	}

	// Read out of order (the crm.Sent folder before INBOX): the client's older
	// question does not make the answered conversation wait.
	ans2 := mailIn(acc.ID, "a-9@company.ru", "olga@client.ru", "q-9@client.ru", "Да, доставим в пятницу.")
	ans2.Outgoing, ans2.EntryPoint, ans2.At = true, "", start.Add(time.Hour)
	res = ta.ingest(ans2)
	q9 := mailIn(acc.ID, "q-9@client.ru", "olga@client.ru", "q-9@client.ru", "Доставите в пятницу?")
	q9.At = start.Add(50 * time.Minute)
	ta.ingest(q9)
	late, _ := crm.GetTouch(ta.db, res[0].TouchID)
	if conv, _ = crm.GetConversation(ta.db, late.ConversationID); conv.WaitingSince != nil || conv.LastText != "Да, доставим в пятницу." {
		t.Errorf("question read after its answer: waiting %v, last text %q", conv.WaitingSince, conv.LastText)
	}
}
