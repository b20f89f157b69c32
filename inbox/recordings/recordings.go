// Package recordings fetches call recordings into the blob store in the
// background. A call touch arrives with its recording's link
// (crm.Recording, queued by ingest); a provider's link may appear only a
// minute after the call ends and may expire, so the fetcher retries with
// backoff, stores the file as the call's attachment (played inline in the
// timeline) or, failing for good, keeps the link and says why.
package recordings

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// Adapters gives an account's adapter (the supervisor's running one, or a
// fresh one).
type Adapters interface {
	Adapter(ctx context.Context, account int64) (channels.Adapter, error)
}

// Options tune the fetcher.
type Options struct {
	// MaxBytes is the largest recording stored; a bigger one fails with
	// its link kept. Default 200 MB.
	MaxBytes int64
	// MaxAttempts is how often a fetch is tried; default 10 (the last one
	// about an hour and a half after the call).
	MaxAttempts int
	// Timeout bounds one fetch; default 5 minutes.
	Timeout time.Duration
}

// Fetcher fetches due recordings.
type Fetcher struct {
	db       *gorm.DB
	log      *slog.Logger
	rt       *realtime.Publisher
	blobs    blobs.Store
	adapters Adapters
	opts     Options
	wake     chan struct{}
}

// New returns a fetcher of the jobs in db.
func New(db *gorm.DB, log *slog.Logger, rt *realtime.Publisher, store blobs.Store, adapters Adapters, opts Options) *Fetcher {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 200 << 20
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	return &Fetcher{db: db, log: log, rt: rt, blobs: store, adapters: adapters, opts: opts, wake: make(chan struct{}, 1)}
}

// Wake makes Run look for due fetches now (after ingest queued one).
func (f *Fetcher) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run fetches due recordings until ctx ends, one at a time (a recording is
// large; the PBX is not to be flooded).
func (f *Fetcher) Run(ctx context.Context) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		f.FetchDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		case <-tick.C:
		}
	}
}

// FetchDue tries every due fetch once and returns how many it tried.
func (f *Fetcher) FetchDue(ctx context.Context) int {
	n := 0
	for ctx.Err() == nil {
		due, err := crm.DueRecordings(f.db.WithContext(ctx), time.Now().UTC(), 20)
		if err != nil {
			f.log.Error("recordings: due", "err", err)
			return n
		}
		tried := 0
		for _, r := range due {
			ok, err := crm.ClaimRecording(f.db.WithContext(ctx), &r, time.Now(), f.opts.Timeout+time.Minute)
			if err != nil {
				f.log.Error("recordings: claim", "job", r.ID, "err", err)
				return n
			}
			if ok {
				f.fetch(ctx, r)
				tried++
			}
		}
		n += tried
		if tried == 0 {
			return n
		}
	}
	return n
}

// fetch tries one recording and records the outcome.
func (f *Fetcher) fetch(ctx context.Context, r crm.Recording) {
	log := f.log.With("job", r.ID, "touch_id", r.TouchID, "account", r.AccountID)
	file, err := f.download(ctx, r)
	if ctx.Err() != nil {
		return // shutting down: the claim runs out and the fetch is retried
	}
	cerr := f.rt.Change(context.WithoutCancel(ctx), func(tx *gorm.DB, ev *realtime.Events) error {
		var data map[string]any
		if err == nil {
			if err := crm.RecordingFetched(tx, r, file); err != nil {
				return err
			}
			log.Info("recordings: stored", "bytes", file.Size)
			data = map[string]any{"status": crm.RecordingStored}
		} else {
			next := time.Time{}
			if !errors.Is(err, channels.ErrPermanent) && r.Attempts+1 < f.opts.MaxAttempts {
				next = time.Now().Add(backoff(r.Attempts + 1))
			}
			if err := crm.RecordingAttempt(tx, r, err.Error(), next); err != nil {
				return err
			}
			if !next.IsZero() {
				log.Info("recordings: fetch failed, will retry", "attempt", r.Attempts+1, "at", next, "err", err)
				return nil
			}
			log.Warn("recordings: fetch failed for good", "attempt", r.Attempts+1, "err", err)
			data = map[string]any{"status": crm.RecordingFailed, "error": err.Error()}
		}
		t, err := crm.GetTouch(tx, r.TouchID)
		if err != nil {
			return err
		}
		conv, err := crm.GetConversation(tx, t.ConversationID)
		if err != nil {
			return err
		}
		data["assignee_id"] = conv.AssigneeID // who may see it
		return ev.Add(crm.EventTouchRecording, &t.ConversationID, &t.ID, data)
	})
	if cerr != nil {
		log.Error("recordings: record outcome", "err", cerr)
	}
}

// download opens the recording through the account's adapter and writes
// it into the blob store.
func (f *Fetcher) download(ctx context.Context, r crm.Recording) (crm.Attachment, error) {
	ad, err := f.adapters.Adapter(ctx, r.AccountID)
	if err != nil {
		return crm.Attachment{}, err
	}
	op, ok := ad.(channels.RecordingOpener)
	if !ok {
		return crm.Attachment{}, channels.Permanent(errors.New("this account's channel cannot fetch recordings"))
	}
	fctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	body, ctype, err := op.OpenRecording(fctx, r.URL)
	if err != nil {
		return crm.Attachment{}, err
	}
	defer body.Close()
	// Streamed into the store: a long call's recording is never held in
	// memory; its first bytes name the type when the server does not.
	br := bufio.NewReader(body)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return crm.Attachment{}, fmt.Errorf("reading the recording: %w", err)
	}
	if len(head) == 0 {
		return crm.Attachment{}, errors.New("the recording is empty")
	}
	if ctype == "" || ctype == "application/octet-stream" {
		ctype = http.DetectContentType(head)
	}
	info, err := f.blobs.Put(ctx, &capped{r: br, left: f.opts.MaxBytes})
	if errors.Is(err, errTooLarge) {
		return crm.Attachment{}, channels.Permanent(fmt.Errorf("the recording is larger than %d MB; it stays at its link", f.opts.MaxBytes>>20))
	}
	if err != nil {
		return crm.Attachment{}, fmt.Errorf("storing the recording: %w", err)
	}
	return crm.Attachment{Name: fileName(r, ctype), ContentType: ctype, Size: info.Size, SHA256: info.Key, CreatedAt: time.Now().UTC()}, nil
}

var errTooLarge = errors.New("recordings: over the size limit")

// capped passes at most left bytes and fails with errTooLarge when there
// are more, so that the store drops what it has written.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err // io.EOF at the end
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// fileName names a recording by its link's last element, or by the call.
func fileName(r crm.Recording, ctype string) string {
	name := path.Base(strings.SplitN(strings.SplitN(r.URL, "?", 2)[0], "#", 2)[0])
	if name == "." || name == "/" || !strings.Contains(name, ".") {
		name = fmt.Sprintf("call-%d", r.TouchID)
		if exts, _ := mime.ExtensionsByType(ctype); len(exts) > 0 {
			name += exts[0]
		}
	}
	return crm.Clip(name, 200)
}

// backoff is the wait before attempt n+1: 30 s doubling to 30 min.
func backoff(attempts int) time.Duration {
	return min(30*time.Second<<min(attempts-1, 10), 30*time.Minute)
}
