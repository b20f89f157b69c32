package report

import (
	"fmt"
	"sort"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// Cell names a figure of the report: a metric of a row. SourceID nil is
// the no-source row; Total set is the total row (SourceID and Sub unused).
// Sub is the row's value below the source (a channel, an entry point id,
// a campaign), as in the row.
type Cell struct {
	Total    bool
	SourceID *int64
	Sub      string
	Metric   string // leads, deals, won, lost
}

// Items are the contacts (leads) or deals (deals, won, lost) behind a cell.
type Items struct {
	Metric   string  `json:"metric"`
	Contacts []int64 `json:"contact_ids"`
	Deals    []int64 `json:"deal_ids"`
}

// CellItems answers the contacts or deals counted in a cell of q's report.
func CellItems(tx *gorm.DB, q Query, c Cell) (Items, error) {
	out := Items{Metric: c.Metric, Contacts: []int64{}, Deals: []int64{}}
	if err := q.Check(); err != nil {
		return out, fmt.Errorf("%w: %v", crm.ErrInvalid, err)
	}
	switch c.Metric {
	case "leads", "deals", "won", "lost":
	default:
		return out, crm.Invalid("metric must be leads, deals, won or lost, not %q", c.Metric)
	}
	f, err := load(tx, q)
	if err != nil {
		return out, err
	}
	b := builder{q: q}
	in := func(a attr) bool {
		if c.Total {
			return true
		}
		k := b.key(a)
		if c.SourceID == nil {
			return k.src == 0
		}
		return k.src == *c.SourceID && k.sub == c.Sub
	}
	if c.Metric == "leads" {
		for _, l := range f.leads {
			if in(l.at()) {
				out.Contacts = append(out.Contacts, l.ContactID)
			}
		}
		sort.Slice(out.Contacts, func(i, j int) bool { return out.Contacts[i] < out.Contacts[j] })
		return out, nil
	}
	for _, d := range f.deals {
		deal, won, lost := b.counts(d)
		if in(d.at()) && ((c.Metric == "deals" && deal) || (c.Metric == "won" && won) || (c.Metric == "lost" && lost)) {
			out.Deals = append(out.Deals, d.ID)
		}
	}
	sort.Slice(out.Deals, func(i, j int) bool { return out.Deals[i] < out.Deals[j] })
	return out, nil
}

// Contacts loads the contacts of ids, by id.
func Contacts(tx *gorm.DB, ids []int64) ([]crm.Contact, error) {
	out := []crm.Contact{}
	if err := tx.Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("report: contacts: %w", err)
	}
	return out, nil
}

// Deals loads the deals of ids, by id.
func Deals(tx *gorm.DB, ids []int64) ([]crm.Deal, error) {
	out := []crm.Deal{}
	if err := tx.Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("report: deals: %w", err)
	}
	return out, nil
}
