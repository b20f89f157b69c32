package inbox

import (
	"encoding/json"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/crm"
)

// Hub fans committed events out to subscribers (the WebSocket clients of
// this process). A slow subscriber never blocks the others: when its
// buffer is full it is dropped and must resume from the last event id it
// saw. Each event is marshalled, framed and decoded for the permission
// filter once, whatever the number of subscribers.
type Hub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Message is an event as the hub hands it out.
type Message struct {
	crm.Event
	scope scope
	frame *websocket.PreparedMessage // the event as a WebSocket text message
}

// Subscription receives messages on C until it is closed or dropped.
type Subscription struct {
	C       chan *Message
	hub     *Hub
	once    sync.Once
	Dropped bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a subscription with a buffer of n events.
func (h *Hub) Subscribe(n int) *Subscription {
	s := &Subscription{C: make(chan *Message, n), hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close unsubscribes.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
	s.once.Do(func() { close(s.C) })
}

// Subscribers is the number of subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// newMessage prepares an event for every subscriber.
func newMessage(e crm.Event) (*Message, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, raw)
	if err != nil {
		return nil, err
	}
	return &Message{Event: e, scope: scopeOf(e), frame: pm}, nil
}

// Publish delivers events, in order, to every subscriber.
func (h *Hub) Publish(evs ...crm.Event) {
	if len(evs) == 0 || h.Subscribers() == 0 {
		return
	}
	msgs := make([]*Message, 0, len(evs))
	for _, e := range evs {
		m, err := newMessage(e)
		if err != nil {
			continue // cannot happen: Data is JSON read from our own table
		}
		msgs = append(msgs, m)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		for _, m := range msgs {
			select {
			case s.C <- m:
				continue
			default:
			}
			s.Dropped = true
			delete(h.subs, s)
			s.once.Do(func() { close(s.C) })
			break
		}
	}
}

// scope is what the permission filter reads of an event, decoded once.
type scope struct {
	typ                             string
	conversation                    bool
	assignee, previous, responsible *int64
	user                            *int64 // whom a touch.reminder is for
	leftQueue                       bool   // a conversation.changed whose previous_assignee_id is null: it left the unassigned queue
}

func scopeOf(e crm.Event) scope {
	var d struct {
		AssigneeID         *int64          `json:"assignee_id"`
		PreviousAssigneeID json.RawMessage `json:"previous_assignee_id"`
		ResponsibleID      *int64          `json:"responsible_id"`
		UserID             *int64          `json:"user_id"`
	}
	json.Unmarshal(e.Data, &d)
	s := scope{typ: e.Type, conversation: e.ConversationID != nil, assignee: d.AssigneeID, responsible: d.ResponsibleID, user: d.UserID}
	if string(d.PreviousAssigneeID) == "null" {
		s.leftQueue = e.Type == crm.EventConversationChanged
	} else if len(d.PreviousAssigneeID) > 0 {
		var p int64
		if json.Unmarshal(d.PreviousAssigneeID, &p) == nil {
			s.previous = &p
		}
	}
	return s
}

// visibleEvent applies the API's permissions to an event: a manager gets
// what concerns conversations assigned to them or unassigned (and hears
// that one was taken away: from them, or from the unassigned queue they
// were looking at), their own deals, and account states.
func visibleEvent(u crm.User, e crm.Event) bool { return scopeOf(e).visibleTo(u) }

func (s scope) visibleTo(u crm.User) bool {
	if u.Role != crm.Manager {
		return true
	}
	mine := func(p *int64) bool { return p != nil && *p == u.ID }
	switch s.typ {
	case crm.EventAccountState:
		return true
	case crm.EventDealChanged:
		return mine(s.responsible)
	case crm.EventTouchReminder:
		return mine(s.user) // a reminder is for the manager reminded
	}
	if !s.conversation {
		return false
	}
	if s.leftQueue {
		return true // it left the unassigned queue: only ids, no content
	}
	return s.assignee == nil || mine(s.assignee) || mine(s.previous)
}
