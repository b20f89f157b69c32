package server

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/blobs/blobstest"
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

// The files of an inbound message, a reply's file on its way to the
// channel and the sweep go through the database and S3 backends as they do
// through the directory (issue 17, item 1).
func TestFilesTravelThroughEveryBlobBackend(t *testing.T) {
	for name, store := range map[string]func(t *testing.T) blobs.Store{
		"database": func(t *testing.T) blobs.Store { return blobs.Database{DB: crmtest.Open(t)} },
		"s3": func(t *testing.T) blobs.Store {
			s, err := blobs.NewS3(blobstest.S3(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ch := &scripted{}
			bs := store(t)
			ta, m, conv := newOutboxApp(t, ch, func(o *Options) { o.Blobs = bs })
			res := ta.ingest(channels.Inbound{AccountID: conv.AccountID, ExternalID: "in-2", From: []channels.Handle{{Kind: "whatsapp", Value: "79131234567@s.whatsapp.net"}},
				Attachments: []channels.Attachment{{Name: "plan.jpg", ContentType: "image/jpeg", Data: []byte("\xff\xd8 kitchen plan")}}})
			var att crm.Attachment
			if err := ta.db.Where("touch_id = ?", res[0].TouchID).Take(&att).Error; err != nil {
				t.Fatal(err)
			}
			_, rc, err := ta.OpenAttachment(ctx, m, att.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != "\xff\xd8 kitchen plan" {
				t.Fatalf("the inbound file reads %q", got)
			}
			file := inbox.ReplyAttachment{Name: "price.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 price list")}
			if _, err := ta.Reply(ctx, m, conv.ID, inbox.ReplyRequest{Text: "here", Attachments: []inbox.ReplyAttachment{file}}); err != nil {
				t.Fatal(err)
			}
			if n := ta.DispatchDue(ctx); n != 1 || len(ch.sent) != 1 || len(ch.sent[0].Attachments) != 1 || string(ch.sent[0].Attachments[0].Data) != string(file.Data) {
				t.Fatalf("dispatched %d, sent %+v", n, ch.sent)
			}
			orphan, _ := blobs.PutBytes(ctx, bs, []byte("written, then its transaction failed"))
			// A grace below zero makes everything old enough.
			if n, err := ta.SweepBlobs(ctx, -time.Hour); err != nil || n != 1 {
				t.Fatalf("swept %d (%v), want the orphan only", n, err)
			}
			if _, err := bs.Stat(ctx, orphan); !errors.Is(err, crm.ErrNotFound) {
				t.Errorf("the orphan is still there: %v", err)
			}
			for _, k := range []string{att.SHA256, blobs.Key(file.Data)} {
				if _, err := bs.Stat(ctx, k); err != nil {
					t.Errorf("a referenced file was swept: %v", err)
				}
			}
		})
	}
}
