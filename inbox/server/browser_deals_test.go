package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/crm"
)

// dragTo drags the card of deal id onto the element sel, as a mouse drag
// does: dragstart on the card, dragover and drop on the target, sharing
// one DataTransfer.
func (tb *tab) dragTo(id int64, sel string) {
	tb.t.Helper()
	tb.eval(fmt.Sprintf(`(() => {
		const card = document.querySelector('.deal-card[data-deal="%d"]'), target = document.querySelector(%s);
		const dt = new DataTransfer();
		card.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: dt}));
		target.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: dt}));
		target.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: dt}));
		card.dispatchEvent(new DragEvent("dragend", {bubbles: true, dataTransfer: dt}));
		return true;
	})()`, id, js(sel)))
}

// The deals board (issue 16, item 8): the owner sees every open deal as a
// card in its stage with the column's count and sum, drags one to the
// next stage and another onto Won (asked for the amount), switches to
// the list with totals, filters by manager, and opens a deal's page with
// its touches; a manager, in English, sees only their own deals.
func TestBrowserDealsBoard(t *testing.T) {
	ta := newTestApp(t)
	d := newDealDesk(t, ta)
	tg := ta.account("telegram", "bot")
	touch, _ := ta.touchConv(in(tg.ID, "tg-1", "telegram", "5001", "Дина", "Хочу шкаф-купе"))
	tc, err := crm.GetTouch(ta.db, touch)
	if err != nil || tc.DealID == nil {
		t.Fatalf("the telegram touch has no deal: %+v %v", tc, err)
	}
	stages, err := crm.Stages(ta.db)
	if err != nil {
		t.Fatal(err)
	}
	ta.startApp()
	b := newBrowser(t, ta)

	o := b.tab("owner", "ru-RU")
	o.login("owner@x.ru")
	o.open("/deals")
	first := fmt.Sprintf(`.stage-col[data-stage="%d"]`, stages[0].ID)
	o.waitText(first, "Кухня Анна")
	o.waitText(first+" .stage-sum", "4 · 350") // Анна, Вера, Глеб, Дина; 150 000 + 200 000 ₽
	if strings.Contains(o.text("#deals-board-view"), "Кухня Борис") {
		t.Error("a won deal is on the board")
	}
	o.screenshot("deals-board-ru")

	anna, vera := d.deals[0], d.deals[2]
	second := fmt.Sprintf(`.stage-col[data-stage="%d"]`, stages[1].ID)
	o.dragTo(anna.ID, second)
	o.waitText(second, "Кухня Анна")
	eventually(t, "Anna's deal in the second stage", func() bool {
		got, _ := crm.GetDeal(ta.db, anna.ID)
		return got.StageID == stages[1].ID
	})
	o.dragTo(vera.ID, "#drop-won")
	card := fmt.Sprintf(`.deal-card[data-deal="%d"]`, vera.ID)
	o.wait("the amount asked on Vera's card", "document.querySelector("+js(card+" .won-amount")+")")
	o.do(chromedp.SendKeys(chromedp.CSS(card+" .won-amount"), "5"))
	o.click(card + " button[type=submit]")
	eventually(t, "Vera's deal won", func() bool {
		got, _ := crm.GetDeal(ta.db, vera.ID)
		return got.Status == crm.DealWon && got.Amount == 200_000_500 // "2000005" typed after 2000000
	})
	o.wait("Vera's card gone", "!document.querySelector("+js(card)+")")

	o.click("#deals-list")
	o.waitText("#deal-totals [data-status=won]", "2")
	o.choose("#deals-responsible", fmt.Sprint(d.olegID))
	o.waitText("#deals-table", "Кухня Глеб")
	o.waitNoText("#deals-table", "Кухня Анна")
	o.screenshot("deals-list-ru")
	o.open(fmt.Sprintf("/deals/%d", *tc.DealID))
	o.waitText("#deal-touches", "Хочу шкаф-купе")
	o.waitText("#deal-page h2", "1 касание")
	o.screenshot("deal-page-ru")
	o.noScriptErrors()

	m := b.tab("maria", "en-US")
	m.login("maria@x.ru")
	m.open("/deals")
	m.waitText("#deals-board-view", "Кухня Анна")
	if txt := m.text("#deals-board-view"); strings.Contains(txt, "Кухня Глеб") || strings.Contains(txt, "Кухня Дина") {
		t.Errorf("Maria's board shows others' deals: %s", txt)
	}
	m.waitText("#deals", "Your deals")
	m.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	m.screenshot("deals-board-390-en")
	m.noScriptErrors()
}

// On a phone the board's cards carry their stage as a select: a deal
// moves without dragging.
func TestBrowserDealsBoardOnAPhone(t *testing.T) {
	ta := newTestApp(t)
	d := newDealDesk(t, ta)
	stages, err := crm.Stages(ta.db)
	if err != nil {
		t.Fatal(err)
	}
	ta.startApp()
	b := newBrowser(t, ta)
	m := b.tab("maria", "ru-RU")
	m.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	m.login("maria@x.ru")
	m.open("/deals")
	card := fmt.Sprintf(`.deal-card[data-deal="%d"]`, d.deals[0].ID)
	m.wait("Anna's card", "document.querySelector("+js(card+" .card-stage")+")?.offsetParent !== null")
	m.choose(card+" .card-stage", fmt.Sprint(stages[2].ID))
	eventually(t, "Anna's deal moved from the phone", func() bool {
		got, _ := crm.GetDeal(ta.db, d.deals[0].ID)
		return got.StageID == stages[2].ID
	})
	m.waitText(fmt.Sprintf(`.stage-col[data-stage="%d"]`, stages[2].ID), "Кухня Анна")
	m.screenshot("deals-board-390-ru")
	m.noScriptErrors()
}
