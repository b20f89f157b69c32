package blobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/blobs/blobstest"
)

// backends are the stores every contract test runs on. measure says
// whether the test process's heap tells the store's memory use (not so
// for S3: the in-process server keeps its objects in memory).
//
// aging gives a store and a function that makes its blobs two days old:
// the given ones (dir, database), or all written so far (s3).
type backend struct {
	name    string
	store   func(t *testing.T) blobs.Store
	measure bool
	aging   func(t *testing.T) (blobs.Store, func(keys ...string))
}

func backends(t *testing.T) []backend {
	old := time.Now().Add(-48 * time.Hour)
	list := []backend{
		{"dir", func(t *testing.T) blobs.Store { return blobs.Dir{Dir: t.TempDir()} }, true, nil},
		{"database", func(t *testing.T) blobs.Store {
			// Small chunks, so that the tests cross chunk boundaries.
			return blobs.Database{DB: crmtest.Open(t), ChunkSize: 64 << 10}
		}, true, nil},
		{"s3", func(t *testing.T) blobs.Store {
			s, err := blobs.NewS3(blobstest.S3(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			return s
		}, false, nil},
	}
	list[0].aging = func(t *testing.T) (blobs.Store, func(...string)) {
		d := blobs.Dir{Dir: t.TempDir()}
		return d, func(keys ...string) {
			for _, k := range keys {
				os.Chtimes(filepath.Join(d.Dir, k[:2], k[2:]), old, old)
			}
		}
	}
	list[1].aging = func(t *testing.T) (blobs.Store, func(...string)) {
		db := crmtest.Open(t)
		return blobs.Database{DB: db}, func(keys ...string) {
			if err := db.Exec(`UPDATE blobs SET created_at = ? WHERE sha256 IN ?`, old, keys).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	list[2].aging = func(t *testing.T) (blobs.Store, func(...string)) {
		clock := gofakes3.FixedTimeSource(old)
		s, err := blobs.NewS3(blobstest.S3Clock(t, clock))
		if err != nil {
			t.Fatal(err)
		}
		return s, func(...string) { clock.Advance(time.Since(old)) }
	}
	return list
}

// TestStoreContract is what every backend promises, tried on each: on
// PostgreSQL too when SWITCHBOARD_TEST_DATABASE_URL names one.
func TestStoreContract(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("a blob put is read back under its SHA-256", func(t *testing.T) { putAndOpen(t, b.store(t)) })
			t.Run("the same content is stored once", func(t *testing.T) { sameContentOnce(t, b.store(t)) })
			t.Run("concurrent puts of the same content store it once", func(t *testing.T) { concurrent(t, b.store(t)) })
			t.Run("a missing or malformed key is not found", func(t *testing.T) { missing(t, b.store(t)) })
			t.Run("a failed read stores nothing", func(t *testing.T) { failedRead(t, b.store(t)) })
			t.Run("list and delete serve the sweep", func(t *testing.T) { listDeleteSweep(t, b.store(t)) })
			t.Run("a blob put again is fresh for the sweep", func(t *testing.T) { s, age := b.aging(t); putAgain(t, s, age) })
			t.Run("a 20 MB blob streams in and out", func(t *testing.T) { large(t, b.store(t), b.measure) })
		})
	}
}

func readAll(t *testing.T, s blobs.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func putAndOpen(t *testing.T, s blobs.Store) {
	ctx := context.Background()
	for _, data := range [][]byte{[]byte("%PDF-1.4 a price list"), {}, bytes.Repeat([]byte("0123456789abcdef"), 10000)} {
		info, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if info.Key != hex.EncodeToString(sum[:]) || info.Size != int64(len(data)) {
			t.Fatalf("put %d bytes: %+v, want key %x", len(data), info, sum)
		}
		if got := readAll(t, s, info.Key); !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, want %d", len(got), len(data))
		}
		st, err := s.Stat(ctx, info.Key)
		if err != nil || st.Size != int64(len(data)) || st.Key != info.Key {
			t.Fatalf("stat: %+v, %v", st, err)
		}
	}
	key, err := blobs.PutBytes(ctx, s, []byte("small"))
	if err != nil || key != blobs.Key([]byte("small")) {
		t.Fatalf("PutBytes: %s, %v", key, err)
	}
}

func keys(t *testing.T, s blobs.Store) []string {
	t.Helper()
	var out []string
	if err := s.List(context.Background(), func(i blobs.Info) error { out = append(out, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func sameContentOnce(t *testing.T, s blobs.Store) {
	ctx := context.Background()
	a, err := blobs.PutBytes(ctx, s, []byte("the same recording"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := blobs.PutBytes(ctx, s, []byte("the same recording"))
	if err != nil || a != b {
		t.Fatalf("second put: %s, %v; want %s", b, err, a)
	}
	if got := keys(t, s); len(got) != 1 || got[0] != a {
		t.Fatalf("listed %v, want only %s", got, a)
	}
}

// concurrent is two replicas receiving the same file at once.
func concurrent(t *testing.T, s blobs.Store) {
	data := bytes.Repeat([]byte("the same voicemail "), 20000)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			info, err := s.Put(context.Background(), bytes.NewReader(data))
			if err == nil && info.Key != blobs.Key(data) {
				err = errors.New("wrong key " + info.Key)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := keys(t, s); len(got) != 1 {
		t.Fatalf("listed %v, want one blob", got)
	}
	if got := readAll(t, s, blobs.Key(data)); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(data))
	}
}

func missing(t *testing.T, s blobs.Store) {
	ctx := context.Background()
	for _, key := range []string{blobs.Key([]byte("never stored")), "", "../../etc/passwd", "ABCDEF" + blobs.Key(nil)[6:]} {
		if _, err := s.Open(ctx, key); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("open %q: %v, want not found", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("stat %q: %v, want not found", key, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("delete %q: %v, want nothing to do", key, err)
		}
	}
}

// brokenReader gives some bytes, then fails: a connection that drops.
type brokenReader struct{ n int }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n >= 200<<10 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), 200<<10-b.n)
	b.n += n
	return n, nil
}

func failedRead(t *testing.T, s blobs.Store) {
	if _, err := s.Put(context.Background(), &brokenReader{}); err == nil {
		t.Fatal("put from a failing reader succeeded")
	}
	if got := keys(t, s); len(got) != 0 {
		t.Fatalf("a failed put left %v", got)
	}
	// Whatever an interrupted put leaves behind goes with the sweep.
	n, err := blobs.Sweep(context.Background(), s, time.Now().Add(time.Hour), func([]string) (map[string]bool, error) { return nil, nil })
	if err != nil || n != 0 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
}

func listDeleteSweep(t *testing.T, s blobs.Store) {
	ctx := context.Background()
	kept, _ := blobs.PutBytes(ctx, s, []byte("a sent reply's file"))
	orphan, _ := blobs.PutBytes(ctx, s, []byte("a refused reply's file"))
	gone, _ := blobs.PutBytes(ctx, s, []byte("deleted by hand"))
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	want := []string{kept, orphan}
	sort.Strings(want)
	if got := keys(t, s); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("listed %v, want %v", got, want)
	}
	refs := func(keys []string) (map[string]bool, error) { return map[string]bool{kept: true}, nil }
	// Nothing is old enough yet.
	if n, err := blobs.Sweep(ctx, s, time.Now().Add(-time.Hour), refs); err != nil || n != 0 {
		t.Fatalf("sweep of fresh blobs: %d, %v", n, err)
	}
	n, err := blobs.Sweep(ctx, s, time.Now().Add(time.Hour), refs)
	if err != nil || n != 1 {
		t.Fatalf("sweep: removed %d (%v), want the orphan", n, err)
	}
	if got := keys(t, s); len(got) != 1 || got[0] != kept {
		t.Fatalf("after the sweep: %v, want %s", got, kept)
	}
}

// putAgain is a day-old orphan that a new reply sends again: the sweep
// that runs before the reply commits must not take it.
func putAgain(t *testing.T, s blobs.Store, age func(keys ...string)) {
	ctx := context.Background()
	again, _ := blobs.PutBytes(ctx, s, []byte("sent last week, and again today"))
	orphan, _ := blobs.PutBytes(ctx, s, []byte("sent last week only"))
	age(again, orphan)
	if k, err := blobs.PutBytes(ctx, s, []byte("sent last week, and again today")); err != nil || k != again {
		t.Fatalf("put again: %s, %v", k, err)
	}
	none := func([]string) (map[string]bool, error) { return nil, nil }
	n, err := blobs.Sweep(ctx, s, time.Now().Add(-24*time.Hour), none)
	if err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want the orphan only", n, err)
	}
	if _, err := s.Stat(ctx, again); err != nil {
		t.Fatalf("the blob put again was swept: %v", err)
	}
}

// pattern yields n deterministic bytes without holding them.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(b)), p.n-p.off))
	for i := range k {
		x := p.off + int64(i)
		b[i] = byte(x*2654435761>>13) ^ byte(x)
	}
	p.off += int64(k)
	return k, nil
}

// peakHeap samples the heap while fn runs and returns the highest value
// above the heap before it.
func peakHeap(fn func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

func large(t *testing.T, s blobs.Store, measure bool) {
	const size = 20 << 20
	ctx := context.Background()
	h := sha256.New()
	io.Copy(h, &pattern{n: size})
	want := hex.EncodeToString(h.Sum(nil))
	var info blobs.Info
	var err error
	putPeak := peakHeap(func() { info, err = s.Put(ctx, &pattern{n: size}) })
	if err != nil || info.Key != want || info.Size != size {
		t.Fatalf("put: %+v, %v; want key %s", info, err, want)
	}
	var got string
	readPeak := peakHeap(func() {
		rc, err := s.Open(ctx, info.Key)
		if err != nil {
			t.Error(err)
			return
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			t.Error(err)
		}
		got = hex.EncodeToString(h.Sum(nil))
	})
	if got != want {
		t.Fatalf("read back a blob hashing to %s, want %s", got, want)
	}
	t.Logf("heap above the start: put %d KiB, open %d KiB", putPeak>>10, readPeak>>10)
	if measure && (putPeak > size/2 || readPeak > size/2) {
		t.Errorf("a %d MiB blob took %d MiB of heap to put and %d MiB to read: not streamed", size>>20, putPeak>>20, readPeak>>20)
	}
}
