// Package inbox is the application's verbs: what a manager, a lead and the
// owner do (reply, assign, snooze, link a touch to a deal, merge contacts,
// set up accounts and sources …), the timers (snooze, reminders), users
// and sessions. Each verb is one transaction over crm; who may see what is
// crm's visibility rule. The jobs around it have packages of their own
// below: ingest, outbox, accounts, realtime, api, server (the wiring),
// demo.
package inbox

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/report"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Options are the app's settings, read once in cmd.
type Options struct {
	Region   string // default phone region, "RU"
	Currency string // default currency, "RUB"
	// TimeZone is the company's: the report counts days there; default
	// Europe/Moscow.
	TimeZone    *time.Location
	SessionTTL  time.Duration // how long a login lasts; default 30 days
	LoginLimit  int           // failed logins per email and per address per LoginWindow; default 10
	LoginWindow time.Duration // default 15 minutes
	// Channels are the channels this build speaks (cmd registers them);
	// a reply reads its channel's threading there.
	Channels *channels.Registry
	// Blobs stores attachment bytes; default: a directory under the OS temp dir.
	Blobs blobs.Store
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

// Accounts is what the verbs need of the account supervisor: restart an
// account whose settings changed, and tell every account's state.
type Accounts interface {
	Reload(id int64)
	States(ctx context.Context, ids []int64) (map[int64]channels.State, error)
	// Dialer is the account's adapter as a click-to-call dialer (not
	// found when it cannot dial, or runs on another replica).
	Dialer(ctx context.Context, id int64) (channels.Dialer, error)
	// Unlink logs out the device the account is linked as (WhatsApp).
	Unlink(ctx context.Context, id int64) error
}

// Outbox is what the verbs need of the dispatcher: a reply was queued.
type Outbox interface {
	Wake()
}

// App is the application's verbs over the database: each runs in one
// transaction, checks what the user may do (crm's visibility rule),
// audits what DESIGN says is audited, and records the events the screens
// get after commit.
type App struct {
	db     *gorm.DB
	log    *slog.Logger
	box    *crm.SecretBox
	rt     *realtime.Publisher
	opts   Options
	login  *limiter
	accts  Accounts
	outbox Outbox
}

// New builds the verbs over a migrated database. accts and out may be nil
// (the demo generator and the admin commands run no accounts).
func New(db *gorm.DB, log *slog.Logger, rt *realtime.Publisher, box *crm.SecretBox, accts Accounts, out Outbox, opts Options) *App {
	if opts.Region == "" {
		opts.Region = "RU"
	}
	if opts.Currency == "" {
		opts.Currency = "RUB"
	}
	if opts.TimeZone == nil {
		opts.TimeZone = report.DefaultLocation()
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
		opts.Blobs = DefaultBlobs()
	}
	return &App{db: db, log: log, box: box, rt: rt, opts: opts, login: newLimiter(opts.LoginLimit, opts.LoginWindow), accts: accts, outbox: out}
}

// DefaultBlobs is the blob store when none is configured: a directory
// under the OS temp dir (cmd configures one under the data directory).
func DefaultBlobs() blobs.Store {
	return blobs.Dir{Dir: filepath.Join(os.TempDir(), "switchboard-blobs")}
}

// Ping checks that the database answers.
func (a *App) Ping(ctx context.Context) error { return crm.Ping(ctx, a.db) }

// Database names the database in use: "sqlite" or "postgres".
func (a *App) Database() string { return crm.Dialect(a.db) }

// Settings are what the screens need to know of the configuration.
type Settings struct {
	Currency string `json:"currency"`
	Region   string `json:"region"`
	// OverdueAfterS is how many seconds a contact may wait for our reply
	// before the conversation is overdue (highlighted).
	OverdueAfterS int64 `json:"overdue_after_s"`
	// RemindAfterS is how old a client's touch without a deal gets before
	// its manager is reminded.
	RemindAfterS int64 `json:"remind_after_s"`
}

// Settings returns the screens' settings.
func (a *App) Settings() Settings {
	return Settings{Currency: a.opts.Currency, Region: a.opts.Region, OverdueAfterS: int64(a.opts.OverdueAfter / time.Second),
		RemindAfterS: int64(a.opts.RemindAfter / time.Second)}
}
