// Package realtime carries committed changes to the screens: events are
// written as the last statement of the transaction that makes the change
// (Publisher), published after commit to this process's Hub, and on
// PostgreSQL relayed from every replica through LISTEN/NOTIFY (relay.go).
package realtime

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/crm"
)

// Hub fans committed events out to subscribers (the WebSocket clients of
// this process). A slow subscriber never blocks the others: when its
// buffer is full it is dropped and must resume from the last event id it
// saw. Each event is marshalled, framed and decoded for the visibility
// rule once, whatever the number of subscribers.
type Hub struct {
	mu       sync.Mutex
	subs     map[*Subscription]struct{}
	dropped  atomic.Int64 // slow clients dropped since start
	internal atomic.Int64 // subscriptions that are not clients (SubscribeInternal)
}

// Message is an event as the hub hands it out.
type Message struct {
	crm.Event
	// Scope is what the visibility rule reads of the event.
	Scope crm.EventScope
	// Frame is the event as a WebSocket text message, framed once.
	Frame *websocket.PreparedMessage
}

// Subscription receives messages on C until it is closed or dropped.
type Subscription struct {
	C        chan *Message
	hub      *Hub
	once     sync.Once
	Dropped  bool
	internal bool
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
	_, in := s.hub.subs[s]
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
	if in && s.internal {
		s.hub.internal.Add(-1)
	}
	s.once.Do(func() { close(s.C) })
}

// SubscribeInternal is Subscribe for the application's own listeners (the
// supervisor watching accounts change hands): not a client, not counted
// by Clients.
func (h *Hub) SubscribeInternal(n int) *Subscription {
	s := h.Subscribe(n)
	s.internal = true
	h.internal.Add(1)
	return s
}

// Clients is the number of WebSocket clients: the subscriptions but the
// internal ones.
func (h *Hub) Clients() int { return h.Subscribers() - int(h.internal.Load()) }

// Subscribers is the number of subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Dropped is how many slow subscribers were dropped since the hub began.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

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
	return &Message{Event: e, Scope: crm.ScopeOf(e), Frame: pm}, nil
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
			if s.internal {
				h.internal.Add(-1)
			} else {
				h.dropped.Add(1)
			}
			delete(h.subs, s)
			s.once.Do(func() { close(s.C) })
			break
		}
	}
}
