package server

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
	"github.com/switchboard/switchboard/crm"
)

// The Sources page gives a bot's start code its ready t.me link once the
// running bot has told its username (issue 16, item 10).
func TestBrowserABotCodeHasItsTMeLink(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@x.ru", crm.Owner)
	fake := telegramtest.NewServer(t, tgToken)
	ta.useAdapters(map[channels.Kind]channels.Factory{channels.Telegram: telegram.New})
	acc := ta.tgAccount("Бот", fake, "")
	if _, err := crm.CreateEntryPoint(ta.db, acc.ID, "ya1", true, nil, nil); err != nil {
		t.Fatal(err)
	}
	ta.startApp()
	eventually(t, "the bot live", func() bool {
		st, _ := ta.Supervisor().State(acc.ID)
		return st.Phase == channels.Live && st.Self == telegramtest.BotUsername
	})
	b := newBrowser(t, ta)
	o := b.tab("owner", "ru-RU")
	o.login("owner@x.ru")
	o.open("/owner/sources")
	o.waitText("#entries-table .tg-link", "https://t.me/"+telegramtest.BotUsername+"?start=ya1")
	o.noScriptErrors()
}

// Spend on the Sources page (issue 16, item 11): a month is picked rather
// than typed as two dates, periods read as Russian dates, and an entry is
// corrected and deleted in place, the report's days following.
func TestBrowserSpendByMonthCorrectedAndDeleted(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@x.ru", crm.Owner)
	src, err := crm.CreateAdSource(ta.db, "Авито")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ta)
	o := b.tab("owner", "ru-RU")
	o.login("owner@x.ru")
	o.open("/owner/sources")
	form := `.forms form:nth-child(2)`
	o.wait("the spend form", "document.querySelector("+js(form+" input[name=month]")+")")
	o.eval(`(() => { const i = document.querySelector(` + js(form+" input[name=month]") + `); i.value = "2026-02"; i.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	if got := o.eval(`document.querySelector(` + js(form+" input[name=to]") + `).value`); got != "2026-02-28" {
		t.Fatalf("February ends on %v", got)
	}
	o.choose(form+" select[name=source]", fmt.Sprint(src.ID))
	o.do(chromedp.SendKeys(chromedp.CSS(form+" input[name=amount]"), "28 000"), chromedp.Click(chromedp.CSS(form+" button[type=submit]")))
	o.waitText("#sources-table .spend-row", "01.02.2026 — 28.02.2026")
	o.click("#sources-table .spend-edit")
	o.eval(`(() => { const i = document.querySelector("#sources-table .spend-edit-form input[name=amount]"); i.value = "14 000"; })()`)
	o.click("#sources-table .spend-edit-form button[type=submit]")
	o.waitText("#sources-table .spend-row", "14")
	var days []crm.SpendDay
	if err := ta.db.Where("ad_source_id = ?", src.ID).Find(&days).Error; err != nil || len(days) != 28 || days[0].Amount != 50_000 {
		t.Fatalf("after the correction: %d days, %+v, %v; want 28 of 500 ₽", len(days), days[:min(1, len(days))], err)
	}
	o.eval(`window.confirm = () => true`)
	o.click("#sources-table .spend-delete")
	o.wait("the entry gone", "!document.querySelector('#sources-table .spend-row')")
	if n := ta.count("spend_days", "ad_source_id = ?", src.ID); n != 0 {
		t.Errorf("%d spend days left after the deletion", n)
	}
	o.noScriptErrors()
}

// From the contact panel a manager marks a contact a supplier: the No
// deal flag leaves its touches, the card says so, and "a client after
// all" brings the flag back (issue 16, item 7).
func TestBrowserAContactIsMarkedNoClient(t *testing.T) {
	ta := newTestApp(t)
	ta.user("lena@x.ru", crm.Lead)
	tg := ta.account("telegram", "bot")
	first, conv := ta.touchConv(in(tg.ID, "s1", "telegram", "6001", "ООО Фасады", "Прайс на фасады"))
	tc, _ := crm.GetTouch(ta.db, first)
	if _, err := crm.LoseDeal(ta.db, *tc.DealID, "поставщик"); err != nil {
		t.Fatal(err)
	}
	second, _ := ta.touchConv(in(tg.ID, "s2", "telegram", "6001", "ООО Фасады", "Обновили прайс"))
	b := newBrowser(t, ta)
	p := b.tab("lena", "ru-RU")
	p.login("lena@x.ru")
	p.open(fmt.Sprintf("/inbox/all/%d", conv))
	p.wait("the No deal flag", fmt.Sprintf(`document.querySelector('[data-resolve="%d"]')`, second))
	p.click("#contact-edit")
	p.choose("#contact-not-client-select", "supplier")
	p.click("#contact-save")
	p.waitText("#contact-not-client", "Не клиент: поставщик")
	p.wait("the flag gone", fmt.Sprintf(`!document.querySelector('[data-resolve="%d"]')`, second))
	p.waitText(fmt.Sprintf(`[data-touch="%d"]`, second), "Не клиент: поставщик")
	p.screenshot("not-a-client-ru")
	p.click("#contact-is-client")
	p.wait("the flag back", fmt.Sprintf(`document.querySelector('[data-resolve="%d"]')`, second))
	p.noScriptErrors()
}
