package migrations_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/migrations"
)

// Version 8 spreads the spends entered before it over their days, exactly
// as the application spreads a period: evenly, the remainder on the first
// days, overlapping periods adding up, a second currency on a day apart.
func TestVersion8SpreadsTheOldSpendsOverTheirDays(t *testing.T) {
	db := crmtest.Open(t)
	steps, err := migrations.Steps(crm.Dialect(db))
	if err != nil {
		t.Fatal(err)
	}
	var step string
	for _, s := range steps {
		if s.Version == 8 {
			step = s.SQL
		}
	}
	i := strings.Index(step, "INSERT INTO spend_days")
	j := strings.Index(step[i:], ";")
	if i < 0 || j < 0 {
		t.Fatal("version 8 has no INSERT INTO spend_days")
	}
	spread := step[i : i+j]
	now := time.Now().UTC()
	if err := db.Exec("INSERT INTO ad_sources (id, name, created_at) VALUES (1, 'a', ?), (2, 'b', ?)", now, now).Error; err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	for _, s := range []struct {
		src      int
		from, to int
		amount   int64
		currency string
	}{{1, 1, 3, 100, "RUB"}, {1, 3, 3, 5, "RUB"}, {2, 1, 31, 9000000, "RUB"}, {2, 2, 2, 700, "USD"}} {
		if err := db.Exec("INSERT INTO spends (ad_source_id, period_start, period_end, amount, currency, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			s.src, day(s.from), day(s.to), s.amount, s.currency, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec(spread).Error; err != nil {
		t.Fatalf("the spread of version 8: %v", err)
	}
	days, err := crm.ListSpendDays(db, crm.SpendFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sum2 int64
	var got []string
	for _, d := range days {
		if d.AdSourceID == 2 && d.Currency == "RUB" {
			sum2 += d.Amount
		}
		if d.Day.Day() <= 3 {
			got = append(got, fmt.Sprintf("%d/%s/%s/%d%s", d.AdSourceID, d.Day.Format(time.DateOnly), d.Campaign, d.Amount, d.Currency))
		}
	}
	want := "[1/2026-03-01//34RUB 2/2026-03-01//290323RUB 1/2026-03-02//33RUB 2/2026-03-02/RUB/290323RUB 2/2026-03-02/USD/700USD 1/2026-03-03//38RUB 2/2026-03-03//290323RUB]"
	if fmt.Sprint(got) != want {
		t.Errorf("days\n got %v\nwant %s", got, want)
	}
	if sum2 != 9000000 || len(days) != 3+31+1 {
		t.Errorf("source 2 sums to %d over %d rows", sum2, len(days))
	}
}

// A database migrated past 8 before 8 was merged (9 landed first) gets 8.
func TestAStepMissingBelowTheNewestIsApplied(t *testing.T) {
	db := crmtest.Open(t)
	for _, s := range []string{
		"DELETE FROM schema_migrations WHERE version = 8",
		"DROP TABLE spend_days",
		"DROP INDEX touches_contact_in", "DROP INDEX touches_in_time", "DROP INDEX deals_closed",
		"ALTER TABLE ad_sources DROP COLUMN vat_included", "ALTER TABLE spends DROP COLUMN campaign",
	} {
		if err := db.Exec(s).Error; err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	sqlDB, _ := db.DB()
	steps, err := migrations.Apply(t.Context(), sqlDB, crm.Dialect(db))
	if err != nil || len(steps) != 1 || steps[0].Version != 8 {
		t.Fatalf("Apply = %+v, %v; want version 8 alone", steps, err)
	}
	if _, err := crm.ListSpendDays(db, crm.SpendFilter{}); err != nil {
		t.Errorf("spend_days after applying 8: %v", err)
	}
}
