package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// dealDesk is a small pipeline of deals of two managers and two sources
// over two months.
type dealDesk struct {
	owner, lena, maria, oleg *client
	mariaID, olegID          int64
	yandex, avito            crm.AdSource
	deals                    []crm.Deal
}

func newDealDesk(t *testing.T, ta *testApp) *dealDesk {
	t.Helper()
	ta.user("owner@x.ru", crm.Owner)
	ta.user("lena@x.ru", crm.Lead)
	maria := ta.user("maria@x.ru", crm.Manager)
	oleg := ta.user("oleg@x.ru", crm.Manager)
	d := &dealDesk{mariaID: maria.ID, olegID: oleg.ID}
	var err error
	if d.yandex, err = crm.CreateAdSource(ta.db, "Яндекс.Директ"); err != nil {
		t.Fatal(err)
	}
	if d.avito, err = crm.CreateAdSource(ta.db, "Авито"); err != nil {
		t.Fatal(err)
	}
	msk := time.FixedZone("MSK", 3*3600)
	mk := func(name string, resp int64, src *int64, created time.Time, amount int64) crm.Deal {
		c := crm.Contact{Name: name}
		if err := crm.CreateContact(ta.db, &c, []crm.Key{{Kind: crm.PhoneID, Value: fmt.Sprintf("+7913%07d", len(d.deals)+1)}}); err != nil {
			t.Fatal(err)
		}
		dl := crm.Deal{ContactID: c.ID, Title: "Кухня " + name, Currency: "RUB", AdSourceID: src, ResponsibleID: &resp, Amount: amount, CreatedAt: created}
		if err := crm.OpenDeal(ta.db, &dl); err != nil {
			t.Fatal(err)
		}
		d.deals = append(d.deals, dl)
		return dl
	}
	mk("Анна", maria.ID, &d.yandex.ID, time.Date(2026, 10, 5, 10, 0, 0, 0, msk), 150_000_00)
	mk("Борис", maria.ID, &d.avito.ID, time.Date(2026, 11, 2, 10, 0, 0, 0, msk), 90_000_00)
	mk("Вера", oleg.ID, &d.yandex.ID, time.Date(2026, 11, 20, 10, 0, 0, 0, msk), 200_000_00)
	mk("Глеб", oleg.ID, nil, time.Date(2026, 11, 30, 23, 30, 0, 0, msk), 0)
	if _, err := crm.WinDeal(ta.db, d.deals[1].ID, 95_000_00); err != nil {
		t.Fatal(err)
	}
	d.owner, d.lena, d.maria, d.oleg = ta.login("owner@x.ru"), ta.login("lena@x.ru"), ta.login("maria@x.ru"), ta.login("oleg@x.ru")
	return d
}

func dealTitles(p crm.DealPage) []string {
	out := []string{}
	for _, d := range p.Deals {
		out = append(out, d.Title)
	}
	return out
}

// TestDealsListFiltersPagesAndSums: GET /api/v1/deals filters by status,
// responsible, source (or none), stage and the created/closed period
// (days in the company's time zone), pages by cursor, carries each deal's
// contact name and sums every deal the filter selects by stage and
// status; a manager sees only their own deals whatever they ask.
func TestDealsListFiltersPagesAndSums(t *testing.T) {
	ta := newTestApp(t)
	d := newDealDesk(t, ta)
	list := func(c *client, q string) crm.DealPage {
		t.Helper()
		var p crm.DealPage
		must(t, c, 200, "GET", "/api/v1/deals?"+q, nil, &p)
		return p
	}
	eq := func(what string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	eq("all, newest first", dealTitles(list(d.owner, "")), "Кухня Глеб", "Кухня Вера", "Кухня Борис", "Кухня Анна")
	eq("open", dealTitles(list(d.lena, "status=open")), "Кухня Глеб", "Кухня Вера", "Кухня Анна")
	eq("Oleg's", dealTitles(list(d.owner, fmt.Sprintf("responsible_id=%d", d.olegID))), "Кухня Глеб", "Кухня Вера")
	eq("Yandex", dealTitles(list(d.owner, fmt.Sprintf("source=%d", d.yandex.ID))), "Кухня Вера", "Кухня Анна")
	eq("no source", dealTitles(list(d.owner, "source=none")), "Кухня Глеб")
	// 30 Nov 23:30 Moscow is 30 Nov in the company's zone (the test
	// app's is Moscow), though 20:30 UTC.
	eq("created in November", dealTitles(list(d.owner, "created_from=2026-11-01&created_to=30.11.2026")), "Кухня Глеб", "Кухня Вера", "Кухня Борис")
	today := time.Now().Format(time.DateOnly)
	eq("closed today", dealTitles(list(d.owner, "closed_from="+today+"&closed_to="+today)), "Кухня Борис")

	p := list(d.owner, "limit=3")
	if len(p.Deals) != 3 || p.NextCursor == "" {
		t.Fatalf("page 1: %v, cursor %q", dealTitles(p), p.NextCursor)
	}
	p2 := list(d.owner, "limit=3&cursor="+p.NextCursor)
	eq("page 2", dealTitles(p2), "Кухня Анна")
	if p2.NextCursor != "" {
		t.Errorf("the last page has a cursor %q", p2.NextCursor)
	}
	if p.Deals[0].ContactName != "Глеб" {
		t.Errorf("the deal's contact name: %q", p.Deals[0].ContactName)
	}
	var open, won, openAmount int64
	for _, s := range p.Sums { // the sums are of all four, not the page's three
		switch s.Status {
		case crm.DealOpen:
			open += s.Count
			openAmount += s.Amount
		case crm.DealWon:
			won += s.Count
		}
	}
	if open != 3 || won != 1 || openAmount != 350_000_00 {
		t.Errorf("sums %+v: open %d (%d kopecks), won %d; want 3 (35 000 000 kopecks), 1", p.Sums, open, openAmount, won)
	}

	eq("Maria, whatever she asks", dealTitles(list(d.maria, fmt.Sprintf("responsible_id=%d", d.olegID))), "Кухня Борис", "Кухня Анна")
	for _, s := range list(d.maria, "").Sums {
		if s.Amount == 200_000_00 {
			t.Errorf("Maria's sums include Oleg's deal: %+v", s)
		}
	}
	for _, q := range []string{"status=maybe", "source=yandex", "created_from=yesterday", "cursor=abc"} {
		must(t, d.owner, 422, "GET", "/api/v1/deals?"+q, nil, nil)
	}
	must(t, d.owner, 400, "GET", "/api/v1/deals?stage_id=-1", nil, nil)
}

// Deals are titled in the client's words: a message's first line (a web
// form's page, an email's subject: crm.TestDealTitle); a manager opening a
// deal from a touch may name it and set its amount, or leave the title to
// the touch.
func TestDealTitlesAndANewDealWithAnAmount(t *testing.T) {
	ta := newTestApp(t)
	ta.user("owner@x.ru", crm.Owner)
	tg := ta.account("telegram", "bot")
	touch, _ := ta.touchConv(in(tg.ID, "t1", "telegram", "9001", "Дина", "Хочу шкаф-купе\nширина 2 м"))
	tc, _ := crm.GetTouch(ta.db, touch)
	if d, err := crm.GetDeal(ta.db, *tc.DealID); err != nil || d.Title != "Хочу шкаф-купе" {
		t.Errorf("the automatic deal's title %q (%v), want the message's first line", d.Title, err)
	}
	if _, err := crm.LoseDeal(ta.db, *tc.DealID, "передумала"); err != nil {
		t.Fatal(err)
	}
	second, _ := ta.touchConv(in(tg.ID, "t2", "telegram", "9001", "Дина", "А угловой есть?"))
	third, _ := ta.touchConv(in(tg.ID, "t3", "telegram", "9001", "Дина", "И тумба"))
	owner := ta.login("owner@x.ru")
	var out struct{ Deal crm.Deal }
	must(t, owner, 200, "POST", fmt.Sprintf("/api/v1/touches/%d/new-deal", second), map[string]any{"title": "Угловой шкаф", "amount": 8_500_000}, &out)
	if out.Deal.Title != "Угловой шкаф" || out.Deal.Amount != 8_500_000 {
		t.Errorf("the new deal %+v, want the title and amount given", out.Deal)
	}
	must(t, owner, 200, "POST", fmt.Sprintf("/api/v1/touches/%d/new-deal", third), nil, &out)
	if out.Deal.Title != "И тумба" || out.Deal.Amount != 0 {
		t.Errorf("a new deal with no body %+v, want its title from the touch", out.Deal)
	}
	must(t, owner, 422, "POST", fmt.Sprintf("/api/v1/touches/%d/new-deal", third), map[string]any{"amount": -5}, nil)
}

// The audit trail carries the names its entries need to be said in words
// (the deal's title, the stages, the touch's contact and conversation),
// and filters by period (days in the company's time zone).
func TestAuditNamesAndPeriod(t *testing.T) {
	ta := newTestApp(t)
	d := newDealDesk(t, ta)
	stages, _ := crm.Stages(ta.db)
	must(t, d.owner, 200, "POST", fmt.Sprintf("/api/v1/deals/%d/stage", d.deals[0].ID), map[string]any{"stage_id": stages[1].ID}, nil)
	var page inbox.AuditPage
	must(t, d.owner, 200, "GET", "/api/v1/audit?action=deal.stage", nil, &page)
	if len(page.Entries) != 1 {
		t.Fatalf("%d deal.stage entries", len(page.Entries))
	}
	for key, want := range map[string]string{
		fmt.Sprintf("deal:%d", d.deals[0].ID): "Кухня Анна",
		fmt.Sprintf("stage:%d", stages[0].ID): stages[0].Name,
		fmt.Sprintf("stage:%d", stages[1].ID): stages[1].Name,
	} {
		if page.Names[key] != want {
			t.Errorf("names[%s] = %q, want %q (names %v)", key, page.Names[key], want, page.Names)
		}
	}
	today := time.Now().In(time.FixedZone("MSK", 3*3600)).Format(time.DateOnly)
	tomorrow := time.Now().In(time.FixedZone("MSK", 3*3600)).AddDate(0, 0, 1).Format(time.DateOnly)
	must(t, d.owner, 200, "GET", "/api/v1/audit?action=deal.stage&from="+today+"&to="+today, nil, &page)
	if len(page.Entries) != 1 {
		t.Errorf("today: %d entries, want 1", len(page.Entries))
	}
	must(t, d.owner, 200, "GET", "/api/v1/audit?from="+tomorrow, nil, &page)
	if len(page.Entries) != 0 {
		t.Errorf("from tomorrow: %d entries", len(page.Entries))
	}
	must(t, d.owner, 422, "GET", "/api/v1/audit?from=someday", nil, nil)
}
