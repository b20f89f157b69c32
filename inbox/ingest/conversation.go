package ingest

import (
	"time"

	"github.com/switchboard/switchboard/crm"
)

// convWrites is what the conversation rule writes for a batch.
type convWrites struct {
	opened, changed []*crm.Conversation
	isChanged       map[*crm.Conversation]bool
	// Conversations without a deal when the batch met them: if one gets a
	// deal, our earlier answers in it take it too (DESIGN: outbound
	// touches take the conversation's deal).
	noDeal map[*crm.Conversation]bool
	// Each item's conversation, by its external id (threading by Parents).
	byMessage map[touchKey]*crm.Conversation
}

// conversations finds or opens each item's conversation: by its thread,
// else by the messages it answers (another contact's too: thread.go). An
// inbound reopens it and waits for us.
func (b *batch) conversations() error {
	w := &convWrites{isChanged: map[*crm.Conversation]bool{}, noDeal: map[*crm.Conversation]bool{}, byMessage: map[touchKey]*crm.Conversation{}}
	for i, it := range b.items {
		p := &b.ps[i]
		if p.skip {
			continue
		}
		conv, err := b.findConversation(p, it, w)
		if err != nil {
			return b.fail(it, err)
		}
		if conv == nil {
			conv = b.openConversation(p, it)
			w.opened = append(w.opened, conv)
			w.noDeal[conv] = conv.DealID == nil
		} else {
			if _, seen := w.noDeal[conv]; !seen {
				w.noDeal[conv] = conv.DealID == nil
			}
			b.touchConversation(conv, p, it)
			if conv.ID != 0 && !w.isChanged[conv] {
				w.isChanged[conv] = true
				w.changed = append(w.changed, conv)
			}
		}
		p.conv = conv
		w.byMessage[touchKey{it.in.AccountID, it.in.ExternalID}] = conv
	}
	if err := crm.InsertConversations(b.tx, w.opened); err != nil {
		return err
	}
	if err := crm.UpdateConversationHeads(b.tx, w.changed); err != nil {
		return err
	}
	b.noDeal = w.noDeal
	return nil
}

// findConversation returns an item's existing conversation, or nil.
func (b *batch) findConversation(p *plan, it *item, w *convWrites) (*crm.Conversation, error) {
	st := b.st
	ck := crm.ThreadKey{ContactID: p.convContact, AccountID: it.in.AccountID, Thread: it.in.ThreadKey}
	conv := st.convs[ck]
	if conv == nil && st.stored[p.convContact] && !st.convLoaded[ck] {
		// A contact this item reached through an identity an earlier item
		// of the batch added: its conversations were not preloaded.
		found, err := crm.LatestConversation(b.tx, ck)
		if err != nil {
			return nil, err
		}
		st.convLoaded[ck] = true
		if found != nil {
			if conv = st.convByID[found.ID]; conv == nil {
				conv = found
				st.convByID[conv.ID] = conv
			}
			st.convs[ck] = conv
		}
	}
	if conv != nil {
		return conv, nil
	}
	// Threading by the messages this one answers, when its thread key
	// found nothing: a stored parent's conversation, or one this batch
	// opened for an earlier item.
	for _, par := range it.in.Parents {
		pk := touchKey{it.in.AccountID, par}
		c := w.byMessage[pk]
		if id, ok := st.parentConv[pk]; ok && c == nil {
			c = st.convByID[id]
		}
		if c != nil && c.ContactID == p.convContact && c.AccountID == it.in.AccountID {
			st.convs[ck] = c
			return c, nil
		}
	}
	return nil, nil
}

// waitingSince is from when an item leaves someone waiting for our
// answer: an answered call is a conversation held, an outgoing message an
// answer, so nobody waits; history is the past, which nobody waits on,
// nobody waits on a blocked sender, and a robot (a bounce, an auto-reply,
// list mail) expects no answer.
func waitingSince(p *plan, it *item) *time.Time {
	if callStatus(it.in) == crm.CallAnswered || it.in.Outgoing || it.in.History || it.in.Automated || p.blocked {
		return nil
	}
	at := it.at
	return &at
}

// openConversation is the conversation an item opens. History opens it
// closed: the past fills no queue; the client's next message reopens it.
func (b *batch) openConversation(p *plan, it *item) *crm.Conversation {
	in := it.in
	status := crm.ConvOpen
	if in.History || p.blocked {
		status = crm.ConvClosed
	}
	conv := &crm.Conversation{ContactID: p.convContact, AccountID: in.AccountID, Channel: it.channel, ThreadKey: in.ThreadKey, AssigneeID: p.responsible,
		Status: status, WaitingSince: waitingSince(p, it), DealID: p.dealID(), Subject: crm.Clip(in.Subject, 300),
		LastText: crm.Preview(in.Text, in.Subject, string(in.Kind)), LastTouchAt: it.at, CreatedAt: p.since(it), UpdatedAt: p.now}
	b.st.convs[crm.ThreadKey{ContactID: p.convContact, AccountID: in.AccountID, Thread: in.ThreadKey}] = conv
	return conv
}

// touchConversation updates a conversation with an item's touch.
func (b *batch) touchConversation(conv *crm.Conversation, p *plan, it *item) {
	in := it.in
	waiting := waitingSince(p, it)
	switch {
	case in.History, p.blocked:
		// The past, or a blocked sender, neither starts nor ends a wait.
	case in.Automated:
		// A robot's message (a bounce, an auto-reply, list mail, our own
		// vacation notice) neither starts nor ends a wait.
	case it.at.Before(conv.LastTouchAt):
		// Older than what the conversation last held (read late: another
		// folder first, a delayed delivery): the later touches already
		// decided whether anyone waits.
	case waiting == nil:
		conv.WaitingSince = nil
	case conv.WaitingSince == nil:
		conv.WaitingSince = waiting
	}
	if it.at.After(conv.LastTouchAt) {
		conv.LastTouchAt, conv.LastText = it.at, crm.Preview(in.Text, in.Subject, string(in.Kind))
	}
	if d := p.dealID(); d != nil { // the conversation is about the deal its latest touch is on
		conv.DealID = d
	}
	if conv.Subject == "" {
		conv.Subject = crm.Clip(in.Subject, 300)
	}
	if !in.Outgoing && !in.History && !in.Automated && !p.blocked { // the client wrote: the conversation is open again
		conv.Status, conv.SnoozedUntil = crm.ConvOpen, nil
	}
	conv.UpdatedAt = p.now
}
