package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/report"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

// The owner's report through the API, on the real database, with touches
// stored by the application's own ingest.

// msk is the company's time zone in these tests (the default).
var msk = report.DefaultLocation()

// reportDesk is an owner with a web account whose form posts arrive at
// entry points bound to ad sources.
type reportDesk struct {
	*testApp
	owner *client
	site  crm.Account
	n     int
}

func newReportDesk(t *testing.T) *reportDesk {
	t.Helper()
	ta := newTestApp(t)
	ta.user("owner@example.ru", crm.Owner)
	return &reportDesk{testApp: ta, owner: ta.login("owner@example.ru"), site: ta.account("web", "site")}
}

// source creates an ad source through the API.
func (d *reportDesk) source(t *testing.T, name string) crm.AdSource {
	t.Helper()
	var s crm.AdSource
	must(t, d.owner, 200, "POST", "/api/v1/ad-sources", api.AdSourceRequest{Name: name}, &s)
	return s
}

// entry creates an entry point of the site bound to src (nil: none) from
// the beginning.
func (d *reportDesk) entry(t *testing.T, address string, src *int64) crm.EntryPoint {
	t.Helper()
	var ep crm.EntryPoint
	must(t, d.owner, 200, "POST", "/api/v1/entry-points", inbox.NewEntryPoint{AccountID: d.site.ID, Address: address, AdSourceID: src}, &ep)
	return ep
}

// spend enters spend for a period through the API.
func (d *reportDesk) spend(t *testing.T, src int64, from, to string, amount int64) {
	t.Helper()
	must(t, d.owner, 200, "POST", p("/api/v1/ad-sources/%d/spend", src), inbox.NewSpend{PeriodStart: from, PeriodEnd: to, Amount: amount}, nil)
}

// lead ingests a form post from a new phone (or the given one) at the
// entry point at a Moscow wall-clock time; it returns the touch.
func (d *reportDesk) lead(t *testing.T, address, at string, phone ...string) crm.Touch {
	t.Helper()
	d.n++
	ph := fmt.Sprintf("+7913%07d", d.n)
	if len(phone) > 0 {
		ph = phone[0]
	}
	when, err := time.ParseInLocation("2006-01-02 15:04", at, msk)
	if err != nil {
		t.Fatal(err)
	}
	in := channels.Inbound{AccountID: d.site.ID, ExternalID: fmt.Sprintf("form-%d", d.n), At: when,
		From: []channels.Handle{{Kind: "phone", Value: ph}}, Name: fmt.Sprintf("Client %d", d.n), Text: "call me back", EntryPoint: address}
	return touchOf(t, d.owner, ingest(t, d.testApp, in))
}

// win closes the touch's deal as won.
func (d *reportDesk) win(t *testing.T, tc crm.Touch, amount int64) {
	t.Helper()
	if tc.DealID == nil {
		t.Fatalf("touch %d has no deal", tc.ID)
	}
	must(t, d.owner, 200, "POST", p("/api/v1/deals/%d/won", *tc.DealID), api.WonRequest{Amount: amount}, nil)
}

func (d *reportDesk) report(t *testing.T, query string) report.Report {
	t.Helper()
	var rep report.Report
	must(t, d.owner, 200, "GET", "/api/v1/reports/sources?"+query, nil, &rep)
	return rep
}

// rowOf is the report's row of source id.
func rowOf(t *testing.T, rep report.Report, id int64) report.Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.SourceID != nil && *r.SourceID == id {
			return r
		}
	}
	t.Fatalf("the report has no row of source %d: %+v", id, rep.Rows)
	return report.Row{}
}

func i64(p *int64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func f64(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%.4f", *p)
}

// figures is a row as one comparable line.
func figures(r report.Row) string {
	return fmt.Sprintf("spend=%s leads=%d deals=%d won=%d lost=%d revenue=%d profit=%s cpl=%s cac=%s romi=%s",
		i64(r.Spend), r.Leads, r.Deals, r.Won, r.Lost, r.Revenue, i64(r.Profit), i64(r.CPL), i64(r.CAC), f64(r.ROMI))
}

func TestReportReferenceCaseToTheKopeck(t *testing.T) {
	d := newReportDesk(t)
	yd := d.source(t, "Yandex Direct")
	d.entry(t, "yandex-form", &yd.ID)
	d.spend(t, yd.ID, "2026-03-01", "2026-03-31", 9000000)
	for i := 0; i < 54; i++ {
		tc := d.lead(t, "yandex-form", fmt.Sprintf("2026-03-%02d 10:%02d", 1+i%28, i))
		if i < 12 {
			d.win(t, tc, 900000)
		}
	}
	rep := d.report(t, "from=2026-03-01&to=2026-03-31&group=source&model=first")
	r := rowOf(t, rep, yd.ID)
	want := "spend=9000000 leads=54 deals=54 won=12 lost=0 revenue=10800000 profit=1800000 cpl=166667 cac=750000 romi=0.2000"
	if got := figures(r); got != want {
		t.Errorf("reference row\n got %s\nwant %s", got, want)
	}
	if r.ROMI == nil || *r.ROMI != 0.2 {
		t.Errorf("romi = %v, want exactly 0.2", f64(r.ROMI))
	}
	if r.Touches != 54 || r.ConvLeadDeal == nil || *r.ConvLeadDeal != 1 || r.ConvDealWon == nil || *r.ConvDealWon != 12.0/54 {
		t.Errorf("touches %d, conversions %s %s", r.Touches, f64(r.ConvLeadDeal), f64(r.ConvDealWon))
	}
	if rep.Currency != "RUB" || rep.From != "2026-03-01" || rep.To != "2026-03-31" || rep.Model != "first" || rep.Basis != "cohort" || rep.TimeZone != "Europe/Moscow" {
		t.Errorf("report header %+v", rep)
	}
	if got := figures(rep.Total); got != want {
		t.Errorf("total\n got %s\nwant %s", got, want)
	}
	raw := send(t, d.owner, "GET", "/api/v1/reports/sources?from=2026-03-01&to=2026-03-31", nil)
	for _, w := range []string{`"currency":"RUB"`, `"from":"2026-03-01"`, `"rows":[`, `"no_source":{`, `"total":{`, `"cpl":166667`, `"cac":750000`, `"romi":0.2`, `"revenue":10800000`, `"profit":1800000`} {
		if !strings.Contains(string(raw.body), w) {
			t.Errorf("report JSON lacks %s: %s", w, raw.body)
		}
	}
	// The 54 behind the count, and the 12 behind "won".
	var items inbox.ReportItems
	must(t, d.owner, 200, "GET", p("/api/v1/reports/sources/items?from=2026-03-01&to=2026-03-31&source=%d&metric=leads", yd.ID), nil, &items)
	if len(items.Contacts) != 54 || len(items.Deals) != 0 || items.Total != 54 {
		t.Errorf("leads behind the count: %d contacts, %d deals", len(items.Contacts), len(items.Deals))
	}
	must(t, d.owner, 200, "GET", p("/api/v1/reports/sources/items?from=2026-03-01&to=2026-03-31&source=%d&metric=won", yd.ID), nil, &items)
	if len(items.Deals) != 12 || items.Deals[0].Amount != 900000 || items.Deals[0].Status != crm.DealWon {
		t.Errorf("won deals behind the count: %d %+v", len(items.Deals), items.Deals)
	}
	// The month's days sum exactly to what was entered.
	var days api.SpendDayList
	must(t, d.owner, 200, "GET", p("/api/v1/spend-days?ad_source_id=%d", yd.ID), nil, &days)
	var sum int64
	for _, x := range days.SpendDays {
		sum += x.Amount
	}
	if len(days.SpendDays) != 31 || sum != 9000000 || days.SpendDays[0].Amount != 290323 || days.SpendDays[30].Amount != 290322 {
		t.Errorf("spend days: %d days summing to %d, first %d", len(days.SpendDays), sum, days.SpendDays[0].Amount)
	}
}

func TestReportNullsAndNoSource(t *testing.T) {
	d := newReportDesk(t)
	free := d.source(t, "Word of mouth")
	idle := d.source(t, "Billboard")
	d.entry(t, "referral", &free.ID)
	d.entry(t, "direct", nil)
	d.spend(t, idle.ID, "2026-03-01", "2026-03-31", 3100000)
	d.win(t, d.lead(t, "referral", "2026-03-05 12:00"), 500000)
	d.lead(t, "direct", "2026-03-06 12:00")
	d.lead(t, "", "2026-03-07 12:00")
	rep := d.report(t, "from=2026-03-01&to=2026-03-31")
	if got, want := figures(rowOf(t, rep, free.ID)), "spend=0 leads=1 deals=1 won=1 lost=0 revenue=500000 profit=500000 cpl=0 cac=0 romi=null"; got != want {
		t.Errorf("a source with no spend\n got %s\nwant %s", got, want)
	}
	if got, want := figures(rowOf(t, rep, idle.ID)), "spend=3100000 leads=0 deals=0 won=0 lost=0 revenue=0 profit=-3100000 cpl=null cac=null romi=-1.0000"; got != want {
		t.Errorf("a source with spend and no leads\n got %s\nwant %s", got, want)
	}
	if rep.NoSource.SourceID != nil || rep.NoSource.Leads != 2 || rep.NoSource.Touches != 2 || rep.NoSource.Deals != 2 {
		t.Errorf("no source row: %+v", rep.NoSource)
	}
	if got, want := figures(rep.Total), "spend=3100000 leads=3 deals=3 won=1 lost=0 revenue=500000 profit=-2600000 cpl=1033333 cac=3100000 romi=-0.8387"; got != want {
		t.Errorf("total\n got %s\nwant %s", got, want)
	}
	raw := send(t, d.owner, "GET", "/api/v1/reports/sources?from=2026-03-01&to=2026-03-31", nil)
	if !strings.Contains(string(raw.body), `"cpl":null`) || strings.Contains(string(raw.body), "Inf") || strings.Contains(string(raw.body), "NaN") {
		t.Errorf("nulls: %s", raw.body)
	}
	var items inbox.ReportItems
	must(t, d.owner, 200, "GET", "/api/v1/reports/sources/items?from=2026-03-01&to=2026-03-31&source=none&metric=leads", nil, &items)
	if len(items.Contacts) != 2 {
		t.Errorf("no-source leads: %+v", items.Contacts)
	}
}

func TestReportCountsDaysInTheCompanysTimeZone(t *testing.T) {
	d := newReportDesk(t)
	yd := d.source(t, "Yandex Direct")
	d.entry(t, "yandex-form", &yd.ID)
	d.lead(t, "yandex-form", "2026-03-01 00:30") // 2026-02-28 21:30 UTC
	d.lead(t, "yandex-form", "2026-03-31 23:30") // 2026-03-31 20:30 UTC
	d.lead(t, "yandex-form", "2026-04-01 01:30") // 2026-03-31 22:30 UTC
	if r := rowOf(t, d.report(t, "from=2026-03-01&to=2026-03-31"), yd.ID); r.Leads != 2 {
		t.Errorf("March in Moscow has %d leads, want 2", r.Leads)
	}
	if r := rowOf(t, d.report(t, "from=2026-04-01&to=2026-04-30"), yd.ID); r.Leads != 1 {
		t.Errorf("April in Moscow has %d leads, want 1", r.Leads)
	}
}

func TestReportANumberMovedMidMonthSplitsByDate(t *testing.T) {
	d := newReportDesk(t)
	a := d.source(t, "Avito")
	b := d.source(t, "VK Ads")
	ep := d.entry(t, "tracking", &a.ID)
	d.lead(t, "tracking", "2026-03-10 12:00")
	d.lead(t, "tracking", "2026-03-14 23:59")
	late := d.lead(t, "tracking", "2026-03-15 00:01")
	d.win(t, late, 300000)
	d.lead(t, "tracking", "2026-03-20 12:00")
	if late.AdSourceID == nil || *late.AdSourceID != a.ID {
		t.Fatalf("before the move the touch is stamped with %v", late.AdSourceID)
	}
	// The owner moves the number to VK Ads from the 15th, entered late.
	from := time.Date(2026, 3, 15, 0, 0, 0, 0, msk)
	var moved crm.EntryPoint
	must(t, d.owner, 200, "POST", p("/api/v1/entry-points/%d/bindings", ep.ID), api.BindRequest{AdSourceID: &b.ID, ValidFrom: &from}, &moved)
	rep := d.report(t, "from=2026-03-01&to=2026-03-31")
	ra, rb := rowOf(t, rep, a.ID), rowOf(t, rep, b.ID)
	if ra.Leads != 2 || ra.Touches != 2 || rb.Leads != 2 || rb.Touches != 2 || rb.Won != 1 || rb.Revenue != 300000 || ra.Won != 0 {
		t.Errorf("after the move: Avito %s, VK %s", figures(ra), figures(rb))
	}
	if tc := touchOf(t, d.owner, late.ID); tc.AdSourceID == nil || *tc.AdSourceID != b.ID {
		t.Errorf("the touch after the 15th is stamped %v, want VK Ads", tc.AdSourceID)
	}
	runScenarios(t, []scenario{{name: "the backdated binding is audited with the touches it re-stamped", as: d.owner, method: "GET",
		path: p("/api/v1/audit?action=entry_point.bind&object_id=%d", ep.ID), status: 200, want: []string{`"restamped":2`}}})
	// A later binding back to Avito from the 20th covers only its part.
	from20 := time.Date(2026, 3, 20, 0, 0, 0, 0, msk)
	must(t, d.owner, 200, "POST", p("/api/v1/entry-points/%d/bindings", ep.ID), api.BindRequest{AdSourceID: &a.ID, ValidFrom: &from20}, nil)
	rep = d.report(t, "from=2026-03-01&to=2026-03-31")
	if ra, rb := rowOf(t, rep, a.ID), rowOf(t, rep, b.ID); ra.Leads != 3 || rb.Leads != 1 {
		t.Errorf("after moving back from the 20th: Avito %d leads, VK %d", ra.Leads, rb.Leads)
	}
}

func TestReportModelsDifferForAContactWhoCameBackThroughAnotherSource(t *testing.T) {
	d := newReportDesk(t)
	a := d.source(t, "Avito")
	b := d.source(t, "VK Ads")
	d.entry(t, "avito", &a.ID)
	d.entry(t, "vk", &b.ID)
	d.entry(t, "site-direct", nil)
	first := d.lead(t, "avito", "2026-03-02 10:00", "+79130000001")
	must(t, d.owner, 200, "POST", p("/api/v1/deals/%d/lost", *first.DealID), api.LostRequest{Reason: "too expensive"}, nil)
	back := d.lead(t, "vk", "2026-04-10 10:00", "+79130000001")
	d.lead(t, "site-direct", "2026-04-11 10:00", "+79130000001") // direct: not significant
	if back.ContactID != first.ContactID || back.DealID != nil {
		t.Fatalf("the returning contact: %+v", back)
	}
	var nd api.NewDealResponse
	must(t, d.owner, 200, "POST", p("/api/v1/touches/%d/new-deal", back.ID), nil, &nd)
	must(t, d.owner, 200, "POST", p("/api/v1/deals/%d/won", nd.Deal.ID), api.WonRequest{Amount: 1200000}, nil)

	q := "from=2026-03-01&to=2026-04-30&model="
	firstRep, lastRep := d.report(t, q+"first"), d.report(t, q+"last")
	if got, want := figures(rowOf(t, firstRep, a.ID)), "spend=0 leads=1 deals=2 won=1 lost=1 revenue=1200000 profit=1200000 cpl=0 cac=0 romi=null"; got != want {
		t.Errorf("first touch, Avito\n got %s\nwant %s", got, want)
	}
	if r := rowOf(t, firstRep, b.ID); r.Deals != 0 || r.Revenue != 0 || r.Touches != 1 {
		t.Errorf("first touch, VK: %s", figures(r))
	}
	if got, want := figures(rowOf(t, lastRep, a.ID)), "spend=0 leads=1 deals=1 won=0 lost=1 revenue=0 profit=0 cpl=0 cac=null romi=null"; got != want {
		t.Errorf("last touch, Avito\n got %s\nwant %s", got, want)
	}
	if got, want := figures(rowOf(t, lastRep, b.ID)), "spend=0 leads=0 deals=1 won=1 lost=0 revenue=1200000 profit=1200000 cpl=null cac=0 romi=null"; got != want {
		t.Errorf("last touch, VK\n got %s\nwant %s", got, want)
	}
	if firstRep.Model != report.FirstTouch || lastRep.Model != report.LastTouch {
		t.Errorf("models %s %s", firstRep.Model, lastRep.Model)
	}
}

func TestReportCohortAndSalesBases(t *testing.T) {
	d := newReportDesk(t)
	a := d.source(t, "Avito")
	d.entry(t, "avito", &a.ID)
	// March leads; two deals won today (closed_at is when they were won).
	d.win(t, d.lead(t, "avito", "2026-03-02 10:00"), 100000)
	d.win(t, d.lead(t, "avito", "2026-03-03 10:00"), 200000)
	d.lead(t, "avito", "2026-03-04 10:00")
	today := time.Now().In(msk).Format(time.DateOnly)
	march := "from=2026-03-01&to=2026-03-31&basis="
	if got, want := figures(rowOf(t, d.report(t, march+"cohort"), a.ID)), "spend=0 leads=3 deals=3 won=2 lost=0 revenue=300000 profit=300000 cpl=0 cac=0 romi=null"; got != want {
		t.Errorf("March cohort\n got %s\nwant %s", got, want)
	}
	if got, want := figures(rowOf(t, d.report(t, march+"sales"), a.ID)), "spend=0 leads=3 deals=3 won=0 lost=0 revenue=0 profit=0 cpl=0 cac=null romi=null"; got != want {
		t.Errorf("March by sales\n got %s\nwant %s", got, want)
	}
	now := "from=" + today + "&to=" + today + "&basis="
	if got, want := figures(rowOf(t, d.report(t, now+"sales"), a.ID)), "spend=0 leads=0 deals=0 won=2 lost=0 revenue=300000 profit=300000 cpl=null cac=0 romi=null"; got != want {
		t.Errorf("today by sales\n got %s\nwant %s", got, want)
	}
	if r := rowOf(t, d.report(t, now+"cohort"), a.ID); r.Won != 0 || r.Revenue != 0 {
		t.Errorf("today's cohort: %s", figures(r))
	}
}

func TestReportRefusesBadQueriesAndOthersThanTheOwner(t *testing.T) {
	d := newReportDesk(t)
	d.user("lead@example.ru", crm.Lead)
	d.user("manager@example.ru", crm.Manager)
	lead, mgr := d.login("lead@example.ru"), d.login("manager@example.ru")
	base := "/api/v1/reports/sources?from=2026-03-01&to=2026-03-31"
	runScenarios(t, []scenario{
		{name: "a manager may not read the report", as: mgr, method: "GET", path: base, status: 403, code: "forbidden"},
		{name: "a team lead may not read the report", as: lead, method: "GET", path: base, status: 403, code: "forbidden"},
		{name: "a manager may not open the leads behind a figure", as: mgr, method: "GET", path: "/api/v1/reports/sources/items?from=2026-03-01&to=2026-03-31&source=total&metric=leads", status: 403, code: "forbidden"},
		{name: "a manager may not export the report", as: mgr, method: "GET", path: "/api/v1/reports/sources/export.csv?from=2026-03-01&to=2026-03-31", status: 403, code: "forbidden"},
		{name: "a missing period is 422", as: d.owner, method: "GET", path: "/api/v1/reports/sources", status: 422, code: "invalid"},
		{name: "a date in another format is 422", as: d.owner, method: "GET", path: "/api/v1/reports/sources?from=01.03.2026&to=2026-03-31", status: 422, code: "invalid"},
		{name: "an end before the start is 422", as: d.owner, method: "GET", path: "/api/v1/reports/sources?from=2026-03-31&to=2026-03-01", status: 422, code: "invalid"},
		{name: "an unknown grouping is 422", as: d.owner, method: "GET", path: base + "&group=city", status: 422, code: "invalid"},
		{name: "an unknown model is 422", as: d.owner, method: "GET", path: base + "&model=linear", status: 422, code: "invalid"},
		{name: "an unknown basis is 422", as: d.owner, method: "GET", path: base + "&basis=forecast", status: 422, code: "invalid"},
		{name: "an unknown metric behind a figure is 422", as: d.owner, method: "GET", path: "/api/v1/reports/sources/items?from=2026-03-01&to=2026-03-31&source=total&metric=spend", status: 422, code: "invalid"},
		{name: "a bad source behind a figure is 422", as: d.owner, method: "GET", path: "/api/v1/reports/sources/items?from=2026-03-01&to=2026-03-31&source=x&metric=leads", status: 422, code: "invalid"},
	})
}

func TestReportGroupsAndExport(t *testing.T) {
	d := newReportDesk(t)
	a := d.source(t, "Avito")
	d.entry(t, "avito-1", &a.ID)
	d.entry(t, "avito-2", &a.ID)
	d.lead(t, "avito-1", "2026-03-02 10:00")
	d.lead(t, "avito-2", "2026-03-03 10:00")
	d.lead(t, "avito-2", "2026-03-04 10:00")
	must(t, d.owner, 200, "POST", "/api/v1/spend/import", inbox.SpendImport{CSV: "2026-03-01;Avito;Spring;1000\n2026-03-01;Avito;;500\n"}, nil)
	rep := d.report(t, "from=2026-03-01&to=2026-03-31&group=entry_point")
	if len(rep.Rows) != 2 || *rep.Rows[0].EntryPoint != "avito-1" || rep.Rows[0].Leads != 1 || rep.Rows[1].Leads != 2 || rep.Rows[0].Spend != nil {
		t.Errorf("by entry point: %+v", rep.Rows)
	}
	if *rep.Total.Spend != 150000 {
		t.Errorf("total spend by entry point %s", i64(rep.Total.Spend))
	}
	rep = d.report(t, "from=2026-03-01&to=2026-03-31&group=campaign")
	if len(rep.Rows) != 2 || *rep.Rows[0].Campaign != "" || *rep.Rows[0].Spend != 50000 || rep.Rows[0].Leads != 3 || *rep.Rows[1].Campaign != "Spring" || *rep.Rows[1].Spend != 100000 {
		t.Errorf("by campaign: %+v", rep.Rows)
	}
	rep = d.report(t, "from=2026-03-01&to=2026-03-31&group=channel")
	if len(rep.Rows) != 1 || *rep.Rows[0].Channel != "web" || rep.Rows[0].Leads != 3 {
		t.Errorf("by channel: %+v", rep.Rows)
	}
	r := send(t, d.owner, "GET", "/api/v1/reports/sources/export.csv?from=2026-03-01&to=2026-03-31", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %s", r)
	}
	body, bom := strings.CutPrefix(string(r.body), "\uFEFF") // so that Excel reads UTF-8
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if !bom || len(lines) != 4 || !strings.HasPrefix(lines[0], "source_id,source,") || !strings.Contains(lines[1], ",Avito,") || !strings.Contains(lines[1], ",1500.00,") ||
		!strings.HasPrefix(lines[2], "none,no source,") || !strings.HasPrefix(lines[3], "total,total,") {
		t.Errorf("export CSV:\n%s", r.body)
	}
	// For Russian Excel: ";" between cells and a decimal comma.
	r = send(t, d.owner, "GET", "/api/v1/reports/sources/export.csv?from=2026-03-01&to=2026-03-31", nil, "Accept-Language", "ru-RU,ru;q=0.9")
	if body := string(r.body); !strings.HasPrefix(body, "\uFEFFsource_id;source;") || !strings.Contains(body, ";Avito;") || !strings.Contains(body, ";1500,00;") {
		t.Errorf("export CSV for Russian Excel:\n%s", r.body)
	}
	runScenarios(t, []scenario{{name: "the export is audited", as: d.owner, method: "GET", path: "/api/v1/audit?action=report.export", status: 200, want: []string{`"report.export"`, `"from":"2026-03-01"`}}})
}

func TestSpendImport(t *testing.T) {
	d := newReportDesk(t)
	yd := d.source(t, "Yandex Direct")
	good := "date;source;campaign;amount;currency\n" +
		"2026-03-01;Yandex Direct;Spring;1 234,56;RUB\n" +
		"02.03.2026;yandex direct;Spring;1000\n" +
		"2026-03-03;Yandex Direct;;\"90 000,00\"\n"
	bad := good + "2026-03-32;Yandex Direct;Spring;1\n2026-03-04;Yandex Direct;Spring;12,345\n2026-03-05;Nowhere Ads;;10\n"
	var res inbox.SpendImportResult
	r := send(t, d.owner, "POST", "/api/v1/spend/import", inbox.SpendImport{CSV: bad})
	if r.status != 422 {
		t.Fatalf("a file with bad lines: %s", r)
	}
	checkErrorBody(t, r, "invalid")
	for _, w := range []string{"line 5", "2026-03-32", "line 6", "12,345", "line 7", `unknown source \"Nowhere Ads\"`, "nothing was imported"} {
		if !strings.Contains(string(r.body), w) {
			t.Errorf("the error lacks %q: %s", w, r.body)
		}
	}
	var days api.SpendDayList
	must(t, d.owner, 200, "GET", "/api/v1/spend-days", nil, &days)
	if len(days.SpendDays) != 0 {
		t.Fatalf("a refused file stored %+v", days.SpendDays)
	}
	// The preview lists the problems without storing anything.
	must(t, d.owner, 200, "POST", "/api/v1/spend/import", inbox.SpendImport{CSV: bad, DryRun: true}, &res)
	if res.Stored || len(res.Errors) != 3 || len(res.Unknown) != 1 || res.Unknown[0] != "Nowhere Ads" {
		t.Errorf("dry run: %+v", res)
	}
	// Good lines, imported twice: replaced, never doubled.
	for range 2 {
		must(t, d.owner, 200, "POST", "/api/v1/spend/import", inbox.SpendImport{CSV: good}, &res)
	}
	if !res.Stored || res.Lines != 3 || res.Days != 3 || res.Totals["RUB"] != 123456+100000+9000000 || res.From != "2026-03-01" || res.To != "2026-03-03" {
		t.Errorf("import: %+v", res)
	}
	must(t, d.owner, 200, "GET", "/api/v1/spend-days?from=2026-03-01&to=2026-03-31", nil, &days)
	got := []string{}
	for _, x := range days.SpendDays {
		got = append(got, fmt.Sprintf("%s/%s/%d", x.Day.Format(time.DateOnly), x.Campaign, x.Amount))
	}
	if want := "[2026-03-01/Spring/123456 2026-03-02/Spring/100000 2026-03-03//9000000]"; fmt.Sprint(got) != want {
		t.Errorf("spend days after two imports %v, want %s", got, want)
	}
	if r := rowOf(t, d.report(t, "from=2026-03-01&to=2026-03-31"), yd.ID); *r.Spend != 9223456 {
		t.Errorf("the report's spend %s", i64(r.Spend))
	}
	// A re-import of a day with a new amount replaces it.
	must(t, d.owner, 200, "POST", "/api/v1/spend/import", inbox.SpendImport{CSV: "2026-03-03,Yandex Direct,,500.5\n"}, nil)
	if r := rowOf(t, d.report(t, "from=2026-03-03&to=2026-03-03"), yd.ID); *r.Spend != 50050 {
		t.Errorf("a re-imported day: %s", i64(r.Spend))
	}
	// Unknown sources are created on request.
	must(t, d.owner, 200, "POST", "/api/v1/spend/import", inbox.SpendImport{CSV: "2026-03-05,Nowhere Ads,,10,50\n", CreateSources: true}, &res)
	if len(res.Created) != 1 || res.Created[0].Name != "Nowhere Ads" || res.Totals["RUB"] != 1050 {
		t.Errorf("created sources: %+v", res)
	}
	runScenarios(t, []scenario{
		{name: "the import is audited", as: d.owner, method: "GET", path: "/api/v1/audit?action=spend.import", status: 200, want: []string{`"days":3`}},
		{name: "a source made by the import is audited", as: d.owner, method: "GET", path: "/api/v1/audit?action=ad_source.create", status: 200, want: []string{`"by":"spend.import"`}},
		{name: "an empty file is 422", as: d.owner, method: "POST", path: "/api/v1/spend/import", body: inbox.SpendImport{CSV: "\n"}, status: 422, code: "invalid"},
		{name: "the VAT setting is kept and shown", as: d.owner, method: "PATCH", path: p("/api/v1/ad-sources/%d", yd.ID), body: `{"vat_included":true}`, status: 200, want: []string{`"vat_included":true`}},
		{name: "the report shows the VAT setting", as: d.owner, method: "GET", path: "/api/v1/reports/sources?from=2026-03-01&to=2026-03-31", status: 200, want: []string{`"source":"Yandex Direct","vat_included":true`}},
	})
}

func TestSpendIsSpreadWithTheRemainderOnTheFirstDays(t *testing.T) {
	d := newReportDesk(t)
	s := d.source(t, "Outdoor")
	d.spend(t, s.ID, "2026-03-01", "2026-03-03", 100)
	d.spend(t, s.ID, "2026-03-10", "2026-03-10", 7)
	// Entering a range again replaces its days, never adds.
	d.spend(t, s.ID, "2026-03-01", "2026-03-03", 200)
	var days api.SpendDayList
	must(t, d.owner, 200, "GET", p("/api/v1/spend-days?ad_source_id=%d", s.ID), nil, &days)
	var got []int64
	for _, x := range days.SpendDays {
		got = append(got, x.Amount)
	}
	if fmt.Sprint(got) != "[67 67 66 7]" {
		t.Errorf("spread %v, want [67 67 66 7]", got)
	}
	if got := crm.SpreadSpend(1, "", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), 9000000, "RUB"); len(got) != 28 || got[0].Amount != 321429 || got[27].Amount != 321428 {
		t.Errorf("February: %d days, %+v … %+v", len(got), got[0], got[len(got)-1])
	}
	b, _ := json.Marshal(days.SpendDays[0])
	if !strings.Contains(string(b), `"day":"2026-03-01T00:00:00Z"`) {
		t.Errorf("a day is a date: %s", b)
	}
	_ = context.Background
}

func TestReportFunnelWithItsLosses(t *testing.T) {
	d := newReportDesk(t)
	a := d.source(t, "Avito")
	d.entry(t, "avito", &a.ID)
	var pl api.Pipeline
	must(t, d.owner, 200, "GET", "/api/v1/pipeline", nil, &pl)
	stage := map[string]int64{}
	for _, s := range pl.Stages {
		stage[s.Name] = s.ID
	}
	var tcs []crm.Touch
	for i := 0; i < 6; i++ {
		tcs = append(tcs, d.lead(t, "avito", fmt.Sprintf("2026-03-%02d 10:00", i+2)))
	}
	move := func(tc crm.Touch, name string) {
		must(t, d.owner, 200, "POST", p("/api/v1/deals/%d/stage", *tc.DealID), api.StageRequest{StageID: stage[name]}, nil)
	}
	lose := func(tc crm.Touch, reason string) {
		must(t, d.owner, 200, "POST", p("/api/v1/deals/%d/lost", *tc.DealID), api.LostRequest{Reason: reason}, nil)
	}
	// 0 stays New; 1 lost at New; 2 at Qualified; 3 lost at Qualified; 4 lost at Proposal; 5 won.
	lose(tcs[1], "too expensive")
	move(tcs[2], "Qualified")
	move(tcs[3], "Qualified")
	lose(tcs[3], "too expensive")
	move(tcs[4], "Proposal")
	lose(tcs[4], "went to a competitor")
	d.win(t, tcs[5], 100000)
	var f report.Funnels
	must(t, d.owner, 200, "GET", "/api/v1/reports/funnel?from=2026-03-01&to=2026-03-31", nil, &f)
	if len(f.Funnels) != 1 || *f.Funnels[0].SourceID != a.ID {
		t.Fatalf("funnels: %+v", f)
	}
	var got []string
	for _, s := range f.Funnels[0].Steps {
		got = append(got, fmt.Sprintf("%s=%d-%d", s.Name, s.Count, s.Lost))
	}
	if want := "[contacts=6-0 deals=6-0 New=6-0 Qualified=4-2 Proposal=2-2 won=1-1]"; fmt.Sprint(got) != want {
		t.Errorf("funnel steps %v, want %s", got, want)
	}
	if r := f.Funnels[0].Lost; len(r) != 2 || r[0] != (report.Reason{Reason: "too expensive", Count: 2}) || r[1].Count != 1 {
		t.Errorf("lost reasons %+v", r)
	}
	if s := f.Funnels[0].Steps[3]; s.LostShare == nil || *s.LostShare != 2.0/6 {
		t.Errorf("share lost at Qualified: %s", f64(s.LostShare))
	}
}
