package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/mail"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

// startApp runs the app's accounts and dispatcher as serve does.
func (ta *testApp) startApp() {
	ta.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := ta.Start(ctx); err != nil {
		ta.t.Fatal(err)
	}
	ta.t.Cleanup(func() { cancel(); ta.Wait() })
}

// setMail points a mail account's SMTP at smtp and sets more settings.
func (ta *testApp) setMail(acc crm.Account, smtp *emailtest.SMTPServer, more map[string]any) {
	ta.t.Helper()
	host, port, _ := net.SplitHostPort(smtp.Addr)
	var settings map[string]any
	json.Unmarshal(acc.Settings, &settings)
	settings["smtp_host"], settings["smtp_port"] = host, json.Number(port)
	maps.Copy(settings, more)
	raw, _ := json.Marshal(settings)
	if _, err := crm.SaveAccount(ta.db, ta.box, acc.ID, crm.AccountInput{Settings: raw}); err != nil {
		ta.t.Fatal(err)
	}
}

func TestAManagerRepliesToAnEmailAndTheReplyIsThreaded(t *testing.T) {
	ta := newTestApp(t)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Email: email.New})
	imapSrv := emailtest.NewIMAPServer(t)
	out := emailtest.NewSMTPServer(t)
	acc := ta.mailAccount("Продажи", imapSrv)
	ta.setMail(acc, out, map[string]any{"signature": "Отдел продаж"})
	imapSrv.Append("INBOX", mailSample(t, "cp1251.eml"), time.Now())
	m := ta.user("m@example.ru", crm.Manager)
	ta.startApp()

	var in crm.Touch
	eventually(t, "the email to be ingested", func() bool {
		return ta.db.Where("account_id = ? AND direction = 'in'", acc.ID).Take(&in).Error == nil
	})
	c := ta.login("m@example.ru")
	if st := c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/assign", in.ConversationID), api.AssignRequest{UserID: &m.ID}, nil); st != 200 {
		t.Fatalf("take the conversation: %d", st)
	}
	var reply crm.Touch
	if st := c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/reply", in.ConversationID), inbox.ReplyRequest{Text: "Добрый день! Счёт во вложении.",
		Attachments: []inbox.ReplyAttachment{{Name: "счёт.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 test")}}}, &reply); st != 200 {
		t.Fatalf("reply: %d", st)
	}
	if reply.DeliveryStatus != crm.Queued {
		t.Errorf("reply status %q, want queued", reply.DeliveryStatus)
	}
	eventually(t, "the SMTP server to receive the reply", func() bool { return len(out.Messages()) == 1 })
	eventually(t, "the reply to be marked sent", func() bool {
		var got crm.Touch
		c.do("GET", fmt.Sprintf("/api/v1/touches/%d", reply.ID), nil, &got)
		return got.DeliveryStatus == crm.Sent
	})

	mr, err := mail.CreateReader(bytes.NewReader(out.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	h := mr.Header
	var meta map[string]string
	json.Unmarshal(in.Meta, &meta)
	parent := meta["message_id"]
	if parent == "" {
		t.Fatalf("the inbound touch has no message_id in meta: %s", in.Meta)
	}
	inReplyTo, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	msgID, _ := h.MessageID()
	subject, _ := h.Subject()
	from, _ := h.AddressList("From")
	to, _ := h.AddressList("To")
	if len(inReplyTo) != 1 || inReplyTo[0] != parent || len(refs) == 0 || refs[len(refs)-1] != parent {
		t.Errorf("threading: In-Reply-To %v, References %v; want the parent %s", inReplyTo, refs, parent)
	}
	if j := ta.job(reply.ID); msgID == "" || msgID != j.MessageID {
		t.Errorf("Message-ID %q, fixed in the outbox as %q", msgID, j.MessageID)
	}
	if !strings.HasPrefix(subject, "Re: ") || !strings.Contains(subject, in.Subject) {
		t.Errorf("subject %q for a reply to %q", subject, in.Subject)
	}
	if len(from) != 1 || from[0].Address != emailtest.User || len(to) != 1 || to[0].Address != "ivan.petrov@vector-nsk.ru" {
		t.Errorf("from %v to %v", from, to)
	}
	var body, files string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p.Body)
		switch ph := p.Header.(type) {
		case *mail.InlineHeader:
			body += string(b)
		case *mail.AttachmentHeader:
			name, _ := ph.Filename()
			files += name + "=" + string(b)
		}
	}
	if !strings.Contains(body, "Счёт во вложении") || !strings.Contains(body, "Отдел продаж") {
		t.Errorf("body %q lacks the text or the signature", body)
	}
	if files != "счёт.pdf=%PDF-1.4 test" {
		t.Errorf("attachments %q", files)
	}
	// The conversation now waits for the client, not for us.
	if conv, _ := crm.GetConversation(ta.db, in.ConversationID); conv.WaitingSince != nil {
		t.Error("after our reply the conversation must not wait for us")
	}
}

// telegramConversation runs the app with a real Telegram adapter against
// the fake Bot API, which delivers one message; it returns that message's
// touch and a lead to answer it.
func telegramConversation(t *testing.T) (*testApp, *telegramtest.Server, crm.Touch, crm.User) {
	t.Helper()
	ta := newTestApp(t)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Telegram: telegram.New})
	fake := telegramtest.NewServer(t, "123:TOKEN")
	name, token := "bot", "123:TOKEN"
	settings, _ := json.Marshal(map[string]any{"server_url": fake.URL, "poll_timeout": "1s"})
	acc, err := crm.SaveAccount(ta.db, ta.box, 0, crm.AccountInput{Channel: "telegram", Name: &name, Settings: settings, Secret: &token})
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Push(tgSample(t, "text.json")); err != nil {
		t.Fatal(err)
	}
	lead := ta.user("lead@example.ru", crm.Lead)
	ta.startApp()
	var in crm.Touch
	eventually(t, "the Telegram message to be ingested", func() bool {
		return ta.db.Where("account_id = ? AND direction = 'in'", acc.ID).Take(&in).Error == nil
	})
	return ta, fake, in, lead
}

func TestATelegramReplySurvivesRateLimitingAndIsSent(t *testing.T) {
	ta, fake, in, _ := telegramConversation(t)
	fake.Fail("sendMessage", 429, "Too Many Requests: retry after 1", 1)
	c := ta.login("lead@example.ru")
	var reply crm.Touch
	if st := c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/reply", in.ConversationID), inbox.ReplyRequest{Text: "Здравствуйте! Чем помочь?"}, &reply); st != 200 {
		t.Fatalf("reply: %d", st)
	}
	eventually(t, "the reply to be sent", func() bool {
		got, _ := crm.GetTouch(ta.db, reply.ID)
		return got.DeliveryStatus == crm.Sent && got.ExternalID != nil
	})
	// The screens saw it queued again with the 429, then sent.
	var evs []crm.Event
	ta.db.Where("type = ? AND touch_id = ?", crm.EventTouchStatus, reply.ID).Order("id").Find(&evs)
	var statuses []string
	for _, e := range evs {
		var d struct {
			DeliveryStatus string `json:"delivery_status"`
			Error          string `json:"error"`
		}
		json.Unmarshal(e.Data, &d)
		statuses = append(statuses, d.DeliveryStatus+"|"+d.Error)
	}
	if len(statuses) != 2 || !strings.HasPrefix(statuses[0], "queued|") || !strings.Contains(statuses[0], "Too Many Requests") || statuses[1] != "sent|" {
		t.Errorf("status events %q, want queued with the 429, then sent", statuses)
	}
	if j := ta.job(reply.ID); j.Attempts != 2 || j.Status != "sent" {
		t.Errorf("job after the retry: %+v", j)
	}
	var sent []telegramtest.Request
	for _, r := range fake.Requests() {
		if r.Method == "sendMessage" {
			sent = append(sent, r)
		}
	}
	if n := fake.Calls("sendMessage"); n != 2 || len(sent) != 1 {
		t.Fatalf("sendMessage calls = %d (%d accepted), want the refused one and the sent one", n, len(sent))
	}
	chat, _ := strconv.ParseInt(sent[0].Fields["chat_id"], 10, 64)
	var ident crm.Identity
	ta.db.Where("contact_id = ? AND kind = 'telegram'", in.ContactID).Take(&ident)
	if strconv.FormatInt(chat, 10) != ident.Value || sent[0].Fields["text"] != "Здравствуйте! Чем помочь?" {
		t.Errorf("sendMessage fields %v, want chat %s", sent[0].Fields, ident.Value)
	}
}

// A Telegram reply goes out in parts (a long text, then a file); when the
// file is refused, the retry sends only the file: the client never gets
// the text twice.
func TestATelegramReplyRetriedAfterAPartFailedSendsOnlyTheRest(t *testing.T) {
	ta, fake, in, lead := telegramConversation(t)
	fake.Fail("sendDocument", 500, "Internal Server Error", 0)
	long := strings.Repeat("Подробное предложение. ", 60) // longer than a caption: its own message
	reply, err := ta.Reply(context.Background(), lead, in.ConversationID, inbox.ReplyRequest{Text: long,
		Attachments: []inbox.ReplyAttachment{{Name: "offer.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 offer")}}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first attempt to fail on the file", func() bool { return ta.job(reply.ID).Attempts == 1 })
	ta.due(ta.job(reply.ID).ID) // the running dispatcher's tick picks it up
	eventually(t, "the reply to be sent", func() bool {
		got, _ := crm.GetTouch(ta.db, reply.ID)
		return got.DeliveryStatus == crm.Sent
	})
	if m, d := fake.Calls("sendMessage"), fake.Calls("sendDocument"); m != 1 || d != 2 {
		t.Errorf("sendMessage %d, sendDocument %d; want the text once and the file twice (refused, then sent)", m, d)
	}
}

// With the crm.Sent folder read as well, a reply a manager wrote in a mail
// program joins the conversation as our answer, and Switchboard's own
// replies, filed there by APPEND, are not read back as second copies.
func TestMailSentFromAMailProgramJoinsTheConversation(t *testing.T) {
	ta := newTestApp(t)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Email: email.New})
	imapSrv := emailtest.NewIMAPServer(t)
	imapSrv.Create("Sent")
	out := emailtest.NewSMTPServer(t)
	acc := ta.mailAccount("Продажи", imapSrv)
	ta.setMail(acc, out, map[string]any{"folders": []string{"INBOX", "Sent"}, "sent_folder": "Sent", "poll_interval": "1s"})
	question := "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru"
	imapSrv.Append("INBOX", mailSample(t, "cp1251.eml"), time.Now())
	fromProgram := func(id, text string) []byte {
		return []byte("From: Sales <" + emailtest.User + ">\r\nTo: Ivan Petrov <ivan.petrov@vector-nsk.ru>\r\nSubject: Re: price\r\n" +
			"Message-ID: <" + id + ">\r\nIn-Reply-To: <" + question + ">\r\nReferences: <" + question + ">\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n")
	}
	imapSrv.Append("Sent", fromProgram("tb-1@company.ru", "Отвечаю из почтовой программы."), time.Now(), imap.FlagSeen)
	ta.user("lead@example.ru", crm.Lead)
	ta.startApp()

	var in crm.Touch
	eventually(t, "the client's mail to be ingested", func() bool {
		return ta.db.Where("account_id = ? AND direction = 'in'", acc.ID).Take(&in).Error == nil
	})
	outbound := func() []crm.Touch {
		var ts []crm.Touch
		ta.db.Where("account_id = ? AND direction = 'out'", acc.ID).Order("id").Find(&ts)
		return ts
	}
	eventually(t, "the mail program's reply to be ingested", func() bool { return len(outbound()) == 1 })
	prog := outbound()[0]
	if prog.ConversationID != in.ConversationID || prog.ContactID != in.ContactID || prog.DeliveryStatus != crm.Sent || prog.Body != "Отвечаю из почтовой программы." {
		t.Errorf("the mail program's reply: %+v; want it in conversation %d", prog, in.ConversationID)
	}
	if conv, _ := crm.GetConversation(ta.db, in.ConversationID); conv.WaitingSince != nil {
		t.Error("answered from a mail program, the conversation still waits for us")
	}

	// A reply through Switchboard: sent, filed in crm.Sent, and read back there
	// as the same touch.
	c := ta.login("lead@example.ru")
	var reply crm.Touch
	if st := c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/reply", in.ConversationID), inbox.ReplyRequest{Text: "И ещё из Switchboard."}, &reply); st != 200 {
		t.Fatalf("reply: %d", st)
	}
	eventually(t, "the reply to be sent", func() bool { return len(out.Messages()) == 1 })
	eventually(t, "the reply's copy to be filed in crm.Sent", func() bool { return imapSrv.Count("Sent") == 2 })
	// A later mail from the program: once it is read, so was the copy before it.
	imapSrv.Append("Sent", fromProgram("tb-2@company.ru", "И ещё раз из программы."), time.Now(), imap.FlagSeen)
	eventually(t, "the second mail program reply to be ingested", func() bool { return len(outbound()) == 3 })
	var bodies []string
	for _, o := range outbound() {
		bodies = append(bodies, o.Body)
	}
	if len(bodies) != 3 || bodies[1] != "И ещё из Switchboard." || outbound()[1].ID != reply.ID {
		t.Errorf("outbound touches %q; want the program's, Switchboard's (touch %d, once) and the program's", bodies, reply.ID)
	}
}
