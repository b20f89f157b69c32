// Package outbox sends the replies that the application queued: one sender
// per account with due jobs, retries with backoff, and the delivery status
// of each reply reported to the screens. A channel that is down delays its
// replies and loses none; a hung server holds up only its own account.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Adapters gives the adapter that sends an account's replies (the
// account supervisor's running one, or a fresh one).
type Adapters interface {
	Adapter(ctx context.Context, account int64) (channels.Adapter, error)
}

// SendReporter is told how each send went (the account supervisor: an
// account whose sends fail shows it).
type SendReporter interface {
	SendResult(account int64, err error)
}

// Options tune the dispatcher.
type Options struct {
	// MaxAttempts is how often a reply is tried; default 8.
	MaxAttempts int
	// Meter is told of each send attempt (package metrics); nil: nobody.
	Meter Meter
}

// Meter counts send attempts and failures by channel: the metrics.
type Meter interface {
	SendAttempt(channel string, err error, final bool)
}

// sendLease is how long a claimed job is ours; a job still "sending" after
// it (its sender crashed) is claimed again and resent with the same
// Message-ID.
const sendLease = 2 * time.Minute

// Dispatcher sends due replies.
type Dispatcher struct {
	db       *gorm.DB
	log      *slog.Logger
	rt       *realtime.Publisher
	blobs    blobs.Store
	adapters Adapters
	opts     Options
	wake     chan struct{}

	// One sender per account with due jobs, so a slow or hung server (an
	// SMTP host that takes its timeout) delays only its own account's
	// replies, and each account's replies go out in order.
	mu   sync.Mutex
	busy map[int64]bool
	wg   sync.WaitGroup
	sent atomic.Int64 // jobs handled, for DispatchDue
	// chans is each account's channel for the meter (it never changes).
	chans sync.Map
}

// New returns a dispatcher of the jobs in db.
func New(db *gorm.DB, log *slog.Logger, rt *realtime.Publisher, store blobs.Store, adapters Adapters, opts Options) *Dispatcher {
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 8
	}
	return &Dispatcher{db: db, log: log, rt: rt, blobs: store, adapters: adapters, opts: opts, wake: make(chan struct{}, 1), busy: map[int64]bool{}}
}

// Wake makes the dispatcher look for due jobs now (a reply was queued).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends due replies until ctx ends: at once when woken, and every
// second for retries and jobs whose sender died mid-send.
func (d *Dispatcher) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		d.kick(ctx)
		select {
		case <-ctx.Done():
			d.wg.Wait()
			return
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// DispatchDue sends every due job once, each account's in its own sender,
// waits for them, and returns how many it handled.
func (d *Dispatcher) DispatchDue(ctx context.Context) int {
	before := d.sent.Load()
	for ctx.Err() == nil && d.kick(ctx) > 0 {
		d.wg.Wait()
	}
	d.wg.Wait()
	return int(d.sent.Load() - before)
}

// kick starts a sender for every account with due jobs that has none
// running, and returns how many it started.
func (d *Dispatcher) kick(ctx context.Context) int {
	accs, err := crm.DueOutboxAccounts(d.db.WithContext(ctx), time.Now().UTC())
	if err != nil {
		d.log.Error("outbox: list due jobs", "err", err)
		return 0
	}
	started := 0
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, acc := range accs {
		if d.busy[acc] {
			continue
		}
		d.busy[acc] = true
		d.wg.Add(1)
		started++
		go d.drain(ctx, acc)
	}
	return started
}

// drain sends the account's due jobs, oldest first, until none is left.
func (d *Dispatcher) drain(ctx context.Context, acc int64) {
	defer func() {
		d.mu.Lock()
		delete(d.busy, acc)
		d.mu.Unlock()
		d.wg.Done()
	}()
	for ctx.Err() == nil {
		now := time.Now().UTC()
		jobs, err := crm.DueOutboxJobs(d.db.WithContext(ctx), acc, now, 20)
		if err != nil {
			d.log.Error("outbox: list due jobs", "account", acc, "err", err)
			return
		}
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			if ctx.Err() != nil {
				return // stopping: claim nothing more
			}
			ok, err := crm.ClaimOutboxJob(d.db.WithContext(ctx), j.ID, now, sendLease)
			if err != nil {
				d.log.Error("outbox: claim", "job", j.ID, "account", acc, "err", err)
				return
			}
			if ok {
				j.Claims++
				if j.Interrupted() >= crm.MaxInterrupted {
					d.giveUp(ctx, j)
				} else {
					d.send(ctx, j)
				}
				d.sent.Add(1)
			}
		}
	}
}

// send delivers one claimed job and records the outcome. A send under way
// when the dispatcher is told to stop (ctx) is finished and recorded, not
// cut off: cut off, it could have reached the client and be sent again.
func (d *Dispatcher) send(ctx context.Context, j crm.OutboxJob) {
	ctx = context.WithoutCancel(ctx)
	log := d.log.With("job", j.ID, "touch_id", j.TouchID, "account", j.AccountID)
	var ob channels.Outbound
	err := json.Unmarshal(j.Payload, &ob)
	if err == nil {
		ob.TouchID = j.TouchID
		err = d.loadFiles(ctx, j.TouchID, &ob)
	}
	var nativeID string
	if err == nil {
		var ad channels.Adapter
		if ad, err = d.adapters.Adapter(ctx, j.AccountID); err == nil {
			sctx, cancel := context.WithTimeout(ctx, sendLease-10*time.Second)
			nativeID, err = ad.Send(sctx, ob)
			cancel()
		}
	}
	now := time.Now().UTC()
	if r, ok := d.adapters.(SendReporter); ok {
		r.SendResult(j.AccountID, err)
	}
	o := d.outcome(j, &ob, err, now, log.With("native_id", nativeID))
	o.NativeID = nativeID
	if d.opts.Meter != nil {
		d.opts.Meter.SendAttempt(d.channelOf(ctx, j.AccountID), err, o.Status == crm.Failed)
	}
	d.record(ctx, j, o, now, log)
}

// channelOf is the account's channel, read once ("unknown" when it
// cannot be read).
func (d *Dispatcher) channelOf(ctx context.Context, account int64) string {
	if c, ok := d.chans.Load(account); ok {
		return c.(string)
	}
	acc, err := crm.GetAccount(d.db.WithContext(context.WithoutCancel(ctx)), account)
	if err != nil {
		return "unknown"
	}
	d.chans.Store(account, acc.Channel)
	return acc.Channel
}

// record stores an attempt's outcome. Once the channel has accepted a
// send, the record is what is retried, never the send: a record that
// still fails leaves the job "sending", and its re-claims are capped
// (giveUp).
func (d *Dispatcher) record(ctx context.Context, j crm.OutboxJob, o crm.SendOutcome, now time.Time, log *slog.Logger) {
	var cerr error
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(time.Duration(100<<try) * time.Millisecond)
		}
		cerr = d.rt.Change(context.WithoutCancel(ctx), func(tx *gorm.DB, ev *realtime.Events) error {
			t, err := crm.RecordSend(tx, j, o, now)
			if err != nil {
				return err
			}
			data := map[string]any{"delivery_status": o.Status, "attempts": o.Attempts}
			if o.LastError != "" {
				data["error"], data["failure"] = o.LastError, crm.FailureKind(o.LastError)
			}
			return ev.Add(crm.EventTouchStatus, &t.ConversationID, &t.ID, data)
		})
		if cerr == nil {
			return
		}
		log.Warn("outbox: record outcome, will retry", "try", try+1, "err", cerr)
	}
	log.Error("outbox: record outcome failed; the job waits for its lease", "status", o.Status, "err", cerr)
}

// giveUp fails a job whose sends were interrupted too often before their
// result was recorded: it may have gone out already, and sending it again
// and again would flood the client.
func (d *Dispatcher) giveUp(ctx context.Context, j crm.OutboxJob) {
	log := d.log.With("job", j.ID, "touch_id", j.TouchID, "account", j.AccountID)
	log.Error("outbox: sends interrupted too often; not sent again", "claims", j.Claims, "attempts", j.Attempts)
	o := crm.SendOutcome{Status: crm.Failed, Attempts: j.Attempts,
		LastError: fmt.Sprintf("interrupted %d times before its result was recorded; it may have been delivered, so it is not sent again", j.Interrupted())}
	d.record(ctx, j, o, time.Now().UTC(), log)
}

// outcome decides what an attempt that ended with err means: sent, to be
// retried (when, with what left to send) or failed for good.
func (d *Dispatcher) outcome(j crm.OutboxJob, ob *channels.Outbound, err error, now time.Time, log *slog.Logger) crm.SendOutcome {
	o := crm.SendOutcome{Status: crm.Sent, Attempts: j.Attempts + 1}
	if err == nil {
		log.Info("outbox: sent", "attempt", o.Attempts)
		return o
	}
	var part *channels.PartialSend
	if errors.As(err, &part) && part.Delivered > ob.Delivered {
		// Keep what was delivered, so the retry sends only the rest.
		ob.Delivered = part.Delivered
		ob.Attachments = nil // kept in the blob store, loaded per attempt
		if payload, perr := json.Marshal(ob); perr == nil {
			o.Payload = payload
		}
	}
	wait := backoffFor(o.Attempts)
	if ra, ok := errors.AsType[*channels.RetryAfter](err); ok && ra.After > wait {
		wait = ra.After
	}
	o.LastError = crm.Clip(err.Error(), 1000)
	if errors.Is(err, channels.ErrPermanent) || o.Attempts >= d.opts.MaxAttempts {
		o.Status = crm.Failed
		log.Warn("outbox: failed for good", "attempt", o.Attempts, "err", err)
		return o
	}
	o.Status, o.NextAttemptAt = crm.Queued, now.Add(wait)
	log.Info("outbox: send failed, will retry", "attempt", o.Attempts, "retry_in", wait.String(), "err", err)
	return o
}

// backoffFor is the wait before attempt n+1: 2 s doubling to 10 min.
func backoffFor(attempts int) time.Duration {
	d := 2 * time.Second << min(attempts-1, 9)
	return min(d, 10*time.Minute)
}

// loadFiles reads the reply's files from the blob store for this attempt.
func (d *Dispatcher) loadFiles(ctx context.Context, touchID int64, ob *channels.Outbound) error {
	files, err := crm.TouchAttachments(d.db.WithContext(ctx), touchID)
	if err != nil {
		return err
	}
	ob.Attachments = nil
	for _, f := range files {
		rc, err := d.blobs.Open(ctx, f.SHA256)
		if err != nil {
			return channels.Permanent(fmt.Errorf("attachment %s: %w", f.Name, err))
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		ob.Attachments = append(ob.Attachments, channels.Attachment{Name: f.Name, ContentType: f.ContentType, Data: data})
	}
	return nil
}
