package backup

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/switchboard/switchboard/crm"
)

// extract writes the verified archive's entries to the target, hashing
// them again on the way (the file may have changed since Verify).
func extract(ctx context.Context, archive string, m Manifest, o RestoreOptions) error {
	want := make(map[string]File, len(m.Files))
	for _, f := range m.Files {
		want[f.Name] = f
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(o.DataDir, ".restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmp)
	err = walk(archive, func(hdr *tar.Header, r io.Reader) error {
		if hdr.Name == manifestName {
			return nil
		}
		f, ok := want[hdr.Name]
		if !ok {
			return fmt.Errorf("%w: %s is not in the manifest", ErrCorrupt, hdr.Name)
		}
		if key, ok := strings.CutPrefix(hdr.Name, blobsPrefix); ok {
			info, err := o.Blobs.Put(ctx, r)
			if err != nil {
				return fmt.Errorf("restore: blob %s: %w", key, err)
			}
			if info.Key != key {
				return fmt.Errorf("%w: blob %s changed since it was checked", ErrCorrupt, key)
			}
			return nil
		}
		return writeFile(filepath.Join(tmp, hdr.Name), r, f)
	})
	if err != nil {
		return err
	}
	switch {
	case fileExists(filepath.Join(tmp, sqliteName)):
		err = os.Rename(filepath.Join(tmp, sqliteName), filepath.Join(o.DataDir, "switchboard.db"))
	case fileExists(filepath.Join(tmp, pgdumpName)):
		err = restorePostgres(ctx, o, filepath.Join(tmp, pgdumpName))
	default:
		err = fmt.Errorf("%w: no database in the archive", ErrCorrupt)
	}
	if err != nil {
		return err
	}
	if fileExists(filepath.Join(tmp, secretName)) {
		return os.Rename(filepath.Join(tmp, secretName), filepath.Join(o.DataDir, secretName))
	}
	return nil
}

// writeFile writes r to path, synced, and checks it against f.
func writeFile(path string, r io.Reader, f File) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	s := newSummer(r)
	_, err = io.Copy(out, s)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %s: %w", f.Name, err)
	}
	if s.size != f.Size || s.sum() != f.SHA256 {
		return fmt.Errorf("%w: %s changed since it was checked", ErrCorrupt, f.Name)
	}
	return nil
}

// checkRestored compares the restored database with the manifest: the
// same schema version and the same rows in every table (and, on SQLite,
// a clean integrity_check).
func checkRestored(ctx context.Context, o RestoreOptions, m Manifest) error {
	var tables map[string]int64
	var version int
	var err error
	if o.DSN == "" {
		tables, version, err = checkSQLite(ctx, filepath.Join(o.DataDir, "switchboard.db"))
	} else {
		db, oerr := crm.Open(o.DSN, "")
		if oerr != nil {
			return oerr
		}
		sqlDB, _ := db.DB()
		defer sqlDB.Close()
		tables, version, err = census(ctx, sqlDB, postgresTables)
	}
	if err != nil {
		return fmt.Errorf("restore: check the restored database: %w", err)
	}
	if version != m.SchemaVersion {
		return fmt.Errorf("restore: the restored database is at schema version %d, the manifest says %d", version, m.SchemaVersion)
	}
	if diff := compareCounts(m.Tables, tables); diff != "" {
		return fmt.Errorf("restore: the restored database differs from the manifest: %s", diff)
	}
	return nil
}

// compareCounts describes the first differences between two censuses.
func compareCounts(want, got map[string]int64) string {
	var diffs []string
	for t, n := range want {
		if g, ok := got[t]; !ok {
			diffs = append(diffs, "table "+t+" is missing")
		} else if g != n {
			diffs = append(diffs, fmt.Sprintf("table %s has %d rows, the manifest %d", t, g, n))
		}
	}
	for t := range got {
		if _, ok := want[t]; !ok {
			diffs = append(diffs, "table "+t+" is not in the manifest")
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}
