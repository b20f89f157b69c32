package backup

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/migrations"
)

// RestoreOptions say where to restore: an empty data directory (SQLite)
// or an empty PostgreSQL database, and the blob directory.
type RestoreOptions struct {
	DSN       string      // the PostgreSQL target; "" for SQLite in DataDir
	DataDir   string      // receives switchboard.db (SQLite) and secret.key
	Blobs     blobs.Store // receives the archive's blobs (the dir backend)
	BlobsDir  string      // its directory, which must be empty
	PgRestore string      // the pg_restore program (default: pg_restore in PATH)
	Log       *slog.Logger
}

func (o RestoreOptions) dialect() string {
	if o.DSN != "" {
		return migrations.Postgres
	}
	return migrations.SQLite
}

// Restore checks the archive (every checksum, its format and schema
// version), refuses a target that holds anything, restores the database,
// the blobs and the secret key, and checks the restored database against
// the manifest: the same schema version and the same rows in every table.
func Restore(ctx context.Context, archive string, o RestoreOptions) (Manifest, error) {
	m, err := Verify(archive)
	if err != nil {
		return m, err
	}
	if m.Dialect != o.dialect() {
		return m, fmt.Errorf("%w: it holds a %s database and the target is %s; restore into the same kind", ErrWrongDialect, m.Dialect, o.dialect())
	}
	if latest := migrations.Latest(m.Dialect); m.SchemaVersion > latest {
		return m, fmt.Errorf("%w: it is at schema version %d and this Switchboard knows up to %d; restore with the version that wrote it (%s) or a newer one", ErrTooNew, m.SchemaVersion, latest, m.Version)
	}
	if err := checkEmpty(ctx, o, m); err != nil {
		return m, err
	}
	if err := extract(ctx, archive, m, o); err != nil {
		return m, err
	}
	return m, checkRestored(ctx, o, m)
}

// Verify reads the whole archive, checks every entry against the manifest
// (and every blob against its key) and returns the manifest.
func Verify(archive string) (Manifest, error) {
	var m *Manifest
	seen := map[string]File{}
	err := walk(archive, func(hdr *tar.Header, r io.Reader) error {
		if hdr.Name == manifestName {
			m = new(Manifest)
			if err := json.NewDecoder(r).Decode(m); err != nil {
				return fmt.Errorf("%w: manifest: %v", ErrCorrupt, err)
			}
			return nil
		}
		s := newSummer(r)
		if _, err := io.Copy(io.Discard, s); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, hdr.Name, err)
		}
		seen[hdr.Name] = File{Name: hdr.Name, Size: s.size, SHA256: s.sum()}
		return nil
	})
	if err != nil {
		return Manifest{}, err
	}
	if m == nil {
		return Manifest{}, fmt.Errorf("%w: no manifest (an interrupted backup, or not a Switchboard archive)", ErrCorrupt)
	}
	if m.Format > Format {
		return *m, fmt.Errorf("%w: archive format %d, this Switchboard reads up to %d", ErrTooNew, m.Format, Format)
	}
	if len(seen) != len(m.Files) {
		return *m, fmt.Errorf("%w: %d entries, the manifest lists %d", ErrCorrupt, len(seen), len(m.Files))
	}
	for _, f := range m.Files {
		if got, ok := seen[f.Name]; !ok || got != f {
			return *m, fmt.Errorf("%w: %s does not match its checksum in the manifest", ErrCorrupt, f.Name)
		}
		if key, ok := strings.CutPrefix(f.Name, blobsPrefix); ok && key != f.SHA256 {
			return *m, fmt.Errorf("%w: blob %s holds content %s", ErrCorrupt, key, f.SHA256)
		}
	}
	return *m, nil
}

// checkEmpty refuses a target that holds anything: a restore never merges.
func checkEmpty(ctx context.Context, o RestoreOptions, m Manifest) error {
	if o.DSN == "" {
		if err := emptyDir(o.DataDir, "data directory"); err != nil {
			return err
		}
	} else {
		if err := emptyDatabase(ctx, o.DSN); err != nil {
			return err
		}
		key := filepath.Join(o.DataDir, secretName)
		if m.SecretKey == "included" && fileExists(key) {
			return fmt.Errorf("%w: %s exists; move it away (the archive brings its own key)", ErrNotEmpty, key)
		}
	}
	if m.Blobs.InArchive && o.Blobs == nil {
		return fmt.Errorf("restore: the archive holds %d blobs; restore with SWITCHBOARD_BLOBS=dir, then move them with switchboard blobs migrate", m.Blobs.Count)
	}
	if m.Blobs.InArchive {
		return emptyDir(o.BlobsDir, "blob directory")
	}
	return nil
}

func emptyDir(dir, what string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w: the %s %s holds %d entries (%s …); restore into an empty or new one", ErrNotEmpty, what, dir, len(entries), entries[0].Name())
	}
	return nil
}

func emptyDatabase(ctx context.Context, dsn string) error {
	db, err := crm.Open(dsn, "")
	if err != nil {
		return err
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	var n int64
	err = sqlDB.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&n)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%w: the database has %d tables; restore into a new one (createdb) or drop them first", ErrNotEmpty, n)
	}
	return nil
}
