package report

import (
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// The report's SQL. Every statement runs on SQLite and PostgreSQL alike;
// times are compared as stored (UTC), the period's bounds come as
// parameters. The indexes behind them are in migration 0008
// (touches_contact_in, touches_in_time, deals_closed, spend_days_day).

// leadsCTE selects the period's leads: inbound touches in the period with
// no earlier inbound touch of their contact.
const leadsCTE = `leads AS (
	SELECT t.id AS touch_id, t.contact_id
	FROM touches t
	WHERE t.direction = 'in' AND t.occurred_at >= @from AND t.occurred_at < @to
	  AND NOT EXISTS (SELECT 1 FROM touches e
		WHERE e.contact_id = t.contact_id AND e.direction = 'in'
		  AND (e.occurred_at < t.occurred_at OR (e.occurred_at = t.occurred_at AND e.id < t.id))))`

// lastSignificant is the contact's last inbound touch at a bound entry
// point at or before a time (an SQL expression over %s).
const lastSignificant = `(SELECT s.id FROM touches s
	WHERE s.contact_id = %s AND s.direction = 'in' AND s.ad_source_id IS NOT NULL AND s.occurred_at <= %s
	ORDER BY s.occurred_at DESC, s.id DESC LIMIT 1)`

// firstTouch is the contact's first inbound touch.
const firstTouch = `(SELECT f.id FROM touches f
	WHERE f.contact_id = %s AND f.direction = 'in'
	ORDER BY f.occurred_at, f.id LIMIT 1)`

// leadsSQL answers each lead's contact and the touch it is attributed to.
func leadsSQL(m Model) string {
	attr := "l.touch_id"
	if m == LastTouch {
		attr = fmt.Sprintf(lastSignificant, "l.contact_id",
			"COALESCE((SELECT MIN(d.created_at) FROM deals d WHERE d.contact_id = l.contact_id), @now)")
	}
	return `WITH ` + leadsCTE + `
SELECT x.contact_id, a.ad_source_id, COALESCE(a.channel, '') AS channel, a.entry_point_id
FROM (SELECT l.contact_id, ` + attr + ` AS attr_id FROM leads l) x
LEFT JOIN touches a ON a.id = x.attr_id`
}

// dealsSQL answers the deals a basis counts with the touch each is
// attributed to, and whether it was opened / closed in the period.
func dealsSQL(m Model, b Basis) string {
	attr := fmt.Sprintf(firstTouch, "d.contact_id")
	if m == LastTouch {
		attr = fmt.Sprintf(lastSignificant, "d.contact_id", "d.created_at")
	}
	with, where := "", `(d.created_at >= @from AND d.created_at < @to)
	   OR (d.closed_at >= @from AND d.closed_at < @to AND d.status IN ('won', 'lost'))`
	if b == Cohort {
		with, where = "WITH "+leadsCTE+"\n", "d.contact_id IN (SELECT contact_id FROM leads)"
	}
	return with + `SELECT x.id, x.contact_id, x.status, x.amount, x.currency, x.opened_in, x.closed_in, x.stage_id, x.lost_reason,
	a.ad_source_id, COALESCE(a.channel, '') AS channel, a.entry_point_id
FROM (SELECT d.id, d.contact_id, d.status, d.amount, d.currency, d.stage_id, d.lost_reason,
		CASE WHEN d.created_at >= @from AND d.created_at < @to THEN 1 ELSE 0 END AS opened_in,
		CASE WHEN d.closed_at >= @from AND d.closed_at < @to THEN 1 ELSE 0 END AS closed_in,
		` + attr + ` AS attr_id
	FROM deals d WHERE ` + where + `) x
LEFT JOIN touches a ON a.id = x.attr_id`
}

// touchesSQL counts the period's inbound touches by the source each was
// stamped with.
const touchesSQL = `SELECT ad_source_id, channel, entry_point_id, COUNT(*) AS n,
	SUM(CASE WHEN call_status <> '' THEN 1 ELSE 0 END) AS calls,
	SUM(CASE WHEN call_status = 'missed' THEN 1 ELSE 0 END) AS missed
FROM touches
WHERE direction = 'in' AND occurred_at >= @from AND occurred_at < @to
GROUP BY ad_source_id, channel, entry_point_id`

// spendSQL sums the period's spend days in the report's currency.
const spendSQL = `SELECT ad_source_id, campaign, SUM(amount) AS amount
FROM spend_days
WHERE day >= @dfrom AND day <= @dto AND currency = @currency
GROUP BY ad_source_id, campaign`

// attr is where a lead or deal is attributed: the touch's source, channel
// and entry point (all empty: no source).
type attr struct {
	AdSourceID   *int64
	Channel      string
	EntryPointID *int64
}

// The facts' fields are flat (GORM does not scan into an unexported
// embedded struct); at() gathers the attribution.
type leadFact struct {
	ContactID    int64
	AdSourceID   *int64
	Channel      string
	EntryPointID *int64
}

func (l leadFact) at() attr { return attr{l.AdSourceID, l.Channel, l.EntryPointID} }

type dealFact struct {
	ID        int64
	ContactID int64
	Status    string
	Amount    int64
	Currency  string
	OpenedIn  int
	ClosedIn  int
	StageID   int64
	// LostReason is why a lost deal was lost.
	LostReason string
	// attribution
	AdSourceID   *int64
	Channel      string
	EntryPointID *int64
}

func (d dealFact) at() attr { return attr{d.AdSourceID, d.Channel, d.EntryPointID} }

type touchFact struct {
	AdSourceID       *int64
	Channel          string
	EntryPointID     *int64
	N, Calls, Missed int64
}

func (t touchFact) at() attr { return attr{t.AdSourceID, t.Channel, t.EntryPointID} }

type spendFact struct {
	AdSourceID int64
	Campaign   string
	Amount     int64
}

// facts is what the report is computed from.
type facts struct {
	leads   []leadFact
	deals   []dealFact
	touches []touchFact
	spend   []spendFact
}

func (q Query) args() []any {
	from, to := q.span()
	return []any{sql.Named("from", from), sql.Named("to", to), sql.Named("now", q.Now.UTC()),
		sql.Named("dfrom", day(q.From)), sql.Named("dto", day(q.To)), sql.Named("currency", q.Currency)}
}

// load reads the facts; spend and touches only when withCounts is set
// (the lists behind a cell need only leads and deals).
func load(tx *gorm.DB, q Query, withCounts bool) (facts, error) {
	var f facts
	args := q.args()
	steps := []struct {
		name string
		sql  string
		out  any
	}{
		{"leads", leadsSQL(q.Model), &f.leads},
		{"deals", dealsSQL(q.Model, q.Basis), &f.deals},
	}
	if withCounts {
		steps = append(steps, struct {
			name string
			sql  string
			out  any
		}{"touches", touchesSQL, &f.touches}, struct {
			name string
			sql  string
			out  any
		}{"spend", spendSQL, &f.spend})
	}
	for _, s := range steps {
		if err := tx.Raw(strings.TrimSpace(s.sql), args...).Scan(s.out).Error; err != nil {
			return f, fmt.Errorf("report: %s: %w", s.name, err)
		}
	}
	return f, nil
}
