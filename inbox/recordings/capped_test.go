package recordings

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/switchboard/switchboard/inbox/blobs"
)

// A recording up to the cap is stored; one byte more fails and leaves
// nothing in the store, without the recording ever being held in memory.
func TestCappedRecordingsStreamIntoTheStore(t *testing.T) {
	store := blobs.Dir{Dir: t.TempDir()}
	data := bytes.Repeat([]byte("RIFF"), 256)
	info, err := store.Put(context.Background(), &capped{r: bytes.NewReader(data), left: int64(len(data))})
	if err != nil || info.Size != int64(len(data)) || info.Key != blobs.Key(data) {
		t.Fatalf("at the cap: %+v, %v", info, err)
	}
	other := append(bytes.Repeat([]byte("WAVE"), 256), 'x')
	if _, err := store.Put(context.Background(), &capped{r: bytes.NewReader(other), left: int64(len(other) - 1)}); !errors.Is(err, errTooLarge) {
		t.Fatalf("one byte over the cap: %v, want errTooLarge", err)
	}
	n := 0
	store.List(context.Background(), func(blobs.Info) error { n++; return nil })
	if n != 1 {
		t.Fatalf("the store holds %d blobs, want the one under the cap", n)
	}
	if b, err := io.ReadAll(&capped{r: bytes.NewReader(nil), left: 10}); err != nil || len(b) != 0 {
		t.Fatalf("empty: %q, %v", b, err)
	}
}
