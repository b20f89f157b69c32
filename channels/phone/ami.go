package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard/switchboard/channels"
)

// AMI is the adapter of an Asterisk (or FreePBX) account, speaking the
// Asterisk Manager Interface over TCP
// (https://docs.asterisk.org/Configuration/Interfaces/Asterisk-Manager-Interface-AMI/).
//
// Run connects, reads the banner, logs in (action Login), asks for the
// channels alive (CoreShowChannels, so calls in progress are rebuilt after
// a reconnect or a restart and marked Incomplete), reports Live, pings
// every PingEvery, and feeds every event to an Assembler; the calls it
// finishes go to the sink in batches, retried with backoff while the sink
// fails. A dropped connection or a refused login ("Authentication
// failed") is reported Failing with the error and the time of the next
// attempt, then retried with exponential backoff.
//
// It implements channels.Dialer through Originate (see Dial).
type AMI struct {
	account int64
	log     *slog.Logger
	addr    string
	user    string
	secret  string
	context string // OriginateContext
	// s is the account's settings, kept for what needs them later (opening
	// a recording within RecordingBaseURL or RecordingDir).
	s Settings

	// Timing; New sets the defaults, tests shorten them.
	PingEvery time.Duration // keep-alive Ping interval (20 s)
	TickEvery time.Duration // how often finished calls are looked for (500 ms)
	// Gather is how long the calls finished after the first one waiting
	// are let join it before the batch goes to the sink (100 ms; a call
	// is finished 2 s after its last hangup anyway): a burst of calls (the
	// resync after a reconnect, a busy hour) is one Ingest, not one each.
	Gather   time.Duration
	MinRetry time.Duration // first reconnect delay (1 s)
	MaxRetry time.Duration // longest reconnect delay (1 min)

	wake chan struct{}

	mu       sync.Mutex
	asm      *Assembler
	pending  []channels.Inbound // finished calls not yet given to the sink
	client   *amiClient
	lastT    time.Time // PBX time of the latest event
	lastRecv time.Time // about when it was received (see tickLoop)
	moved    bool      // lastT moved since the last tick
	stamped  bool      // an event with a Timestamp was seen
	dials    map[string]*dialing
}

// dialing is a click-to-call waiting for its OriginateResponse.
type dialing struct {
	progress func(channels.DialProgress)
	accepted bool                   // Dial reported Ringing
	final    *channels.DialProgress // arrived before Ringing was reported
}

var (
	_ channels.Adapter = (*AMI)(nil)
	_ channels.Dialer  = (*AMI)(nil)
)

// newAMI builds the Asterisk adapter of an account. It connects nothing:
// Run does.
func newAMI(acc channels.Account, s Settings, log *slog.Logger) (channels.Adapter, error) {
	return NewAMI(acc, s, log)
}

// NewAMI is newAMI returning the concrete type.
func NewAMI(acc channels.Account, s Settings, log *slog.Logger) (*AMI, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if s.Host == "" || s.User == "" {
		return nil, errors.New("phone: an Asterisk account needs host and user")
	}
	if acc.Secret == "" {
		return nil, errors.New("phone: no AMI password: set the account secret to the manager user's secret")
	}
	port := s.Port
	if port == 0 {
		port = 5038
	}
	ctx := s.OriginateContext
	if ctx == "" {
		ctx = "from-internal"
	}
	return &AMI{
		account:   acc.ID,
		log:       log,
		addr:      net.JoinHostPort(s.Host, strconv.Itoa(port)),
		user:      s.User,
		secret:    acc.Secret,
		context:   ctx,
		s:         s,
		PingEvery: 20 * time.Second,
		TickEvery: 500 * time.Millisecond,
		Gather:    100 * time.Millisecond,
		MinRetry:  time.Second,
		MaxRetry:  time.Minute,
		wake:      make(chan struct{}, 1),
		asm: NewAssembler(AssemblerOptions{
			RecordingBaseURL: s.RecordingBaseURL,
			RecordingDir:     s.RecordingDir,
		}),
		dials: map[string]*dialing{},
	}, nil
}

// Run consumes the PBX's events until ctx ends (channels.Adapter). It
// reconnects by itself and returns nil when ctx ends.
func (a *AMI) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	if report == nil {
		report = func(channels.State) {}
	}
	var wg sync.WaitGroup
	dctx, stop := context.WithCancel(ctx)
	wg.Go(func() { a.deliverLoop(dctx, sink) })
	wg.Go(func() { a.tickLoop(dctx) })
	defer func() {
		stop()
		wg.Wait()
	}()
	var wait time.Duration
	for {
		report(channels.State{Phase: channels.Connecting})
		began := time.Now()
		err := a.session(ctx, report)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(began) > 2*a.MaxRetry {
			wait = 0 // it was up for a while: start the backoff over
		}
		wait = min(max(2*wait, a.MinRetry), a.MaxRetry)
		a.log.Warn("phone: AMI connection failed; retrying", "addr", a.addr, "retry_in", wait.String(), "err", err)
		report(channels.State{Phase: channels.Failing, Error: err.Error(), RetryAt: time.Now().Add(wait).UTC()})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// session is one connection, from dial to drop.
func (a *AMI) session(ctx context.Context, report func(channels.State)) error {
	c, err := dialAMI(ctx, a.addr, a.user, a.secret, a.log, a.onEvent)
	if err != nil {
		return err
	}
	defer c.Close()
	a.mu.Lock()
	a.client = c
	a.asm.Gap() // what happened while we were away (or before we started) is unknown
	a.mu.Unlock()
	defer a.disconnected(c)

	// https://docs.asterisk.org/Latest_API/API_Documentation/AMI_Actions/CoreShowChannels/:
	// one CoreShowChannel event per channel, then CoreShowChannelsComplete;
	// the events go through onEvent like any other.
	if _, err := c.action(ctx, "CoreShowChannels"); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a.log.Info("phone: AMI connected", "addr", a.addr, "banner", c.banner)
	report(channels.State{Phase: channels.Live})
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.keepAlive(kctx, a.PingEvery)
	select {
	case <-ctx.Done():
		return nil
	case <-c.done:
		return c.Err()
	}
}

// disconnected forgets the client; click-to-calls still waiting for their
// OriginateResponse never get it (it goes to the connection that sent the
// Originate) and fail.
func (a *AMI) disconnected(c *amiClient) {
	a.mu.Lock()
	if a.client == c {
		a.client = nil
	}
	// The gap starts now, at the last event seen: the events of the next
	// connection's login must not move it.
	a.asm.Gap()
	var lost []func()
	for id, d := range a.dials {
		if d.accepted {
			delete(a.dials, id)
			p := d.progress
			lost = append(lost, func() {
				p(channels.DialProgress{ID: id, State: channels.DialFailed, Error: "the connection to the PBX was lost"})
			})
		}
	}
	a.mu.Unlock()
	for _, f := range lost {
		f()
	}
}

// onEvent runs on the reader goroutine for every event.
func (a *AMI) onEvent(m *Message, recv time.Time) {
	a.mu.Lock()
	// The PBX clock (Timestamp) and ours may differ. An event without a
	// Timestamp (a response's list, or timestampevents off) gets the PBX
	// time estimated from the last stamped one, never our own clock: a
	// PBX whose clock is behind ours would otherwise see its calls jump
	// ahead (a call ended while we were away would last until now).
	v, _ := m.stamp()
	t, stamped := parseTimestamp(v)
	switch {
	case stamped && !a.stamped:
		// The first stamped event: the PBX clock is known now. What the
		// events before it were timed with (our clock) must not hold the
		// estimate ahead of it.
		a.stamped, a.lastT = true, t
		a.asm.SetClock(t)
	case stamped:
	case !a.stamped:
		t = recv
	case a.moved || a.lastRecv.IsZero():
		t = a.lastT // a stamped event came within the last tick
	default:
		t = a.lastT.Add(recv.Sub(a.lastRecv)) // as tickLoop estimates
	}
	if t.After(a.lastT) {
		a.lastT, a.moved = t, true
	}
	n := len(a.pending)
	a.pending = a.asm.Event(m, t, a.pending)
	grew := len(a.pending) > n
	var report func()
	if m.eventCode() == evOriginateResponse {
		report = a.originateResponse(m)
	}
	a.mu.Unlock()
	if report != nil {
		report()
	}
	if grew {
		a.poke()
	}
}

func (a *AMI) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// tickLoop lets calls finish when no event comes after their last hangup:
// the PBX clock is estimated as the last event's time plus the time since.
func (a *AMI) tickLoop(ctx context.Context) {
	t := time.NewTicker(a.TickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		now := time.Now()
		if a.moved {
			// The last event came during the last tick: within TickEvery
			// of now, close enough for a grace of seconds.
			a.lastRecv, a.moved = now, false
		}
		if !a.lastRecv.IsZero() {
			now = a.lastT.Add(now.Sub(a.lastRecv))
		}
		n := len(a.pending)
		a.pending = a.asm.Tick(now, a.pending)
		grew := len(a.pending) > n
		a.mu.Unlock()
		if grew {
			a.poke()
		}
	}
}

// deliverLoop hands finished calls to the sink, all that are waiting in
// one batch (after Gather, so that calls finishing together go together),
// retrying with backoff while the sink fails. When ctx ends it
// makes one last attempt with a short deadline.
func (a *AMI) deliverLoop(ctx context.Context, sink channels.Sink) {
	for {
		select {
		case <-ctx.Done():
			a.deliverLast(ctx, sink)
			return
		case <-a.wake:
		}
		if a.Gather > 0 {
			t := time.NewTimer(a.Gather)
			select {
			case <-ctx.Done():
				t.Stop()
				a.deliverLast(ctx, sink)
				return
			case <-t.C:
			}
		}
		for batch := a.take(); len(batch) > 0; batch = a.take() {
			if !a.ingest(ctx, sink, batch) {
				a.mu.Lock()
				a.pending = append(batch, a.pending...)
				a.mu.Unlock()
				a.poke()
				break
			}
		}
	}
}

// deliverLast makes one last attempt, with a short deadline, to hand the
// calls waiting to the sink once ctx ended.
func (a *AMI) deliverLast(ctx context.Context, sink channels.Sink) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if batch := a.take(); len(batch) > 0 {
		if _, err := sink.Ingest(fctx, batch); err != nil {
			a.log.Error("phone: calls not stored at shutdown", "calls", len(batch), "err", err)
		}
	}
}

func (a *AMI) take() []channels.Inbound {
	a.mu.Lock()
	defer a.mu.Unlock()
	batch := a.pending
	a.pending = nil
	for i := range batch {
		batch[i].AccountID = a.account
	}
	return batch
}

// ingest gives batch to the sink until it takes it; false when ctx ended
// first.
func (a *AMI) ingest(ctx context.Context, sink channels.Sink, batch []channels.Inbound) bool {
	var wait time.Duration
	for {
		res, err := sink.Ingest(ctx, batch)
		if err == nil {
			for i, r := range res {
				if r.Err != nil && i < len(batch) {
					a.log.Warn("phone: call refused by ingest", "external_id", batch[i].ExternalID, "err", r.Err)
				}
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait = min(max(2*wait, a.MinRetry), a.MaxRetry)
		a.log.Warn("phone: storing calls failed; retrying", "calls", len(batch), "retry_in", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// Send refuses: a call is not a text reply (channels.Adapter).
func (a *AMI) Send(ctx context.Context, out channels.Outbound) (string, error) {
	return "", channels.Permanent(errors.New("phone: a call cannot carry a text reply; use click-to-call"))
}

// Live reports what the assembler holds (calls in progress).
func (a *AMI) Live() (calls, chans int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	calls, chans, _ = a.asm.Live()
	return calls, chans
}

// errNotConnected is Dial's error while the PBX is not connected.
var errNotConnected = fmt.Errorf("phone: the PBX is not connected")

// Test logs in to the Asterisk Manager Interface and leaves (Tester).
func (a *AMI) Test(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := dialAMI(ctx, a.addr, a.user, a.secret, a.log, nil)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return fmt.Sprintf("Asterisk %s: logged in as %s (%s)", a.addr, a.user, c.banner), nil
}
