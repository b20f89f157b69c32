// Package inbox is the application: ingest of what channels deliver,
// conversations and their assignment, the unlinked queue, the realtime hub,
// users, sessions and permissions, and the HTTP API. It builds on crm for
// storage and on channels for the adapter contract.
package inbox

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/accounts"
	"github.com/switchboard/switchboard/inbox/blobs"
	ing "github.com/switchboard/switchboard/inbox/ingest"
	"github.com/switchboard/switchboard/inbox/outbox"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Options are the app's settings, read once in cmd.
type Options struct {
	Region        string        // default phone region, "RU"
	Currency      string        // default currency, "RUB"
	SessionTTL    time.Duration // how long a login lasts; default 30 days
	SecureCookies bool          // set the Secure flag (behind TLS)
	LoginLimit    int           // failed logins per email and per address per LoginWindow; default 10
	LoginWindow   time.Duration // default 15 minutes
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the login limit and the logs); default none: the
	// client is the connection's remote address.
	TrustedProxies []netip.Prefix
	// Channels are the channels this build speaks (cmd registers them).
	Channels *channels.Registry
	// Blobs stores attachment bytes; default: a directory under the OS temp dir.
	Blobs blobs.Store
	// MaxAttempts is how often the dispatcher tries a reply; default 8.
	MaxAttempts int
	// MaxAttachment is the largest attachment stored, in bytes; default 25 MiB.
	MaxAttachment int64
	// RemindAfter is how old an unlinked touch gets before the manager
	// responsible for it is reminded; default 30 minutes.
	RemindAfter time.Duration
	// OverdueAfter is how long a contact may wait for our reply before the
	// conversation is overdue (highlighted, counted apart); default 30 minutes.
	OverdueAfter time.Duration
	// TimerEvery is how often snoozed conversations are woken and due
	// reminders sent; default 15 seconds.
	TimerEvery time.Duration
}

// App is Switchboard's application core.
type App struct {
	db     *gorm.DB
	log    *slog.Logger
	box    *crm.SecretBox
	rt     *realtime.Publisher
	opts   Options
	login  *limiter
	accts  *accounts.Supervisor
	outbox *outbox.Dispatcher
	wg     sync.WaitGroup
	sink   *ing.Sink
}

// New builds the app over a migrated database.
func New(db *gorm.DB, log *slog.Logger, box *crm.SecretBox, opts Options) *App {
	if opts.Region == "" {
		opts.Region = "RU"
	}
	if opts.Currency == "" {
		opts.Currency = "RUB"
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 30 * 24 * time.Hour
	}
	if opts.LoginLimit == 0 {
		opts.LoginLimit = 10
	}
	if opts.LoginWindow == 0 {
		opts.LoginWindow = 15 * time.Minute
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 8
	}
	if opts.MaxAttachment == 0 {
		opts.MaxAttachment = 25 << 20
	}
	if opts.RemindAfter == 0 {
		opts.RemindAfter = 30 * time.Minute
	}
	if opts.OverdueAfter == 0 {
		opts.OverdueAfter = 30 * time.Minute
	}
	if opts.TimerEvery == 0 {
		opts.TimerEvery = 15 * time.Second
	}
	if opts.Blobs == nil {
		opts.Blobs = blobs.Dir{Dir: filepath.Join(os.TempDir(), "switchboard-blobs")}
	}
	a := &App{db: db, log: log, box: box, rt: realtime.New(db, log, realtime.NewHub()), opts: opts, login: newLimiter(opts.LoginLimit, opts.LoginWindow)}
	a.sink = ing.New(db, log, a.rt, opts.Blobs, ing.Options{Region: opts.Region, Currency: opts.Currency, MaxAttachment: opts.MaxAttachment})
	a.accts = accounts.New(db, log, a.rt, box, opts.Channels, a)
	a.outbox = outbox.New(db, log, a.rt, opts.Blobs, a.accts, outbox.Options{MaxAttempts: opts.MaxAttempts})
	return a
}

// DB is the app's database.
func (a *App) DB() *gorm.DB { return a.db }

// Hub is the app's realtime event hub.
func (a *App) Hub() *realtime.Hub { return a.rt.Hub() }

// Realtime runs the app's transactions that record events.
func (a *App) Realtime() *realtime.Publisher { return a.rt }

// events and change are what the demo generator still calls (it moves to
// its own package next).
type events struct {
	*realtime.Events
	list []crm.Event
}

func (e events) add(typ string, convID, touchID *int64, data any) error {
	return e.Events.Add(typ, convID, touchID, data)
}

func (a *App) change(ctx context.Context, fn func(tx *gorm.DB, ev *events) error) error {
	return a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		e := events{Events: ev}
		err := fn(tx, &e)
		ev.Append(e.list...)
		return err
	})
}

// Box seals and opens account secrets.
func (a *App) Box() *crm.SecretBox { return a.box }

// Ingest stores inbound events (the ingest sink's; see package ingest).
func (a *App) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	return a.sink.Ingest(ctx, batch)
}

// Transition names for the demo generator until it moves to its package.
func clip(s string, n int) string       { return crm.Clip(s, n) }
func firstNonEmpty(ss ...string) string { return crm.FirstNonEmpty(ss...) }

const previewLen = crm.PreviewLen

func outKind(channel string) channels.TouchKind { return channels.Kind(channel).TouchKind() }

// Accounts runs the channel accounts.
func (a *App) Accounts() *accounts.Supervisor { return a.accts }

// Start runs the enabled accounts, the outbox dispatcher, the timers
// (snooze, reminders) and, on PostgreSQL, the relay that brings every
// replica's events to this one's WebSocket clients, until ctx ends. Wait
// returns when all have stopped.
func (a *App) Start(ctx context.Context) error {
	if err := a.rt.Start(ctx, &a.wg); err != nil {
		return err
	}
	if err := a.accts.Start(ctx); err != nil {
		return err
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.outbox.Run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.timerLoop(ctx)
	}()
	return nil
}

// Wait blocks until every account, the dispatcher and the timers have stopped.
func (a *App) Wait() {
	a.wg.Wait()
	a.accts.Wait()
}

// DispatchDue sends every due reply once (see outbox.Dispatcher).
func (a *App) DispatchDue(ctx context.Context) int { return a.outbox.DispatchDue(ctx) }
