package server

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/crm"
)

// A Message-ID is not always unique: a second, different message reusing
// a stored one is its own touch; the same message read again stays one
// touch (issue 15, item 9).
func TestEmailReusedMessageID(t *testing.T) {
	ta := newTestApp(t)
	srv := emailtest.NewIMAPServer(t)
	at := time.Now().Add(-time.Hour)
	mail := func(id, from, received, subject, body string) []byte {
		return []byte(received + "From: <" + from + ">\r\nTo: sales@company.ru\r\nSubject: " + subject +
			"\r\nDate: " + at.Format(time.RFC1123Z) + "\r\nMessage-ID: <" + id + ">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	}
	// One message twice (a copy put back into the inbox, another relay):
	// one touch.
	srv.Append("INBOX", mail("same@client.ru", "ivan@client.ru", "Received: from a.client.ru\r\n", "Счёт", "Пришлите счёт"), at)
	srv.Append("INBOX", mail("same@client.ru", "ivan@client.ru", "Received: from b.client.ru\r\n", "Счёт", "Пришлите счёт"), at)
	// A site form that sends every request under one Message-ID: two
	// requests, two touches, both in the same batch.
	srv.Append("INBOX", mail("form@site.ru", "form@site.ru", "", "Заявка с сайта", "Имя: Анна, телефон +7 913 000-00-01"), at)
	srv.Append("INBOX", mail("form@site.ru", "form@site.ru", "", "Заявка с сайта", "Имя: Олег, телефон +7 913 000-00-02"), at)
	acc := ta.mailAccount("Почта продаж", srv)
	run := ta.runMail(acc.ID)
	eventually(t, "the import", func() bool { return run.live() && ta.count("touches", "account_id = ?", acc.ID) >= 2 })

	bodies := func(id string) []string {
		var ts []crm.Touch
		ta.db.Where("account_id = ? AND (external_id = ? OR external_id LIKE ?)", acc.ID, id, id+"#%").Find(&ts)
		out := []string{}
		for _, x := range ts {
			out = append(out, x.Body)
		}
		sort.Strings(out)
		return out
	}
	if got := bodies("same@client.ru"); len(got) != 1 {
		t.Errorf("the same message read twice made %d touches: %q", len(got), got)
	}
	if got := bodies("form@site.ru"); fmt.Sprint(got) != fmt.Sprint([]string{"Имя: Анна, телефон +7 913 000-00-01", "Имя: Олег, телефон +7 913 000-00-02"}) {
		t.Errorf("two requests under one Message-ID: %q, want both", got)
	}

	// Later, one more request under the stored id, and the first one read
	// again: one new touch.
	srv.Append("INBOX", mail("form@site.ru", "form@site.ru", "", "Заявка с сайта", "Имя: Пётр, телефон +7 913 000-00-03"), time.Now())
	srv.Append("INBOX", mail("form@site.ru", "form@site.ru", "Received: from c.site.ru\r\n", "Заявка с сайта", "Имя: Анна, телефон +7 913 000-00-01"), time.Now())
	srv.Append("INBOX", mail("last@client.ru", "ivan@client.ru", "", "Ещё", "Всё"), time.Now())
	eventually(t, "the new mail", func() bool {
		return ta.count("touches", "account_id = ? AND external_id = ?", acc.ID, "last@client.ru") == 1
	})
	if got := bodies("form@site.ru"); len(got) != 3 || !strings.Contains(strings.Join(got, "|"), "Пётр") {
		t.Errorf("after a third request and a re-read: %q, want three requests", got)
	}
	if n := ta.count("contacts", "id IN (SELECT contact_id FROM touches WHERE external_id LIKE ?)", "form@site.ru%"); n != 1 {
		t.Errorf("the requests are on %d contacts", n)
	}
}
