// Package backup writes and restores Switchboard's backup archive: a
// gzipped tar holding a consistent copy of the database (SQLite: VACUUM
// INTO, checked with integrity_check; PostgreSQL: pg_dump -Fc of one
// exported snapshot), the blobs when they are local files, the secret key
// when it lives in the data directory, and last a manifest with the schema
// version, the rows of every table in the copy and every entry's SHA-256.
// Restore refuses a non-empty target, a damaged archive and one from a
// newer schema (docs/backup.md).
package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/migrations"
)

// Errors restore tells apart.
var (
	ErrCorrupt      = errors.New("restore: the archive is damaged")
	ErrTooNew       = errors.New("restore: the archive is from a newer Switchboard")
	ErrNotEmpty     = errors.New("restore: the target is not empty")
	ErrNoTool       = errors.New("backup: PostgreSQL client tool not found")
	ErrWrongDialect = errors.New("restore: the archive is of the other database")
	// ErrNotRecorded: the archive is complete, but the backups table did
	// not take its row (a database older than migration 13).
	ErrNotRecorded = errors.New("backup: the archive is complete but not recorded in the backups table")
)

// Options say what to back up: the running installation's database and
// blob store.
type Options struct {
	DB        *gorm.DB    // the live database, recorded in when done
	DSN       string      // its PostgreSQL DSN; "" for SQLite
	DataDir   string      // holds switchboard.db (SQLite) and secret.key
	Blobs     blobs.Store // the blob store
	BlobsKind string      // BlobsDir, BlobsDatabase or BlobsS3
	PgDump    string      // the pg_dump program (default: pg_dump in PATH)
	// SecretInEnv says the key sealing account secrets comes from the
	// environment (SWITCHBOARD_SECRET_KEY): DataDir/secret.key is not used.
	SecretInEnv bool
	Version     string // the binary's version, for the manifest
	Log         *slog.Logger
}

// Backup writes the archive to out (through out.partial, renamed when
// complete), records it in the backups table and returns its manifest and
// size. The server may keep running and writing meanwhile. The database is
// only read (and the row added): a backup never migrates what it copies.
func Backup(ctx context.Context, out string, o Options) (Manifest, int64, error) {
	m := Manifest{Note: manifestNote, Format: Format, Version: o.Version, CreatedAt: time.Now().UTC(), Dialect: crm.Dialect(o.DB)}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".switchboard-backup-*")
	if err != nil {
		return m, 0, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	dbName, dbFile := sqliteName, filepath.Join(tmp, sqliteName)
	if m.Dialect == migrations.Postgres {
		dbName, dbFile = pgdumpName, filepath.Join(tmp, pgdumpName)
		m.Tables, m.SchemaVersion, err = dumpPostgres(ctx, o, dbFile)
	} else {
		m.Tables, m.SchemaVersion, err = copySQLite(ctx, filepath.Join(o.DataDir, "switchboard.db"), dbFile)
	}
	if err != nil {
		return m, 0, err
	}
	o.Log.Info("backup: database copied", "dialect", m.Dialect, "schema_version", m.SchemaVersion, "tables", len(m.Tables))
	partial := out + ".partial"
	w, err := create(partial)
	if err != nil {
		return m, 0, err
	}
	if err := fill(ctx, w, &m, o, dbName, dbFile); err != nil {
		w.abort()
		os.Remove(partial)
		return m, 0, err
	}
	if err := os.Rename(partial, out); err != nil {
		return m, 0, fmt.Errorf("backup: %w", err)
	}
	st, err := os.Stat(out)
	if err != nil {
		return m, 0, fmt.Errorf("backup: %w", err)
	}
	if _, err := crm.RecordBackup(o.DB.WithContext(ctx), out, st.Size(), time.Now()); err != nil {
		return m, st.Size(), fmt.Errorf("%w: %v", ErrNotRecorded, err)
	}
	return m, st.Size(), nil
}

// fill writes the entries after the database copy is taken: the copy, the
// secret key, the blobs, and the manifest last.
func fill(ctx context.Context, w *writer, m *Manifest, o Options, dbName, dbFile string) error {
	if _, err := w.addFile(dbName, dbFile); err != nil {
		return err
	}
	m.SecretKey = "absent"
	if o.SecretInEnv {
		m.SecretKey = "environment"
	} else if key := filepath.Join(o.DataDir, secretName); fileExists(key) {
		if _, err := w.addFile(secretName, key); err != nil {
			return err
		}
		m.SecretKey = "included"
	}
	var err error
	m.Blobs, err = addBlobs(ctx, w, o)
	if err != nil {
		return err
	}
	return w.finish(m)
}

// addBlobs puts the dir backend's blobs into the archive. They are listed
// after the database copy was taken, so every blob the copy refers to is
// there (blobs are never changed, and the sweep removes only unreferenced
// ones after a grace period); blobs written since come along unreferenced.
func addBlobs(ctx context.Context, w *writer, o Options) (BlobSummary, error) {
	s := BlobSummary{Backend: o.BlobsKind}
	switch o.BlobsKind {
	case BlobsDatabase:
		s.Note = "the blobs are in the database, so in its copy"
		return s, nil
	case BlobsS3:
		s.Note = "the blobs are in the S3 bucket and NOT in this archive: back the bucket up with its own versioning or replication"
		return s, nil
	}
	s.InArchive = true
	err := o.Blobs.List(ctx, func(info blobs.Info) error {
		rc, err := o.Blobs.Open(ctx, info.Key)
		if errors.Is(err, crm.ErrNotFound) {
			return nil // swept since it was listed
		}
		if err != nil {
			return fmt.Errorf("backup: blob %s: %w", info.Key, err)
		}
		defer rc.Close()
		f, err := w.add(blobsPrefix+info.Key, info.Size, rc)
		if err != nil {
			return err
		}
		if f.SHA256 != info.Key {
			return fmt.Errorf("backup: blob %s: its content hashes to %s: the blob store is damaged", info.Key, f.SHA256)
		}
		s.Count++
		s.Bytes += f.Size
		return nil
	})
	return s, err
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
