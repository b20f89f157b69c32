package ingest

import (
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/crm"
)

// deals applies entry point → ad source (the binding valid at the touch's
// time) and the deal-link rules: a contact's one open deal takes the
// touch; a contact with no deal at all gets one opened by its first
// touch, unless the entry point says not to, the touch is automated,
// history or ours, or its contact is no client or blocked. A touch that
// joined another contact's thread takes that thread's deal (thread.go).
func (b *batch) deals() error {
	var opened []crm.Deal
	for i, it := range b.items {
		p := &b.ps[i]
		if p.skip {
			continue
		}
		autoDeal, err := b.source(p, it)
		if err != nil {
			return b.fail(it, err)
		}
		if p.convContact != p.contact {
			p.deal = b.joinedDeal(p)
			continue
		}
		ds := b.st.deal(p.contact)
		switch {
		case len(ds.open) == 1:
			p.deal = ds.open[0]
		case ds.total == 0 && autoDeal && !it.in.Automated && !it.in.Outgoing && !it.in.History && p.notClient == "" && !p.blocked:
			opened = append(opened, crm.Deal{ContactID: p.contact, Title: dealTitle(p.name, it), StageID: b.st.firstStage,
				Currency: b.s.opts.Currency, AdSourceID: p.srcID, ResponsibleID: p.responsible, CreatedAt: p.since(it)})
			p.deal, p.newDeal = -int64(len(opened)), true
			ds.total, ds.open = 1, []int64{p.deal}
		}
	}
	ids, err := crm.InsertDeals(b.tx, opened)
	if err != nil {
		return err
	}
	for i := range b.ps {
		if p := &b.ps[i]; p.deal < 0 {
			p.deal = ids[-p.deal-1]
		}
	}
	return nil
}

// source sets an item's entry point and its ad source at the touch's
// time, creating an entry point met for the first time; it reports
// whether the entry point opens deals.
func (b *batch) source(p *plan, it *item) (autoDeal bool, err error) {
	addr := strings.TrimSpace(it.in.EntryPoint)
	if addr == "" {
		return true, nil
	}
	ek := touchKey{it.in.AccountID, addr}
	ep := b.st.eps[ek]
	if ep == nil {
		e, err := crm.FindEntryPoint(b.tx, it.in.AccountID, addr, it.in.SourceHint, true)
		if err != nil {
			return false, fmt.Errorf("entry point: %w", err)
		}
		ep = &e
		b.st.eps[ek] = ep
	}
	p.epID, p.srcID = &ep.ID, ep.SourceAt(it.at)
	return ep.AutoDeal, nil
}

// dealTitle names a deal opened by a touch (crm.DealTitle), falling back
// to its contact or the sender.
func dealTitle(name string, it *item) string {
	in := it.in
	if name == "" {
		name = strings.TrimSpace(in.Name)
	}
	if name == "" && len(in.From) > 0 {
		name = in.From[0].Value
	}
	return crm.DealTitle(it.channel, in.Subject, in.Text, in.Meta["page_url"], name)
}
