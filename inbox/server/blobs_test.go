package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/blobs"
)

// countFiles counts the blob files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// A refused reply writes no file; files nothing references are swept after
// a grace period, the referenced ones stay (issue 14, item 12).
func TestRefusedRepliesLeaveNoFilesAndOrphansAreSwept(t *testing.T) {
	ch := &scripted{}
	ta, m, conv := newOutboxApp(t, ch)
	dir := ta.opts.Blobs.(blobs.Dir).Dir
	other := ta.user("other@example.ru", crm.Manager)
	before := countFiles(t, dir)
	file := inbox.ReplyAttachment{Name: "price.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 a big price list")}
	if _, err := ta.Reply(context.Background(), other, conv.ID, inbox.ReplyRequest{Text: "mine now", Attachments: []inbox.ReplyAttachment{file}}); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("another manager's reply: %v, want not found", err)
	}
	if n := countFiles(t, dir); n != before {
		t.Fatalf("a refused reply left %d files", n-before)
	}
	// A reply that goes through keeps its file; an orphan goes.
	if _, err := ta.Reply(context.Background(), m, conv.ID, inbox.ReplyRequest{Text: "here", Attachments: []inbox.ReplyAttachment{file}}); err != nil {
		t.Fatal(err)
	}
	orphan, err := blobs.PutBytes(context.Background(), ta.opts.Blobs, []byte("written, then its transaction failed"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	fresh, _ := blobs.PutBytes(context.Background(), ta.opts.Blobs, []byte("just written, its touch is on its way"))
	n, err := ta.SweepBlobs(context.Background(), inbox.BlobGrace)
	if err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want the one old orphan", n, err)
	}
	for key, want := range map[string]bool{orphan: false, fresh: true} {
		_, err := ta.opts.Blobs.Open(context.Background(), key)
		if (err == nil) != want {
			t.Errorf("blob %s…: open err %v, want kept=%v", key[:8], err, want)
		}
	}
	var att crm.Attachment
	if err := ta.db.Where("name = ?", "price.pdf").Take(&att).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := ta.opts.Blobs.Open(context.Background(), att.SHA256); err != nil {
		t.Errorf("the sent reply's file was swept: %v", err)
	}
}
