package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
	"github.com/switchboard/switchboard/crm"
)

// The timeline's lines for real-world messages, as each channel delivers
// them: a Telegram message forwarded from someone else (issue 15, item
// 13), a number left with an extension (item 16), and a mail that could
// not be read completely, said in plain words (item 12). In English and
// Russian.
func TestBrowserTimelineRealWorldLines(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@example.ru", crm.Lead)

	// Telegram, through the adapter and a fake Bot API.
	fake := telegramtest.NewServer(t, tgToken)
	bot := ta.tgAccount("Мебель НСК бот", fake, "")
	if err := fake.Push(tgSample(t, "forward_user.json")); err != nil {
		t.Fatal(err)
	}
	ta.runTelegram(bot.ID)
	fake.WaitOffset(t, 815400121, 0)
	var fwd crm.Touch
	if err := ta.db.Where("account_id = ?", bot.ID).Take(&fwd).Error; err != nil {
		t.Fatal(err)
	}

	// A website form with a number and its extension.
	site := ta.account("web", "chairs.example.ru")
	ext, _ := ta.touchConv(channels.Inbound{AccountID: site.ID, ExternalID: "form-1", Name: "Игорь Власов",
		From: []channels.Handle{{Kind: "phone", Value: "+7 383 234-90-96 доб. 123"}}, Text: "Перезвоните в офис, спросите Игоря"})
	var extTouch crm.Touch
	ta.db.Take(&extTouch, ext)
	// The office calls back from another extension: the contact's number
	// now remembers that one (the touch above keeps its own).
	ta.ingest(channels.Inbound{AccountID: site.ID, ExternalID: "form-2",
		From: []channels.Handle{{Kind: "phone", Value: "8 (383) 234-90-96 вн. 45"}}, Text: "Игоря нет, спросите Марину"})

	// A mail whose multipart has no boundary, parsed as the adapter does.
	mail := ta.account("email", "sales@company.ru")
	in, err := email.Parse(mailSample(t, "broken-mime.eml"), []string{"sales@company.ru"})
	if err == nil {
		t.Fatal("broken-mime.eml parsed without a problem")
	}
	in.AccountID, in.Kind = mail.ID, channels.Mail
	broken, _ := ta.touchConv(in)
	var brokenTouch crm.Touch
	ta.db.Take(&brokenTouch, broken)

	b := newBrowser(t, ta)
	for _, lang := range []struct {
		code, forwarded, written, ext, identityExt, problem, boundary, attached string
	}{
		{"en-US", "Forwarded from Олег Петров (@oleg_petrov)", "(written ", "ext. 123", "ext. 45",
			"This message could not be read completely.", "The message is made of parts but does not say where they begin, so it is shown as raw text.", "The original message is attached."},
		{"ru-RU", "Переслано от Олег Петров (@oleg_petrov)", "(написано ", "доб. 123", "доб. 45",
			"Это письмо не удалось прочитать полностью.", "Письмо состоит из частей, но не указано, где они начинаются, поэтому оно показано как есть.", "Исходное письмо приложено."},
	} {
		p := b.tab("lena-"+lang.code, lang.code)
		p.login("lena@example.ru")

		p.open(fmt.Sprintf("/inbox/all/%d", fwd.ConversationID))
		card := fmt.Sprintf("#touch-%d", fwd.ID)
		p.waitText(card+` [data-extra="forwarded"]`, lang.forwarded)
		p.waitText(card+` [data-extra="forwarded"]`, lang.written)
		p.waitText(card+" .text", "Шкаф-купе 2 м, зеркало, доставка в пятницу — сколько?")
		p.screenshot("timeline-forwarded-" + lang.code)

		p.open(fmt.Sprintf("/inbox/all/%d", extTouch.ConversationID))
		card = fmt.Sprintf("#touch-%d", ext)
		p.waitText(card+" [data-phone-ext]", lang.ext)
		if head := p.text(card + " .handle"); !strings.Contains(head, "383") || !strings.HasSuffix(strings.TrimSpace(head), lang.ext) {
			t.Errorf("%s: the caller's number reads %q, want the number then %q", lang.code, head, lang.ext)
		}
		// The contact panel lists the number with the latest extension.
		phone := "#contact-panel .identities li"
		p.waitText(phone+" [data-phone-ext]", lang.identityExt)
		if line := strings.Join(strings.Fields(p.text(phone)), " "); !strings.Contains(line, "383") || !strings.HasSuffix(line, lang.identityExt) {
			t.Errorf("%s: the contact panel lists the phone as %q, want the number then %q", lang.code, line, lang.identityExt)
		}
		p.screenshot("timeline-extension-" + lang.code)

		p.open(fmt.Sprintf("/inbox/all/%d", brokenTouch.ConversationID))
		card = fmt.Sprintf("#touch-%d", broken)
		line := card + ` [data-parse-problem="boundary"]`
		p.waitText(line, lang.problem)
		p.waitText(line, lang.boundary)
		p.waitText(line, lang.attached)
		if s := p.text(line); strings.Contains(s, "boundary") && lang.code == "ru-RU" || strings.Contains(s, "without a boundary") {
			t.Errorf("%s: the problem is said in technical words: %q", lang.code, s)
		}
		p.waitText(card+" .files", email.RawName)
		p.screenshot("timeline-parse-problem-" + lang.code)
		p.noScriptErrors()
	}
}
