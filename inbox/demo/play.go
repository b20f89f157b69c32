package demo

// Playing the script through the application's verbs, a day at a time.

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// play runs the script a day at a time: the day's inbound touches in one
// Ingest batch, then the replies and the team's actions in time order.
func (g *demoGen) play() error {
	sort.SliceStable(g.steps, func(i, j int) bool {
		if !g.steps[i].at.Equal(g.steps[j].at) {
			return g.steps[i].at.Before(g.steps[j].at)
		}
		return g.steps[i].seq < g.steps[j].seq
	})
	for i := 0; i < len(g.steps); {
		day := g.dayStart(g.steps[i].at)
		j := i
		for j < len(g.steps) && g.dayStart(g.steps[j].at).Equal(day) {
			j++
		}
		if err := g.playDay(g.steps[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// playDay plays one day's steps: the inbound touches, the replies, then
// the team's actions.
func (g *demoGen) playDay(steps []*demoStep) error {
	var ins []*demoStep
	for _, st := range steps {
		if st.op == demoIn {
			ins = append(ins, st)
		}
	}
	g.ctx = crm.WithAuditTime(g.base, steps[0].at) // each step's trail dated as it happened
	if len(ins) > 0 {
		if err := g.ingest(ins); err != nil {
			return err
		}
	}
	// Replies go in one batch, except those after a new deal of the same
	// client that day: the deal is what they link to.
	var early []*demoStep
	late := map[*demoStep]bool{}
	newDeal := map[*demoPerson]bool{}
	for _, st := range steps {
		switch {
		case st.op == demoNewDeal:
			newDeal[st.story.p] = true
		case st.op == demoOut && newDeal[st.story.p]:
			late[st] = true
		case st.op == demoOut:
			early = append(early, st)
		}
	}
	if err := g.writeReplies(early); err != nil {
		return fmt.Errorf("inbox: demo: %w", err)
	}
	for _, st := range steps {
		if st.op == demoIn || st.op == demoOut && !late[st] {
			continue
		}
		g.ctx = crm.WithAuditTime(g.base, st.at)
		if err := g.do(st); err != nil {
			return fmt.Errorf("inbox: demo: %s: %w", st.at.In(g.loc).Format("2006-01-02 15:04"), err)
		}
	}
	return nil
}

// ingest stores a day's inbound touches in one Ingest batch and notes
// where each went.
func (g *demoGen) ingest(ins []*demoStep) error {
	batch := make([]channels.Inbound, len(ins))
	for i, st := range ins {
		batch[i] = st.in
	}
	res, err := g.sink.Ingest(g.ctx, batch)
	if err != nil {
		return fmt.Errorf("inbox: demo: ingest: %w", err)
	}
	ids := make([]int64, 0, len(res))
	var touched []*demoStep
	for i, r := range res {
		if r.Err != nil || r.Duplicate {
			return fmt.Errorf("inbox: demo: ingest %s: %v (duplicate %v)", ins[i].in.ExternalID, r.Err, r.Duplicate)
		}
		if len(ins[i].in.From) == 0 {
			continue // unreadable mail: the owner's list, nobody's touch
		}
		ins[i].touch = r.TouchID
		ids = append(ids, r.TouchID)
		touched = append(touched, ins[i])
	}
	var rows []crm.Touch
	if err := g.db.WithContext(g.ctx).Select("id", "contact_id", "conversation_id", "deal_id", "account_id").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	byID := map[int64]crm.Touch{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	for _, st := range touched {
		if err := g.note(st, byID[st.touch]); err != nil {
			return err
		}
	}
	return nil
}

// note records where Ingest put a client's touch: their contact, the
// conversation, the deal it opened or joined.
func (g *demoGen) note(st *demoStep, r crm.Touch) error {
	s, p := st.story, st.story.p
	if p.contact == 0 {
		p.contact = r.ContactID
	} else if p.contact != r.ContactID {
		return fmt.Errorf("inbox: demo: touch %s went to contact %d, not %d", st.in.ExternalID, r.ContactID, p.contact)
	}
	k := demoConvKey{r.AccountID, st.in.ThreadKey}
	if _, ok := p.convs[k]; !ok {
		p.convs[k] = r.ConversationID
		p.convSeq = append(p.convSeq, r.ConversationID)
	}
	if r.DealID != nil {
		if _, ok := g.dealCreated[*r.DealID]; !ok {
			g.dealCreated[*r.DealID] = st.at
		}
		if s.deal == 0 && !g.closedDeals[*r.DealID] {
			s.deal = *r.DealID
		}
	}
	return nil
}

func (g *demoGen) skip(what string, st *demoStep) {
	g.skipped++
	g.log.Debug("demo: scripted action skipped", "what", what, "at", st.at)
}

// do carries out a reply or an action of the team.
func (g *demoGen) do(st *demoStep) error {
	m := st.story.p.manager
	if st.story.byLead {
		m = &g.lead
	}
	switch st.op {
	case demoOut:
		return g.writeReplies([]*demoStep{st})
	case demoTriage:
		return g.doTriage(st, m)
	case demoStage, demoAmount, demoWon, demoLost:
		return g.doDeal(st, m)
	case demoClose:
		return g.doClose(st, m)
	case demoNewDeal:
		return g.doNewDeal(st, m)
	case demoLink:
		return g.doLink(st, m)
	case demoNotASale:
		return g.doNotASale(st, m)
	}
	return fmt.Errorf("unknown step %d", st.op)
}

// dealOf is the deal a step acts on: the story's first or second.
func (st *demoStep) dealOf() int64 {
	if st.second {
		return st.story.deal2
	}
	return st.story.deal
}

// doTriage: the story's conversations get their manager, and the contact
// card and the deal the client's name and manager.
func (g *demoGen) doTriage(st *demoStep, m *crm.User) error {
	ctx, s := g.ctx, st.story
	p := s.p
	var open []int64
	if err := g.db.WithContext(ctx).Model(&crm.Conversation{}).Where("id IN ? AND assignee_id IS NULL", p.convSeq).Order("id").Pluck("id", &open).Error; err != nil {
		return err
	}
	for _, id := range open {
		by := g.lead
		if st.take {
			by = *m
		}
		if _, err := g.a.AssignConversation(ctx, by, id, &m.ID); err != nil {
			return fmt.Errorf("assign: %w", err)
		}
	}
	if p.contact == 0 {
		g.skip("triage without contact", st)
		return nil
	}
	if err := g.editContact(p.contact, st.name, m.ID); err != nil {
		return err
	}
	if s.deal != 0 {
		title := st.title
		patch := crm.DealPatch{Title: &title, ResponsibleID: &m.ID}
		if _, err := g.a.UpdateDeal(ctx, g.lead, s.deal, patch); err != nil {
			return fmt.Errorf("deal title: %w", err)
		}
		g.touchDeal(s.deal, st.at)
	}
	return nil
}

// doDeal moves the deal to a stage, puts the estimate on it, wins or
// loses it.
func (g *demoGen) doDeal(st *demoStep, m *crm.User) error {
	ctx := g.ctx
	id := st.dealOf()
	if id == 0 {
		g.skip("deal change without a deal", st)
		return nil
	}
	var err error
	switch st.op {
	case demoStage:
		stage := g.open[min(st.stage, len(g.open)-1)].ID
		_, err = g.a.MoveDeal(ctx, *m, id, stage)
	case demoAmount:
		amount := st.amount * 100
		_, err = g.a.UpdateDeal(ctx, *m, id, crm.DealPatch{Amount: &amount})
	case demoWon:
		amount := st.amount * 100
		_, err = g.a.WinDeal(ctx, *m, id, amount)
	case demoLost:
		_, err = g.a.LoseDeal(ctx, *m, id, st.reason)
	}
	if err != nil {
		return fmt.Errorf("deal %d: %w", id, err)
	}
	g.touchDeal(id, st.at)
	if st.op == demoWon || st.op == demoLost {
		g.dealClosed[id] = st.at
		g.closedDeals[id] = true
	}
	return nil
}

// doClose closes the client's open conversations: the manager's own, the
// lead the others.
func (g *demoGen) doClose(st *demoStep, m *crm.User) error {
	ctx, p := g.ctx, st.story.p
	var open []crm.Conversation
	if err := g.db.WithContext(ctx).Select("id", "assignee_id").Where("id IN ? AND status <> ?", p.convSeq, crm.ConvClosed).Order("id").Find(&open).Error; err != nil {
		return err
	}
	for _, c := range open {
		by := *m
		if c.AssigneeID == nil || *c.AssigneeID != m.ID {
			by = g.lead
		}
		if _, err := g.a.SetConversationStatus(ctx, by, c.ID, crm.ConvClosed, nil); err != nil {
			return fmt.Errorf("close: %w", err)
		}
	}
	return nil
}

// doNewDeal opens a deal from a touch and titles it.
func (g *demoGen) doNewDeal(st *demoStep, m *crm.User) error {
	ctx, s := g.ctx, st.story
	if st.ref == nil || st.ref.touch == 0 {
		g.skip("new deal without a touch", st)
		return nil
	}
	d, _, err := g.a.OpenDealForTouch(ctx, *m, st.ref.touch, "", 0)
	if err != nil {
		return fmt.Errorf("new deal: %w", err)
	}
	g.dealCreated[d.ID] = st.at
	if st.second {
		s.deal2 = d.ID
	} else {
		s.deal = d.ID
	}
	title := st.title
	if _, err := g.a.UpdateDeal(ctx, *m, d.ID, crm.DealPatch{Title: &title}); err != nil {
		return err
	}
	g.touchDeal(d.ID, st.at)
	return nil
}

// doLink links an unlinked touch to the story's deal.
func (g *demoGen) doLink(st *demoStep, m *crm.User) error {
	ctx := g.ctx
	id := st.dealOf()
	if st.ref == nil || st.ref.touch == 0 || id == 0 {
		g.skip("link", st)
		return nil
	}
	t, err := crm.GetTouch(g.db.WithContext(ctx), st.ref.touch)
	if err != nil {
		return err
	}
	if !t.Unlinked() {
		return nil // linked by ingest after all: one deal was open
	}
	_, err = g.a.LinkTouch(ctx, *m, st.ref.touch, id)
	return err
}

// doNotASale marks a touch not a sale, with the rest of its
// conversation's unlinked touches.
func (g *demoGen) doNotASale(st *demoStep, m *crm.User) error {
	ctx := g.ctx
	if st.ref == nil || st.ref.touch == 0 {
		g.skip("not a sale", st)
		return nil
	}
	if _, err := g.a.MarkNotASale(ctx, *m, st.ref.touch, st.reason); err != nil {
		return err
	}
	// The rest of the conversation's unlinked touches (our reply too)
	// go with it, or the conversation stays under the unlinked filter.
	t, err := crm.GetTouch(g.db.WithContext(ctx), st.ref.touch)
	if err != nil {
		return err
	}
	var rest []int64
	if err := g.db.WithContext(ctx).Model(&crm.Touch{}).Where("conversation_id = ? AND occurred_at >= ? AND occurred_at <= ? AND id <> ? AND "+crm.UnlinkedTouch, t.ConversationID, t.OccurredAt, st.at, t.ID).Order("id").Pluck("id", &rest).Error; err != nil {
		return err
	}
	for _, id := range rest {
		if _, err := g.a.MarkNotASale(ctx, *m, id, st.reason); err != nil {
			return err
		}
	}
	return nil
}

func (g *demoGen) touchDeal(id int64, at time.Time) {
	if at.After(g.dealUpdated[id]) {
		g.dealUpdated[id] = at
	}
}

// editContact is what the lead does on the contact card after the first
// talk: the client's full name and the responsible manager, audited (as
// PATCH /api/v1/contacts/{id}).
func (g *demoGen) editContact(contact int64, name string, manager int64) error {
	return g.rt.Change(g.ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		before, err := crm.VisibleContact(tx, g.lead, contact)
		if err != nil {
			return err
		}
		patch := crm.ContactPatch{ResponsibleID: &manager}
		if name != "" {
			patch.Name = &name
		}
		c, err := crm.UpdateContact(tx, before.ID, patch)
		if err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &g.lead.ID, "contact.responsible", "contact", c.ID, map[string]any{"from": before.ResponsibleID, "to": c.ResponsibleID}); err != nil {
			return err
		}
		return ev.Add(crm.EventContactChanged, nil, nil, map[string]any{"contact_id": c.ID})
	})
}

// writeReplies stores replies as App.Reply and the dispatcher leave them
// once sent: the outbound touch (delivery status sent, linked to the
// conversation's deal), its outbox job (sent, one attempt) and the
// touch.added event, at the scripted times.
func (g *demoGen) writeReplies(steps []*demoStep) error {
	if len(steps) == 0 {
		return nil
	}
	return g.rt.Change(g.ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		convs, err := g.replyConversations(tx, steps)
		if err != nil {
			return err
		}
		touches, obs, sent := g.replyTouches(steps, convs)
		if len(touches) == 0 {
			return nil
		}
		if err := tx.CreateInBatches(&touches, 100).Error; err != nil {
			return fmt.Errorf("replies: %w", err)
		}
		jobs := make([]crm.OutboxJob, len(touches))
		evs := make([]crm.Event, len(touches))
		for i, t := range touches {
			jobs[i], evs[i] = g.replyRecords(t, obs[i], convs[t.ConversationID])
			sent[i].touch = t.ID
		}
		if err := tx.CreateInBatches(&jobs, 100).Error; err != nil {
			return fmt.Errorf("replies: outbox: %w", err)
		}
		ev.Append(evs...) // written by change, last
		return nil
	})
}

// replyConversations loads the conversations the replies go to, by id.
func (g *demoGen) replyConversations(tx *gorm.DB, steps []*demoStep) (map[int64]crm.Conversation, error) {
	ids := make([]int64, 0, len(steps))
	for _, st := range steps {
		if id, ok := st.story.p.convs[st.conv]; ok {
			ids = append(ids, id)
		}
	}
	var list []crm.Conversation
	if len(ids) > 0 {
		if err := tx.Where("id IN ?", ids).Find(&list).Error; err != nil {
			return nil, err
		}
	}
	convs := map[int64]crm.Conversation{}
	for _, c := range list {
		convs[c.ID] = c
	}
	return convs, nil
}

// replyTouches are the outbound touches of the replies that have a
// conversation their author may see, with what the dispatcher sent and
// the steps they came from.
func (g *demoGen) replyTouches(steps []*demoStep, convs map[int64]crm.Conversation) ([]crm.Touch, []channels.Outbound, []*demoStep) {
	var touches []crm.Touch
	var obs []channels.Outbound
	var sent []*demoStep
	for _, st := range steps {
		id, ok := st.story.p.convs[st.conv]
		conv, found := convs[id]
		if !ok || !found || !st.author.SeesConversation(conv) {
			g.skip("reply without a conversation", st)
			continue
		}
		at := st.at.UTC().Truncate(time.Microsecond)
		ob := channels.Outbound{AccountID: st.conv.account, To: st.to, Text: st.text, Subject: st.subject}
		if st.channel == "email" {
			ob.MessageID, ob.InReplyTo, ob.References = st.ext, st.replyTo, st.refs
		} else {
			ob.ReplyTo = st.replyTo
		}
		ext := st.ext
		touches = append(touches, crm.Touch{AccountID: st.conv.account, Channel: st.channel, Kind: string(channels.Kind(st.channel).TouchKind()), Direction: crm.Outbound,
			ExternalID: &ext, ContactID: conv.ContactID, ConversationID: conv.ID, DealID: conv.DealID, Handle: st.to.Kind + ":" + st.to.Value,
			Subject: ob.Subject, Body: st.text, Meta: crm.MetaJSON(nil), AuthorID: &st.author.ID, DeliveryStatus: crm.Sent, OccurredAt: at, CreatedAt: at})
		obs = append(obs, ob)
		sent = append(sent, st)
	}
	return touches, obs, sent
}

// replyRecords are a stored reply's outbox job, sent, and its touch.added
// event.
func (g *demoGen) replyRecords(t crm.Touch, ob channels.Outbound, conv crm.Conversation) (crm.OutboxJob, crm.Event) {
	payload, _ := json.Marshal(ob)
	job := crm.OutboxJob{TouchID: t.ID, AccountID: t.AccountID, Status: crm.Sent, Attempts: 1, NextAttemptAt: t.OccurredAt, MessageID: ob.MessageID,
		Payload: payload, CreatedAt: t.OccurredAt, UpdatedAt: t.OccurredAt.Add(time.Duration(g.between(1, 4)) * time.Second)}
	data, _ := json.Marshal(map[string]any{"contact_id": t.ContactID, "direction": "out", "delivery_status": crm.Sent,
		"deal_id": t.DealID, "unlinked": t.DealID == nil, "assignee_id": conv.AssigneeID})
	convID, touchID := t.ConversationID, t.ID
	return job, crm.Event{At: time.Now().UTC(), Type: crm.EventTouchAdded, ConversationID: &convID, TouchID: &touchID, Data: data}
}
