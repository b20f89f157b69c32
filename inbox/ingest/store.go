package ingest

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// plan is what the batch decided for one item. Contacts and deals created
// by the batch carry a temporary negative id until their rows are written.
type plan struct {
	skip    bool // a duplicate: stores nothing
	dupOf   int  // ≥ 0: the earlier item of this batch with the same external id
	now     time.Time
	contact int64
	// convContact is whose conversation the touch goes into: contact,
	// or the contact whose thread it joins (thread.go), joined when that
	// conversation is stored.
	convContact int64
	joined      *crm.Conversation
	others      []int64
	newContact  bool
	name        string // the contact's name as of this touch
	responsible *int64
	notClient   string // the contact is no client: why
	blocked     bool   // the contact is a blocked sender
	epID, srcID *int64
	deal        int64 // 0: unlinked
	newDeal     bool
	conv        *crm.Conversation
	touch       int64
}

// since is when what an item creates (contact, identity, deal,
// conversation) came to be: the touch's time, so a backfill of old mail
// dates its clients and deals by their first message, not by the import;
// never later than now (a clock ahead on the other side).
func (p *plan) since(it *item) time.Time {
	if it.at.Before(p.now) {
		return it.at
	}
	return p.now
}

// dealID is the plan's deal as a touch or conversation column.
func (p *plan) dealID() *int64 {
	if p.deal == 0 {
		return nil
	}
	d := p.deal
	return &d
}

// batch is one batch being stored: its items, what the lookups found and
// what was decided for each item.
type batch struct {
	s     *Sink
	tx    *gorm.DB
	items []*item
	ps    []plan
	st    *batchState
	out   []channels.Result
	// noDeal: the conversations that had no deal when the batch met them
	// (see convWrites).
	noDeal map[*crm.Conversation]bool
}

// store stores the items in tx. It plans the whole batch in memory in
// item order — exactly the decisions storing them one by one would make —
// and writes each table with a few multi-row statements, one rule at a
// time: identity → contact (contact.go), entry point → ad source and the
// deal-link rules (deal.go), the conversation (conversation.go), the
// touch (touch.go). It returns the touches' events unwritten: the caller
// writes them last.
func (s *Sink) store(tx *gorm.DB, items []*item) ([]channels.Result, []crm.Event, error) {
	if err := s.rekeyReused(tx, items); err != nil {
		return nil, nil, err
	}
	st, err := preload(tx, items)
	if err != nil {
		return nil, nil, err
	}
	b := &batch{s: s, tx: tx, items: items, ps: make([]plan, len(items)), st: st, out: make([]channels.Result, len(items))}
	for _, step := range []func() error{b.contacts, b.threads, b.deals, b.audit, b.conversations} {
		if err := step(); err != nil {
			return nil, nil, err
		}
	}
	stored, err := b.touches()
	if err == nil {
		err = b.recordings(stored)
	}
	if err != nil || len(stored) == 0 {
		return b.out, nil, err
	}
	if err := b.mergeHints(stored); err != nil {
		return nil, nil, err
	}
	evs, err := b.events(stored)
	if err != nil {
		return nil, nil, err
	}
	return b.out, evs, nil
}

// fail names the item an error is about.
func (b *batch) fail(it *item, err error) error {
	return fmt.Errorf("%s: %w", crm.Clip(it.in.ExternalID, 80), err)
}

// audit writes the batch's audit trail, in item order, in one insert.
func (b *batch) audit() error {
	var recs []crm.AuditRecord
	for i, it := range b.items {
		p := &b.ps[i]
		if p.newContact {
			recs = append(recs, crm.AuditRecord{Action: "contact.create", ObjectType: "contact", ObjectID: p.contact,
				Data: map[string]any{"account_id": it.in.AccountID, "external_id": crm.Clip(it.in.ExternalID, 200), "handles": crm.KeyStrings(it.keys)}})
		}
		if p.newDeal {
			recs = append(recs, crm.AuditRecord{Action: "deal.open", ObjectType: "deal", ObjectID: p.deal,
				Data: map[string]any{"contact_id": p.contact, "ad_source_id": p.srcID, "rule": "first touch"}})
		}
	}
	return b.st.audit.AppendAll(b.tx, recs)
}
