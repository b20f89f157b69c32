package server

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// The classes of issue 15 that each channel already handles on its own
// (an HTML-only mail's words, a Telegram chat with no type, an update the
// bot never asked for, phone numbers as people paste them), through the
// running app into the database, as the manager then finds them: the list
// preview, search, the contact's identities. Runs on SQLite and, with
// SWITCHBOARD_TEST_DATABASE_URL, on PostgreSQL.
func TestRealWorldInputReachesTheDatabase(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@example.ru", crm.Lead)
	lena := ta.login("lena@example.ru")

	// Item 5: an HTML-only mail whose words sit in separate tags.
	srv := emailtest.NewIMAPServer(t)
	at := time.Now().Add(-time.Hour)
	srv.Append("INBOX", []byte("From: Вера <vera@client.ru>\r\nTo: sales@company.ru\r\nSubject: Кухня\r\n"+
		"Date: "+at.Format(time.RFC1123Z)+"\r\nMessage-ID: <html-1@client.ru>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"+
		"<div><span>This</span> <em>is</em> <b>urgent</b></div><ul><li>фасады</li><li>столешница</li></ul>"+
		`<p>Смета: <a href="https://client.ru/smeta">здесь</a></p>`+"\r\n"), at)
	acc := ta.mailAccount("Почта продаж", srv)
	run := ta.runMail(acc.ID)
	defer func() { run.stop(t) }()
	eventually(t, "the HTML-only mail", func() bool { return ta.count("touches", "account_id = ?", acc.ID) == 1 })
	mail := ta.mailTouch(acc.ID, "html-1@client.ru")
	for _, want := range []string{"This is urgent", "- фасады\n- столешница", "столешница", "здесь <https://client.ru/smeta>"} {
		if !strings.Contains(mail.Body, want) {
			t.Errorf("the mail's text %q has no %q", mail.Body, want)
		}
	}
	var list inbox.ConversationList
	must(t, lena, 200, "GET", "/api/v1/conversations?filter=all&q="+url.QueryEscape("This is urgent"), nil, &list)
	if len(list.Conversations) != 1 || list.Conversations[0].ID != mail.ConversationID || !strings.HasPrefix(list.Conversations[0].LastText, "This is urgent") {
		t.Errorf("searching the words as the client wrote them: %+v", list.Conversations)
	}

	// Items 14 and 15: an inline query the bot never asked for, then a
	// private message from an older client whose chat has no type.
	fake := telegramtest.NewServer(t, tgToken)
	bot := ta.tgAccount("Бот", fake, "")
	for _, u := range []string{
		`{"update_id":700,"inline_query":{"id":"1","from":{"id":5550001,"is_bot":false,"first_name":"Анна"},"chat_type":"private","query":"шкаф","offset":""}}`,
		`{"update_id":701,"message":{"message_id":9,"date":` + strconv.FormatInt(at.Unix(), 10) + `,"chat":{"id":5550002,"first_name":"Пётр"},"from":{"id":5550002,"is_bot":false,"first_name":"Пётр"},"text":"Нужен шкаф-купе"}}`,
	} {
		if err := fake.Push([]byte(u)); err != nil {
			t.Fatal(err)
		}
	}
	ta.runTelegram(bot.ID)
	fake.WaitOffset(t, 702, 0)
	eventually(t, "the untyped chat's message", func() bool { return ta.count("touches", "account_id = ?", bot.ID) == 1 })
	var tg crm.Touch
	ta.db.Where("account_id = ?", bot.ID).Take(&tg)
	if tg.Body != "Нужен шкаф-купе" || ta.count("identities", "contact_id = ? AND kind = 'telegram' AND value = '5550002'", tg.ContactID) != 1 {
		t.Errorf("the untyped private chat: touch %q of contact %d", tg.Body, tg.ContactID)
	}

	// Item 17: valid numbers as people paste them, from a website form.
	site := ta.account("web", "kitchens.example.ru")
	for i, raw := range []string{
		"+7 913 123-45-67 (Иван)",
		"＋７ ９１３ ２２２-３３-４４",
		"\u202a+7 913 333 44 55\u202c",
		"79134445566@s.whatsapp.net",
	} {
		res := ta.ingest(channels.Inbound{AccountID: site.ID, ExternalID: "paste-" + strconv.Itoa(i), At: at,
			From: []channels.Handle{{Kind: "phone", Value: raw}}, Text: "Перезвоните"})
		if res[0].Err != nil {
			t.Errorf("%q refused: %v", raw, res[0].Err)
		}
	}
	for _, want := range []string{"+79131234567", "+79132223344", "+79133334455", "+79134445566"} {
		if ta.count("identities", "kind = 'phone' AND value = ?", want) != 1 {
			t.Errorf("no phone identity %s", want)
		}
	}
}
