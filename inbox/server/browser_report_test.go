package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/demo"
)

// The owner, in the browser: creates an ad source, binds the tracking
// entry point the site's form posts arrive at (from the first of the
// month: the touches already there move with it), enters the month's
// spend, opens the report, sees the row and the chart, opens the leads
// behind the count and exports the table as CSV.
func TestBrowserTheOwnerSetsUpASourceAndReadsTheReport(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	site := ta.account("web", "chairs.example.ru")
	now := time.Now().In(msk)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, msk)
	at := now.Add(-2 * time.Hour)
	if at.Before(first) {
		at = first.Add(time.Minute)
	}
	var touches []int64
	for i, name := range []string{"Анна Петрова", "Борис Орлов", "Елена Смирнова"} {
		in := channels.Inbound{AccountID: site.ID, ExternalID: fmt.Sprintf("spring-%d", i), At: at.Add(time.Duration(i) * time.Minute),
			From: []channels.Handle{{Kind: "phone", Value: fmt.Sprintf("+7913555%04d", i)}}, Name: name, Text: "Перезвоните", EntryPoint: "spring-form"}
		touches = append(touches, ingest(t, ta, in))
	}
	oc := ta.login("owner@example.ru")
	deal := touchOf(t, oc, touches[0]).DealID
	b := newBrowser(t, ta)
	p := b.tab("owner", "en-US")
	p.login("owner@example.ru")

	// The source.
	p.click(`.pages a[href="/owner/sources"]`)
	p.waitText("#entries-table", "spring-form")
	p.do(chromedp.SendKeys(chromedp.CSS(`.forms form:nth-child(1) input[name=name]`), "Spring ads"),
		chromedp.Click(chromedp.CSS(`.forms form:nth-child(1) button[type=submit]`)))
	p.waitText("#sources-table", "Spring ads")
	var src crm.AdSource
	srcs, _ := crm.ListAdSources(ta.db)
	for _, s := range srcs {
		if s.Name == "Spring ads" {
			src = s
		}
	}
	// The binding, from the first of the month.
	p.eval(`(() => { const i = document.querySelector('#entries-table .bind-from'); i.value = ` + js(first.Format(time.DateOnly)) + `; i.dispatchEvent(new Event('change', {bubbles: true})); })()`)
	p.wait("the source among the choices", fmt.Sprintf(`document.querySelector('#entries-table select option[value="%d"]')`, src.ID))
	p.choose(`#entries-table select`, fmt.Sprint(src.ID))
	p.waitText(".toast", "the touches since then moved")
	// A month of spend: 90 000 ₽.
	monthEnd := first.AddDate(0, 1, -1)
	p.choose(`.forms form:nth-child(2) select[name=source]`, fmt.Sprint(src.ID))
	p.eval(`(() => { const f = document.querySelector('.forms form:nth-child(2)'); f.from.value = ` + js(first.Format(time.DateOnly)) + `; f.to.value = ` + js(monthEnd.Format(time.DateOnly)) + `; })()`)
	p.do(chromedp.SendKeys(chromedp.CSS(`.forms form:nth-child(2) input[name=amount]`), "90 000"),
		chromedp.Click(chromedp.CSS(`.forms form:nth-child(2) button[type=submit]`)))
	p.waitText("#sources-table", "₽90,000")
	p.screenshot("report-sources")
	if tc := touchOf(t, oc, touches[2]); tc.AdSourceID == nil || *tc.AdSourceID != src.ID {
		t.Fatalf("the backdated binding left the touch with source %v", tc.AdSourceID)
	}
	must(t, oc, 200, "POST", fmt.Sprintf("/api/v1/deals/%d/won", *deal), map[string]any{"amount": 12000000}, nil)

	// The report, this month.
	p.click(`.pages a[href="/owner/report"]`)
	row := fmt.Sprintf(`#report-table tr[data-source="%d"]`, src.ID)
	p.waitText(row, "Spring ads")
	p.waitText(row+" td.leads", "3")
	p.waitText(row+" td.spend", "₽90,000")
	p.waitText(row+" td.revenue", "₽120,000")
	p.waitText(row+" td.romi", "33.3%")
	p.waitText("#report-table tfoot", "Total")
	p.waitText("#report-table tr.kind-none", "No source")
	p.wait("the chart's bars", fmt.Sprintf(`document.querySelector('#report-chart g.chart-row[data-source="%d"] rect.bar-revenue')`, src.ID))
	p.waitText("#report-chart", "Spring ads")
	p.waitText("#report-funnel", "Contacts")
	p.screenshot("report")

	// The leads behind the count.
	p.click(row + ` td.leads button.cell-link`)
	p.waitText("#report-items", "Анна Петрова")
	p.waitText("#report-items", "Елена Смирнова")
	if n := p.eval(`document.querySelectorAll('#report-items li').length`); n != float64(3) {
		p.fail("%v contacts behind the count, want 3", n)
	}
	p.screenshot("report-leads")

	// The CSV, as the link downloads it.
	csv, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`fetch(document.querySelector('#report-export').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("fetch the CSV: %v", err)
	}
	if !strings.HasPrefix(csv, "source_id,source,") || !strings.Contains(csv, ",Spring ads,") || !strings.Contains(csv, ",90000.00,") {
		p.fail("the exported CSV: %q", csv)
	}
	var audit struct {
		Entries []crm.AuditEntry `json:"entries"`
	}
	must(t, oc, 200, "GET", "/api/v1/audit?action=report.export", nil, &audit)
	if len(audit.Entries) != 1 {
		t.Errorf("the export is audited: %+v", audit)
	}

	// In Russian: the same figures, formatted for Russian.
	p.click(`.topbar .lang button:nth-child(1)`)
	p.waitText("#report-table thead", "Лиды")
	p.waitText(row+" td.spend", "90\u00a0000")
	p.screenshot("report-ru")
	p.noScriptErrors()
}

// The owner imports a month of spend from a CSV on the Sources page: a
// bad line is listed and nothing is stored; the unknown source is created
// when asked; the import replaces, never doubles.
func TestBrowserTheOwnerImportsSpendFromCSV(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	oc := ta.login("owner@example.ru")
	must(t, oc, 200, "POST", "/api/v1/ad-sources", map[string]any{"name": "Яндекс Директ"}, nil)
	b := newBrowser(t, ta)
	p := b.tab("owner", "ru-RU")
	p.login("owner@example.ru")
	p.click(`.pages a[href="/owner/sources"]`)
	p.wait("the import form", "document.querySelector('#spend-import textarea')")
	paste := func(text string) {
		p.eval(`(() => { const a = document.querySelector('#spend-import textarea'); a.value = ` + js(text) + `; a.dispatchEvent(new Event('input', {bubbles: true})); })()`)
	}
	good := "Дата;Источник;Кампания;Сумма\n01.03.2026;Яндекс Директ;поиск;45 000,00\n02.03.2026;Яндекс Директ;поиск;45 000,00\n03.03.2026;Авито;;1 500,50\n"
	paste(good + "31.02.2026;Яндекс Директ;поиск;100\n")
	p.click(`#spend-import button[type=button]`)
	p.waitText("#spend-import .import-errors", "строка 5: «31.02.2026» — не дата")
	p.waitText("#spend-import .import-errors", "строка 4: неизвестный источник «Авито»")
	p.waitText("#spend-import", "Авито")
	p.screenshot("spend-import-errors")
	if days, _ := crm.ListSpendDays(ta.db, crm.SpendFilter{}); len(days) != 0 {
		t.Fatalf("a checked file stored %d days", len(days))
	}
	paste(good)
	p.click(`#spend-import input[name=create]`)
	p.click(`#spend-import button[type=button]`)
	p.waitText("#spend-import [role=status]", "3")
	for range 2 {
		paste(good)
		p.click(`#spend-import button[type=submit]`)
		p.waitText(".toast", "ничего не задвоено")
	}
	p.waitText("#sources-table", "Авито")
	days, err := crm.ListSpendDays(ta.db, crm.SpendFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, d := range days {
		sum += d.Amount
	}
	if len(days) != 3 || sum != 9000000+150050 {
		t.Errorf("after importing twice: %d days summing to %d", len(days), sum)
	}
	p.screenshot("spend-import-done")
	p.noScriptErrors()
}

// On the demo's quarter the report shows the source that loses money
// highlighted, in the table and in the chart.
func TestBrowserTheDemoReportShowsTheLosingSource(t *testing.T) {
	ta := newTestApp(t)
	end := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // a fixed end: the same data every run
	if _, err := demo.Generate(context.Background(), demo.Setup{DB: ta.db, Log: ta.log, Box: ta.box, Region: "RU", Currency: "RUB", Blobs: ta.opts.Blobs, ReadMail: email.Parse},
		demo.Options{Now: end, Days: 90, Seed: 1, Password: "password-s.kuznetsov@sibkuhni.example"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, ta)
	p := b.tab("owner", "ru-RU")
	p.login("s.kuznetsov@sibkuhni.example")
	p.click(`.pages a[href="/owner/report"]`)
	p.wait("the report", "document.querySelector('#report-table tbody tr')")
	from := end.In(msk).AddDate(0, 0, -89).Format(time.DateOnly)
	to := end.In(msk).Format(time.DateOnly)
	for id, v := range map[string]string{"#report-from": from, "#report-to": to} {
		p.eval(`(() => { const i = document.querySelector(` + js(id) + `); i.value = ` + js(v) + `; i.dispatchEvent(new Event('change', {bubbles: true})); })()`)
	}
	p.waitText("#report-says", from+" — "+to)
	p.waitText("#report-table tr.losing", "ВКонтакте")
	p.waitText("#report-chart g.losing", "ВКонтакте")
	if n := p.eval(`document.querySelectorAll('#report-table tbody tr.losing').length`); n != float64(1) {
		p.fail("%v losing sources, want ВКонтакте alone", n)
	}
	p.screenshot("report-demo")
	p.noScriptErrors()
}
