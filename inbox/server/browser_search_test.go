package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// search types q into the emptied search box, as a user would.
func (tb *tab) search(q string) {
	tb.t.Helper()
	tb.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#search"); s.value = ""; s.dispatchEvent(new Event("input", {bubbles: true})); })()`))
	tb.do(chromedp.SendKeys(chromedp.CSS("#search"), q))
}

// hits waits until the list shows exactly the names want (in any order),
// each with where it lives, and returns name → where label.
func (tb *tab) hits(what string, want ...string) map[string]string {
	tb.t.Helper()
	expr := `[...document.querySelectorAll("#conversations .conv-item")].map((a) => a.querySelector(".ci-name").textContent + "=" + (a.querySelector(".where")?.textContent || "")).sort().join("|")`
	tb.wait(what, fmt.Sprintf(`(() => { const got = %s.split("|").filter(Boolean).map((x) => x.split("=")[0]); const want = %q.split("|").filter(Boolean);
		return got.length === want.length && want.every((w) => got.includes(w)); })()`, expr, strings.Join(want, "|")))
	out := map[string]string{}
	got, _ := tb.eval(expr).(string)
	for kv := range strings.SplitSeq(got, "|") {
		if name, where, ok := strings.Cut(kv, "="); ok {
			out[name] = where
		}
	}
	return out
}

// A manager searches from "Mine" and finds a client of the unassigned
// queue by a phone number in another format, by email, a closed one, and
// a conversation by the text of an older message; each hit says where it
// lives, and another manager's client is never among them. A lead finds
// that one too, labelled as whose it is (issue 16, item 2).
func TestBrowserSearchCoversEveryQueueTheUserMaySee(t *testing.T) {
	ta := newTestApp(t)
	maria := ta.user("maria@example.ru", crm.Manager)
	ivan := ta.user("ivan@example.ru", crm.Manager)
	lead := ta.user("lena@example.ru", crm.Lead)
	web := ta.account("web", "Website")
	at := time.Now().Add(-time.Hour)
	client := func(ext, phone, email, name, text string, when time.Time) int64 {
		from := []channels.Handle{{Kind: "phone", Value: phone}}
		if email != "" {
			from = append(from, channels.Handle{Kind: "email", Value: email})
		}
		_, conv := ta.touchConv(channels.Inbound{AccountID: web.ID, ExternalID: ext, From: from, Name: name, Text: text, At: when})
		return conv
	}
	mine := client("s-1", "+79135550101", "", "Пётр Мойкин", "Нужны 40 стульев", at)
	client("s-1b", "+79135550101", "", "Пётр Мойкин", "Спасибо, жду", at.Add(10*time.Minute))
	ta.assignTo(mine, lead, &maria)
	client("s-2", "+79135550102", "uly@example.ru", "Ульяна Ничейная", "Здравствуйте", at.Add(time.Minute))
	closed := client("s-3", "+79135550103", "", "Кирилл Закрытый", "Всё получил", at.Add(2*time.Minute))
	ta.assignTo(closed, lead, &maria)
	if _, err := ta.SetConversationStatus(context.Background(), maria, closed, crm.ConvClosed, nil); err != nil {
		t.Fatal(err)
	}
	other := client("s-4", "+79135550104", "", "Чужой Клиент", "Чужой заказ стульев", at.Add(3*time.Minute))
	ta.assignTo(other, lead, &ivan)

	b := newBrowser(t, ta)
	p := b.tab("maria", "ru-RU")
	p.login("maria@example.ru")
	p.open("/inbox/mine")
	p.waitText("#conversations", "Пётр Мойкин")

	p.search("8 (913) 555-01-02")
	if w := p.hits("the unassigned client by her number", "Ульяна Ничейная")["Ульяна Ничейная"]; w != "без ответственного" {
		t.Errorf("the unassigned client's hit says %q, want без ответственного", w)
	}
	p.search("uly@example")
	p.hits("the unassigned client by her email", "Ульяна Ничейная")
	p.search("+7 913 555 0103")
	if w := p.hits("a closed conversation", "Кирилл Закрытый")["Кирилл Закрытый"]; w != "закрыт" {
		t.Errorf("the closed conversation's hit says %q, want закрыт", w)
	}
	p.search("стульев")
	if w := p.hits("the text of an older message, not another manager's", "Пётр Мойкин")["Пётр Мойкин"]; w != "мой" {
		t.Errorf("my conversation's hit says %q, want мой", w)
	}
	p.search("+79135550104")
	p.waitText("#list-empty", "Ничего не найдено")
	if n := p.eval(`document.querySelectorAll("#conversations .conv-item").length`); n != float64(0) {
		t.Errorf("another manager's client is listed to maria: %v hits", n)
	}
	p.search("Закрытый")
	p.hits("the closed one again", "Кирилл Закрытый")
	p.click("#conversations .conv-item")
	p.waitText("#conv-contact", "Кирилл Закрытый")
	p.screenshot("search-manager")
	// Choosing a queue leaves the search.
	p.click("#queue-mine")
	p.wait("the queue again", `document.querySelector("#search").value === "" && document.querySelector(".list-head h2").textContent === "Мои"`)
	p.noScriptErrors()

	l := b.tab("lena", "en-US")
	l.login("lena@example.ru")
	l.open("/inbox/unassigned")
	l.waitText("#conversations", "Ульяна Ничейная")
	l.search("стульев")
	hits := l.hits("both conversations about chairs", "Пётр Мойкин", "Чужой Клиент")
	if hits["Чужой Клиент"] != "ivan's" || hits["Пётр Мойкин"] != "maria's" {
		t.Errorf("the lead's hits say %v, want whose each is", hits)
	}
	// A phone: the hits and their labels fit.
	l.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	l.wait("the labels visible at 390 px", `[...document.querySelectorAll("#conversations .where")].every((w) => w.getBoundingClientRect().right <= 390 && w.offsetWidth > 0)
		&& document.documentElement.scrollWidth <= 390`)
	l.screenshot("search-lead-phone")
	l.noScriptErrors()
}
