package report

import (
	"database/sql"
	"fmt"

	"gorm.io/gorm"
)

// The report's SQL. Every statement runs on SQLite and PostgreSQL alike;
// times are compared as stored (UTC), the period's bounds come as
// parameters. The indexes behind them are in migration 0008
// (touches_contact_in, touches_in_time, deals_closed, spend_days_day).

// leadsCTE selects the period's leads: of each contact with an inbound
// touch in the period, its first inbound touch ever, when that falls in the
// period. (One probe a contact, not a touch: a contact writes several
// times.)
const leadsCTE = `leads AS (
	SELECT f.id AS touch_id, f.contact_id
	FROM (SELECT c.contact_id, (SELECT e.id FROM touches e WHERE e.contact_id = c.contact_id AND e.direction = 'in'
			ORDER BY e.occurred_at, e.id LIMIT 1) AS first_id
		FROM (SELECT DISTINCT contact_id FROM touches
			WHERE direction = 'in' AND occurred_at >= @from AND occurred_at < @to) c) x
	JOIN touches f ON f.id = x.first_id
	WHERE f.occurred_at >= @from AND f.occurred_at < @to)`

// lastSignificant is the contact's last inbound touch at a bound entry
// point at or before a time (an SQL expression over %s).
const lastSignificant = `(SELECT s.id FROM touches s
	WHERE s.contact_id = %s AND s.direction = 'in' AND s.ad_source_id IS NOT NULL AND s.occurred_at <= %s
	ORDER BY s.occurred_at DESC, s.id DESC LIMIT 1)`

// firstTouch is the contact's first inbound touch.
const firstTouch = `(SELECT f.id FROM touches f
	WHERE f.contact_id = %s AND f.direction = 'in'
	ORDER BY f.occurred_at, f.id LIMIT 1)`

// factsSQL answers, in one statement, the period's leads and the deals the
// basis counts, each with the touch it is attributed to (kind "lead" or
// "deal"); a deal also says whether it was opened / closed in the period.
func factsSQL(m Model, b Basis) string {
	leadAttr, dealAttr := "l.touch_id", "l.touch_id"
	dealsFrom := "deals d JOIN leads l ON l.contact_id = d.contact_id" // the cohort's deals, by its leads' first touch
	if m == LastTouch {
		leadAttr = fmt.Sprintf(lastSignificant, "l.contact_id",
			"COALESCE((SELECT MIN(d.created_at) FROM deals d WHERE d.contact_id = l.contact_id), @now)")
		dealAttr = fmt.Sprintf(lastSignificant, "d.contact_id", "d.created_at")
		dealsFrom = "deals d WHERE d.contact_id IN (SELECT contact_id FROM leads)"
	}
	if b == Sales {
		if m == FirstTouch {
			dealAttr = fmt.Sprintf(firstTouch, "d.contact_id")
		}
		dealsFrom = `deals d WHERE (d.created_at >= @from AND d.created_at < @to)
	   OR (d.closed_at >= @from AND d.closed_at < @to AND d.status IN ('won', 'lost'))`
	}
	return `WITH ` + leadsCTE + `
SELECT 'lead' AS kind, 0 AS id, x.contact_id, '' AS status, 0 AS amount, '' AS currency, 0 AS opened_in, 0 AS closed_in,
	0 AS stage_id, '' AS lost_reason, a.ad_source_id, COALESCE(a.channel, '') AS channel, a.entry_point_id
FROM (SELECT l.contact_id, ` + leadAttr + ` AS attr_id FROM leads l) x
LEFT JOIN touches a ON a.id = x.attr_id
UNION ALL
SELECT 'deal', x.id, x.contact_id, x.status, x.amount, x.currency, x.opened_in, x.closed_in, x.stage_id, x.lost_reason,
	a.ad_source_id, COALESCE(a.channel, '') AS channel, a.entry_point_id
FROM (SELECT d.id, d.contact_id, d.status, d.amount, d.currency, d.stage_id, d.lost_reason,
		CASE WHEN d.created_at >= @from AND d.created_at < @to THEN 1 ELSE 0 END AS opened_in,
		CASE WHEN d.closed_at >= @from AND d.closed_at < @to THEN 1 ELSE 0 END AS closed_in,
		` + dealAttr + ` AS attr_id
	FROM ` + dealsFrom + `) x
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

// fact is one row of factsSQL.
type fact struct {
	Kind               string
	ID, ContactID      int64
	Status             string
	Amount             int64
	Currency           string
	OpenedIn, ClosedIn int
	StageID            int64
	LostReason         string
	AdSourceID         *int64
	Channel            string
	EntryPointID       *int64
}

// load reads the facts; spend and touches only when withCounts is set
// (the lists behind a cell need only leads and deals).
func load(tx *gorm.DB, q Query, withCounts bool) (facts, error) {
	var f facts
	args := q.args()
	rows, err := scanFacts(tx, factsSQL(q.Model, q.Basis), args)
	if err != nil {
		return f, err
	}
	for _, r := range rows {
		if r.Kind == "lead" {
			f.leads = append(f.leads, leadFact{ContactID: r.ContactID, AdSourceID: r.AdSourceID, Channel: r.Channel, EntryPointID: r.EntryPointID})
		} else {
			f.deals = append(f.deals, dealFact{ID: r.ID, ContactID: r.ContactID, Status: r.Status, Amount: r.Amount, Currency: r.Currency,
				OpenedIn: r.OpenedIn, ClosedIn: r.ClosedIn, StageID: r.StageID, LostReason: r.LostReason,
				AdSourceID: r.AdSourceID, Channel: r.Channel, EntryPointID: r.EntryPointID})
		}
	}
	if !withCounts {
		return f, nil
	}
	if err := tx.Raw(touchesSQL, args...).Scan(&f.touches).Error; err != nil {
		return f, fmt.Errorf("report: touches: %w", err)
	}
	if err := tx.Raw(spendSQL, args...).Scan(&f.spend).Error; err != nil {
		return f, fmt.Errorf("report: spend: %w", err)
	}
	return f, nil
}

// scanFacts reads factsSQL's rows with database/sql (a year's report has a
// few hundred thousand; GORM's reflection per row costs more than the
// query).
func scanFacts(tx *gorm.DB, query string, args []any) ([]fact, error) {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("report: leads and deals: %w", err)
	}
	defer rows.Close()
	var out []fact
	for rows.Next() {
		var r fact
		var src, ep sql.NullInt64
		if err := rows.Scan(&r.Kind, &r.ID, &r.ContactID, &r.Status, &r.Amount, &r.Currency, &r.OpenedIn, &r.ClosedIn,
			&r.StageID, &r.LostReason, &src, &r.Channel, &ep); err != nil {
			return nil, fmt.Errorf("report: leads and deals: %w", err)
		}
		if src.Valid {
			r.AdSourceID = &src.Int64
		}
		if ep.Valid {
			r.EntryPointID = &ep.Int64
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: leads and deals: %w", err)
	}
	return out, nil
}
