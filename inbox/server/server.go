// Package server wires Switchboard together over one database: the
// realtime publisher and hub, the ingest sink, the account supervisor, the
// outbox dispatcher, the application's verbs and the HTTP handler. It
// holds no logic of its own: it builds the services in dependency order,
// starts them, and stops them in reverse. cmd/switchboard's serve runs it;
// the scenario tests start the same graph on a fresh database.
package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/accounts"
	"github.com/switchboard/switchboard/inbox/api"
	"github.com/switchboard/switchboard/inbox/blobs"
	ingestion "github.com/switchboard/switchboard/inbox/ingest"
	"github.com/switchboard/switchboard/inbox/metrics"
	"github.com/switchboard/switchboard/inbox/outbox"
	"github.com/switchboard/switchboard/inbox/realtime"
	"github.com/switchboard/switchboard/inbox/recordings"
)

// Options are every service's settings, read once in cmd.
type Options struct {
	Region   string // default phone region, "RU"
	Currency string // default currency, "RUB"
	// TimeZone is the company's, where the report's days begin; default Europe/Moscow.
	TimeZone *time.Location
	// Channels are the channels this build speaks (cmd registers them).
	Channels *channels.Registry
	// Blobs stores attachment bytes; default: a directory under the OS temp dir.
	Blobs blobs.Store

	SessionTTL     time.Duration  // how long a login lasts; default 30 days
	LoginLimit     int            // failed logins per email and per address per LoginWindow; default 10
	LoginWindow    time.Duration  // default 15 minutes
	SecureCookies  bool           // set the Secure flag on the session cookie (behind TLS)
	TrustedProxies []netip.Prefix // reverse proxies whose X-Forwarded-For names the client

	MaxAttempts   int   // how often the dispatcher tries a reply; default 8
	MaxAttachment int64 // the largest attachment stored, in bytes; default 25 MiB

	RemindAfter  time.Duration // unlinked touches remind after this; default 30 minutes
	OverdueAfter time.Duration // a wait longer than this is overdue; default 30 minutes
	TimerEvery   time.Duration // how often the timers run; default 15 seconds

	// MetricsToken turns GET /metrics on: Prometheus scrapes it with
	// "Authorization: Bearer <token>". Empty (the default): off, 404.
	MetricsToken string
}

// Server is the wired application.
type Server struct {
	DB       *gorm.DB
	Log      *slog.Logger
	Realtime *realtime.Publisher
	Sink     *ingestion.Sink
	Accounts *accounts.Supervisor
	Outbox   *outbox.Dispatcher
	// Recordings fetches call recordings into the blob store.
	Recordings *recordings.Fetcher
	App        *inbox.App
	// Metrics is this application's registry and counters.
	Metrics *metrics.Metrics

	opts        Options
	wg          sync.WaitGroup
	stopSending context.CancelFunc // StopSending's: the dispatcher's own stop
	sendingDone chan struct{}      // closed when the dispatcher has stopped
}

// New builds the services over a migrated database.
func New(db *gorm.DB, log *slog.Logger, box *crm.SecretBox, opts Options) *Server {
	if opts.Blobs == nil {
		opts.Blobs = inbox.DefaultBlobs()
	}
	s := &Server{DB: db, Log: log, opts: opts}
	hub := realtime.NewHub()
	s.Metrics = metrics.New(db, hub)
	s.Realtime = realtime.New(db, log, hub)
	s.Sink = ingestion.New(db, log, s.Realtime, opts.Blobs, ingestion.Options{Region: opts.Region, Currency: opts.Currency, MaxAttachment: opts.MaxAttachment, Meter: s.Metrics})
	s.Accounts = accounts.New(db, log, s.Realtime, box, opts.Channels, s.Sink)
	s.Metrics.WatchAccounts(s.Accounts)
	s.Outbox = outbox.New(db, log, s.Realtime, opts.Blobs, s.Accounts, outbox.Options{MaxAttempts: opts.MaxAttempts, Meter: s.Metrics})
	s.Recordings = recordings.New(db, log, s.Realtime, opts.Blobs, s.Accounts, recordings.Options{})
	s.App = inbox.New(db, log, s.Realtime, box, s.Accounts, s.Outbox, inbox.Options{
		Region: opts.Region, Currency: opts.Currency, TimeZone: opts.TimeZone, SessionTTL: opts.SessionTTL, LoginLimit: opts.LoginLimit, LoginWindow: opts.LoginWindow,
		Channels: opts.Channels, Blobs: opts.Blobs, RemindAfter: opts.RemindAfter, OverdueAfter: opts.OverdueAfter, TimerEvery: opts.TimerEvery,
	})
	return s
}

// Handler is the HTTP API, the channels' hooks and the UI (ui may be nil),
// with GET /metrics beside them: outside the API's routes, it is guarded
// by its own token, not by a session (404 when metrics are off).
func (s *Server) Handler(ui fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.Metrics.Handler(s.opts.MetricsToken))
	mux.Handle("/", api.New(s.App, s.Accounts, s.Realtime, s.Log, api.Options{SecureCookies: s.opts.SecureCookies, TrustedProxies: s.opts.TrustedProxies, Meter: s.Metrics}, ui))
	return mux
}

// Start runs, until ctx ends: on PostgreSQL the relay that brings every
// replica's events to this one's screens, the enabled accounts, the outbox
// dispatcher, the recordings fetcher and the timers (snooze, reminders). Wait returns when all
// have stopped.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Realtime.Start(ctx, &s.wg); err != nil {
		return err
	}
	if err := s.Accounts.Start(ctx); err != nil {
		return err
	}
	octx, stopSending := context.WithCancel(ctx)
	s.stopSending, s.sendingDone = stopSending, make(chan struct{})
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		defer close(s.sendingDone)
		s.Outbox.Run(octx)
	}()
	go func() {
		defer s.wg.Done()
		s.Recordings.Run(ctx)
	}()
	go func() {
		defer s.wg.Done()
		s.App.Timers(ctx)
	}()
	return nil
}

// StopSending is the first step of a graceful stop, before the accounts
// stop: the dispatcher claims no more replies and the sends under way
// finish (their channel accounts still run), or ctx ends. Nothing is
// cut off half sent to be sent again by another replica.
func (s *Server) StopSending(ctx context.Context) {
	if s.stopSending == nil {
		return
	}
	s.stopSending()
	select {
	case <-s.sendingDone:
	case <-ctx.Done():
		s.Log.Warn("stopping: sends still under way were left to their leases")
	}
}

// Wait blocks until everything Start started has stopped.
func (s *Server) Wait() {
	s.wg.Wait()
	s.Accounts.Wait()
}
