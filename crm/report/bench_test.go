package report_test

import (
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/crm/report"
)

// The report over a year of a busy company: 1 000 000 touches of 200 000
// contacts (five each, one of them ours), 100 000 deals, 20 sources with
// two entry points each, a tenth of the touches at no source, a third of
// the contacts calling; beside it, in the same run, the floor: one
// hand-written statement computing the same figures (first touch, cohort)
// over the same tables and indexes. Run with
//
//	go test -run '^$' -bench Report -benchtime 5x ./crm/report/
//	SWITCHBOARD_TEST_DATABASE_URL='host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable' go test -run '^$' -bench Report -benchtime 5x ./crm/report/
//
// SWITCHBOARD_BENCH_TOUCHES scales it down (the deals and contacts follow).

const (
	benchStart = 1735689600 // 2025-01-01 00:00 UTC
	benchSrcs  = 20
	benchEPs   = 40
)

// series is the dialect's SELECT … FROM 1..n AS s(i).
func series(pg bool, n int, cols string) string {
	if pg {
		return fmt.Sprintf("SELECT %s FROM generate_series(1, %d) AS s(i)", cols, n)
	}
	return fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT %s FROM s", n, cols)
}

// ts is the dialect's timestamp of epoch seconds, as the app stores it.
func ts(pg bool, secs string) string {
	if pg {
		return "to_timestamp(" + secs + ")"
	}
	return "strftime('%Y-%m-%d %H:%M:%S+00:00', " + secs + ", 'unixepoch')"
}

// seedBench fills db with plain SQL (the app's ingest would take minutes).
func seedBench(b *testing.B, db *gorm.DB, touches int) {
	pg := crm.Dialect(db) == "postgres"
	contacts, deals := touches/5, touches/10
	first := fmt.Sprintf("%d + i * %d", benchStart, 31400000/contacts) // a contact's first touch
	c := fmt.Sprintf("((i - 1) %% %d + 1)", contacts)
	k := fmt.Sprintf("((i - 1) / %d)", contacts)
	ep := fmt.Sprintf("((%s * 7 + %s * 3) %% %d + 1)", c, k, benchEPs)
	noSrc := fmt.Sprintf("(%s + %s) %% 10 = 0", c, k)
	at := ts(pg, fmt.Sprintf("%d + %s * %d + %s * 259200", benchStart, c, 31400000/contacts, k))
	dc := "(2 * i - 1)" // a deal's contact
	dFirst := fmt.Sprintf("%d + %s * %d", benchStart, dc, 31400000/contacts)
	stmts := []string{
		"INSERT INTO ad_sources (id, name, created_at) " + series(pg, benchSrcs, "i, 'source ' || i, "+ts(pg, fmt.Sprint(benchStart))),
		"INSERT INTO accounts (id, channel, name, created_at, updated_at) VALUES (1, 'web', 'site', " + ts(pg, fmt.Sprint(benchStart)) + ", " + ts(pg, fmt.Sprint(benchStart)) + ")",
		"INSERT INTO entry_points (id, account_id, address, created_at) " + series(pg, benchEPs, "i, 1, 'ep' || i, "+ts(pg, fmt.Sprint(benchStart))),
		"INSERT INTO entry_point_bindings (entry_point_id, ad_source_id, valid_from, created_at) " + series(pg, benchEPs, "i, (i - 1) / 2 + 1, "+ts(pg, "946684800")+", "+ts(pg, fmt.Sprint(benchStart))),
		"INSERT INTO contacts (id, name, created_at, updated_at) " + series(pg, contacts, "i, 'contact ' || i, "+ts(pg, first)+", "+ts(pg, first)),
		"INSERT INTO conversations (id, contact_id, account_id, channel, last_touch_at, created_at, updated_at) " + series(pg, contacts, "i, i, 1, 'web', "+ts(pg, first)+", "+ts(pg, first)+", "+ts(pg, first)),
		"INSERT INTO touches (id, account_id, channel, kind, direction, contact_id, conversation_id, entry_point_id, ad_source_id, call_status, occurred_at, created_at) " +
			series(pg, touches, fmt.Sprintf(`i, 1, CASE WHEN %[1]s %% 3 = 0 THEN 'phone' ELSE 'web' END, CASE WHEN %[1]s %% 3 = 0 THEN 'call' ELSE 'message' END,
				CASE WHEN %[2]s = 2 THEN 'out' ELSE 'in' END, %[1]s, %[1]s,
				CASE WHEN %[3]s THEN NULL ELSE %[4]s END, CASE WHEN %[3]s THEN NULL ELSE (%[4]s - 1) / 2 + 1 END,
				CASE WHEN %[1]s %% 6 = 0 THEN 'missed' WHEN %[1]s %% 3 = 0 THEN 'answered' ELSE '' END, %[5]s, %[5]s`, c, k, noSrc, ep, at)),
		"INSERT INTO deals (id, contact_id, title, stage_id, status, amount, currency, ad_source_id, created_at, updated_at, closed_at) " +
			series(pg, deals, fmt.Sprintf(`i, %[1]s, 'deal ' || i,
				CASE WHEN i %% 5 = 0 THEN 4 WHEN i %% 5 = 1 THEN 5 ELSE i %% 3 + 1 END,
				CASE WHEN i %% 5 = 0 THEN 'won' WHEN i %% 5 = 1 THEN 'lost' ELSE 'open' END,
				CASE WHEN i %% 5 = 0 THEN 900000 + (i %% 7) * 10000 ELSE 0 END, 'RUB',
				CASE WHEN %[1]s %% 10 = 0 THEN NULL ELSE ((%[1]s * 7) %% %[3]d) / 2 + 1 END, %[2]s, %[2]s,
				CASE WHEN i %% 5 IN (0, 1) THEN %[4]s END`, dc, ts(pg, dFirst), benchEPs, ts(pg, dFirst+" + 864000"))),
		"INSERT INTO spend_days (ad_source_id, campaign, day, amount, currency, updated_at) " +
			series(pg, benchSrcs*365, fmt.Sprintf("(i - 1) %% %d + 1, '', %s, 50000 + ((i - 1) %% %d) * 1000, 'RUB', %s", benchSrcs,
				dayOf(pg, fmt.Sprintf("%d + ((i - 1) / %d) * 86400", benchStart, benchSrcs)), benchSrcs, ts(pg, fmt.Sprint(benchStart)))),
	}
	// Statistics, and on PostgreSQL the visibility map (index-only scans)
	// that autovacuum keeps in production.
	if pg {
		stmts = append(stmts, "VACUUM ANALYZE")
	} else {
		stmts = append(stmts, "ANALYZE")
	}
	began := time.Now()
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			b.Fatalf("seed: %v\n%s", err, s)
		}
	}
	b.Logf("seeded %d touches, %d contacts, %d deals on %s in %s", touches, contacts, deals, crm.Dialect(db), time.Since(began).Round(time.Millisecond))
}

func dayOf(pg bool, secs string) string {
	if pg {
		return "to_timestamp(" + secs + ")::date"
	}
	return "strftime('%Y-%m-%d 00:00:00+00:00', " + secs + ", 'unixepoch')"
}

// floorSQL is the floor: the same figures (first touch, cohort) as one
// statement a person would write by hand.
const floorSQL = `WITH leads AS (
	SELECT f.contact_id, f.ad_source_id
	FROM (SELECT c.contact_id, (SELECT e.id FROM touches e WHERE e.contact_id = c.contact_id AND e.direction = 'in'
			ORDER BY e.occurred_at, e.id LIMIT 1) AS first_id
		FROM (SELECT DISTINCT contact_id FROM touches
			WHERE direction = 'in' AND occurred_at >= @from AND occurred_at < @to) c) x
	JOIN touches f ON f.id = x.first_id
	WHERE f.occurred_at >= @from AND f.occurred_at < @to
), l AS (
	SELECT ad_source_id, COUNT(*) AS leads FROM leads GROUP BY ad_source_id
), d AS (
	SELECT leads.ad_source_id, COUNT(*) AS deals,
		SUM(CASE WHEN d.status = 'won' THEN 1 ELSE 0 END) AS won,
		SUM(CASE WHEN d.status = 'lost' THEN 1 ELSE 0 END) AS lost,
		SUM(CASE WHEN d.status = 'won' AND d.currency = @currency THEN d.amount ELSE 0 END) AS revenue
	FROM deals d JOIN leads ON leads.contact_id = d.contact_id
	GROUP BY leads.ad_source_id
), t AS (
	SELECT ad_source_id, COUNT(*) AS touches,
		SUM(CASE WHEN call_status <> '' THEN 1 ELSE 0 END) AS calls,
		SUM(CASE WHEN call_status = 'missed' THEN 1 ELSE 0 END) AS missed
	FROM touches WHERE direction = 'in' AND occurred_at >= @from AND occurred_at < @to
	GROUP BY ad_source_id
), s AS (
	SELECT ad_source_id, SUM(amount) AS spend FROM spend_days
	WHERE day >= @dfrom AND day <= @dto AND currency = @currency GROUP BY ad_source_id
), keys AS (
	SELECT ad_source_id FROM l UNION SELECT ad_source_id FROM d UNION SELECT ad_source_id FROM t UNION SELECT ad_source_id FROM s
)
SELECT keys.ad_source_id AS source_id, COALESCE(s.spend, 0) AS spend, COALESCE(t.touches, 0) AS touches, COALESCE(t.calls, 0) AS calls,
	COALESCE(t.missed, 0) AS missed, COALESCE(l.leads, 0) AS leads, COALESCE(d.deals, 0) AS deals, COALESCE(d.won, 0) AS won,
	COALESCE(d.lost, 0) AS lost, COALESCE(d.revenue, 0) AS revenue
FROM keys
LEFT JOIN l ON l.ad_source_id IS NOT DISTINCT FROM keys.ad_source_id
LEFT JOIN d ON d.ad_source_id IS NOT DISTINCT FROM keys.ad_source_id
LEFT JOIN t ON t.ad_source_id IS NOT DISTINCT FROM keys.ad_source_id
LEFT JOIN s ON s.ad_source_id IS NOT DISTINCT FROM keys.ad_source_id`

type floorRow struct {
	SourceID                                                        *int64
	Spend, Touches, Calls, Missed, Leads, Deals, Won, Lost, Revenue int64
}

func runFloor(db *gorm.DB, q report.Query) ([]floorRow, error) {
	from := time.Date(q.From.Year(), q.From.Month(), q.From.Day(), 0, 0, 0, 0, q.Loc).UTC()
	to := time.Date(q.To.Year(), q.To.Month(), q.To.Day()+1, 0, 0, 0, 0, q.Loc).UTC()
	var out []floorRow
	err := db.Raw(floorSQL, sql.Named("from", from), sql.Named("to", to), sql.Named("currency", q.Currency),
		sql.Named("dfrom", crm.Date(q.From)), sql.Named("dto", crm.Date(q.To))).Scan(&out).Error
	return out, err
}

// same checks that the report and the floor agree, source by source.
func same(b *testing.B, rep report.Report, floor []floorRow) {
	got := map[string]string{}
	for _, r := range append(rep.Rows, rep.NoSource) {
		key := "none"
		if r.SourceID != nil {
			key = fmt.Sprint(*r.SourceID)
		}
		spend := int64(0)
		if r.Spend != nil {
			spend = *r.Spend
		}
		if spend+r.Touches+r.Leads+r.Deals == 0 {
			continue
		}
		got[key] = fmt.Sprint(spend, r.Touches, r.Calls, r.MissedCalls, r.Leads, r.Deals, r.Won, r.Lost, r.Revenue)
	}
	for _, f := range floor {
		key := "none"
		if f.SourceID != nil {
			key = fmt.Sprint(*f.SourceID)
		}
		want := fmt.Sprint(f.Spend, f.Touches, f.Calls, f.Missed, f.Leads, f.Deals, f.Won, f.Lost, f.Revenue)
		if got[key] != want {
			b.Fatalf("source %s: report %s, floor %s", key, got[key], want)
		}
		delete(got, key)
	}
	if len(got) > 0 {
		b.Fatalf("rows only in the report: %v", got)
	}
}

func BenchmarkReport(b *testing.B) {
	touches := 1000000
	if v := os.Getenv("SWITCHBOARD_BENCH_TOUCHES"); v != "" {
		fmt.Sscan(v, &touches)
	}
	db := crmtest.Open(b)
	seedBench(b, db, touches)
	utc := time.UTC
	now := time.Date(2026, 1, 31, 0, 0, 0, 0, utc)
	for _, p := range []struct {
		name     string
		from, to time.Time
	}{
		{"month", time.Date(2025, 6, 1, 0, 0, 0, 0, utc), time.Date(2025, 6, 30, 0, 0, 0, 0, utc)},
		{"year", time.Date(2025, 1, 1, 0, 0, 0, 0, utc), time.Date(2025, 12, 31, 0, 0, 0, 0, utc)},
	} {
		q := report.Query{From: p.from, To: p.to, Loc: report.DefaultLocation(), Currency: "RUB", Now: now}
		rep, err := report.Run(db, q)
		if err != nil {
			b.Fatal(err)
		}
		floor, err := runFloor(db, q)
		if err != nil {
			b.Fatal(err)
		}
		same(b, rep, floor)
		b.Run(p.name+"/report", func(b *testing.B) {
			for b.Loop() {
				if _, err := report.Run(db, q); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/floor", func(b *testing.B) {
			for b.Loop() {
				if _, err := runFloor(db, q); err != nil {
					b.Fatal(err)
				}
			}
		})
		lq := q
		lq.Model = report.LastTouch
		b.Run(p.name+"/report-last-touch", func(b *testing.B) {
			for b.Loop() {
				if _, err := report.Run(db, lq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
