package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/crm"
)

// What a user sees of mail's people (issue 15, items 6 and 10): a
// colleague who wrote in the client's thread is named in the timeline and
// the conversation header; the owner's "Unreadable mail" page lists the
// mail with no readable sender, its problem in plain words and the
// original to download, in English and Russian; a lead or a manager has
// no such page.
func TestBrowserThreadParticipantsAndTheOwnersUnreadableMail(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	ta.user("lena@example.ru", crm.Lead)
	ta.user("max@example.ru", crm.Manager)
	mail := ta.account("email", "Почта продаж")
	at := time.Now().Add(-time.Hour)
	_, conv := ta.touchConv(channels.Inbound{AccountID: mail.ID, ExternalID: "q1@client.ru", Kind: channels.Mail, ThreadKey: "q1@client.ru", At: at,
		From: []channels.Handle{{Kind: "email", Value: "ivan@client.ru"}}, Name: "Иван Петров", Subject: "Запрос цены", Text: "Сколько стоит?"})
	ta.ingest(channels.Inbound{AccountID: mail.ID, ExternalID: "a1@client.ru", Kind: channels.Mail, ThreadKey: "q1@client.ru", Parents: []string{"q1@client.ru"},
		At: at.Add(time.Minute), From: []channels.Handle{{Kind: "email", Value: "anna@client.ru"}}, Name: "Анна Смирнова", Subject: "Re: Запрос цены", Text: "И доставка в Томск?"})
	for _, name := range []string{"no-from.eml", "broken-header.eml"} {
		in, _ := email.Parse(noSenderSample(t, name), []string{"sales@company.ru"})
		in.AccountID = mail.ID
		if res := ta.ingest(in); res[0].Err != nil || res[0].TouchID != 0 {
			t.Fatalf("%s: %+v", name, res[0])
		}
	}
	var raw crm.UnreadableMail
	ta.db.Table("unreadable_mail").Where("subject = ?", "Счёт на оплату").Take(&raw)

	b := newBrowser(t, ta)
	for _, lang := range []struct {
		code, nav, also, replyTo, noSender, header, download string
	}{
		{"en-US", "Unreadable", "Also writing", "The reply goes to Иван Петров alone", "No sender address", "header is damaged", "Download .eml"},
		{"ru-RU", "Нечитаемые", "Также пишут", "Ответ получит только Иван Петров", "Нет адреса отправителя", "Заголовок письма повреждён", "Скачать .eml"},
	} {
		p := b.tab("owner-"+lang.code, lang.code)
		p.login("owner@example.ru")
		p.open(fmt.Sprintf("/inbox/all/%d", conv))
		p.waitText("#conv-contact", "Иван Петров")
		p.waitText("#conv-participants", lang.also+": Анна Смирнова (anna@client.ru)")
		p.waitText("#timeline [data-participant]", "Анна Смирнова")
		p.waitText("#reply-to-contact", lang.replyTo)
		if n := p.eval(`document.querySelectorAll('#timeline [data-participant]').length`); n != float64(1) {
			p.fail("%v touches name a participant, want the colleague's one", n)
		}
		p.screenshot("participants-" + lang.code)

		p.click(`.pages a[href="/owner/unreadable"]`)
		p.waitText(".pages a.on", lang.nav)
		row := fmt.Sprintf(`#unreadable-table tr[data-unreadable="%d"]`, raw.ID)
		p.waitText(row, "Счёт на оплату")
		p.waitText(row+" .problem", lang.noSender)
		p.waitText(row, "Почта продаж")
		p.waitText(`#unreadable-table [data-problem="header"]`, lang.header)
		if href := p.eval(`document.querySelector(` + js(row+" a.download") + `).getAttribute('href')`); href != fmt.Sprintf("/api/v1/unreadable/%d/raw", raw.ID) || p.text(row+" a.download") != lang.download {
			p.fail("download link %v %q", href, p.text(row+" a.download"))
		}
		p.screenshot("unreadable-" + lang.code)
		p.noScriptErrors()
	}

	for _, who := range []string{"lena@example.ru", "max@example.ru"} {
		p := b.tab(who, "en-US")
		p.login(who)
		if n := p.eval(`document.querySelectorAll('.pages a[href="/owner/unreadable"]').length`); n != float64(0) {
			p.fail("%s has the unreadable mail page in the menu", who)
		}
		p.open("/owner/unreadable")
		p.wait("the page", "document.querySelector('#owner-unreadable') || document.querySelector('.shell .queues')")
		if txt := p.text("main"); strings.Contains(txt, "Счёт на оплату") || strings.Contains(txt, "No sender address") {
			p.fail("%s sees unreadable mail: %q", who, txt)
		}
		p.screenshot("unreadable-denied-" + who)
	}
}
