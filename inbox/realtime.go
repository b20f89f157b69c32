package inbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
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
// the hub right after commit. It takes App.order before the commit and
// releases it after publishing, so two transactions committing one after
// the other publish in the same order.
//
// PostgreSQL (any number of replicas): every replica's relay feeds its hub
// from the events table, in id order: it reads "id > the last published"
// whenever a NOTIFY on crm.EventsChannel (sent at commit by the writer,
// carrying the highest id written) arrives on its dedicated pgx LISTEN
// connection, or a transaction of its own commits. The listen connection
// is checked every relayCheck; when it drops, the relay reconnects with
// backoff and then reads the table from where it stopped, so events
// committed meanwhile are published late, in order, once. Each event is
// published exactly once per replica because only the relay goroutine
// publishes and its mark only grows.

// Relay tuning.
const (
	relayPage       = 500
	relayCheck      = 30 * time.Second // ping the idle listen connection this often
	relayMinBackoff = 250 * time.Millisecond
	relayMaxBackoff = 30 * time.Second
)

// publication carries a transaction's events from writeEvents to their
// publication after commit.
type publication struct {
	app    *App
	evs    []crm.Event
	locked bool // holds App.order (SQLite)
}

// writeEvents writes evs as the transaction's last statement and readies
// their publication by pub.done.
func (a *App) writeEvents(tx *gorm.DB, evs []crm.Event, pub *publication) error {
	if len(evs) == 0 {
		return nil
	}
	if err := crm.InsertEvents(tx, evs); err != nil {
		return err
	}
	pub.app, pub.evs = a, evs
	if !a.pg {
		a.order.Lock()
		pub.locked = true
	}
	return nil
}

// done publishes the events if the transaction committed (err == nil).
func (p *publication) done(err error) {
	if p.app == nil {
		return
	}
	a := p.app
	if err == nil {
		if a.pg {
			if r := a.relay(); r != nil {
				r.saw(p.evs[len(p.evs)-1].ID) // no need to wait for our own NOTIFY
			}
		} else {
			a.hub.Publish(p.evs...)
		}
	}
	p.release()
}

// release lets the next transaction publish (also after a panic).
func (p *publication) release() {
	if p.locked {
		p.locked = false
		p.app.order.Unlock()
	}
}

// transact runs fn in a transaction; events fn hands to writeEvents are
// published after commit.
func (a *App) transact(ctx context.Context, fn func(tx *gorm.DB, pub *publication) error) error {
	var pub publication
	defer pub.release()
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return fn(tx, &pub) })
	pub.done(err)
	return err
}

// relay feeds one replica's hub from the events table (PostgreSQL).
type relay struct {
	app  *App
	dsn  string
	wake chan struct{}
	want atomic.Int64  // highest event id known committed
	pid  atomic.Uint32 // backend pid of the listen connection; 0 while down
	mark int64         // highest id published; the feed goroutine's alone

	minBackoff, maxBackoff, check time.Duration
}

func (a *App) relay() *relay {
	a.rtMu.Lock()
	defer a.rtMu.Unlock()
	return a.rt
}

// startRealtime starts, on PostgreSQL, the relay that feeds the hub with
// every replica's events until ctx ends; a second call does nothing. On
// SQLite events are published in process and there is nothing to start.
func (a *App) startRealtime(ctx context.Context, wg *sync.WaitGroup) error {
	if !a.pg {
		return nil
	}
	a.rtMu.Lock()
	defer a.rtMu.Unlock()
	if a.rt != nil {
		return nil
	}
	dsn, err := crm.PostgresDSN(a.db)
	if err != nil {
		return fmt.Errorf("inbox: realtime: %w", err)
	}
	mark, err := crm.LastEventID(a.db.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("inbox: realtime: %w", err)
	}
	r := &relay{app: a, dsn: dsn, wake: make(chan struct{}, 1), mark: mark,
		minBackoff: a.relayBackoff, maxBackoff: max(a.relayBackoff, relayMaxBackoff), check: relayCheck}
	r.want.Store(mark)
	a.rt = r
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.listen(ctx)
	}()
	go func() {
		defer wg.Done()
		r.feed(ctx)
	}()
	return nil
}

// saw notes that events up to id are committed.
func (r *relay) saw(id int64) {
	for {
		w := r.want.Load()
		if id <= w || r.want.CompareAndSwap(w, id) {
			break
		}
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// catchUp makes the feed read the table whatever it knows.
func (r *relay) catchUp() { r.saw(math.MaxInt64) }

// listen holds the LISTEN connection, reconnecting with backoff.
func (r *relay) listen(ctx context.Context) {
	backoff := r.minBackoff
	for {
		err := r.listenOnce(ctx, &backoff)
		if ctx.Err() != nil {
			return
		}
		r.app.log.Warn("realtime: listen connection lost; reconnecting", "err", err, "retry_in", backoff.String())
		sleep(ctx, backoff)
		backoff = min(backoff*2, r.maxBackoff)
	}
}

func (r *relay) listenOnce(ctx context.Context, backoff *time.Duration) error {
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+crm.EventsChannel); err != nil {
		return err
	}
	r.pid.Store(conn.PgConn().PID())
	defer r.pid.Store(0)
	*backoff = r.minBackoff
	// Listening now: whatever committed before is in the table.
	r.catchUp()
	for {
		wctx, cancel := context.WithTimeout(ctx, r.check)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			id, perr := strconv.ParseInt(n.Payload, 10, 64)
			if perr != nil {
				id = math.MaxInt64
			}
			r.saw(id)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || wctx.Err() != nil:
			if err := conn.Ping(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// feed publishes the events after the mark, in id order, whenever woken.
func (r *relay) feed(ctx context.Context) {
	backoff := r.minBackoff
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		if r.want.Load() <= r.mark {
			continue // already published (our own commit, then its NOTIFY)
		}
		if err := r.drain(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.app.log.Warn("realtime: reading events", "err", err, "retry_in", backoff.String())
			sleep(ctx, backoff)
			backoff = min(backoff*2, r.maxBackoff)
			r.catchUp()
			continue
		}
		backoff = r.minBackoff
	}
}

// drain reads and publishes everything after the mark.
func (r *relay) drain(ctx context.Context) error {
	for {
		// Everything committed by now is read by the loop; a later commit
		// wakes the feed again.
		r.want.Store(r.mark)
		evs, err := crm.EventsSince(r.app.db.WithContext(ctx), r.mark, relayPage)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			r.app.hub.Publish(evs...)
			r.mark = evs[len(evs)-1].ID
		}
		if len(evs) < relayPage {
			return nil
		}
	}
}
