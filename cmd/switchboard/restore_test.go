package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox/backup"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/migrations"
)

// rewrite copies the archive src to a new file, passing every entry
// through edit (nil drops it), and returns the new file's path.
func rewrite(t *testing.T, src string, edit func(name string, data []byte) []byte) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if data = edit(hdr.Name, data); data == nil {
			continue
		}
		hdr.Size = int64(len(data))
		tw.WriteHeader(hdr)
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	path := filepath.Join(t.TempDir(), "edited.tar.gz")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// editManifest returns an edit that changes the manifest with fn.
func editManifest(t *testing.T, fn func(m *backup.Manifest)) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		if name != "manifest.json" {
			return data
		}
		var m backup.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		fn(&m)
		b, _ := json.Marshal(m)
		return b
	}
}

func TestRestoreRefusesWhatItCannotRestoreFaithfully(t *testing.T) {
	data := dataEnv(t)
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	dirBlobs(t, data)
	archive := filepath.Join(t.TempDir(), "good.tar.gz")
	err := quiet(t, []string{"backup", "--out", archive})
	if crmtest.Postgres() {
		if err != nil {
			t.Fatal(err)
		}
	} else if err == nil || !strings.Contains(err.Error(), "no database at") {
		t.Fatalf("a backup of a data directory without a database: %v", err) // and none is created
	}
	if err := quiet(t, []string{"migrate"}); err != nil {
		t.Fatal(err)
	}
	if err := quiet(t, []string{"backup", "--out", archive}); err != nil {
		t.Fatal(err)
	}
	srcURL := os.Getenv("DATABASE_URL")
	flip := func(name string, data []byte) []byte {
		if strings.HasPrefix(name, "database.") {
			data = bytes.Clone(data)
			data[len(data)/2] ^= 0xff
		}
		return data
	}
	var blobKey string
	swapBlob := func(name string, data []byte) []byte {
		if k, ok := strings.CutPrefix(name, "blobs/"); ok && blobKey == "" {
			blobKey = k
			return []byte("not the content the key names")
		}
		return data
	}
	swapped := rewrite(t, archive, swapBlob)
	// The manifest agrees with the swapped blob: only its key gives it away.
	swapped = rewrite(t, swapped, editManifest(t, func(m *backup.Manifest) {
		for i, f := range m.Files {
			if f.Name == "blobs/"+blobKey {
				fake := []byte("not the content the key names")
				m.Files[i].Size, m.Files[i].SHA256 = int64(len(fake)), blobs.Key(fake)
			}
		}
	}))
	cases := []struct {
		name    string
		archive string
		target  func(t *testing.T) string
		want    error
		says    string
	}{
		{"a target that holds data", archive, func(t *testing.T) string {
			dir := restoreTarget(t)
			if crmtest.Postgres() {
				t.Setenv("DATABASE_URL", srcURL) // the source itself
			} else {
				os.MkdirAll(dir, 0o750)
				os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me"), 0o600)
			}
			return dir
		}, backup.ErrNotEmpty, "not empty"},
		{"a damaged database copy", rewrite(t, archive, flip), restoreTarget, backup.ErrCorrupt, "does not match its checksum"},
		{"a blob whose content is not its key", swapped, restoreTarget, backup.ErrCorrupt, "holds content"},
		{"an archive without its manifest", rewrite(t, archive, func(name string, data []byte) []byte {
			if name == "manifest.json" {
				return nil
			}
			return data
		}), restoreTarget, backup.ErrCorrupt, "no manifest"},
		{"an archive from a newer schema", rewrite(t, archive, editManifest(t, func(m *backup.Manifest) {
			m.SchemaVersion = migrations.Latest(m.Dialect) + 1
		})), restoreTarget, backup.ErrTooNew, "schema version"},
		{"a truncated archive", truncated(t, archive), restoreTarget, backup.ErrCorrupt, "damaged"},
		{"an archive of the other database", rewrite(t, archive, editManifest(t, func(m *backup.Manifest) {
			m.Dialect = map[string]string{migrations.SQLite: migrations.Postgres, migrations.Postgres: migrations.SQLite}[m.Dialect]
		})), restoreTarget, backup.ErrWrongDialect, "restore into the same kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.target(t)
			err := quiet(t, []string{"restore", c.archive})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want %v saying %q", err, c.want, c.says)
			}
			if _, err := os.Stat(filepath.Join(dir, "switchboard.db")); err == nil {
				t.Fatal("a refused restore left a database behind")
			}
		})
	}
	// And the good archive restores.
	restoreTarget(t)
	if err := quiet(t, []string{"restore", archive}); err != nil {
		t.Fatal(err)
	}
}

func truncated(t *testing.T, archive string) string {
	t.Helper()
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "truncated.tar.gz")
	os.WriteFile(path, b[:len(b)/2], 0o600)
	return path
}

func TestBackupWithoutPgDumpSaysWhatToInstall(t *testing.T) {
	if !crmtest.Postgres() {
		t.Skip("pg_dump is for PostgreSQL; set " + crmtest.EnvURL)
	}
	dataEnv(t)
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	t.Setenv("PATH", t.TempDir()) // no pg_dump there
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	err := quiet(t, []string{"backup", "--out", out})
	if !errors.Is(err, backup.ErrNoTool) || !strings.Contains(err.Error(), "postgresql-client") || !strings.Contains(err.Error(), "pg_dump -Fc") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("an archive was written without the database")
	}
}

// Blobs in the database travel in its copy; blobs in S3 stay in the bucket,
// and the manifest and the command say so.
func TestBackupLeavesBlobsWhereTheyLive(t *testing.T) {
	t.Run("database", func(t *testing.T) {
		data := dataEnv(t)
		t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
		t.Setenv("SWITCHBOARD_BLOBS", "database")
		if err := quiet(t, []string{"migrate"}); err != nil {
			t.Fatal(err)
		}
		src := openTarget(t, data)
		want := map[string][]byte{}
		for _, b := range []string{"%PDF-1.4 invoice", strings.Repeat("RIFF recording ", 100000)} {
			key, err := blobs.PutBytes(context.Background(), blobs.Database{DB: src}, []byte(b))
			if err != nil {
				t.Fatal(err)
			}
			want[key] = []byte(b)
		}
		archive := filepath.Join(t.TempDir(), "db-blobs.tar.gz")
		if err := quiet(t, []string{"backup", "--out", archive}); err != nil {
			t.Fatal(err)
		}
		m, err := backup.Verify(archive)
		if err != nil {
			t.Fatal(err)
		}
		if m.Blobs.Backend != backup.BlobsDatabase || m.Blobs.InArchive || len(m.Files) != 1 || m.Tables["blobs"] != 2 {
			t.Fatalf("manifest: blobs %+v, files %v, blobs rows %d", m.Blobs, m.Files, m.Tables["blobs"])
		}
		target := restoreTarget(t)
		if err := quiet(t, []string{"restore", archive}); err != nil {
			t.Fatal(err)
		}
		checkHas(t, blobs.Database{DB: openTarget(t, target)}, want)
	})
	t.Run("s3", func(t *testing.T) {
		dataEnv(t)
		t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
		s3Env(t)
		t.Setenv("SWITCHBOARD_BLOBS", "s3")
		if err := quiet(t, []string{"migrate"}); err != nil {
			t.Fatal(err)
		}
		archive := filepath.Join(t.TempDir(), "s3.tar.gz")
		out, err := stdoutOf(t, func() error { return run(context.Background(), []string{"backup", "--out", archive}) })
		if err != nil {
			t.Fatal(err)
		}
		m, err := backup.Verify(archive)
		if err != nil {
			t.Fatal(err)
		}
		if m.Blobs.Backend != backup.BlobsS3 || m.Blobs.InArchive || !strings.Contains(m.Blobs.Note, "NOT in this archive") || !strings.Contains(out, "NOT in this archive") {
			t.Fatalf("manifest blobs %+v; printed %q", m.Blobs, out)
		}
	})
}
