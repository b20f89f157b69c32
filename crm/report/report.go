// Package report is the owner's marketing report: spend against what the
// ad sources earned (leads, deals, revenue, profit, cost per lead and per
// client, ROMI), the funnel per source with its losses, and the contacts
// and deals behind each figure. It reads crm's tables with hand-written
// SQL (query.go) and imports nothing of ours but crm.
//
// Attribution: a lead is a contact's first inbound touch. Under the
// first-touch model (the default) the lead, and every deal of its contact,
// belongs to the ad source that touch was stamped with at capture (the
// entry point's binding at the touch's time; crm re-stamps touches when a
// backdated binding is added). Under the last-significant-touch model a
// deal belongs to the source of the contact's last inbound touch at or
// before the deal was opened that came through an entry point bound to a
// source; a lead to that of its first deal (or, without a deal, its last
// such touch until now). Touches at no bound entry point count for no
// source. Spend is never re-attributed.
package report

import (
	"fmt"
	"time"

	// The company's time zone must load in a container without zoneinfo.
	_ "time/tzdata"
)

// DefaultLocation is the company's time zone when none is set:
// Europe/Moscow.
func DefaultLocation() *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil { // cannot happen: time/tzdata is linked in
		return time.FixedZone("MSK", 3*60*60)
	}
	return loc
}

// Model is the attribution model.
type Model string

// Models.
const (
	FirstTouch Model = "first"
	LastTouch  Model = "last"
)

// Basis says which deals a period counts.
type Basis string

// Bases.
const (
	// Cohort: the leads that first appeared in the period and their deals,
	// won up to now ("what did this month's ad money bring?").
	Cohort Basis = "cohort"
	// Sales: deals opened, won and lost in the period, whenever their lead
	// came.
	Sales Basis = "sales"
)

// Group is how rows are split below the source.
type Group string

// Groups.
const (
	BySource     Group = "source"
	ByChannel    Group = "channel"
	ByEntryPoint Group = "entry_point"
	ByCampaign   Group = "campaign"
)

// Query is one report: the days From..To (inclusive) in Loc.
type Query struct {
	From, To time.Time // calendar dates; only Y-M-D count
	Loc      *time.Location
	Group    Group
	Model    Model
	Basis    Basis
	Currency string    // money in other currencies is left out
	Now      time.Time // "up to today" of the cohort; zero: time.Now()
}

// Check validates q and fills its defaults.
func (q *Query) Check() error {
	if q.Loc == nil {
		q.Loc = time.UTC
	}
	if q.Group == "" {
		q.Group = BySource
	}
	if q.Model == "" {
		q.Model = FirstTouch
	}
	if q.Basis == "" {
		q.Basis = Cohort
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	switch {
	case q.Group != BySource && q.Group != ByChannel && q.Group != ByEntryPoint && q.Group != ByCampaign:
		return fmt.Errorf("group must be source, channel, entry_point or campaign, not %q", q.Group)
	case q.Model != FirstTouch && q.Model != LastTouch:
		return fmt.Errorf("model must be first or last, not %q", q.Model)
	case q.Basis != Cohort && q.Basis != Sales:
		return fmt.Errorf("basis must be cohort or sales, not %q", q.Basis)
	case q.From.IsZero() || q.To.IsZero() || day(q.To).Before(day(q.From)):
		return fmt.Errorf("from and to must be dates, to not before from")
	case day(q.To).Sub(day(q.From)) > 3700*24*time.Hour:
		return fmt.Errorf("a report covers at most ten years")
	}
	return nil
}

// day is the calendar date of t at UTC midnight.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// span is the period as instants: [start of From, start of To+1) in Loc.
func (q Query) span() (time.Time, time.Time) {
	f, t := day(q.From), day(q.To).AddDate(0, 0, 1)
	return time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, q.Loc).UTC(),
		time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, q.Loc).UTC()
}

// Row is one line of the report. Money is in minor units of the report's
// currency; a ratio whose denominator is zero is null. Rows split by
// channel or entry point have no spend of their own (spend is entered per
// source and campaign), so spend and what is computed from it are null.
type Row struct {
	SourceID     *int64   `json:"source_id"`
	Source       string   `json:"source"`
	VATIncluded  bool     `json:"vat_included"`
	Channel      *string  `json:"channel,omitempty"`
	EntryPointID *int64   `json:"entry_point_id,omitempty"`
	EntryPoint   *string  `json:"entry_point,omitempty"`
	Campaign     *string  `json:"campaign,omitempty"`
	Spend        *int64   `json:"spend"`
	Touches      int64    `json:"touches"`
	Calls        int64    `json:"calls"`
	MissedCalls  int64    `json:"missed_calls"`
	Leads        int64    `json:"leads"`
	Deals        int64    `json:"deals"`
	Won          int64    `json:"won"`
	Lost         int64    `json:"lost"`
	Revenue      int64    `json:"revenue"`
	Profit       *int64   `json:"profit"`
	CPL          *int64   `json:"cpl"`
	CAC          *int64   `json:"cac"`
	ROMI         *float64 `json:"romi"`
	ConvLeadDeal *float64 `json:"conv_lead_deal"`
	ConvDealWon  *float64 `json:"conv_deal_won"`
}

// Report is the answer for a query.
type Report struct {
	Currency string `json:"currency"`
	From     string `json:"from"`
	To       string `json:"to"`
	TimeZone string `json:"time_zone"`
	Group    Group  `json:"group"`
	Model    Model  `json:"model"`
	Basis    Basis  `json:"basis"`
	Rows     []Row  `json:"rows"`
	NoSource Row    `json:"no_source"`
	Total    Row    `json:"total"`
}

// finish computes a row's derived figures from its counts and sums.
func (r *Row) finish() {
	if r.Spend != nil {
		p := r.Revenue - *r.Spend
		r.Profit = &p
		r.CPL = perUnit(*r.Spend, r.Leads)
		r.CAC = perUnit(*r.Spend, r.Won)
		if *r.Spend > 0 {
			v := float64(p) / float64(*r.Spend)
			r.ROMI = &v
		}
	}
	r.ConvLeadDeal = ratio(r.Deals, r.Leads)
	r.ConvDealWon = ratio(r.Won, r.Deals)
}

// perUnit is money / n rounded half up to the minor unit; nil for n = 0.
func perUnit(money, n int64) *int64 {
	if n == 0 {
		return nil
	}
	v := (2*money + n) / (2 * n)
	if money < 0 {
		v = -((-2*money + n) / (2 * n))
	}
	return &v
}

func ratio(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	v := float64(a) / float64(b)
	return &v
}
