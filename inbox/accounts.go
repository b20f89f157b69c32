package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
	"rsc.io/qr"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// supervisor runs every enabled account's adapter: it restarts a failing
// account with exponential backoff (never stopping the others), keeps each
// account's state for the API, and on PostgreSQL holds a session advisory
// lock per account so exactly one replica consumes it; another takes over
// when that replica dies and its connection drops.
type supervisor struct {
	app     *App
	mu      sync.Mutex
	ctx     context.Context
	running map[int64]*runningAccount
	states  map[int64]channels.State
	// report orders state changes: each is stored and its event committed
	// before the next is taken, so the screens get them in the order the
	// states took each other's place.
	report  sync.Mutex
	wg      sync.WaitGroup
	standby time.Duration // how often a standby replica tries the lock
}

type runningAccount struct {
	cancel  context.CancelFunc
	done    chan struct{}
	adapter channels.Adapter
}

// Backoff of a failing account: 1 s doubling to 5 min.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// advisoryClass namespaces the per-account locks.
const advisoryClass = 0x5b0a

func newSupervisor(a *App) *supervisor {
	return &supervisor{app: a, running: map[int64]*runningAccount{}, states: map[int64]channels.State{}, standby: 10 * time.Second}
}

// Start runs the enabled accounts, the outbox dispatcher, the timers
// (snooze, reminders) and, on PostgreSQL, the relay that brings every
// replica's events to this one's WebSocket clients, until ctx ends. Wait
// returns when all have stopped.
func (a *App) Start(ctx context.Context) error {
	s := a.accts
	if err := a.rt.Start(ctx, &s.wg); err != nil {
		return err
	}
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	accs, err := crm.ListAccounts(a.db.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("inbox: start accounts: %w", err)
	}
	for _, acc := range accs {
		s.start(acc.ID)
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		a.dispatchLoop(ctx)
	}()
	go func() {
		defer s.wg.Done()
		a.timerLoop(ctx)
	}()
	return nil
}

// Wait blocks until every account and the dispatcher have stopped.
func (a *App) Wait() { a.accts.wg.Wait() }

// ReloadAccount restarts an account after its settings changed.
func (a *App) ReloadAccount(id int64) {
	a.accts.stop(id)
	a.accts.start(id)
}

// AccountStates is the state of each account in ids: as this replica
// runs it, or, where another replica runs it (standby here), as that one
// last reported it.
func (a *App) AccountStates(ctx context.Context, ids []int64) (map[int64]channels.State, error) {
	out := map[int64]channels.State{}
	var elsewhere []int64
	for _, id := range ids {
		st, ok := a.AccountState(id)
		if !ok {
			continue
		}
		out[id] = st
		if st.Phase == channels.Standby {
			elsewhere = append(elsewhere, id)
		}
	}
	if len(elsewhere) == 0 {
		return out, nil
	}
	stored, err := crm.AccountStates(a.db.WithContext(ctx), elsewhere)
	if err != nil {
		return nil, err
	}
	for id, raw := range stored {
		var st channels.State
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("inbox: account %d state: %w", id, err)
		}
		if st.Phase != channels.Stopped { // the holder stopped: this replica takes over soon
			out[id] = st
		}
	}
	return out, nil
}

// AccountState is the account's condition on this replica.
func (a *App) AccountState(id int64) (channels.State, bool) {
	s := a.accts
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	return st, ok
}

// PairingQR draws the code an account waits to be linked with (WhatsApp:
// Linked devices → Link a device) as a QR code PNG. It is a secret, for the
// owner only. Not found when the account is not pairing on this replica.
func (a *App) PairingQR(ctx context.Context, id int64) ([]byte, error) {
	if _, err := crm.GetAccount(a.db.WithContext(ctx), id); err != nil {
		return nil, err
	}
	st, ok := a.AccountState(id)
	if !ok || st.Phase != channels.Pairing || st.PairingCode == "" {
		phase := channels.Phase("not running here")
		if ok {
			phase = st.Phase
		}
		return nil, fmt.Errorf("%w: account %d is not waiting to be linked (state: %s), so there is no QR code to scan", crm.ErrNotFound, id, phase)
	}
	code, err := qr.Encode(st.PairingCode, qr.L)
	if err != nil {
		return nil, fmt.Errorf("inbox: draw the pairing code of account %d: %w", id, err)
	}
	code.Scale = 5 // a whole number of pixels per module, shown at its own size: ~350 px
	return code.PNG(), nil
}

// runningAdapter returns the adapter this replica runs for an account.
func (a *App) runningAdapter(id int64) channels.Adapter {
	s := a.accts
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.running[id]; r != nil {
		return r.adapter
	}
	return nil
}

func (s *supervisor) setState(id int64, st channels.State) {
	s.report.Lock()
	defer s.report.Unlock()
	s.mu.Lock()
	prev, had := s.states[id]
	if st.Since.IsZero() {
		st.Since = time.Now().UTC()
		if had && prev.Phase == st.Phase {
			st.Since = prev.Since
		}
	}
	s.states[id] = st
	s.mu.Unlock()
	// A new pairing code is news too (the owner's page redraws the QR),
	// though the event never carries the code itself.
	if !had || prev.Phase != st.Phase || prev.Error != st.Error || prev.PairingCode != st.PairingCode {
		s.app.log.Info("account state", "account", id, "phase", st.Phase, "error", st.Error)
		if st.Phase == channels.Standby {
			// This replica's own business: the account's state is what
			// the replica that runs it says (account_states, its events).
			return
		}
		if err := s.app.rt.Change(context.Background(), func(tx *gorm.DB, ev *realtime.Events) error {
			if err := crm.SaveAccountState(tx, id, st); err != nil {
				return err
			}
			return ev.Add(crm.EventAccountState, nil, nil, map[string]any{"account_id": id, "state": st})
		}); err != nil {
			s.app.log.Warn("account state event not stored", "account", id, "err", err)
		}
	}
}

// received notes that a Hook account received a touch just now.
func (s *supervisor) received(id int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.states[id]; ok && st.Phase == channels.Hook {
		st.LastReceived = at.UTC()
		s.states[id] = st
	}
}

func (s *supervisor) start(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.running[id] != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	r := &runningAccount{cancel: cancel, done: make(chan struct{})}
	s.running[id] = r
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(r.done)
		s.loop(ctx, id, r)
		s.mu.Lock()
		if s.running[id] == r {
			delete(s.running, id)
		}
		s.mu.Unlock()
	}()
}

func (s *supervisor) stop(id int64) {
	s.mu.Lock()
	r := s.running[id]
	s.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
}

// loop runs one account until ctx ends or the account is disabled.
func (s *supervisor) loop(ctx context.Context, id int64, r *runningAccount) {
	a := s.app
	backoff := minBackoff
	for ctx.Err() == nil {
		acc, err := crm.GetAccount(a.db.WithContext(ctx), id)
		if err != nil {
			if errors.Is(err, crm.ErrNotFound) {
				return
			}
			s.fail(ctx, id, err, &backoff)
			continue
		}
		kind := channels.Kind(acc.Channel)
		factory := a.opts.Adapters[kind]
		switch {
		case !acc.Enabled:
			s.setState(id, channels.State{Phase: channels.Stopped})
			return
		case factory == nil && kind == channels.Web:
			// Nothing to run: the site posts to the account's hook.
			last, err := crm.LastReceived(a.db.WithContext(ctx), id)
			if err != nil {
				s.fail(ctx, id, err, &backoff)
				continue
			}
			s.setState(id, channels.State{Phase: channels.Hook, LastReceived: last})
			return
		case factory == nil:
			s.setState(id, channels.State{Phase: channels.Stopped, Error: "no adapter for this channel in this build yet"})
			return
		}
		unlock, held, err := s.lock(ctx, id)
		if err != nil {
			s.fail(ctx, id, err, &backoff)
			continue
		}
		if !held {
			s.setState(id, channels.State{Phase: channels.Standby})
			sleep(ctx, s.standby)
			continue
		}
		err = s.runOnce(ctx, acc, factory, r, &backoff)
		unlock()
		if ctx.Err() != nil {
			s.setState(id, channels.State{Phase: channels.Stopped})
			return
		}
		if err != nil {
			s.fail(ctx, id, err, &backoff)
			continue
		}
		sleep(ctx, minBackoff)
	}
}

func (s *supervisor) runOnce(ctx context.Context, acc crm.Account, factory channels.Factory, r *runningAccount, backoff *time.Duration) error {
	a := s.app
	secret, err := a.box.Open(acc.Secret)
	if err != nil {
		return err
	}
	log := a.log // each adapter adds its "account" and "channel"
	ad, err := factory(channels.Account{ID: acc.ID, Name: acc.Name, Channel: channels.Kind(acc.Channel), Settings: acc.Settings, Secret: secret, Cursor: acc.Cursor}, log)
	if err != nil {
		return err
	}
	s.mu.Lock()
	r.adapter = ad
	s.mu.Unlock()
	s.setState(acc.ID, channels.State{Phase: channels.Connecting})
	return ad.Run(ctx, a, func(st channels.State) {
		if st.Phase == channels.Live {
			*backoff = minBackoff
		}
		s.setState(acc.ID, st)
	})
}

func (s *supervisor) fail(ctx context.Context, id int64, err error, backoff *time.Duration) {
	retry := time.Now().Add(*backoff).UTC()
	s.setState(id, channels.State{Phase: channels.Failing, Error: err.Error(), RetryAt: retry})
	s.app.log.Warn("account failing", "account", id, "err", err, "retry_in", backoff.String())
	sleep(ctx, *backoff)
	*backoff = min(*backoff*2, maxBackoff)
}

// lock takes the account's advisory lock on PostgreSQL (held on a
// dedicated connection for as long as the account runs). SQLite has one
// process: always held.
func (s *supervisor) lock(ctx context.Context, id int64) (unlock func(), held bool, err error) {
	if crm.Dialect(s.app.db) != "postgres" {
		return func() {}, true, nil
	}
	sqlDB, err := s.app.db.DB()
	if err != nil {
		return nil, false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1, $2)", advisoryClass, int32(id)).Scan(&held); err != nil || !held {
		conn.Close()
		return nil, false, err
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1, $2)", advisoryClass, int32(id))
		conn.Close()
	}, true, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
