package crm

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlitedriver "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/switchboard/switchboard/migrations"
)

// SQLite's built-in LOWER folds ASCII only, so "Заказ" never matched a
// search for "заказ" there while it did on PostgreSQL. Replace it, for
// every SQLite connection this process opens, with Go's Unicode folding,
// the same that builds contacts.search.
func init() {
	sqlitedriver.MustRegisterDeterministicScalarFunction("lower", 1, func(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		default:
			return fmt.Sprint(v), nil
		}
	})
}

// Dialect names the database in use: migrations.SQLite or migrations.Postgres.
func Dialect(db *gorm.DB) string {
	if db.Dialector.Name() == "postgres" {
		return migrations.Postgres
	}
	return migrations.SQLite
}

// PostgresDSN is the connection string db was opened with, for a
// connection of its own (the realtime LISTEN connection).
func PostgresDSN(db *gorm.DB) (string, error) {
	d, ok := db.Dialector.(*postgres.Dialector)
	if !ok || d.Config == nil || d.DSN == "" {
		return "", fmt.Errorf("crm: not a PostgreSQL database opened by DSN")
	}
	return d.DSN, nil
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") ||
		strings.Contains(url, "host=") || strings.Contains(url, "dbname=")
}

// SQLiteDSN is the DSN for the database file in dataDir: WAL, foreign keys,
// a busy timeout, and BEGIN IMMEDIATE so that writers queue instead of
// failing to upgrade a read lock. synchronous=FULL: every commit is on
// disk before it returns, so a touch acknowledged to a webhook sender
// survives a power cut, not only a killed process (NORMAL could lose the
// last commits); its cost is one WAL fsync per commit, within the noise
// of the ingest benchmark in batches of 100 (docs/BENCHMARKS.md). A new file gets 8 KiB pages (a touch
// with its text is often over 1 KiB: fewer overflow pages and splits; a
// first mailbox import runs 5-8 % faster than with 4 KiB); an existing
// one keeps its own.
func SQLiteDSN(file string) string {
	return "file:" + file + "?_pragma=page_size(8192)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate"
}

// Open opens the database: PostgreSQL when databaseURL names one, otherwise
// the SQLite file switchboard.db under dataDir (created if missing). It
// does not migrate; see Migrate.
func Open(databaseURL, dataDir string) (*gorm.DB, error) {
	cfg := &gorm.Config{
		TranslateError: true,
		Logger:         logger.Default.LogMode(logger.Silent),
		NowFunc:        func() time.Time { return time.Now().UTC() },
		PrepareStmt:    true,
	}
	if IsPostgres(databaseURL) {
		db, err := gorm.Open(postgres.Open(databaseURL), cfg)
		if err != nil {
			return nil, fmt.Errorf("crm: open postgres: %w", err)
		}
		sqlDB, _ := db.DB()
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(16)
		return db, nil
	}
	if databaseURL != "" {
		return nil, fmt.Errorf("crm: DATABASE_URL %q is not a postgres URL (postgres://…); leave it empty for SQLite", redactURL(databaseURL))
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("crm: data dir: %w", err)
	}
	db, err := gorm.Open(sqlite.Open(SQLiteDSN(filepath.Join(dataDir, "switchboard.db"))), cfg)
	if err != nil {
		return nil, fmt.Errorf("crm: open sqlite: %w", err)
	}
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(4)
	return db, nil
}

// Migrate applies the embedded migrations and logs each applied step.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	steps, err := migrations.Apply(ctx, sqlDB, Dialect(db))
	for _, s := range steps {
		log.Info("migration applied", "version", s.Version, "name", s.Name)
	}
	return err
}

// Ping checks that the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
