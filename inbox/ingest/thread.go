package ingest

import (
	"slices"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// Joining a thread: a message that answers one we hold (Inbound.Parents)
// in another contact's conversation on the same account — a colleague of
// the client replying to all, a reply forwarded from another address —
// joins that conversation and its deal instead of opening its own. Its
// sender stays a contact of their own (the touch's contact), shown in the
// conversation as a participant. A thread is never followed across
// accounts: a reply whose parents are another account's starts its own
// conversation, so nobody's conversation leaks into another mailbox.

// threads decides each item's conversation contact (plan.convContact):
// its own, or the one whose thread it joins.
func (b *batch) threads() error {
	byMessage := map[touchKey]int{} // the earlier items of the batch
	for i, it := range b.items {
		p := &b.ps[i]
		p.convContact = p.contact
		if p.skip {
			continue
		}
		b.joinThread(p, it, byMessage)
		byMessage[touchKey{it.in.AccountID, it.in.ExternalID}] = i
	}
	return b.joinersManager()
}

// joinersManager gives a contact the batch created for a colleague who
// joined a stored conversation the manager that conversation is assigned
// to: the client's colleague is handled by the client's manager, and is
// not shown to every other manager as nobody's contact (crm.VisibleContacts).
func (b *batch) joinersManager() error {
	byManager := map[int64][]int64{}
	for i := range b.ps {
		p := &b.ps[i]
		if p.skip || !p.newContact || p.joined == nil || p.joined.AssigneeID == nil {
			continue
		}
		m := *p.joined.AssigneeID
		if !slices.Contains(byManager[m], p.contact) {
			byManager[m] = append(byManager[m], p.contact)
		}
	}
	for m, ids := range byManager {
		if err := crm.SetResponsible(b.tx, ids, m); err != nil {
			return err
		}
	}
	return nil
}

// joinThread sets p.convContact (and p.joined, for a stored conversation)
// when the item is an email answering a message of another contact's
// conversation on its account, and its sender has no conversation of this
// thread of their own. (A chat's quote stays in its own chat.)
func (b *batch) joinThread(p *plan, it *item, byMessage map[touchKey]int) {
	acc := it.in.AccountID
	if it.in.Kind != channels.Mail || len(it.in.Parents) == 0 || b.st.convs[crm.ThreadKey{ContactID: p.contact, AccountID: acc, Thread: it.in.ThreadKey}] != nil {
		return
	}
	for _, par := range it.in.Parents {
		pk := touchKey{acc, par}
		if j, ok := byMessage[pk]; ok {
			p.convContact = b.ps[j].convContact
			return
		}
		if id, ok := b.st.parentConv[pk]; ok {
			if c := b.st.convByID[id]; c != nil && c.AccountID == acc {
				p.convContact = c.ContactID
				if c.ContactID != p.contact {
					p.joined = c
				}
				return
			}
		}
	}
}

// joinedDeal is the deal of an item that joined another contact's thread:
// the conversation's deal while it is open, else that contact's one open
// deal, else none (unlinked, for a manager to decide). It never opens a
// deal: the thread is the client's, and the colleague is no new lead.
func (b *batch) joinedDeal(p *plan) int64 {
	ds := b.st.deal(p.convContact)
	if p.joined != nil && p.joined.DealID != nil && slices.Contains(ds.open, *p.joined.DealID) {
		return *p.joined.DealID
	}
	if len(ds.open) == 1 {
		return ds.open[0]
	}
	return 0
}
