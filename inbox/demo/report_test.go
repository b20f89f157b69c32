package demo

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm/report"
)

// The demo's marketing report is believable: five sources with spend in
// each of its three months, one clearly losing money and one paying back,
// a number moved between sources half-way, and touches at no source.
func TestDemoMakesABelievableReport(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t)
	end := time.Date(2026, 3, 15, 22, 40, 0, 0, time.UTC)
	if _, err := ta.Demo(ctx, Options{Now: end, Days: 90, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	loc := report.DefaultLocation()
	rep, err := report.Run(ta.db, report.Query{From: end.AddDate(0, 0, -90), To: end, Loc: loc, Currency: "RUB", Now: end})
	if err != nil {
		t.Fatal(err)
	}
	var losing, paying int
	for _, r := range rep.Rows {
		t.Logf("%s: spend %d leads %d won %d revenue %d romi %v", r.Source, *r.Spend, r.Leads, r.Won, r.Revenue, f(r.ROMI))
		if r.ROMI != nil && *r.ROMI < -0.3 {
			losing++
		}
		if r.ROMI != nil && *r.ROMI > 0.5 {
			paying++
		}
	}
	if len(rep.Rows) != 5 || losing == 0 || paying == 0 {
		t.Errorf("%d sources, %d clearly losing, %d paying back", len(rep.Rows), losing, paying)
	}
	if rep.NoSource.Touches == 0 {
		t.Error("no touches at no source")
	}
	for m := 0; m < 3; m++ {
		to := end.AddDate(0, 0, -30*m)
		month, err := report.Run(ta.db, report.Query{From: to.AddDate(0, 0, -29), To: to, Loc: loc, Currency: "RUB", Now: end})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range month.Rows {
			if *r.Spend == 0 {
				t.Errorf("%s has no spend in the month to %s", r.Source, to.Format(time.DateOnly))
			}
		}
	}
	var moved []struct {
		EntryPointID int64
		Sources      int
	}
	ta.db.Raw(`SELECT entry_point_id, COUNT(DISTINCT ad_source_id) AS sources FROM touches
		WHERE entry_point_id IS NOT NULL GROUP BY entry_point_id HAVING COUNT(DISTINCT ad_source_id) > 1`).Scan(&moved)
	if len(moved) != 1 {
		t.Errorf("entry points whose touches went to two sources: %+v", moved)
	}
}

func f(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
