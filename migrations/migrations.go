// Package migrations holds Switchboard's schema as versioned SQL files, one
// folder per dialect, embedded into the binary, and applies them in order.
// Each file is applied in its own transaction and recorded in
// schema_migrations; a database migrated by a newer binary is refused.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Dialects that have a schema.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ErrTooNew means the database was migrated by a newer Switchboard.
var ErrTooNew = errors.New("migrations: database schema is newer than this binary")

// Step is one versioned SQL file.
type Step struct {
	Version int
	Name    string
	SQL     string
}

// Steps returns the dialect's migrations in version order.
func Steps(dialect string) ([]Step, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	var steps []Step
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migrations: bad file name %s/%s: want NNNN_name.sql", dialect, name)
		}
		b, err := files.ReadFile(path.Join(dialect, name))
		if err != nil {
			return nil, err
		}
		steps = append(steps, Step{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].Version < steps[j].Version })
	return steps, nil
}

// Latest is the newest version this binary knows for the dialect.
func Latest(dialect string) int {
	steps, err := Steps(dialect)
	if err != nil || len(steps) == 0 {
		return 0
	}
	return steps[len(steps)-1].Version
}

// Current returns the newest applied version (0 for an empty database).
func Current(ctx context.Context, db *sql.DB) (int, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("migrations: create schema_migrations: %w", err)
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("migrations: read version: %w", err)
	}
	return int(v.Int64), nil
}

// Apply brings the database to the latest version and returns the steps it
// applied. It refuses, with ErrTooNew, a database newer than the binary.
// A step is applied when it is not recorded, not only when it is newer than
// the newest recorded: lines of work in parallel reserve numbers (8 for the
// report while 9 landed first), and a database migrated to 9 before 8
// merged must still get 8.
//
// On PostgreSQL the replicas starting together take turns under an
// advisory lock: the first migrates, the others wait, then find nothing
// left to do.
func Apply(ctx context.Context, db *sql.DB, dialect string) ([]Step, error) {
	steps, err := Steps(dialect)
	if err != nil {
		return nil, err
	}
	if dialect == Postgres {
		unlock, err := lock(ctx, db)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	cur, err := Current(ctx, db)
	if err != nil {
		return nil, err
	}
	if latest := Latest(dialect); cur > latest {
		return nil, fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade Switchboard", ErrTooNew, cur, latest)
	}
	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return nil, err
	}
	var done []Step
	for _, s := range steps {
		if applied[s.Version] {
			continue
		}
		if err := apply(ctx, db, dialect, s); err != nil {
			return done, err
		}
		done = append(done, s)
	}
	return done, nil
}

// lockKey is the advisory lock the migrating replica holds.
const lockKey = 0x5b0a_0002

// lock takes the migration lock on a connection of its own, waiting for
// a replica migrating now; unlock releases it.
func lock(ctx context.Context, db *sql.DB) (unlock func(), err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey)
		conn.Close()
	}, nil
}

// appliedVersions are the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, db *sql.DB) (map[int]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrations: read versions: %w", err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrations: read versions: %w", err)
		}
		out[v] = true
	}
	return out, rows.Err()
}

func apply(ctx context.Context, db *sql.DB, dialect string, s Step) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrations: %s: begin: %w", s.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.SQL); err != nil {
		return fmt.Errorf("migrations: %s: %w", s.Name, err)
	}
	q := `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`
	if dialect == Postgres {
		q = `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`
	}
	if _, err := tx.ExecContext(ctx, q, s.Version, s.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("migrations: %s: record version: %w", s.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: %s: commit: %w", s.Name, err)
	}
	return nil
}
