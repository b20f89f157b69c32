// Package accounts runs the channel accounts: one adapter per enabled
// account (on PostgreSQL on exactly one replica, under an advisory lock),
// restarted with backoff when it fails, with each account's state kept for
// the screens and recorded for the other replicas.
package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
type Supervisor struct {
	db   *gorm.DB
	log  *slog.Logger
	rt   *realtime.Publisher
	box  *crm.SecretBox
	reg  *channels.Registry
	sink channels.Sink

	mu      sync.Mutex
	ctx     context.Context
	running map[int64]*runningAccount
	states  map[int64]channels.State
	sendOK  map[int64]channels.Phase // the phase to go back to when sending works again
	// report orders state changes: each is stored and its event committed
	// before the next is taken, so the screens get them in the order the
	// states took each other's place.
	report       sync.Mutex
	wg           sync.WaitGroup
	StandbyEvery time.Duration // how often a standby replica tries the lock (default 10 s)
}

type runningAccount struct {
	cancel  context.CancelFunc
	done    chan struct{}
	adapter channels.Adapter
	wake    chan struct{} // another replica let the account go: try the lock now
}

// Backoff of a failing account: 1 s doubling to 5 min.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// advisoryClass namespaces the per-account locks.
const advisoryClass = 0x5b0a

// New returns the supervisor of the accounts in db, building adapters from
// the channels in reg and handing what they read to sink.
func New(db *gorm.DB, log *slog.Logger, rt *realtime.Publisher, box *crm.SecretBox, reg *channels.Registry, sink channels.Sink) *Supervisor {
	return &Supervisor{db: db, log: log, rt: rt, box: box, reg: reg, sink: sink,
		running: map[int64]*runningAccount{}, states: map[int64]channels.State{}, sendOK: map[int64]channels.Phase{}, StandbyEvery: 10 * time.Second}
}

// SetChannels replaces the registry (tests swap in stand-in adapters);
// accounts started later use it.
func (s *Supervisor) SetChannels(reg *channels.Registry) {
	s.mu.Lock()
	s.reg = reg
	s.mu.Unlock()
}

func (s *Supervisor) channel(k channels.Kind) (channels.Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reg.Get(k)
}

// Start runs the enabled accounts until ctx ends; Wait returns when all
// have stopped.
func (s *Supervisor) Start(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	accs, err := crm.ListAccounts(s.db.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("accounts: start: %w", err)
	}
	for _, acc := range accs {
		s.start(acc.ID)
	}
	if s.rt != nil {
		go s.watchReleases(ctx)
	}
	return nil
}

// watchReleases wakes this replica's standby loop of an account as soon
// as the replica that ran it says it stopped (its lock is released before
// it says so), so a replica stopping for an upgrade hands its accounts
// over at once instead of at the next try. The states come through the
// hub, which carries other replicas' events on PostgreSQL.
func (s *Supervisor) watchReleases(ctx context.Context) {
	for ctx.Err() == nil {
		sub := s.rt.Hub().SubscribeInternal(256)
		s.wakeOnRelease(ctx, sub)
		sub.Close()
	}
}

func (s *Supervisor) wakeOnRelease(ctx context.Context, sub *realtime.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-sub.C:
			if !ok {
				return // dropped as slow: subscribe again
			}
			if m.Type != crm.EventAccountState {
				continue
			}
			var d struct {
				AccountID int64          `json:"account_id"`
				State     channels.State `json:"state"`
			}
			if json.Unmarshal(m.Data, &d) != nil || (d.State.Phase != channels.Stopped && d.State.Phase != channels.Failing) {
				continue
			}
			s.mu.Lock()
			r := s.running[d.AccountID]
			s.mu.Unlock()
			if r != nil {
				select {
				case r.wake <- struct{}{}:
				default:
				}
			}
		}
	}
}

// Wait blocks until every account has stopped.
func (s *Supervisor) Wait() { s.wg.Wait() }

// Reload restarts an account after its settings changed.
func (s *Supervisor) Reload(id int64) {
	s.stop(id)
	s.start(id)
}

// AccountStates is the state of each account in ids: as this replica
// runs it, or, where another replica runs it (standby here), as that one
// last reported it.
func (s *Supervisor) States(ctx context.Context, ids []int64) (map[int64]channels.State, error) {
	out := map[int64]channels.State{}
	var elsewhere []int64
	for _, id := range ids {
		st, ok := s.State(id)
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
	stored, err := crm.AccountStates(s.db.WithContext(ctx), elsewhere)
	if err != nil {
		return nil, err
	}
	for id, raw := range stored {
		var st channels.State
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("accounts: account %d state: %w", id, err)
		}
		if st.Phase != channels.Stopped { // the holder stopped: this replica takes over soon
			out[id] = st
		}
	}
	return out, nil
}

// AccountState is the account's condition on this replica.
func (s *Supervisor) State(id int64) (channels.State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	return st, ok
}

// PairingQR draws the code an account waits to be linked with (WhatsApp:
// Linked devices → Link a device) as a QR code PNG. It is a secret, for the
// owner only. Not found when the account is not pairing on this replica.
func (s *Supervisor) PairingQR(ctx context.Context, id int64) ([]byte, error) {
	text, err := s.PairingCode(ctx, id)
	if err != nil {
		return nil, err
	}
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		return nil, fmt.Errorf("accounts: draw the pairing code of account %d: %w", id, err)
	}
	code.Scale = 5 // a whole number of pixels per module, shown at its own size: ~350 px
	return code.PNG(), nil
}

// PairingCode is the code an account waits to be linked with, as text:
// what a pairing by phone number asks the owner to type on the phone
// (WhatsApp: Link a device → Link with phone number instead). It is a
// secret, for the owner only. Not found when the account is not pairing
// on this replica.
func (s *Supervisor) PairingCode(ctx context.Context, id int64) (string, error) {
	if _, err := crm.GetAccount(s.db.WithContext(ctx), id); err != nil {
		return "", err
	}
	st, ok := s.State(id)
	if !ok || st.Phase != channels.Pairing || st.PairingCode == "" {
		phase := channels.Phase("not running here")
		if ok {
			phase = st.Phase
		}
		return "", fmt.Errorf("%w: account %d is not waiting to be linked (state: %s), so there is no QR code to scan", crm.ErrNotFound, id, phase)
	}
	return st.PairingCode, nil
}

// Unlink logs out the device an account is linked as (WhatsApp), through
// the adapter this replica runs; the account then starts again, to be
// linked anew. Invalid for a channel with no linked device; not found
// when the account does not run here.
func (s *Supervisor) Unlink(ctx context.Context, id int64) error {
	acc, err := crm.GetAccount(s.db.WithContext(ctx), id)
	if err != nil {
		return err
	}
	ad := s.runningAdapter(id)
	if ad == nil {
		return fmt.Errorf("%w: account %d is not running on this server", crm.ErrNotFound, id)
	}
	u, ok := ad.(channels.Unlinker)
	if !ok {
		return crm.Invalid("a %s account is not linked as a device: there is nothing to unlink", acc.Channel)
	}
	if err := u.Unlink(ctx); err != nil {
		return crm.Invalid("%v", err)
	}
	s.log.Info("account unlinked", "account", id)
	return nil
}

// runningAdapter returns the adapter this replica runs for an account.
func (s *Supervisor) runningAdapter(id int64) channels.Adapter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.running[id]; r != nil {
		return r.adapter
	}
	return nil
}

func (s *Supervisor) setState(id int64, st channels.State) {
	s.report.Lock()
	defer s.report.Unlock()
	st.ErrorKind = crm.AccountErrorKind(st.Error)
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
	if !had || prev.Phase != st.Phase || prev.Error != st.Error || prev.Warning != st.Warning || prev.PairingCode != st.PairingCode {
		s.log.Info("account state", "account", id, "phase", st.Phase, "error", st.Error, "warning", st.Warning)
		if st.Phase == channels.Standby {
			// This replica's own business: the account's state is what
			// the replica that runs it says (account_states, its events).
			return
		}
		if err := s.rt.Change(context.Background(), func(tx *gorm.DB, ev *realtime.Events) error {
			if err := crm.SaveAccountState(tx, id, st); err != nil {
				return err
			}
			return ev.Add(crm.EventAccountState, nil, nil, map[string]any{"account_id": id, "state": st})
		}); err != nil {
			s.log.Warn("account state event not stored", "account", id, "err", err)
		}
	}
}

// received notes that a Hook account received a touch just now.
func (s *Supervisor) received(id int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.states[id]; ok && st.Phase == channels.Hook {
		st.LastReceived = at.UTC()
		s.states[id] = st
	}
}

func (s *Supervisor) start(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.running[id] != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	r := &runningAccount{cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
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

func (s *Supervisor) stop(id int64) {
	s.mu.Lock()
	r := s.running[id]
	s.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
}

// loop runs one account until ctx ends or the account is disabled.
func (s *Supervisor) loop(ctx context.Context, id int64, r *runningAccount) {
	backoff := minBackoff
	for ctx.Err() == nil {
		acc, err := crm.GetAccount(s.db.WithContext(ctx), id)
		if err != nil {
			if errors.Is(err, crm.ErrNotFound) {
				return
			}
			s.fail(ctx, id, err, &backoff)
			continue
		}
		ch, _ := s.channel(channels.Kind(acc.Channel))
		switch {
		case !acc.Enabled:
			s.setState(id, channels.State{Phase: channels.Stopped})
			return
		case ch.HookOnly:
			// Nothing to run: the site posts to the account's hook.
			last, err := crm.LastReceived(s.db.WithContext(ctx), id)
			if err != nil {
				s.fail(ctx, id, err, &backoff)
				continue
			}
			s.setState(id, channels.State{Phase: channels.Hook, LastReceived: last})
			return
		case ch.New == nil:
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
			select { // until the next try, or the holder lets go
			case <-ctx.Done():
			case <-r.wake:
			case <-time.After(s.StandbyEvery):
			}
			continue
		}
		err = s.runOnce(ctx, acc, ch.New, r, &backoff)
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

func (s *Supervisor) runOnce(ctx context.Context, acc crm.Account, factory channels.Factory, r *runningAccount, backoff *time.Duration) error {
	ad, err := s.build(acc, factory)
	if err != nil {
		return err
	}
	s.mu.Lock()
	r.adapter = ad
	s.mu.Unlock()
	s.setState(acc.ID, channels.State{Phase: channels.Connecting})
	return ad.Run(ctx, s.sink, func(st channels.State) {
		if st.Phase == channels.Live {
			*backoff = minBackoff
		}
		s.setState(acc.ID, st)
	})
}

func (s *Supervisor) fail(ctx context.Context, id int64, err error, backoff *time.Duration) {
	retry := time.Now().Add(*backoff).UTC()
	s.setState(id, channels.State{Phase: channels.Failing, Error: err.Error(), RetryAt: retry})
	s.log.Warn("account failing", "account", id, "err", err, "retry_in", backoff.String())
	sleep(ctx, *backoff)
	*backoff = min(*backoff*2, maxBackoff)
}

// lock takes the account's advisory lock on PostgreSQL (held on a
// dedicated connection for as long as the account runs). SQLite has one
// process: always held.
func (s *Supervisor) lock(ctx context.Context, id int64) (unlock func(), held bool, err error) {
	if crm.Dialect(s.db) != "postgres" {
		return func() {}, true, nil
	}
	sqlDB, err := s.db.DB()
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

// build makes an account's adapter with its secret opened.
func (s *Supervisor) build(acc crm.Account, factory channels.Factory) (channels.Adapter, error) {
	secret, err := s.box.Open(acc.Secret)
	if err != nil {
		return nil, channels.Permanent(err)
	}
	// Each adapter adds its "account" and "channel" to the log.
	return factory(channels.Account{ID: acc.ID, Name: acc.Name, Channel: channels.Kind(acc.Channel), Settings: acc.Settings,
		Secret: secret, DefaultSource: acc.DefaultSource, Cursor: acc.Cursor}, s.log)
}

// Adapter is the adapter this replica runs for the account, or a fresh one
// built for a send or a webhook (neither needs a running consumer).
func (s *Supervisor) Adapter(ctx context.Context, id int64) (channels.Adapter, error) {
	if ad := s.runningAdapter(id); ad != nil {
		return ad, nil
	}
	acc, err := crm.GetAccount(s.db.WithContext(ctx), id)
	if err != nil {
		return nil, err
	}
	if !acc.Enabled { // disabled while a send was on its way: it waits
		return nil, fmt.Errorf("account %d is disabled", id)
	}
	return s.adapterOf(acc)
}

// adapterOf builds an adapter for an account that is not running here.
func (s *Supervisor) adapterOf(acc crm.Account) (channels.Adapter, error) {
	ch, _ := s.channel(channels.Kind(acc.Channel))
	if ch.New == nil {
		return nil, channels.Permanent(fmt.Errorf("no adapter for channel %s", acc.Channel))
	}
	return s.build(acc, ch.New)
}

// Hook is what serves a push to POST /hooks/{channel}/{account}: the
// account's adapter, and the sink to hand the push to. Not found when the
// account is not of that channel, has no webhook, or (a running channel's)
// is disabled: a 404 makes a sender such as Telegram retry later, where a
// 200 would drop the update. A disabled hook-only account's sender is told
// so by ingest instead.
func (s *Supervisor) Hook(ctx context.Context, id int64, channel string) (channels.Webhook, channels.Sink, error) {
	acc, err := crm.GetAccount(s.db.WithContext(ctx), id)
	if err != nil {
		return nil, nil, err
	}
	ch, _ := s.channel(channels.Kind(acc.Channel))
	if acc.Channel != channel || (!acc.Enabled && !ch.HookOnly) {
		return nil, nil, crm.NotFound("enabled "+channel+" account", id)
	}
	ad := s.runningAdapter(id)
	if ad == nil {
		if ad, err = s.adapterOf(acc); err != nil {
			return nil, nil, err
		}
	}
	hook, ok := ad.(channels.Webhook)
	if !ok {
		return nil, nil, crm.NotFound("webhook for account", id)
	}
	return hook, noting{s, id}, nil
}

// noting is the sink of a webhook: it notes when a hook-only account last
// received something new, for its state.
type noting struct {
	s  *Supervisor
	id int64
}

func (n noting) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	res, err := n.s.sink.Ingest(ctx, batch)
	for _, r := range res {
		if r.Err == nil && !r.Duplicate {
			n.s.received(n.id, time.Now())
			break
		}
	}
	return res, err
}

// Dialer is the phone account's adapter as a click-to-call dialer: the one
// running here, else a fresh one: one that dials through its provider's API
// can; one that dials through its own connection (AMI) says it cannot
// (CanDial) where it does not run.
func (s *Supervisor) Dialer(ctx context.Context, id int64) (channels.Dialer, error) {
	ad := s.runningAdapter(id)
	if ad == nil {
		acc, err := crm.GetAccount(s.db.WithContext(ctx), id)
		if err != nil {
			return nil, err
		}
		if !acc.Enabled {
			return nil, crm.NotFound("enabled account", id)
		}
		ch, _ := s.channel(channels.Kind(acc.Channel))
		if ch.HookOnly {
			return nil, crm.NotFound("dialer of account", id)
		}
		if ad, err = s.adapterOf(acc); err != nil {
			return nil, err
		}
	}
	d, ok := ad.(channels.Dialer)
	if !ok {
		return nil, crm.NotFound("dialer of account", id)
	}
	return d, nil
}

// SendResult notes how a send through the account went (the outbox tells
// every attempt). An account that receives but cannot send (an SMTP
// server refusing, a network down) must not look healthy: a send failing
// for a reason of the account's, not of one recipient's, makes a live
// account failing "sending: …" until a send goes through. Only the
// replica that runs the account tracks it.
func (s *Supervisor) SendResult(id int64, err error) {
	s.mu.Lock()
	st, ok := s.states[id]
	s.mu.Unlock()
	if !ok {
		return
	}
	const prefix = "sending: "
	sendFailing := st.Phase == channels.Failing && strings.HasPrefix(st.Error, prefix)
	switch {
	case err == nil && sendFailing:
		s.setState(id, channels.State{Phase: s.sendOK[id], LastReceived: st.LastReceived})
	case err == nil, errors.Is(err, channels.ErrPermanent), sendFailing:
	case st.Phase == channels.Live || st.Phase == channels.Hook:
		var ra *channels.RetryAfter
		if errors.As(err, &ra) {
			return // a rate limit is the channel pacing us, not a fault
		}
		s.mu.Lock()
		s.sendOK[id] = st.Phase
		s.mu.Unlock()
		s.setState(id, channels.State{Phase: channels.Failing, Error: prefix + crm.Clip(err.Error(), 300), LastReceived: st.LastReceived})
	}
}

// Phases counts the accounts by channel and phase as this replica sees
// them (keyed by [channel, phase], for the metrics): an account another
// replica runs is standby here, one not started yet is stopped.
func (s *Supervisor) Phases(ctx context.Context) (map[[2]string]int, error) {
	var accs []crm.Account
	if err := s.db.WithContext(ctx).Select("id", "channel").Find(&accs).Error; err != nil {
		return nil, fmt.Errorf("accounts: phases: %w", err)
	}
	out := map[[2]string]int{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range accs {
		phase := channels.Stopped
		if st, ok := s.states[a.ID]; ok {
			phase = st.Phase
		}
		out[[2]string{a.Channel, string(phase)}]++
	}
	return out, nil
}
