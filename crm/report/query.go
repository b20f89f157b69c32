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
// period (one probe a contact, not a touch: a contact writes several
// times), with that touch's source, channel and entry point. A contact
// whose first touch is history (imported from before Switchboard) was a
// client already: never a lead; nor is one who first wrote in another
// contact's conversation (a colleague of a client answering in their
// thread: a participant, not a new client).
const leadsCTE = `leads AS (
	SELECT f.id AS touch_id, f.contact_id, f.ad_source_id, f.channel, f.entry_point_id
	FROM (SELECT c.contact_id, (SELECT e.id FROM touches e WHERE e.contact_id = c.contact_id AND e.direction = 'in'
			ORDER BY e.occurred_at, e.id LIMIT 1) AS first_id
		FROM (SELECT DISTINCT contact_id FROM touches
			WHERE direction = 'in' AND occurred_at >= @from AND occurred_at < @to) c) x
	JOIN touches f ON f.id = x.first_id
	JOIN conversations fc ON fc.id = f.conversation_id AND fc.contact_id = f.contact_id
	WHERE f.occurred_at >= @from AND f.occurred_at < @to AND f.history = FALSE)`

// lastSignificant is the contact's last inbound touch at a bound entry
// point at or before a time (an SQL expression over %s).
const lastSignificant = `(SELECT s.id FROM touches s
	WHERE s.contact_id = %s AND s.direction = 'in' AND s.ad_source_id IS NOT NULL AND s.occurred_at <= %s
	ORDER BY s.occurred_at DESC, s.id DESC LIMIT 1)`

// firstTouch is the contact's first inbound touch.
const firstTouch = `(SELECT f.id FROM touches f
	WHERE f.contact_id = %s AND f.direction = 'in'
	ORDER BY f.occurred_at, f.id LIMIT 1)`

// dealCols are a deal's columns in the facts.
const dealCols = `d.id, d.contact_id, d.status, d.amount, d.currency,
		CASE WHEN d.created_at >= @from AND d.created_at < @to THEN 1 ELSE 0 END AS opened_in,
		CASE WHEN d.closed_at >= @from AND d.closed_at < @to THEN 1 ELSE 0 END AS closed_in,
		d.stage_id, d.lost_reason`

// sumsSQL is factsSQL summed by what the report's rows and figures need:
// a few hundred rows instead of one a lead and a deal.
func sumsSQL(m Model, b Basis) string {
	return `SELECT kind, status, currency, opened_in, closed_in, ad_source_id, channel, entry_point_id, COUNT(*) AS n, SUM(amount) AS amount
FROM (` + factsSQL(m, b) + `) f
GROUP BY kind, status, currency, opened_in, closed_in, ad_source_id, channel, entry_point_id`
}

// sum is a row of sumsSQL: N leads or deals alike.
type sum struct {
	Kind, Status, Currency string
	OpenedIn, ClosedIn     int
	AdSourceID             *int64
	Channel                string
	EntryPointID           *int64
	N, Amount              int64
}

func (s sum) at() attr { return attr{s.AdSourceID, s.Channel, s.EntryPointID} }

func (s sum) deal() dealFact {
	return dealFact{Status: s.Status, Currency: s.Currency, OpenedIn: s.OpenedIn, ClosedIn: s.ClosedIn}
}

// The facts' columns, in scanFacts' order: kind, id, contact_id, status,
// amount, currency, opened_in, closed_in, stage_id, lost_reason,
// ad_source_id, channel, entry_point_id.

// factsSQL answers, in one statement, the period's leads and the deals the
// basis counts, each with the source, channel and entry point it is
// attributed to (kind "lead" or "deal"); a deal also says whether it was
// opened / closed in the period. Under the first-touch model a cohort's
// deals take their lead's attribution as it is; otherwise each lead or deal
// names the touch it is attributed to, joined for its source.
func factsSQL(m Model, b Basis) string {
	lead := `SELECT 'lead' AS kind, 0 AS id, l.contact_id, '' AS status, 0 AS amount, '' AS currency, 0 AS opened_in, 0 AS closed_in,
	0 AS stage_id, '' AS lost_reason, l.ad_source_id, l.channel, l.entry_point_id FROM leads l`
	deal := `SELECT 'deal', ` + dealCols + `, l.ad_source_id, l.channel, l.entry_point_id
FROM deals d JOIN leads l ON l.contact_id = d.contact_id`
	viaTouch := func(kind, cols, attr, from string) string {
		return `SELECT ` + kind + `, x.id, x.contact_id, x.status, x.amount, x.currency, x.opened_in, x.closed_in, x.stage_id, x.lost_reason,
	a.ad_source_id, COALESCE(a.channel, '') AS channel, a.entry_point_id
FROM (SELECT ` + cols + `, ` + attr + ` AS attr_id FROM ` + from + `) x
LEFT JOIN touches a ON a.id = x.attr_id`
	}
	salesFrom := `deals d WHERE (d.created_at >= @from AND d.created_at < @to)
	   OR (d.closed_at >= @from AND d.closed_at < @to AND d.status IN ('won', 'lost'))`
	switch {
	case m == LastTouch:
		lead = viaTouch(`'lead' AS kind`, `0 AS id, l.contact_id, '' AS status, 0 AS amount, '' AS currency, 0 AS opened_in, 0 AS closed_in,
	0 AS stage_id, '' AS lost_reason`, fmt.Sprintf(lastSignificant, "l.contact_id",
			"COALESCE((SELECT MIN(d.created_at) FROM deals d WHERE d.contact_id = l.contact_id), @now)"), "leads l")
		from := "deals d WHERE d.contact_id IN (SELECT contact_id FROM leads)"
		if b == Sales {
			from = salesFrom
		}
		deal = viaTouch(`'deal'`, dealCols, fmt.Sprintf(lastSignificant, "d.contact_id", "d.created_at"), from)
	case b == Sales:
		deal = viaTouch(`'deal'`, dealCols, fmt.Sprintf(firstTouch, "d.contact_id"), salesFrom)
	}
	return `WITH ` + leadsCTE + `
` + lead + `
UNION ALL
` + deal
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
	sums    []sum // leads and deals summed (Run), or
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

// loadSums reads the facts the report's figures need: the leads and deals
// summed, the touches, the spend.
func loadSums(tx *gorm.DB, q Query) (facts, error) {
	var f facts
	args := q.args()
	if err := tx.Raw(sumsSQL(q.Model, q.Basis), args...).Scan(&f.sums).Error; err != nil {
		return f, fmt.Errorf("report: leads and deals: %w", err)
	}
	if err := tx.Raw(touchesSQL, args...).Scan(&f.touches).Error; err != nil {
		return f, fmt.Errorf("report: touches: %w", err)
	}
	if err := tx.Raw(spendSQL, args...).Scan(&f.spend).Error; err != nil {
		return f, fmt.Errorf("report: spend: %w", err)
	}
	return f, nil
}

// load reads each lead and deal (the lists behind a cell, the funnel).
func load(tx *gorm.DB, q Query) (facts, error) {
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
