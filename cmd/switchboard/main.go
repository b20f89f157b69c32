// Command switchboard is the omnichannel inbox server and its admin tools:
// serve, migrate, user add, user passwd, audit verify, blobs migrate,
// backup, restore, demo, version. It reads the
// configuration, wires the parts and holds no logic of its own.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/realtime"
	"github.com/switchboard/switchboard/inbox/server"
	"github.com/switchboard/switchboard/migrations"
	"github.com/switchboard/switchboard/ui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Switchboard: one inbox for calls, email, Telegram, WhatsApp and web forms.

Usage:
  switchboard serve          start the server (migrates the database first)
  switchboard migrate        apply database migrations and exit
  switchboard user add       add a user (owner, lead or manager)
  switchboard user passwd    set a user's password
  switchboard audit verify   check the audit trail's hash chain
  switchboard blobs migrate  copy attachments and recordings to another backend
  switchboard backup         write a backup archive, while serving
  switchboard restore        restore a backup archive into an empty data dir or database
  switchboard demo           fill an empty database with 90 days of demo data
  switchboard healthcheck    exit 0 when the server on SWITCHBOARD_ADDR is ready (containers)
  switchboard version        print the version

Run "switchboard <command> --help" for a command's flags.
Configuration comes from flags and the environment (DATABASE_URL,
SWITCHBOARD_ADDR, SWITCHBOARD_DATA, …); see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "user" || cmd == "audit" || cmd == "blobs") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest)
	case "migrate":
		return migrate(ctx, rest)
	case "user add":
		return userAdd(ctx, rest)
	case "user passwd":
		return userPasswd(ctx, rest)
	case "audit verify":
		return auditVerify(ctx, rest)
	case "blobs migrate":
		return blobsMigrate(ctx, rest)
	case "backup":
		return backupCmd(ctx, rest)
	case "restore":
		return restoreCmd(ctx, rest)
	case "demo":
		return demoCmd(ctx, rest)
	case "healthcheck":
		return healthcheck(ctx, rest)
	case "version", "--version", "-version":
		fmt.Println("switchboard", buildVersion())
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", strings.Join(args, " "))
}

func buildVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func flags(name, summary string, cfg *Config, serve bool) *flag.FlagSet {
	fs := flag.NewFlagSet("switchboard "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: switchboard %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	cfg.bind(fs, serve)
	return fs
}

// open opens and migrates the database named by cfg.
func open(ctx context.Context, cfg *Config, log *slog.Logger) (*gorm.DB, error) {
	db, err := crm.Open(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := crm.Migrate(ctx, db, log); err != nil {
		closeDB(db)
		if errors.Is(err, migrations.ErrTooNew) {
			return nil, fmt.Errorf("%w\n(this is Switchboard %s; a newer version migrated this database, so this binary refuses to run on it)", err, buildVersion())
		}
		return nil, err
	}
	return db, nil
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		s.Close()
	}
}

// secretBox reads SWITCHBOARD_SECRET_KEY or, when unset, the key file in
// the data directory, generating it on first use.
func secretBox(cfg *Config, log *slog.Logger) (*crm.SecretBox, error) {
	raw := cfg.SecretKey
	if raw == "" {
		path := filepath.Join(cfg.DataDir, "secret.key")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			raw = strings.TrimSpace(string(b))
		case errors.Is(err, os.ErrNotExist):
			key := make([]byte, 32)
			rand.Read(key)
			raw = hex.EncodeToString(key)
			if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(raw+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write %s: %w", path, err)
			}
			log.Warn("generated the key that seals account secrets; back it up, and set SWITCHBOARD_SECRET_KEY in production (every replica needs the same key)", "file", path)
		default:
			return nil, err
		}
	}
	key, err := crm.ParseKey(raw)
	if err != nil {
		return nil, err
	}
	return crm.NewSecretBox(key)
}

// withDB opens and migrates the database, opens the secret box, runs fn
// and closes the database: the shape of every admin command.
func withDB(ctx context.Context, cfg *Config, fn func(db *gorm.DB, box *crm.SecretBox) error) error {
	log := cfg.logger()
	db, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	box, err := secretBox(cfg, log)
	if err != nil {
		return err
	}
	return fn(db, box)
}

// withApp is withDB with the application's verbs, for the user commands
// (no account runs and no reply is sent).
func withApp(ctx context.Context, cfg *Config, fn func(app *inbox.App) error) error {
	return withDB(ctx, cfg, func(db *gorm.DB, box *crm.SecretBox) error {
		log := cfg.logger()
		return fn(inbox.New(db, log, realtime.New(db, log, realtime.NewHub()), box, nil, nil, inbox.Options{Region: cfg.Region, Currency: cfg.Currency}))
	})
}

// newServer wires the whole application (package server).
func newServer(cfg *Config, db *gorm.DB, log *slog.Logger) (*server.Server, error) {
	box, err := secretBox(cfg, log)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	store, err := cfg.blobStore(context.Background(), cfg.Blobs, db)
	if err != nil {
		return nil, err
	}
	return server.New(db, log, box, server.Options{
		Region: cfg.Region, Currency: cfg.Currency, TimeZone: cfg.location, Channels: registry(sqlDB, crm.Dialect(db)), Blobs: store,
		SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.trustedProxies,
		RemindAfter: cfg.remindAfter, OverdueAfter: cfg.overdueAfter, MetricsToken: cfg.MetricsToken,
	}), nil
}

func serve(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("serve", "Starts the HTTP server with the API, the channel hooks and the UI.\nThe database is migrated first; an empty database gets an owner account.", &cfg, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	log := cfg.logger()
	db, err := open(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	srv, err := newServer(&cfg, db, log)
	if err != nil {
		return err
	}
	app := srv.App
	created, pw, err := app.EnsureOwner(ctx, cfg.OwnerEmail, cfg.OwnerPassword)
	if err != nil {
		return err
	}
	if created {
		if cfg.OwnerPassword == "" {
			log.Warn("created the owner account; log in at the UI with this one-time password and change it (switchboard user passwd)", "email", cfg.OwnerEmail, "password", pw)
		} else {
			log.Info("created the owner account with SWITCHBOARD_OWNER_PASSWORD", "email", cfg.OwnerEmail)
		}
	}
	appCtx, stopApp := context.WithCancel(context.Background())
	defer stopApp()
	if err := srv.Start(appCtx); err != nil {
		return err
	}
	hs := &http.Server{
		Addr:              cfg.Addr,
		Handler:           srv.Handler(ui.FS()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	where := cfg.Addr
	if strings.HasPrefix(where, ":") {
		where = "localhost" + where
	}
	log.Info("switchboard is up", "version", buildVersion(), "ui", "http://"+where, "database", crm.Dialect(db), "metrics", cfg.MetricsToken != "")
	select {
	case err := <-errc:
		stopApp()
		srv.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = hs.Shutdown(shutCtx) // no more requests; those under way finish
	srv.StopSending(shutCtx)   // the replies being sent go out; no new ones start
	stopApp()                  // then the channel accounts stop, their locks released at once
	srv.Wait()
	if err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func migrate(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("migrate", "Applies the database migrations this binary carries and exits.", &cfg, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := cfg.logger()
	db, err := open(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	sqlDB, _ := db.DB()
	v, err := migrations.Current(ctx, sqlDB)
	if err != nil {
		return err
	}
	fmt.Printf("database (%s) is at schema version %d\n", crm.Dialect(db), v)
	return nil
}

func userAdd(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("user add", "Adds a user. Without --password a password is generated and printed once.", &cfg, false)
	email := fs.String("email", "", "email (login), required")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "manager", "owner, lead or manager")
	password := fs.String("password", "", "password (at least 8 characters); default: generated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user add: --email is required")
	}
	return withApp(ctx, &cfg, func(app *inbox.App) error {
		pw := *password
		if pw == "" {
			pw = inbox.RandomPassword()
		}
		u, err := app.CreateUser(ctx, nil, *email, *name, crm.Role(*role), pw)
		if err != nil {
			return fmt.Errorf("user add: %w", err)
		}
		fmt.Printf("added %s (%s), id %d\n", u.Email, u.Role, u.ID)
		if *password == "" {
			fmt.Printf("password: %s\n", pw)
		}
		return nil
	})
}

func userPasswd(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("user passwd", "Sets a user's password and ends their sessions. Without --password one is generated and printed.", &cfg, false)
	email := fs.String("email", "", "the user's email, required")
	password := fs.String("password", "", "new password; default: generated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user passwd: --email is required")
	}
	return withApp(ctx, &cfg, func(app *inbox.App) error {
		pw := *password
		if pw == "" {
			pw = inbox.RandomPassword()
		}
		if err := app.SetPassword(ctx, nil, *email, pw); err != nil {
			return fmt.Errorf("user passwd: %w", err)
		}
		fmt.Printf("password of %s changed\n", *email)
		if *password == "" {
			fmt.Printf("password: %s\n", pw)
		}
		return nil
	})
}

func auditVerify(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("audit verify", "Walks the audit trail and checks each row's hash and its link to the row before.\nExits non-zero and names the first broken row when the chain does not hold.", &cfg, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := cfg.logger()
	db, err := open(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	n, err := crm.VerifyAudit(db.WithContext(ctx))
	var broken *crm.AuditBroken
	if errors.As(err, &broken) {
		return fmt.Errorf("audit trail BROKEN at row %d: %s (%d rows checked before it)", broken.ID, broken.Reason, n-1)
	}
	if err != nil {
		return err
	}
	fmt.Printf("audit trail OK: %d rows, chain intact\n", n)
	return nil
}
