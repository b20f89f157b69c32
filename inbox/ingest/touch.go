package ingest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

// touches writes one touch per stored item, with its attachments, and
// returns the indexes of the items stored. An unlinked answer of ours (a
// first mail written from a mail program) in a conversation that got a
// deal since takes the deal.
func (b *batch) touches() ([]int, error) {
	var stored []int
	var rows []*crm.Touch
	for i, it := range b.items {
		p := &b.ps[i]
		if p.skip {
			continue
		}
		stored = append(stored, i)
		rows = append(rows, b.touchRow(p, it))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if err := crm.InsertTouches(b.tx, rows); err != nil {
		return nil, err
	}
	var files []crm.Attachment
	for j, i := range stored {
		p, it := &b.ps[i], b.items[i]
		p.touch = rows[j].ID
		b.out[i] = channels.Result{TouchID: p.touch}
		for _, f := range it.files {
			files = append(files, crm.Attachment{TouchID: p.touch, Name: f.name, ContentType: f.contentType, Size: f.size, SHA256: f.sha, ContentID: f.contentID, Inline: f.inline, CreatedAt: it.at})
		}
	}
	for conv, none := range b.noDeal {
		if none && conv.DealID != nil {
			if err := crm.LinkAnswersToDeal(b.tx, conv.ID, *conv.DealID); err != nil {
				return nil, err
			}
		}
	}
	if err := crm.InsertAttachments(b.tx, files); err != nil {
		return nil, err
	}
	for i := range b.ps {
		if j := b.ps[i].dupOf; j >= 0 {
			b.out[i] = channels.Result{TouchID: b.ps[j].touch, Duplicate: true}
		}
	}
	return stored, nil
}

// touchRow is an item's touch.
func (b *batch) touchRow(p *plan, it *item) *crm.Touch {
	in := it.in
	dir, delivery := crm.Inbound, ""
	if in.Outgoing { // sent outside Switchboard: it went out
		dir, delivery = crm.Outbound, crm.Sent
	}
	author := b.callAuthor(in)
	ext := in.ExternalID
	var quiet string // a no-client's or blocked sender's touch needs no deal
	if p.dealID() == nil {
		switch {
		case p.blocked:
			quiet = crm.NotClientMark + "blocked"
		case p.notClient != "":
			quiet = crm.NotClientMark + p.notClient
		}
	}
	return &crm.Touch{AccountID: in.AccountID, Channel: it.channel, Kind: string(in.Kind), Direction: dir, DeliveryStatus: delivery, ExternalID: &ext,
		ContactID: p.contact, ConversationID: p.conv.ID, DealID: p.dealID(), NotASale: quiet, EntryPointID: p.epID, AdSourceID: p.srcID, Handle: it.handle,
		Subject: crm.Clip(in.Subject, 1000), Body: in.Text, HTML: in.HTML, Meta: touchMeta(in), Automated: in.Automated, History: in.History, CallStatus: callStatus(in),
		AuthorID: author, ParseError: in.ParseError, EditOf: in.EditOf, OccurredAt: it.at, CreatedAt: p.now}
}

// mergeHints records a message whose handles belong to several contacts:
// merge hints for the contact panel (crm.Duplicates).
func (b *batch) mergeHints(stored []int) error {
	var hs []crm.MergeHint
	for _, i := range stored {
		p := &b.ps[i]
		seen := map[int64]bool{}
		for _, o := range p.others {
			if !seen[o] {
				seen[o] = true
				hs = append(hs, crm.MergeHint{ContactID: p.contact, OtherID: o, TouchID: p.touch, CreatedAt: p.now})
			}
		}
	}
	return crm.InsertMergeHints(b.tx, hs)
}

// events is one event per touch, for the caller to write as the
// transaction's last statement (crm.InsertEvents).
func (b *batch) events(stored []int) ([]crm.Event, error) {
	evs := make([]crm.Event, len(stored))
	for j, i := range stored {
		p, it := &b.ps[i], b.items[i]
		dealID := p.dealID()
		data := map[string]any{"contact_id": p.contact, "account_id": it.in.AccountID, "deal_id": dealID, "unlinked": dealID == nil, "assignee_id": p.conv.AssigneeID}
		if it.in.Outgoing {
			data["direction"] = crm.Outbound
		}
		if len(p.others) > 0 {
			data["merge_hint"] = p.others
			b.s.log.Info("ingest: handles of one message belong to several contacts", "contact", p.contact, "others", p.others)
		}
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, b.fail(it, fmt.Errorf("crm: event %s: %w", crm.EventTouchAdded, err))
		}
		conv, touch := p.conv.ID, p.touch
		evs[j] = crm.Event{At: time.Now().UTC(), Type: crm.EventTouchAdded, ConversationID: &conv, TouchID: &touch, Data: raw}
	}
	return evs, nil
}

func touchMeta(in *channels.Inbound) []byte {
	m := map[string]string{}
	for k, v := range in.Meta {
		m[k] = v
	}
	if in.Call != nil {
		callMeta(m, in.Call)
	}
	return crm.MetaJSON(m)
}

// callStatus is a call's outcome for the call-back queue; "" for a
// touch that is not a call.
func callStatus(in *channels.Inbound) string {
	switch {
	case in.Kind != channels.Call:
		return ""
	case in.Call != nil && in.Call.Answered:
		return crm.CallAnswered
	}
	return crm.CallMissed // a call without its outcome reached nobody we know of
}
