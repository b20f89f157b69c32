package backup

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// tool finds a PostgreSQL client program: the one named (a path or a name
// looked up in PATH), else the default name in PATH.
func tool(named, def string) (string, error) {
	if named == "" {
		named = def
	}
	p, err := exec.LookPath(named)
	if err != nil {
		return "", fmt.Errorf(`%w: %s (%v). Install the PostgreSQL client tools of the server's major version or newer (Debian/Ubuntu: apt-get install postgresql-client; Alpine: apk add postgresql-client; or the postgres image's own), or name the program with --%s. Without them, take the database by hand with: pg_dump -Fc -f switchboard.pgdump "$DATABASE_URL" (restore: pg_restore --no-owner --no-privileges -d "$DATABASE_URL" switchboard.pgdump); see docs/backup.md`,
			ErrNoTool, def, err, strings.ReplaceAll(def, "_", "-"))
	}
	return p, nil
}

// dumpPostgres writes pg_dump -Fc of the database to dst. The dump and the
// row counts of the manifest see the same data: a repeatable-read
// transaction exports its snapshot, counts the tables in it and stays open
// while pg_dump --snapshot reads that snapshot.
func dumpPostgres(ctx context.Context, o Options, dst string) (map[string]int64, int, error) {
	pgDump, err := tool(o.PgDump, "pg_dump")
	if err != nil {
		return nil, 0, err
	}
	sqlDB, err := o.DB.DB()
	if err != nil {
		return nil, 0, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("backup: begin: %w", err)
	}
	defer tx.Rollback()
	var snapshot string
	if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return nil, 0, fmt.Errorf("backup: export snapshot: %w", err)
	}
	tables, version, err := census(ctx, tx, postgresTables)
	if err != nil {
		return nil, 0, err
	}
	dsn, env := hidePassword(o.DSN)
	cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--snapshot="+snapshot, "--file="+dst, "--dbname="+dsn)
	cmd.Env = env
	if err := runTool(cmd); err != nil {
		return nil, 0, fmt.Errorf("backup: pg_dump: %w", err)
	}
	return tables, version, nil
}

// restorePostgres loads a pg_dump -Fc file into the (empty) database.
func restorePostgres(ctx context.Context, o RestoreOptions, file string) error {
	pgRestore, err := tool(o.PgRestore, "pg_restore")
	if err != nil {
		return err
	}
	dsn, env := hidePassword(o.DSN)
	cmd := exec.CommandContext(ctx, pgRestore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname="+dsn, file)
	cmd.Env = env
	if err := runTool(cmd); err != nil {
		return fmt.Errorf("restore: pg_restore: %w", err)
	}
	return nil
}

var passwordRE = regexp.MustCompile(`(^|\s)password=('(?:\\.|[^'\\])*'|\S*)\s*`)

// hidePassword takes the password out of a DSN (URL or key=value) and
// into PGPASSWORD, so that it is not on a command line for ps to show.
func hidePassword(dsn string) (string, []string) {
	env := os.Environ()
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if pw, ok := u.User.Password(); ok {
			u.User = url.User(u.User.Username())
			return u.String(), append(env, "PGPASSWORD="+pw)
		}
		return dsn, env
	}
	m := passwordRE.FindStringSubmatch(dsn)
	if m == nil {
		return dsn, env
	}
	pw := m[2]
	if strings.HasPrefix(pw, "'") {
		pw = strings.NewReplacer(`\'`, "'", `\\`, `\`).Replace(pw[1 : len(pw)-1])
	}
	return strings.TrimSpace(passwordRE.ReplaceAllString(dsn, "$1")), append(env, "PGPASSWORD="+pw)
}

// runTool runs a client program and returns its complaint as the error.
func runTool(cmd *exec.Cmd) error {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
