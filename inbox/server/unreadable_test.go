package server

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
	"github.com/switchboard/switchboard/migrations"
)

// noSenderMail is each real-world shape of mail with no readable sender
// (channels/email/testdata/nosender) read through IMAP, with its subject.
// (broken-header.eml is fed to ingest straight from the parser: the
// in-memory IMAP server serves no bytes for a message it cannot parse.)
var noSenderMail = map[string]string{
	"no-from.eml": "Счёт на оплату", "display-name-only.eml": "Price list", "empty-angle.eml": "Order", "garbage-from.eml": "Hello",
	"undisclosed.eml": "Newsletter", "bounce-null-sender.eml": "Undelivered Mail Returned to Sender",
}

func noSenderSample(t testing.TB, name string) []byte {
	return mailSample(t, filepath.Join("nosender", name))
}

// Mail with no readable sender (issue 15, item 6) read from a mailbox:
// no contact, no conversation, no deal, nothing in any queue, no reminder,
// no reply; kept whole in the owner's "Unreadable mail" list, with the
// cursor past it, once however often it is read.
func TestEmailWithNoReadableSenderIsTheOwnersUnreadableMail(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	ta.user("lena@example.ru", crm.Lead)
	ta.user("max@example.ru", crm.Manager)
	srv := emailtest.NewIMAPServer(t)
	at := time.Now().Add(-3 * time.Hour)
	names := make([]string, 0, len(noSenderMail))
	for name := range noSenderMail {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		srv.Append("INBOX", noSenderSample(t, name), at)
	}
	// A client's mail between them is stored as ever.
	srv.Append("INBOX", []byte("From: Ivan <ivan@client.ru>\r\nTo: sales@company.ru\r\nSubject: Счёт\r\nMessage-ID: <ok-1@client.ru>\r\n\r\nПришлите счёт\r\n"), at)
	acc := ta.mailAccount("Почта продаж", srv)
	run := ta.runMail(acc.ID)
	eventually(t, "the import", func() bool {
		return run.live() && ta.count("unreadable_mail", "account_id = ?", acc.ID) == int64(len(noSenderMail))
	})
	run.stop(t)

	if n := ta.count("touches", "account_id = ?", acc.ID); n != 1 {
		t.Errorf("%d touches, want only the client's", n)
	}
	if n := ta.count("contacts", ""); n != 1 {
		t.Errorf("%d contacts, want only the client", n)
	}
	if n := ta.count("identities", "value = ?", "unknown-sender@invalid"); n != 0 {
		t.Errorf("mail with no sender made the contact unknown-sender@invalid")
	}
	if n := ta.count("deals", ""); n != 1 {
		t.Errorf("%d deals, want only the client's", n)
	}
	if n := ta.count("conversations", ""); n != 1 {
		t.Errorf("%d conversations, want only the client's", n)
	}
	stored, _ := crm.GetAccount(ta.db, acc.ID)
	if !strings.Contains(stored.Cursor, `"INBOX"`) {
		t.Errorf("the cursor did not move past the unreadable mail: %q", stored.Cursor)
	}
	for _, email := range []string{"lena@example.ru", "max@example.ru"} {
		c := ta.login(email).counts()
		if c.Waiting != 1 || c.Unlinked != 0 {
			t.Errorf("%s: waiting %d, unlinked %d; want only the client waiting", email, c.Waiting, c.Unlinked)
		}
	}
	if _, n, err := ta.RunTimers(context.Background(), time.Now().Add(48*time.Hour)); err != nil || n > 1 {
		t.Errorf("reminders: %d, %v", n, err)
	}

	// The owner's list: when, which mailbox, the subject, the problem, the original.
	owner := ta.login("owner@example.ru")
	var list api.UnreadableList
	if st := owner.do("GET", "/api/v1/unreadable", nil, &list); st != 200 || len(list.Mail) != len(noSenderMail) {
		t.Fatalf("owner's list: %d, %d messages", st, len(list.Mail))
	}
	subjects := map[string]crm.UnreadableMail{}
	for _, m := range list.Mail {
		subjects[m.Subject] = m
		if m.AccountName != "Почта продаж" || m.ReceivedAt.IsZero() || m.Folder != "INBOX" || m.Problem != "no_sender" || m.Detail == "" || m.RawSize == 0 {
			t.Errorf("list row %+v", m)
		}
	}
	for _, want := range noSenderMail {
		if _, ok := subjects[want]; !ok {
			t.Errorf("no row with the subject %q: %v", want, slices.Collect(maps.Keys(subjects)))
		}
	}
	m := subjects["Счёт на оплату"]
	st, raw := owner.raw("GET", p("/api/v1/unreadable/%d/raw", m.ID), nil)
	if want := noSenderSample(t, "no-from.eml"); st != 200 || string(raw) != string(want) {
		t.Errorf("download: %d, %d bytes; want the original %d bytes", st, len(raw), len(want))
	}
	// The blob sweep keeps the originals.
	stm, _ := crm.GetUnreadable(ta.db, m.ID)
	if keep, err := crm.ReferencedBlobs(ta.db, []string{stm.RawSHA256}); err != nil || !keep[stm.RawSHA256] || stm.RawSHA256 == "" {
		t.Errorf("the sweep would drop an unreadable message's original: %v %v", keep, err)
	}
	// Nobody else sees it.
	for _, email := range []string{"lena@example.ru", "max@example.ru"} {
		c := ta.login(email)
		if st := c.do("GET", "/api/v1/unreadable", nil, nil); st != 403 {
			t.Errorf("%s reads the unreadable list: %d", email, st)
		}
		if st, _ := c.raw("GET", p("/api/v1/unreadable/%d/raw", m.ID), nil); st != 403 {
			t.Errorf("%s downloads unreadable mail: %d", email, st)
		}
	}

	// Read again from the start (a lost cursor, a new UIDVALIDITY): still once.
	if err := crm.SetCursor(ta.db, acc.ID, ""); err != nil {
		t.Fatal(err)
	}
	run = ta.runMail(acc.ID)
	eventually(t, "the re-read", func() bool {
		a, _ := crm.GetAccount(ta.db, acc.ID)
		return run.live() && strings.Contains(a.Cursor, `"INBOX"`)
	})
	run.stop(t)
	if n := ta.count("unreadable_mail", ""); n != int64(len(noSenderMail)) {
		t.Errorf("after a re-read %d unreadable messages, want %d", n, len(noSenderMail))
	}
	if n := ta.count("touches", ""); n != 1 {
		t.Errorf("after a re-read %d touches", n)
	}

	// A damaged header that names no sender: the same, with its problem.
	in, perr := email.Parse(noSenderSample(t, "broken-header.eml"), []string{emailtest.User})
	in.AccountID = acc.ID
	if res := ta.ingest(in); perr == nil || res[0].Err != nil || res[0].TouchID != 0 {
		t.Fatalf("the damaged header: %v, %+v", perr, res[0])
	}
	if owner.do("GET", "/api/v1/unreadable", nil, &list); len(list.Mail) != len(noSenderMail)+1 || list.Mail[0].Problem != "header" || list.Mail[0].Subject != "Broken" {
		t.Errorf("the damaged header in the list: %+v", list.Mail[0])
	}
}

// A database from before version 15 has the contact unknown-sender@invalid
// with touches, an open conversation and a deal. The migration leaves it
// no client and blocked, out of every queue, and no new mail goes there.
func TestMigrationQuietsTheOldUnknownSenderContact(t *testing.T) {
	ta := newTestApp(t)
	lead := ta.user("lena@example.ru", crm.Lead)
	mail := ta.account("email", "sales")
	old := func(ext string) channels.Inbound {
		return channels.Inbound{AccountID: mail.ID, ExternalID: ext, Kind: channels.Mail, ThreadKey: ext, At: time.Now().Add(-time.Hour),
			From: []channels.Handle{{Kind: "email", Value: "unknown-sender@invalid"}}, Subject: "?", Text: "?", ParseError: "no sender"}
	}
	res := ta.ingest(old("old-1"), old("old-2"))
	t1, _ := crm.GetTouch(ta.db, res[0].TouchID)
	t2, _ := crm.GetTouch(ta.db, res[1].TouchID)
	// Two open conversations, one touch without a deal, a reply queued.
	ta.db.Exec("UPDATE touches SET deal_id = NULL WHERE id = ?", t2.ID)
	reply, err := ta.Reply(context.Background(), lead, t1.ConversationID, inbox.ReplyRequest{Text: "Кто вы?"})
	if err != nil {
		t.Fatal(err)
	}
	lc := ta.login("lena@example.ru")
	if c := lc.counts(); c.Waiting != 1 || c.Unlinked != 1 {
		t.Fatalf("fixture: waiting %d, unlinked %d", c.Waiting, c.Unlinked)
	}

	// Version 15 again, as on a database that stopped at 14.
	sqlDB, _ := ta.db.DB()
	ta.db.Exec("DROP TABLE unreadable_mail")
	ta.db.Exec("DELETE FROM schema_migrations WHERE version = 15")
	if _, err := migrations.Apply(context.Background(), sqlDB, crm.Dialect(ta.db)); err != nil {
		t.Fatal(err)
	}
	c, err := crm.GetContact(ta.db, t1.ContactID)
	if err != nil || c.NotClient != "other" || !c.Blocked {
		t.Errorf("the old contact: not_client %q, blocked %v, %v", c.NotClient, c.Blocked, err)
	}
	if got := lc.counts(); got.Waiting != 0 || got.Unlinked != 0 {
		t.Errorf("after the migration: waiting %d, unlinked %d; want none", got.Waiting, got.Unlinked)
	}
	if n := ta.count("conversations", "contact_id = ? AND status <> 'closed'", t1.ContactID); n != 0 {
		t.Errorf("%d conversations of the old contact still open", n)
	}
	if n := ta.count("touches", "contact_id = ?", t1.ContactID); n != 3 {
		t.Errorf("the old touches: %d, want all kept", n)
	}
	var job crm.OutboxJob
	ta.db.Where("touch_id = ?", reply.ID).Take(&job)
	if rt, _ := crm.GetTouch(ta.db, reply.ID); job.Status != crm.Failed || crm.FailureKind(job.LastError) != crm.FailCannotSend || rt.DeliveryStatus != string(crm.Failed) {
		t.Errorf("the queued reply: job %s %q, touch %s; want failed, cannot be answered", job.Status, job.LastError, rt.DeliveryStatus)
	}

	// New mail with no sender goes to the list, not to that contact.
	raw, _ := os.ReadFile(filepath.Join("..", "..", "channels", "email", "testdata", "nosender", "empty-angle.eml"))
	res = ta.ingest(channels.Inbound{AccountID: mail.ID, ExternalID: "new-1", Kind: channels.Mail, Subject: "Order",
		ParseError: "The message has no readable sender address.", Meta: map[string]string{"parse_problem": "no_sender"},
		Attachments: []channels.Attachment{{Name: "message.eml", ContentType: "message/rfc822", Data: raw}}})
	if res[0].Err != nil || res[0].TouchID != 0 {
		t.Fatalf("new unreadable mail: %+v", res[0])
	}
	if n := ta.count("touches", "contact_id = ?", t1.ContactID); n != 3 {
		t.Errorf("new mail went to the old contact: %d touches", n)
	}
	if n := ta.count("unreadable_mail", "external_id = ?", "new-1"); n != 1 {
		t.Errorf("new unreadable mail kept %d times", n)
	}
}
