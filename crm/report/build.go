package report

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// Run computes the report for q.
func Run(tx *gorm.DB, q Query) (Report, error) {
	if err := q.Check(); err != nil {
		return Report{}, fmt.Errorf("%w: %v", crm.ErrInvalid, err)
	}
	f, err := loadSums(tx, q)
	if err != nil {
		return Report{}, err
	}
	names, err := loadNames(tx)
	if err != nil {
		return Report{}, err
	}
	b := builder{q: q, names: names, rows: map[rowKey]*Row{}}
	b.build(f)
	return b.report(), nil
}

// names are the sources and entry point addresses rows are labelled with.
type names struct {
	sources map[int64]crm.AdSource
	eps     map[int64]string
}

func loadNames(tx *gorm.DB) (names, error) {
	n := names{sources: map[int64]crm.AdSource{}, eps: map[int64]string{}}
	srcs, err := crm.ListAdSources(tx)
	if err != nil {
		return n, fmt.Errorf("report: sources: %w", err)
	}
	for _, s := range srcs {
		n.sources[s.ID] = s
	}
	var eps []struct {
		ID      int64
		Address string
	}
	if err := tx.Raw("SELECT id, address FROM entry_points").Scan(&eps).Error; err != nil {
		return n, fmt.Errorf("report: entry points: %w", err)
	}
	for _, e := range eps {
		n.eps[e.ID] = e.Address
	}
	return n, nil
}

// rowKey is a row: a source (0: none) and the group's value below it.
type rowKey struct {
	src int64
	sub string
}

type builder struct {
	q        Query
	names    names
	rows     map[rowKey]*Row
	noSource Row
	spend    int64
}

// key is the row an attribution falls in.
func (b *builder) key(a attr) rowKey {
	if a.AdSourceID == nil {
		return rowKey{}
	}
	k := rowKey{src: *a.AdSourceID}
	switch b.q.Group {
	case ByChannel:
		k.sub = a.Channel
	case ByEntryPoint:
		if a.EntryPointID != nil {
			k.sub = strconv.FormatInt(*a.EntryPointID, 10)
		}
	}
	return k
}

// row returns the row of k, made on first use.
func (b *builder) row(k rowKey) *Row {
	if k.src == 0 {
		return &b.noSource
	}
	if r := b.rows[k]; r != nil {
		return r
	}
	s := b.names.sources[k.src]
	r := &Row{SourceID: &k.src, Source: s.Name, VATIncluded: s.VATIncluded}
	sub := k.sub
	switch b.q.Group {
	case BySource:
		r.Spend = new(int64)
	case ByCampaign:
		r.Spend, r.Campaign = new(int64), &sub
	case ByChannel:
		r.Channel = &sub
	case ByEntryPoint:
		r.EntryPoint = new(string)
		if id, err := strconv.ParseInt(sub, 10, 64); err == nil {
			r.EntryPointID, *r.EntryPoint = &id, b.names.eps[id]
		}
	}
	b.rows[k] = r
	return r
}

func (b *builder) build(f facts) {
	b.noSource.Spend = new(int64)
	if b.q.Group == BySource || b.q.Group == ByCampaign {
		for id, s := range b.names.sources {
			if !s.Archived {
				b.row(rowKey{src: id})
			}
		}
	}
	for _, s := range f.spend {
		b.spend += s.Amount
		k := rowKey{src: s.AdSourceID}
		switch b.q.Group {
		case BySource:
		case ByCampaign:
			k.sub = s.Campaign
		default: // rows by channel or entry point have no spend of their own
			continue
		}
		*b.row(k).Spend += s.Amount
	}
	for _, t := range f.touches {
		r := b.row(b.key(t.at()))
		r.Touches += t.N
		r.Calls += t.Calls
		r.MissedCalls += t.Missed
	}
	for _, s := range f.sums {
		r := b.row(b.key(s.at()))
		if s.Kind == "lead" {
			r.Leads += s.N
			continue
		}
		opened, won, lost := b.counts(s.deal())
		if opened {
			r.Deals += s.N
		}
		if won {
			r.Won += s.N
			if s.Currency == b.q.Currency {
				r.Revenue += s.Amount
			}
		}
		if lost {
			r.Lost += s.N
		}
	}
}

// counts says whether a deal counts as a deal, a won and a lost one:
// under the cohort basis every deal of the cohort by its status; under the
// sales basis a deal opened in the period, and won or lost in it.
func (b *builder) counts(d dealFact) (deal, won, lost bool) {
	if b.q.Basis == Cohort {
		return true, d.Status == string(crm.DealWon), d.Status == string(crm.DealLost)
	}
	closed := d.ClosedIn == 1
	return d.OpenedIn == 1, closed && d.Status == string(crm.DealWon), closed && d.Status == string(crm.DealLost)
}

func (b *builder) report() Report {
	rep := Report{Currency: b.q.Currency, From: day(b.q.From).Format(time.DateOnly), To: day(b.q.To).Format(time.DateOnly),
		TimeZone: b.q.Loc.String(), Group: b.q.Group, Model: b.q.Model, Basis: b.q.Basis, Rows: make([]Row, 0, len(b.rows))}
	total := Row{Source: "", Spend: new(int64)}
	*total.Spend = b.spend
	for _, r := range b.rows {
		rep.Rows = append(rep.Rows, *r)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		a, c := rep.Rows[i], rep.Rows[j]
		if a.Source != c.Source {
			return a.Source < c.Source
		}
		return subOf(a) < subOf(c)
	})
	for i := range rep.Rows {
		rep.Rows[i].finish()
		add(&total, rep.Rows[i])
	}
	b.noSource.finish()
	add(&total, b.noSource)
	total.finish()
	rep.NoSource, rep.Total = b.noSource, total
	return rep
}

func subOf(r Row) string {
	switch {
	case r.Channel != nil:
		return *r.Channel
	case r.EntryPoint != nil:
		return *r.EntryPoint
	case r.Campaign != nil:
		return *r.Campaign
	}
	return ""
}

// add sums r's counts into t (spend is summed apart).
func add(t *Row, r Row) {
	t.Touches += r.Touches
	t.Calls += r.Calls
	t.MissedCalls += r.MissedCalls
	t.Leads += r.Leads
	t.Deals += r.Deals
	t.Won += r.Won
	t.Lost += r.Lost
	t.Revenue += r.Revenue
}
