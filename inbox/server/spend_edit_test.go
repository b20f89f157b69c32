package server

import (
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

// Spend entries are corrected and deleted: a correction re-spreads the
// period; a deletion gives each day back what an earlier entry put there,
// and leaves days a later import wrote alone; both are audited; a
// manager may do neither.
func TestSpendIsCorrectedAndDeleted(t *testing.T) {
	d := newReportDesk(t)
	yd := d.source(t, "Яндекс.Директ")
	add := func(from, to string, amount int64) crm.Spend {
		t.Helper()
		var sp crm.Spend
		must(t, d.owner, 200, "POST", fmt.Sprintf("/api/v1/ad-sources/%d/spend", yd.ID), inbox.NewSpend{PeriodStart: from, PeriodEnd: to, Amount: amount}, &sp)
		return sp
	}
	days := func() string {
		t.Helper()
		var l api.SpendDayList
		must(t, d.owner, 200, "GET", fmt.Sprintf("/api/v1/spend-days?ad_source_id=%d", yd.ID), nil, &l)
		out := ""
		for _, x := range l.SpendDays {
			out += fmt.Sprintf("%s:%d ", x.Day.Format("02"), x.Amount)
		}
		return out
	}
	add("2026-03-01", "2026-03-04", 400)            // 100 a day
	second := add("2026-03-03", "2026-03-04", 1000) // replaces the 3rd and 4th: 500 a day
	if got := days(); got != "01:100 02:100 03:500 04:500 " {
		t.Fatalf("after two entries: %s", got)
	}
	// A file then sets the 4th: 7 ₽.
	must(t, d.owner, 200, "POST", "/api/v1/spend/import", inbox.SpendImport{CSV: "day,source,campaign,amount,currency\n2026-03-04,Яндекс.Директ,,7,RUB\n"}, nil)

	var fixed crm.Spend
	must(t, d.owner, 200, "PUT", fmt.Sprintf("/api/v1/spend/%d", second.ID), inbox.NewSpend{PeriodStart: "2026-03-03", PeriodEnd: "2026-03-03", Amount: 300}, &fixed)
	if got := days(); got != "01:100 02:100 03:300 04:700 " {
		t.Errorf("after the correction: %s, want the 3rd corrected and the file's 4th kept", got)
	}
	must(t, d.owner, 200, "DELETE", fmt.Sprintf("/api/v1/spend/%d", fixed.ID), nil, nil)
	if got := days(); got != "01:100 02:100 03:100 04:700 " {
		t.Errorf("after the deletion: %s, want the 3rd back to the first entry's 100", got)
	}
	must(t, d.owner, 404, "DELETE", fmt.Sprintf("/api/v1/spend/%d", fixed.ID), nil, nil)
	must(t, d.owner, 422, "PUT", fmt.Sprintf("/api/v1/spend/%d", fixed.ID), inbox.NewSpend{PeriodStart: "x"}, nil)
	must(t, d.owner, 404, "PUT", fmt.Sprintf("/api/v1/spend/%d", fixed.ID), inbox.NewSpend{PeriodStart: "2026-03-01", PeriodEnd: "2026-03-01", Amount: 1}, nil)
	for _, action := range []string{"spend.edit", "spend.delete"} {
		if n := d.count("audit_log", "action = ?", action); n != 1 {
			t.Errorf("%d %s audit entries, want 1", n, action)
		}
	}
	d.user("m@example.ru", crm.Manager)
	m := d.login("m@example.ru")
	must(t, m, 403, "DELETE", fmt.Sprintf("/api/v1/spend/%d", second.ID), nil, nil)
}
