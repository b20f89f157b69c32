package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// A reply WhatsApp refuses is marked in the list and on its card, with
// the reason in Russian and the channel's words below it, also after a
// reload; "Retry" sends the same reply again, and "Send another way"
// hands its text to the composer with the other account chosen. The
// composer never offers a disabled account or one that cannot send
// (issue 16, item 4).
func TestBrowserAFailedReplyIsMarkedExplainedAndRetried(t *testing.T) {
	ta := newTestApp(t)
	wa := ta.useGated()
	owner := ta.user("owner@example.ru", crm.Owner)
	m := ta.user("maria@example.ru", crm.Manager)
	acc := ta.account("whatsapp", "WhatsApp sales")
	ta.account("email", "sales@chairs.example.ru")
	ta.account("web", "Website form") // receives only
	old := ta.account("email", "old@chairs.example.ru")
	off := false
	if _, err := ta.SaveAccount(context.Background(), owner, old.ID, crm.AccountInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	_, conv := ta.touchConv(in(acc.ID, "wa-1", "whatsapp", "79131234567@s.whatsapp.net", "Иван Смирнов", "Сколько стоит доставка в Томск?"))
	ta.assignTo(conv, m, &m)
	if _, err := ta.AddIdentity(context.Background(), m, mustContact(t, ta, conv), crm.RawHandle{Kind: "email", Value: "ivan@example.ru"}); err != nil {
		t.Fatal(err)
	}
	ta.startApp()
	b := newBrowser(t, ta)
	p := b.tab("maria", "ru-RU")
	p.login("maria@example.ru")
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.wait("the composer", `document.querySelector("#reply-text")`)
	offered, _ := p.eval(`[...document.querySelectorAll("#reply-account option")].map((o) => o.textContent).join("|")`).(string)
	if !strings.Contains(offered, "WhatsApp sales") || !strings.Contains(offered, "sales@chairs.example.ru") ||
		strings.Contains(offered, "old@chairs") || strings.Contains(offered, "Website form") {
		t.Errorf("the composer offers %q: want the WhatsApp and the enabled mailbox only", offered)
	}

	p.do(chromedp.SendKeys(chromedp.CSS("#reply-text"), "Доставка в Томск — 1 500 ₽"))
	p.click("#reply-send")
	p.wait("the reply queued", `document.querySelector(".touch.out .delivery")?.dataset.status === "queued"`)
	wa.next <- channels.Permanent(errors.New("whatsapp: this chat never wrote to the account: a first message is refused to protect the number from a ban"))
	card := ".touch.out.is-failed"
	p.waitText(card+" .failed-why", "Клиент ещё не писал на этот номер WhatsApp")
	p.waitText(card+" .failed-raw", "never wrote to the account")
	p.waitText(convItem(conv)+" .flag.failed", "не отправлено")
	p.screenshot("reply-failed-ru")

	// A reload shows the same, not a tooltip.
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.waitText(card+" .failed-why", "Клиент ещё не писал на этот номер WhatsApp")
	p.waitText(convItem(conv)+" .flag.failed", "не отправлено")

	// Retry: the same reply goes out; the marks go.
	p.click(card + " .retry-send")
	p.wait("the reply queued again", `!document.querySelector(".touch.is-failed") && document.querySelector(".touch.out .delivery")?.dataset.status === "queued"`)
	wa.next <- nil
	p.wait("the reply sent", `document.querySelector(".touch.out .delivery")?.dataset.status === "sent"`)
	p.wait("the list mark gone", fmt.Sprintf(`!document.querySelector(%s)`, js(convItem(conv)+" .flag.failed")))
	if n := p.eval(`document.querySelectorAll(".touch.out").length`); n != float64(1) {
		t.Errorf("%v replies on the timeline after a retry, want the one sent again", n)
	}

	// Another failure, sent another way: the text goes to the composer,
	// through the mailbox.
	p.do(chromedp.SendKeys(chromedp.CSS("#reply-text"), "Вы здесь?"))
	p.click("#reply-send")
	p.wait("the second reply queued", `document.querySelectorAll(".touch.out").length === 2`)
	wa.next <- channels.Permanent(errors.New("whatsapp: send to 79131234567@s.whatsapp.net: server returned error 479"))
	p.waitText(card+" .failed-why", "Канал не принял сообщение")
	p.click(card + " .send-other")
	p.wait("the text in the composer, focused", `document.querySelector("#reply-text").value === "Вы здесь?" && document.activeElement.id === "reply-text"`)
	if via := p.eval(`document.querySelector("#reply-account").selectedOptions[0].textContent`); !strings.Contains(fmt.Sprint(via), "sales@chairs.example.ru") {
		t.Errorf("send another way chose %v, want the mailbox", via)
	}

	// Once its account is disabled, a failed reply is only sent another way.
	if _, err := ta.SaveAccount(context.Background(), owner, acc.ID, crm.AccountInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	p.open(fmt.Sprintf("/inbox/mine/%d", conv))
	p.waitText(card+" [data-no-retry]", "Аккаунт WhatsApp sales не отправит его повторно")
	if n := p.eval(`document.querySelectorAll(".touch.is-failed .retry-send").length`); n != float64(0) {
		t.Errorf("Retry is offered for a reply whose account is disabled")
	}

	// A phone: the reason and the action fit.
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.wait("the failure fits at 390 px", `[...document.querySelectorAll(".touch.is-failed .failed-actions button")].every((b) => b.getBoundingClientRect().right <= 390 && b.offsetWidth > 0)`)
	p.screenshot("reply-failed-phone")
	p.noScriptErrors()
}
