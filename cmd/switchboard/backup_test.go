package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox/backup"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/ingest"
	"github.com/switchboard/switchboard/inbox/realtime"
	"github.com/switchboard/switchboard/migrations"
)

// quiet runs a command and keeps what it prints out of the test output.
func quiet(t *testing.T, args []string) error {
	t.Helper()
	_, err := stdoutOf(t, func() error { return run(context.Background(), args) })
	return err
}

// serveInBackground runs "switchboard serve" as configured by the
// environment until the returned stop is called.
func serveInBackground(t *testing.T) (stop func()) {
	t.Helper()
	addr := freeAddr(t)
	t.Setenv("SWITCHBOARD_ADDR", addr)
	t.Setenv("SWITCHBOARD_OWNER_PASSWORD", "correct-horse")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}) }()
	for i := 0; ; i++ {
		if r, err := http.Get("http://" + addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if i == 200 {
			cancel()
			t.Fatalf("server did not become ready: %v", <-done)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// writer ingests web-form touches through the real sink, on a database
// handle of its own (as another process would), every third with an
// attachment, until stopped.
type writer struct {
	n    atomic.Int64
	stop chan struct{}
	done chan error
}

func startWriter(t *testing.T, db *gorm.DB, blobDir string) *writer {
	t.Helper()
	key, _ := crm.ParseKey(strings.Repeat("cd", 32))
	box, _ := crm.NewSecretBox(key)
	name := "site form"
	acc, err := crm.SaveAccount(db, box, 0, crm.AccountInput{Channel: "web", Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := ingest.New(db, log, realtime.New(db, log, realtime.NewHub()), blobs.Dir{Dir: blobDir}, ingest.Options{})
	w := &writer{stop: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				w.done <- nil
				return
			default:
			}
			in := channels.Inbound{
				AccountID: acc.ID, ExternalID: fmt.Sprintf("form-%d", i), Kind: channels.Form,
				From:       []channels.Handle{{Kind: "email", Value: fmt.Sprintf("client%d@example.ru", i%40)}},
				EntryPoint: "landing", SourceHint: "context ads", Text: fmt.Sprintf("call me back, %d", i),
			}
			if i%3 == 0 {
				in.Attachments = []channels.Attachment{{Name: "brief.txt", ContentType: "text/plain", Data: []byte(fmt.Sprintf("brief number %d %s", i, strings.Repeat("x", i)))}}
			}
			res, err := sink.Ingest(context.Background(), []channels.Inbound{in})
			if err == nil && res[0].Err != nil {
				err = res[0].Err
			}
			if err != nil {
				w.done <- fmt.Errorf("ingest %d: %w", i, err)
				return
			}
			w.n.Add(1)
		}
	}()
	return w
}

func (w *writer) wait(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); w.n.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("the writer wrote %d touches, want %d", w.n.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *writer) halt(t *testing.T) {
	t.Helper()
	close(w.stop)
	if err := <-w.done; err != nil {
		t.Fatal(err)
	}
}

// restoreTarget points the commands at a new, empty target: a data
// directory, and on PostgreSQL a new empty database.
func restoreTarget(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "restored")
	t.Setenv("SWITCHBOARD_DATA", dir)
	if crmtest.Postgres() {
		t.Setenv("DATABASE_URL", crmtest.EmptyPostgres(t))
	}
	return dir
}

func openTarget(t *testing.T, dir string) *gorm.DB {
	t.Helper()
	db, err := crm.Open(os.Getenv("DATABASE_URL"), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

func TestBackupOfARunningServerUnderWritesRestoresAConsistentCopy(t *testing.T) {
	data := dataEnv(t)
	t.Setenv("SWITCHBOARD_SECRET_KEY", "") // serve writes data/secret.key: the archive takes it
	t.Setenv("SWITCHBOARD_LOG_LEVEL", "error")
	stop := serveInBackground(t)
	srcURL := os.Getenv("DATABASE_URL")
	src := openTarget(t, data)
	w := startWriter(t, src, filepath.Join(data, "blobs"))
	w.wait(t, 30)
	archive := filepath.Join(t.TempDir(), "switchboard.tar.gz")
	before := w.n.Load()
	if err := quiet(t, []string{"backup", "--out", archive}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d touches were written while the backup ran", w.n.Load()-before)
	w.wait(t, w.n.Load()+10) // and more after it
	w.halt(t)
	stop()

	m, err := backup.Verify(archive)
	if err != nil {
		t.Fatal(err)
	}
	checkRecorded(t, src, archive)
	if m.SecretKey != "included" || m.Blobs.Backend != backup.BlobsDir || m.Blobs.Count == 0 {
		t.Fatalf("manifest: secret key %s, blobs %+v", m.SecretKey, m.Blobs)
	}
	target := restoreTarget(t)
	if err := quiet(t, []string{"restore", archive}); err != nil {
		t.Fatal(err)
	}
	dst := openTarget(t, target)
	checkPrefix(t, src, dst, m)
	checkBlobs(t, blobs.Dir{Dir: filepath.Join(data, "blobs")}, blobs.Dir{Dir: filepath.Join(target, "blobs")}, dst, m)
	if a, b := readFile(t, filepath.Join(data, "secret.key")), readFile(t, filepath.Join(target, "secret.key")); a != b {
		t.Fatal("the restored secret key differs")
	}

	// With the writes over, a second backup restores to the same rows in
	// every table and the same blobs.
	t.Setenv("SWITCHBOARD_DATA", data)
	t.Setenv("DATABASE_URL", srcURL)
	second := filepath.Join(t.TempDir(), "second.tar.gz")
	if err := quiet(t, []string{"backup", "--out", second}); err != nil {
		t.Fatal(err)
	}
	target2 := restoreTarget(t)
	if err := quiet(t, []string{"restore", second}); err != nil {
		t.Fatal(err)
	}
	sameTables(t, src, openTarget(t, target2))
	m2, _ := backup.Verify(second)
	checkBlobs(t, blobs.Dir{Dir: filepath.Join(data, "blobs")}, blobs.Dir{Dir: filepath.Join(target2, "blobs")}, src, m2)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkRecorded: the finished backup is in the backups table.
func checkRecorded(t *testing.T, db *gorm.DB, archive string) {
	t.Helper()
	var b crm.Backup
	if err := db.Order("id DESC").First(&b).Error; err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(archive)
	if b.Archive != archive || b.Bytes != st.Size() || time.Since(b.FinishedAt) > time.Minute || time.Since(b.FinishedAt) < 0 {
		t.Fatalf("recorded %+v, archive %d bytes", b, st.Size())
	}
}

func count(t *testing.T, db *gorm.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(q).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// checkPrefix: the restored database is the archive's (schema version,
// rows per table), consistent (no touch without its conversation and
// contact, no attachment without its touch), and a prefix of the source:
// the first touches in order, each as the source has it.
func checkPrefix(t *testing.T, src, dst *gorm.DB, m backup.Manifest) {
	t.Helper()
	srcSQL, _ := src.DB()
	dstSQL, _ := dst.DB()
	ctx := context.Background()
	sv, _ := migrations.Current(ctx, srcSQL)
	dv, _ := migrations.Current(ctx, dstSQL)
	if sv != m.SchemaVersion || dv != m.SchemaVersion {
		t.Fatalf("schema versions: source %d, restored %d, manifest %d", sv, dv, m.SchemaVersion)
	}
	names, err := backup.TableNames(ctx, dstSQL, crm.Dialect(dst))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(m.Tables) {
		t.Fatalf("restored %d tables, the manifest lists %d", len(names), len(m.Tables))
	}
	for _, n := range names {
		if got := count(t, dst, `SELECT COUNT(*) FROM `+n); got != m.Tables[n] {
			t.Errorf("%s: %d rows restored, the manifest says %d", n, got, m.Tables[n])
		}
	}
	touches := m.Tables["touches"]
	if all := count(t, src, `SELECT COUNT(*) FROM touches`); touches < 30 || all <= touches {
		t.Fatalf("the archive has %d touches of the source's %d: want the copy taken mid-stream", touches, all)
	}
	for _, q := range []string{
		`SELECT COUNT(*) FROM touches t LEFT JOIN conversations c ON c.id = t.conversation_id LEFT JOIN contacts k ON k.id = t.contact_id WHERE c.id IS NULL OR k.id IS NULL`,
		`SELECT COUNT(*) FROM attachments a LEFT JOIN touches t ON t.id = a.touch_id WHERE t.id IS NULL`,
		`SELECT COUNT(*) FROM identities i LEFT JOIN contacts k ON k.id = i.contact_id WHERE k.id IS NULL`,
	} {
		if n := count(t, dst, q); n != 0 {
			t.Errorf("%d orphans in the restored database: %s", n, q)
		}
	}
	if crm.Dialect(dst) == migrations.SQLite {
		var ok string
		dst.Raw(`PRAGMA integrity_check`).Scan(&ok)
		var fk []map[string]any
		dst.Raw(`PRAGMA foreign_key_check`).Scan(&fk)
		if ok != "ok" || len(fk) > 0 {
			t.Fatalf("integrity_check %q, foreign_key_check %v", ok, fk)
		}
	}
	for _, table := range []string{"touches", "contacts", "identities", "attachments"} {
		d, s := tableRows(t, dst, table+" ORDER BY id"), tableRows(t, src, table+" ORDER BY id")
		if len(d) > len(s) || !slices.Equal(d, s[:len(d)]) {
			t.Errorf("%s: the restored %d rows are not the source's first ones", table, len(d))
		}
	}
}

// tableRows renders the rows of "SELECT * FROM <from>" as strings.
func tableRows(t *testing.T, db *gorm.DB, from string) []string {
	t.Helper()
	rows, err := db.Raw(`SELECT * FROM ` + from).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339Nano)
			}
			fmt.Fprintf(&b, "%s=%v|", cols[i], v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTables: every table has the same rows in both databases, but for
// backups, where the source has one more: the second backup itself.
func sameTables(t *testing.T, src, dst *gorm.DB) {
	t.Helper()
	srcSQL, _ := src.DB()
	names, err := backup.TableNames(context.Background(), srcSQL, crm.Dialect(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		s, d := tableRows(t, src, n), tableRows(t, dst, n)
		if n == "backups" {
			s = s[:len(s)-1]
		}
		slices.Sort(s)
		slices.Sort(d)
		if !slices.Equal(s, d) {
			t.Errorf("%s: the source has %d rows, the restored copy %d, and they differ", n, len(s), len(d))
		}
	}
}

// checkBlobs: the restored directory holds the archive's blobs, each the
// source's bytes, and every attachment of db has its blob there.
func checkBlobs(t *testing.T, src, dst blobs.Store, db *gorm.DB, m backup.Manifest) {
	t.Helper()
	ctx := context.Background()
	var n int64
	err := dst.List(ctx, func(info blobs.Info) error {
		n++
		got, want := blobBytes(t, dst, info.Key), blobBytes(t, src, info.Key)
		if sum := sha256.Sum256([]byte(got)); hex.EncodeToString(sum[:]) != info.Key || got != want {
			t.Errorf("blob %s differs from the source's", info.Key)
		}
		return nil
	})
	if err != nil || n != m.Blobs.Count {
		t.Fatalf("restored %d blobs (%v), the manifest says %d", n, err, m.Blobs.Count)
	}
	var keys []string
	db.Raw(`SELECT sha256 FROM attachments WHERE sha256 <> ''`).Scan(&keys)
	if len(keys) == 0 {
		t.Fatal("no attachments to check")
	}
	for _, k := range keys {
		if _, err := dst.Stat(ctx, k); err != nil {
			t.Errorf("attachment blob %s: %v", k, err)
		}
	}
}

func blobBytes(t *testing.T, s blobs.Store, key string) string {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}
