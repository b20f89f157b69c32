package server

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/crm"
)

// mailSample reads a recorded message of the email adapter's testdata.
func mailSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "channels", "email", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mailAccount stores an email account reading s.
func (ta *testApp) mailAccount(name string, s *emailtest.IMAPServer) crm.Account {
	ta.t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr)
	settings, _ := json.Marshal(map[string]any{
		"address": emailtest.User, "name": "Продажи", "aliases": []string{"info@company.ru"},
		"imap_host": host, "imap_port": json.Number(port), "imap_security": "plain", "allow_plain": true,
		"smtp_host": host, "smtp_port": 1, "smtp_security": "plain",
	})
	pw := emailtest.Password
	acc, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "email", Name: &name, Settings: settings, Secret: &pw})
	if err != nil {
		ta.t.Fatal(err)
	}
	return acc
}

// runMail runs the stored email account's adapter with the app as sink.
func (ta *testApp) runMail(id int64) *accountRun { return ta.runAccount(id, email.New) }

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mailTouch finds the touch of an external id.
func (ta *testApp) mailTouch(acc int64, ext string) crm.Touch {
	ta.t.Helper()
	var tch crm.Touch
	if err := ta.db.Where("account_id = ? AND external_id = ?", acc, ext).Take(&tch).Error; err != nil {
		ta.t.Fatalf("touch %s: %v", ext, err)
	}
	return tch
}

func TestEmailEndToEnd(t *testing.T) {
	ta := newTestApp(t)
	srv := emailtest.NewIMAPServer(t)
	recent := time.Now().Add(-time.Hour)
	for _, f := range []string{"cp1251.eml", "reply.eml", "koi8r.eml", "autoreply.eml", "bounce.eml", "mailing-list.eml", "plus-alias.eml"} {
		srv.Append("INBOX", mailSample(t, f), recent)
	}
	srv.Append("INBOX", mailSample(t, "alternative.eml"), time.Now().AddDate(0, 0, -45)) // before initial_days
	acc := ta.mailAccount("Почта продаж", srv)

	run := ta.runMail(acc.ID)
	eventually(t, "the import", func() bool { return run.live() && ta.count("touches", "account_id = ?", acc.ID) == 7 })

	// Ivan wrote twice in one thread: one contact, one conversation, one deal.
	first := ta.mailTouch(acc.ID, "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru")
	reply := ta.mailTouch(acc.ID, "reply-2@vector-nsk.ru")
	if first.Subject != "Запрос цены на кондиционеры" || !strings.Contains(first.Body, "поставка 20 кондиционеров в Новосибирск") {
		t.Errorf("windows-1251 mail reads %q / %q", first.Subject, first.Body)
	}
	if first.Channel != "email" || first.Kind != string(channels.Mail) || first.Handle != "email:ivan.petrov@vector-nsk.ru" {
		t.Errorf("touch %+v", first)
	}
	if reply.ContactID != first.ContactID || reply.ConversationID != first.ConversationID {
		t.Errorf("the reply is in contact %d conversation %d, the first mail in %d/%d", reply.ContactID, reply.ConversationID, first.ContactID, first.ConversationID)
	}
	ivan, err := crm.GetContact(ta.db, first.ContactID)
	if err != nil || ivan.Name != "Иван Петров" {
		t.Errorf("contact %+v, %v", ivan, err)
	}
	if first.DealID == nil || reply.DealID == nil || *first.DealID != *reply.DealID || ta.count("deals", "contact_id = ?", ivan.ID) != 1 {
		t.Errorf("deals: first %v, reply %v", first.DealID, reply.DealID)
	}
	var conv crm.Conversation
	ta.db.Take(&conv, first.ConversationID)
	if conv.ThreadKey != "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru" {
		t.Errorf("thread key %q", conv.ThreadKey)
	}

	koi := ta.mailTouch(acc.ID, "1829374652.20240304180211@tomsk.ru")
	if koi.Subject != "Вопрос по доставке" || !strings.Contains(koi.Body, "Сколько стоит доставка в Томск?") {
		t.Errorf("KOI8-R mail reads %q / %q", koi.Subject, koi.Body)
	}

	// One contact per sender.
	if n := ta.count("contacts", ""); n != 6 {
		t.Errorf("%d contacts, want one per sender (6)", n)
	}

	// Automated mail is recorded and opens no deal.
	for _, ext := range []string{"autoreply-1@client.ru", "dsn-20240319100001@mxback.yandex.net", "digest-2024-12@habr.com"} {
		tch := ta.mailTouch(acc.ID, ext)
		if !tch.Automated || tch.DealID != nil || ta.count("deals", "contact_id = ?", tch.ContactID) != 0 {
			t.Errorf("%s: automated %v, deal %v", ext, tch.Automated, tch.DealID)
		}
	}

	// The plus-alias is the entry point.
	plus := ta.mailTouch(acc.ID, "plus-alias-1@yandex.ru")
	var ep crm.EntryPoint
	if plus.EntryPointID == nil || ta.db.Take(&ep, *plus.EntryPointID).Error != nil || ep.Address != "sales+yandex@company.ru" {
		t.Errorf("entry point %v %+v", plus.EntryPointID, ep)
	}

	// Stop; mail arrives meanwhile; restart from the stored cursor.
	run.stop(t)
	stored, _ := crm.GetAccount(ta.db, acc.ID)
	if !strings.Contains(stored.Cursor, `"INBOX"`) {
		t.Fatalf("stored cursor %q", stored.Cursor)
	}
	srv.Append("INBOX", mailSample(t, "encoded-subject.eml"), time.Now())
	srv.Append("INBOX", []byte("From: Иван Петров <ivan.petrov@vector-nsk.ru>\r\nTo: sales@company.ru\r\nSubject: Re: Re: Запрос\r\n"+
		"Message-ID: <reply-3@vector-nsk.ru>\r\nIn-Reply-To: <reply-2@vector-nsk.ru>\r\n"+
		"References: <000001da7434$5c2e1b20$148a5160$@vector-nsk.ru> <reply-2@vector-nsk.ru>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nИ ещё вопрос.\r\n"), time.Now().AddDate(0, 0, -90))
	run = ta.runMail(acc.ID)
	eventually(t, "the backfill", func() bool { return run.live() && ta.count("touches", "account_id = ?", acc.ID) == 9 })
	if r3 := ta.mailTouch(acc.ID, "reply-3@vector-nsk.ru"); r3.ConversationID != first.ConversationID {
		t.Errorf("the third mail of the thread is in conversation %d, want %d", r3.ConversationID, first.ConversationID)
	}
	run.stop(t)

	// Once more with nothing new: nothing changes.
	run = ta.runMail(acc.ID)
	eventually(t, "live", run.live)
	run.stop(t)

	var dups []struct {
		ExternalID string
		N          int
	}
	if err := ta.db.Raw("SELECT external_id, COUNT(*) AS n FROM touches WHERE account_id = ? GROUP BY external_id HAVING COUNT(*) > 1", acc.ID).Scan(&dups).Error; err != nil {
		t.Fatal(err)
	}
	if len(dups) > 0 || ta.count("touches", "account_id = ?", acc.ID) != 9 {
		t.Fatalf("touches stored more than once: %+v (total %d)", dups, ta.count("touches", "account_id = ?", acc.ID))
	}
	if n := ta.count("touches", "account_id = ? AND external_id = ?", acc.ID, "CAJx7zK+alt=2Q@mail.gmail.com"); n != 0 {
		t.Errorf("mail older than initial_days was imported (%d)", n)
	}
}
