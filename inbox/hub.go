package inbox

import (
	"sync"

	"github.com/switchboard/switchboard/crm"
)

// Hub fans committed events out to subscribers (the WebSocket clients of
// this process). A slow subscriber never blocks ingest: when its buffer is
// full it is dropped and must resume from the last event id it saw.
type Hub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription receives events on C until it is closed or dropped.
type Subscription struct {
	C       chan crm.Event
	hub     *Hub
	once    sync.Once
	Dropped bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a subscription with a buffer of n events.
func (h *Hub) Subscribe(n int) *Subscription {
	s := &Subscription{C: make(chan crm.Event, n), hub: h}
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

// Publish delivers events, in order, to every subscriber.
func (h *Hub) Publish(evs ...crm.Event) {
	if len(evs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		for _, e := range evs {
			select {
			case s.C <- e:
			default:
				s.Dropped = true
				delete(h.subs, s)
				s.once.Do(func() { close(s.C) })
			}
			if s.Dropped {
				break
			}
		}
	}
}
