package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/backup"
	"github.com/switchboard/switchboard/inbox/blobs"
)

const backupSummary = `Writes one archive (a gzipped tar) while the server keeps running: a
consistent copy of the database (SQLite: VACUUM INTO, then integrity_check on
the copy; PostgreSQL: pg_dump -Fc of one snapshot), the blobs when they are
local files (SWITCHBOARD_BLOBS=dir; in the database they are in the copy, S3
is not archived), DataDir/secret.key when the key lives there, and a manifest
with the schema version, the rows of every table and every entry's SHA-256.
The archive holds the whole database and the key: keep it as safe as the
server. Each finished backup is recorded in the backups table.`

// backupCmd is "switchboard backup --out FILE".
func backupCmd(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("backup", backupSummary, &cfg, false)
	out := fs.String("out", "", "the archive to write, such as /var/backups/switchboard-$(date +%F).tar.gz (required)")
	pgDump := fs.String("pg-dump", env("SWITCHBOARD_PG_DUMP", ""), "the pg_dump program; default: pg_dump in PATH [SWITCHBOARD_PG_DUMP]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out is required")
	}
	if err := cfg.checkBlobs(cfg.Blobs); err != nil {
		return err
	}
	log := cfg.logger()
	// Opened, not migrated: the backup copies the schema as it is.
	if file := filepath.Join(cfg.DataDir, "switchboard.db"); cfg.DatabaseURL == "" && !isFile(file) {
		return fmt.Errorf("backup: no database at %s: set SWITCHBOARD_DATA (or DATABASE_URL) as for serve", file)
	}
	db, err := crm.Open(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer closeDB(db)
	store, err := cfg.blobStore(ctx, cfg.Blobs, db)
	if err != nil {
		return err
	}
	m, size, err := backup.Backup(ctx, *out, backup.Options{
		DB: db, DSN: cfg.DatabaseURL, DataDir: cfg.DataDir, Blobs: store, BlobsKind: blobKind(cfg.Blobs),
		PgDump: *pgDump, SecretInEnv: cfg.SecretKey != "", Version: buildVersion(), Log: log,
	})
	if errors.Is(err, backup.ErrNotRecorded) {
		fmt.Fprintf(os.Stderr, "warning: %v (run switchboard migrate)\n", err)
	} else if err != nil {
		return err
	}
	var rows int64
	for _, n := range m.Tables {
		rows += n
	}
	fmt.Printf("backup %s: %s schema version %d, %d tables, %d rows; %d blobs (%s); secret key %s; %d MiB\n",
		*out, m.Dialect, m.SchemaVersion, len(m.Tables), rows, m.Blobs.Count, m.Blobs.Backend, m.SecretKey, size>>20)
	if m.Blobs.Note != "" {
		fmt.Println("note:", m.Blobs.Note)
	}
	return nil
}

const restoreSummary = `switchboard restore [flags] FILE (flags before the file).

Restores an archive written by switchboard backup into an EMPTY data
directory (SQLite) or an EMPTY PostgreSQL database (DATABASE_URL), refusing
one that holds anything. Every checksum is checked first, and an archive from
a newer schema than this binary knows is refused. Afterwards the restored
database is compared with the manifest (schema version, rows per table).
Stop the old instance first: two instances with one WhatsApp session
disconnect each other.`

// restoreCmd is "switchboard restore FILE".
func restoreCmd(ctx context.Context, args []string) error {
	var cfg Config
	fs := flags("restore", restoreSummary, &cfg, false)
	pgRestore := fs.String("pg-restore", env("SWITCHBOARD_PG_RESTORE", ""), "the pg_restore program; default: pg_restore in PATH [SWITCHBOARD_PG_RESTORE]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("restore: name the archive: switchboard restore FILE")
	}
	if err := cfg.checkBlobs(cfg.Blobs); err != nil {
		return err
	}
	if cfg.DatabaseURL != "" && !crm.IsPostgres(cfg.DatabaseURL) {
		return fmt.Errorf("restore: DATABASE_URL is not a PostgreSQL URL")
	}
	o := backup.RestoreOptions{DSN: cfg.DatabaseURL, DataDir: cfg.DataDir, PgRestore: *pgRestore, Log: cfg.logger()}
	if blobKind(cfg.Blobs) == backup.BlobsDir {
		o.BlobsDir = cfg.BlobsDir
		if o.BlobsDir == "" {
			o.BlobsDir = filepath.Join(cfg.DataDir, "blobs")
		}
		o.Blobs = blobs.Dir{Dir: o.BlobsDir}
	}
	m, err := backup.Restore(ctx, fs.Arg(0), o)
	if err != nil {
		return err
	}
	fmt.Printf("restored %s: %s schema version %d from %s (Switchboard %s), %d tables, %d blobs; secret key %s\n",
		fs.Arg(0), m.Dialect, m.SchemaVersion, m.CreatedAt.Format("2006-01-02 15:04:05 UTC"), m.Version, len(m.Tables), m.Blobs.Count, m.SecretKey)
	if m.Blobs.Backend == backup.BlobsS3 {
		fmt.Println("note: the blobs were in S3 and are not in the archive; point SWITCHBOARD_S3_* at the bucket")
	}
	return nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// blobKind names the backend as the manifest does.
func blobKind(kind string) string {
	switch kind {
	case blobsDatabase, blobsPostgres:
		return backup.BlobsDatabase
	case blobsS3:
		return backup.BlobsS3
	}
	return backup.BlobsDir
}
