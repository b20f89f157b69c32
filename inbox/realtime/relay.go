package realtime

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

	"github.com/switchboard/switchboard/crm"
)

// On PostgreSQL every replica's relay feeds its hub from the events table,
// in id order: it reads "id > the last published" whenever a NOTIFY on
// crm.EventsChannel (sent at commit by the writer, carrying the highest id
// written) arrives on its dedicated pgx LISTEN connection, or a transaction
// of its own commits. The listen connection is checked every relayCheck;
// when it drops, the relay reconnects with backoff and then reads the table
// from where it stopped, so events committed meanwhile are published late,
// in order, once. Each event is published exactly once per replica because
// only the relay goroutine publishes and its mark only grows.

// Relay tuning.
const (
	relayPage       = 500
	relayCheck      = 30 * time.Second // ping the idle listen connection this often
	relayMinBackoff = 250 * time.Millisecond
	relayMaxBackoff = 30 * time.Second
)

// relay feeds one replica's hub from the events table (PostgreSQL).
type relay struct {
	p    *Publisher
	dsn  string
	wake chan struct{}
	want atomic.Int64  // highest event id known committed
	pid  atomic.Uint32 // backend pid of the listen connection; 0 while down
	mark int64         // highest id published; the feed goroutine's alone

	minBackoff, maxBackoff, check time.Duration
}

func (p *Publisher) relay() *relay {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rt
}

// ListenPID is the PostgreSQL backend pid of the relay's LISTEN
// connection, 0 while it is down or on SQLite (tests kill it).
func (p *Publisher) ListenPID() uint32 {
	if r := p.relay(); r != nil {
		return r.pid.Load()
	}
	return 0
}

// Start starts, on PostgreSQL, the relay that feeds the hub with every
// replica's events until ctx ends; a second call does nothing. On SQLite
// events are published in process and there is nothing to start.
func (p *Publisher) Start(ctx context.Context, wg *sync.WaitGroup) error {
	if !p.pg {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rt != nil {
		return nil
	}
	dsn, err := crm.PostgresDSN(p.db)
	if err != nil {
		return fmt.Errorf("realtime: %w", err)
	}
	mark, err := crm.LastEventID(p.db.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("realtime: %w", err)
	}
	r := &relay{p: p, dsn: dsn, wake: make(chan struct{}, 1), mark: mark,
		minBackoff: p.RelayBackoff, maxBackoff: max(p.RelayBackoff, relayMaxBackoff), check: relayCheck}
	r.want.Store(mark)
	p.rt = r
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
		r.p.log.Warn("realtime: listen connection lost; reconnecting", "err", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
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
			r.p.log.Warn("realtime: reading events", "err", err, "retry_in", backoff.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
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
		evs, err := crm.EventsSince(r.p.db.WithContext(ctx), r.mark, relayPage)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			r.p.hub.Publish(evs...)
			r.mark = evs[len(evs)-1].ID
		}
		if len(evs) < relayPage {
			return nil
		}
	}
}
