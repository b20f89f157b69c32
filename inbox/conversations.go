package inbox

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// ConversationList is a page of the inbox.
type ConversationList struct {
	Conversations []ConversationItem `json:"conversations"`
	NextCursor    string             `json:"next_cursor"`
}

// ConversationItem is a conversation with its contact's name, for the list.
type ConversationItem struct {
	crm.Conversation
	ContactName string `json:"contact_name"`
	// ContactHandle is the contact's first identity ("phone:+7913…"), for
	// a contact with no name yet (a missed call from an unknown number).
	ContactHandle string `json:"contact_handle"`
	Unlinked      int64  `json:"unlinked"`
	// MissedCallAt is the oldest missed call of the conversation that
	// nobody has called back (the call-back queue), if any.
	MissedCallAt *time.Time `json:"missed_call_at,omitempty"`
	// FailedReply is the latest reply, if it failed and nothing reached
	// the contact since: the list marks it.
	FailedReply *crm.FailedReply `json:"failed_reply,omitempty"`
}

// ConversationDetail is one conversation with its contact and touches, and
// what the timeline shows beside them: the touches' files and the names of
// the entry points and ad sources they came from (which a manager may not
// list through the owner's endpoints).
type ConversationDetail struct {
	Conversation crm.Conversation `json:"conversation"`
	Contact      crm.Contact      `json:"contact"`
	Touches      []crm.Touch      `json:"touches"`
	OpenDeals    []crm.Deal       `json:"open_deals"`
	Attachments  []crm.Attachment `json:"attachments"`
	EntryPoints  []crm.NamedRef   `json:"entry_points"`
	AdSources    []crm.NamedRef   `json:"ad_sources"`
	// Sending is where each of the timeline's replies stands in the
	// outbox (attempts, the last error, the next try), so a reload shows
	// why a reply is stuck or failed, not only live events.
	Sending []crm.SendState `json:"sending"`
	// Participants are the others who wrote in the conversation (a
	// colleague of the contact answering in their thread). Replies still
	// go to the contact alone.
	Participants []crm.Participant `json:"participants"`
}

// Queue names a list of the inbox.
type Queue string

// The queues (filter=…).
const (
	QueueAll        Queue = "all"
	QueueMine       Queue = "mine"
	QueueUnassigned Queue = "unassigned"
	QueueUnlinked   Queue = "unlinked"
	QueueWaiting    Queue = "waiting"
	QueueCallBack   Queue = "callback"
)

// ListConversations lists a page of a queue as u may see it.
func (a *App) ListConversations(ctx context.Context, u crm.User, q Queue, f crm.ConversationFilter) (ConversationList, error) {
	switch q {
	case QueueMine:
		f.AssigneeID = u.ID
	case QueueUnassigned:
		f.Unassigned = true
	case QueueUnlinked:
		f.Unlinked = true
	case QueueWaiting:
		f.Waiting = true
	case QueueCallBack:
		f.CallBack = true
	case "", QueueAll:
	default:
		return ConversationList{}, crm.Invalid("filter must be mine, unassigned, unlinked, waiting, callback or all")
	}
	switch f.Status {
	case "", string(crm.ConvOpen), string(crm.ConvSnoozed), string(crm.ConvClosed):
	default:
		return ConversationList{}, crm.Invalid("status must be open, snoozed or closed")
	}
	f.For, f.Region = &u, a.opts.Region
	tx := a.db.WithContext(ctx)
	convs, next, err := crm.ListConversations(tx, f)
	if err != nil {
		return ConversationList{}, err
	}
	out := ConversationList{Conversations: make([]ConversationItem, len(convs)), NextCursor: next}
	ids := make([]int64, len(convs))
	for i, c := range convs {
		out.Conversations[i].Conversation = c
		ids[i] = c.ID
	}
	sum, err := crm.SummarizeConversations(tx, convs)
	if err != nil {
		return ConversationList{}, err
	}
	failed, err := crm.FailedReplies(tx, ids)
	if err != nil {
		return ConversationList{}, err
	}
	for i := range out.Conversations {
		it := &out.Conversations[i]
		s := sum[it.ID]
		it.ContactName, it.ContactHandle, it.Unlinked, it.MissedCallAt = s.ContactName, s.ContactHandle, s.Unlinked, s.MissedCallAt
		if f, ok := failed[it.ID]; ok {
			it.FailedReply = &f
		}
	}
	return out, nil
}

// Conversation is one conversation with its timeline (at most limit
// touches, 0: the default) for u.
func (a *App) Conversation(ctx context.Context, u crm.User, id int64, limit int) (ConversationDetail, error) {
	tx := a.db.WithContext(ctx)
	var d ConversationDetail
	var err error
	if d.Conversation, err = crm.VisibleConversation(tx, u, id); err != nil {
		return d, err
	}
	if d.Contact, err = crm.GetContact(tx, d.Conversation.ContactID); err != nil {
		return d, err
	}
	if d.Touches, err = crm.ConversationTouches(tx, id, limit); err != nil {
		return d, err
	}
	if d.OpenDeals, err = crm.OpenDeals(tx, d.Conversation.ContactID); err != nil {
		return d, err
	}
	if d.Attachments, d.EntryPoints, d.AdSources, err = crm.TimelineRefs(tx, d.Touches); err != nil {
		return d, err
	}
	if d.Participants, err = crm.Participants(tx, d.Conversation); err != nil {
		return d, err
	}
	d.Sending, err = crm.SendStates(tx, d.Touches)
	return d, err
}

// AssignConversation assigns, transfers or (assignee nil) returns a
// conversation to the queue. Leads and owners assign anyone; a manager may
// take an unassigned conversation and hand on their own. Audited.
func (a *App) AssignConversation(ctx context.Context, u crm.User, id int64, assignee *int64) (crm.Conversation, error) {
	var out crm.Conversation
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		c, err := crm.VisibleConversation(tx, u, id)
		if err != nil {
			return err
		}
		if u.Role == crm.Manager && c.AssigneeID == nil && (assignee == nil || *assignee != u.ID) {
			return crm.Invalid("a manager can take an unassigned conversation only for themselves")
		}
		if out, err = crm.AssignConversation(tx, id, assignee); err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, "conversation.assign", "conversation", id, map[string]any{"from": c.AssigneeID, "to": assignee}); err != nil {
			return err
		}
		return ev.Add(crm.EventConversationChanged, &id, nil, map[string]any{"assignee_id": assignee, "previous_assignee_id": c.AssigneeID, "status": out.Status})
	})
	return out, err
}

// SetConversationStatus opens, snoozes (until a time, when it comes back by
// itself: see RunTimers) or closes a conversation.
func (a *App) SetConversationStatus(ctx context.Context, u crm.User, id int64, st crm.ConversationStatus, until *time.Time) (crm.Conversation, error) {
	var out crm.Conversation
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if _, err := crm.VisibleConversation(tx, u, id); err != nil {
			return err
		}
		var err error
		if out, err = crm.SetConversationStatus(tx, id, st, until); err != nil {
			return err
		}
		return ev.Add(crm.EventConversationChanged, &id, nil, map[string]any{"status": st, "snoozed_until": out.SnoozedUntil, "assignee_id": out.AssigneeID})
	})
	return out, err
}
