package realtime

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
)

// How events reach the hub.
//
// Every transaction that records events writes them as its last statement
// with crm.InsertEvents, which makes event ids follow commit order (one
// writer at a time on SQLite; an advisory transaction lock held to the
// commit on PostgreSQL). Whoever reads "id > last" therefore never skips
// an event that commits late with a lower id; a rolled-back writer leaves
// a gap that no one waits for.
//
// SQLite (one process): the committing goroutine publishes its events to
// the hub right after commit. It takes Publisher.order before the commit
// and releases it after publishing, so two transactions committing one
// after the other publish in the same order.
//
// PostgreSQL (any number of replicas): every replica's relay feeds its hub
// from the events table, in id order (relay.go).

// Publisher runs the transactions that record events and publishes their
// events after commit.
type Publisher struct {
	db    *gorm.DB
	log   *slog.Logger
	hub   *Hub
	pg    bool
	order sync.Mutex // SQLite: commit-and-publish order

	mu sync.Mutex
	rt *relay // PostgreSQL, once started
	// RelayBackoff is the relay's first wait before reconnecting (tests
	// shorten it); set before Start.
	RelayBackoff time.Duration
}

// New returns a publisher writing to db and publishing to hub.
func New(db *gorm.DB, log *slog.Logger, hub *Hub) *Publisher {
	return &Publisher{db: db, log: log, hub: hub, pg: crm.Dialect(db) == "postgres", RelayBackoff: relayMinBackoff}
}

// Hub is where the events are published.
func (p *Publisher) Hub() *Hub { return p.hub }

// Publication carries a transaction's events from Write to their
// publication after commit.
type Publication struct {
	p      *Publisher
	evs    []crm.Event
	locked bool // holds Publisher.order (SQLite)
}

// Write writes evs as the transaction's last statement and readies their
// publication after commit.
func (p *Publisher) Write(tx *gorm.DB, evs []crm.Event, pub *Publication) error {
	if len(evs) == 0 {
		return nil
	}
	if err := crm.InsertEvents(tx, evs); err != nil {
		return err
	}
	pub.p, pub.evs = p, evs
	if !p.pg {
		p.order.Lock()
		pub.locked = true
	}
	return nil
}

// done publishes the events if the transaction committed (err == nil).
func (pub *Publication) done(err error) {
	if pub.p == nil {
		return
	}
	p := pub.p
	if err == nil {
		if p.pg {
			if r := p.relay(); r != nil {
				r.saw(pub.evs[len(pub.evs)-1].ID) // no need to wait for our own NOTIFY
			}
		} else {
			p.hub.Publish(pub.evs...)
		}
	}
	pub.release()
}

// release lets the next transaction publish (also after a panic).
func (pub *Publication) release() {
	if pub.locked {
		pub.locked = false
		pub.p.order.Unlock()
	}
}

// Transact runs fn in a transaction; the events fn hands to Write are
// published after commit.
func (p *Publisher) Transact(ctx context.Context, fn func(tx *gorm.DB, pub *Publication) error) error {
	var pub Publication
	defer pub.release()
	err := p.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return fn(tx, &pub) })
	pub.done(err)
	return err
}

// Events collects the events of a transaction.
type Events struct {
	tx   *gorm.DB
	list []crm.Event
}

// Add records an event, written when the transaction's work is done. A
// conversation's event always carries its current assignee, which the
// visibility rule reads (crm.ScopeOf).
func (e *Events) Add(typ string, convID, touchID *int64, data any) error {
	if m, ok := data.(map[string]any); ok && convID != nil {
		if _, has := m["assignee_id"]; !has {
			var assignee *int64
			if err := e.tx.Model(&crm.Conversation{}).Select("assignee_id").Where("id = ?", *convID).Scan(&assignee).Error; err != nil {
				return err
			}
			m["assignee_id"] = assignee
		}
	}
	ev, err := crm.NewEvent(typ, convID, touchID, data)
	if err == nil {
		e.list = append(e.list, ev)
	}
	return err
}

// Append records events built elsewhere (a batch writer that made them
// with crm.NewEvent or by hand).
func (e *Events) Append(evs ...crm.Event) { e.list = append(e.list, evs...) }

// Change runs fn in a transaction, writes the events it recorded as the
// transaction's last statement and publishes them after commit.
func (p *Publisher) Change(ctx context.Context, fn func(tx *gorm.DB, ev *Events) error) error {
	return p.Transact(ctx, func(tx *gorm.DB, pub *Publication) error {
		ev := Events{tx: tx}
		if err := fn(tx, &ev); err != nil {
			return err
		}
		return p.Write(tx, ev.list, pub)
	})
}

// EventsAfter reads up to limit committed events after id, in order (a
// WebSocket client resuming).
func (p *Publisher) EventsAfter(ctx context.Context, id int64, limit int) ([]crm.Event, error) {
	return crm.EventsSince(p.db.WithContext(ctx), id, limit)
}

// LastEventID is the id of the newest committed event (0: none).
func (p *Publisher) LastEventID(ctx context.Context) (int64, error) {
	return crm.LastEventID(p.db.WithContext(ctx))
}

// VisibleConversations tells which of the conversations u may see now.
func (p *Publisher) VisibleConversations(ctx context.Context, u crm.User, ids []int64) (map[int64]bool, error) {
	var seen []int64
	err := p.db.WithContext(ctx).Model(&crm.Conversation{}).Scopes(crm.VisibleConversations(u)).Where("id IN ?", ids).Pluck("id", &seen).Error
	out := make(map[int64]bool, len(seen))
	for _, id := range seen {
		out[id] = true
	}
	return out, err
}
