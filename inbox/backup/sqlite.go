package backup

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/glebarez/go-sqlite" // the driver crm uses, registered as "sqlite"

	"github.com/switchboard/switchboard/crm"
)

// copySQLite copies the live database file src to dst with VACUUM INTO, on
// a connection of its own that waits for writers (busy timeout) rather
// than failing: the copy is one read transaction, so it is consistent
// however much the server writes meanwhile. The copy is then checked with
// integrity_check and its tables counted.
func copySQLite(ctx context.Context, src, dst string) (map[string]int64, int, error) {
	conn, err := sql.Open("sqlite", crm.SQLiteDSN(src))
	if err != nil {
		return nil, 0, fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return nil, 0, fmt.Errorf("backup: VACUUM INTO %s: %w", dst, err)
	}
	return checkSQLite(ctx, dst)
}

// checkSQLite opens a database file that nothing else uses, makes it a
// single self-contained file (rollback journal), runs integrity_check and
// returns the rows of every table and the schema version.
func checkSQLite(ctx context.Context, file string) (map[string]int64, int, error) {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, 0, fmt.Errorf("backup: open %s: %w", file, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `PRAGMA journal_mode=DELETE`); err != nil {
		return nil, 0, fmt.Errorf("backup: %s: %w", file, err)
	}
	if err := integrity(ctx, db); err != nil {
		return nil, 0, fmt.Errorf("backup: %s: %w", file, err)
	}
	return census(ctx, db, sqliteTables)
}

// integrity runs PRAGMA integrity_check, which answers one row "ok" or
// the problems it found.
func integrity(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity_check failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

const (
	sqliteTables   = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	postgresTables = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`
)

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// census counts the rows of every table listed by the query, and reads
// the schema version (the newest applied migration).
func census(ctx context.Context, q querier, list string) (map[string]int64, int, error) {
	names, err := tableNames(ctx, q, list)
	if err != nil {
		return nil, 0, err
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(n)).Scan(&c); err != nil {
			return nil, 0, fmt.Errorf("backup: count %s: %w", n, err)
		}
		out[n] = c
	}
	if _, ok := out["schema_migrations"]; !ok {
		return out, 0, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return nil, 0, fmt.Errorf("backup: schema version: %w", err)
	}
	return out, int(v.Int64), nil
}

// TableNames lists the tables of the database (SQLite, or PostgreSQL's
// current schema), for a census or a comparison.
func TableNames(ctx context.Context, db *sql.DB, dialect string) ([]string, error) {
	if dialect == "postgres" {
		return tableNames(ctx, db, postgresTables)
	}
	return tableNames(ctx, db, sqliteTables)
}

func tableNames(ctx context.Context, q querier, list string) ([]string, error) {
	rows, err := q.QueryContext(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("backup: list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
