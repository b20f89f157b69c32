package email

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/switchboard/switchboard/channels"
)

// Fetch limits: a batch is at most BatchSize messages and, past its first
// message, at most batchBytes of message data, so a folder of large
// attachments does not have to fit in memory at once. A batch is also one
// transaction of the sink: 500 keeps a first import's per-transaction costs
// small while progress still moves every few hundred messages.
const (
	BatchSize  = 500
	batchBytes = 32 << 20
	// idleRefresh is how often IDLE on a single folder is stopped to check
	// the connection and the folder; several folders use the poll interval.
	idleRefresh = 10 * time.Minute
	dialTimeout = 30 * time.Second
)

// folderCursor is one folder's position: its UIDVALIDITY and the highest
// UID that was handed to the sink (or skipped).
type folderCursor struct {
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

// cursor is the account position stored in Inbound.Cursor as JSON:
//
//	{"folders":{"INBOX":{"uidvalidity":1700000000,"last_uid":4711}}}
//
// It is immutable: with returns a copy.
type cursor struct {
	Folders map[string]folderCursor `json:"folders"`
}

func parseCursor(s string) (cursor, error) {
	var c cursor
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return cursor{}, fmt.Errorf("email: cursor: %w", err)
	}
	return c, nil
}

func (c cursor) String() string {
	if len(c.Folders) == 0 {
		return ""
	}
	b, _ := json.Marshal(c)
	return string(b)
}

func (c cursor) with(folder string, fc folderCursor) cursor {
	m := make(map[string]folderCursor, len(c.Folders)+1)
	for k, v := range c.Folders {
		m[k] = v
	}
	m[folder] = fc
	return cursor{Folders: m}
}

func (a *Adapter) folder(name string) (folderCursor, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fc, ok := a.cur.Folders[name]
	return fc, ok
}

// advance moves the in-memory cursor once the sink has accepted a batch.
func (a *Adapter) advance(folder string, fc folderCursor) cursor {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cur = a.cur.with(folder, fc)
	return a.cur
}

func (a *Adapter) snapshot() cursor {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// Run reads the account's folders until ctx ends: it imports what arrived
// since the stored cursor (the last initial_days days on the first start,
// or after a UIDVALIDITY change), then waits for new mail with IDLE, or
// polls every poll_interval when the server has no IDLE. Each batch of at
// most 100 messages goes to sink.Ingest with the cursor after it; the
// in-memory position moves only when Ingest succeeded, so a failed batch
// is fetched again by the next Run.
//
// Run reports Connecting, Syncing (done of total during an import),
// Live, then Stopped when ctx ends (returning nil) or Failing with the
// error it returns: a refused login (with the server's text), a lost
// connection, a sink that could not store.
func (a *Adapter) Run(ctx context.Context, sink channels.Sink, report func(channels.State)) error {
	if report == nil {
		report = func(channels.State) {}
	}
	s := &session{a: a, sink: sink, report: report, newMail: make(chan struct{}, 1)}
	err := s.run(ctx)
	if ctx.Err() != nil {
		report(channels.State{Phase: channels.Stopped, Since: time.Now()})
		return nil
	}
	if err == nil {
		err = errors.New("email: imap connection closed")
	}
	a.log.Warn("email: run failed", "err", err)
	report(channels.State{Phase: channels.Failing, Error: err.Error(), Since: time.Now()})
	return err
}

// session is one connection's worth of Run.
type session struct {
	a       *Adapter
	sink    channels.Sink
	report  func(channels.State)
	phase   channels.Phase
	newMail chan struct{}
}

func (s *session) setPhase(p channels.Phase, done, total int) {
	if p == s.phase && p != channels.Syncing {
		return
	}
	s.phase = p
	s.report(channels.State{Phase: p, Done: done, Total: total, Since: time.Now()})
}

func (s *session) run(ctx context.Context) error {
	s.setPhase(channels.Connecting, 0, 0)
	c, err := s.a.connect(ctx, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// EXISTS outside SELECT: new mail in the selected folder. The
			// handler runs on the client's reader, so it must not block.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	})
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	caps := c.Caps()
	idle := (caps.Has(imap.CapIdle) || caps.Has(imap.CapIMAP4rev2)) && !s.a.noIdle
	folders := s.a.set.Folders
	for {
		// In their configured order: a first import reads the client's mail
		// (INBOX) before our answers (Sent), as they happened.
		for _, f := range folders {
			if err := s.sync(ctx, c, f); err != nil {
				return err
			}
		}
		if idle && len(folders) > 1 { // IDLE watches the first folder
			if _, err := c.Select(folders[0], &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				return fmt.Errorf("email: select %q: %w", folders[0], err)
			}
		}
		if err := s.wait(ctx, c, idle, len(folders) > 1); err != nil {
			return err
		}
	}
}

// wait blocks until there may be new mail: an EXISTS during IDLE, or the
// poll interval. It returns an error when the connection is lost.
func (s *session) wait(ctx context.Context, c *imapclient.Client, idle, several bool) error {
	interval := s.a.poll
	if !idle {
		s.setPhase(channels.Live, 0, 0)
		t := time.NewTimer(interval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.Closed():
			return errors.New("email: imap connection closed by the server")
		case <-t.C:
			return nil
		}
	}
	if !several {
		interval = max(interval, idleRefresh)
	}
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("email: idle: %w", err)
	}
	// Live once the server listens: mail appended from now on is seen.
	s.setPhase(channels.Live, 0, 0)
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Closed():
		return errors.New("email: imap connection closed by the server")
	case <-s.newMail:
	case <-t.C:
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("email: idle done: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("email: idle: %w", err)
	}
	return nil
}

// msgMeta is what a first, cheap FETCH tells about a message.
type msgMeta struct {
	uid     imap.UID
	size    int64
	deleted bool
}

// sync imports what is new in one folder.
func (s *session) sync(ctx context.Context, c *imapclient.Client, folder string) error {
	log := s.a.log.With("folder", folder)
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("email: select %q: %w", folder, err)
	}
	fc, known := s.a.folder(folder)
	full := !known || fc.UIDValidity != sel.UIDValidity
	var metas []msgMeta
	end := fc.LastUID
	if full {
		if known {
			log.Info("email: UIDVALIDITY changed, importing the folder again", "old", fc.UIDValidity, "new", sel.UIDValidity)
		}
		fc = folderCursor{UIDValidity: sel.UIDValidity}
		end = 0
		if sel.UIDNext > 0 {
			end = uint32(sel.UIDNext) - 1
		}
		since := time.Now().AddDate(0, 0, -s.a.set.InitialDays)
		data, err := c.UIDSearch(&imap.SearchCriteria{Since: since}, nil).Wait()
		if err != nil {
			return fmt.Errorf("email: search %q since %s: %w", folder, since.Format(time.DateOnly), err)
		}
		if set, ok := data.All.(imap.UIDSet); ok && len(set) > 0 {
			if metas, err = s.meta(c, set, 0); err != nil {
				return fmt.Errorf("email: fetch flags of %q: %w", folder, err)
			}
		}
	} else {
		if sel.UIDNext > 0 && uint32(sel.UIDNext) <= fc.LastUID+1 {
			return nil // nothing new
		}
		set := imap.UIDSet{imap.UIDRange{Start: imap.UID(fc.LastUID + 1), Stop: 0}}
		if metas, err = s.meta(c, set, fc.LastUID); err != nil {
			return fmt.Errorf("email: fetch flags of %q: %w", folder, err)
		}
	}
	var msgs []msgMeta
	for _, m := range metas {
		end = max(end, uint32(m.uid))
		if m.deleted {
			log.Debug("email: skipping a message flagged deleted", "uid", m.uid)
			continue
		}
		msgs = append(msgs, m)
	}

	total := len(msgs)
	syncing := total > 0 && (full || total > BatchSize)
	if syncing {
		log.Info("email: importing", "messages", total, "full", full)
		s.setPhase(channels.Syncing, 0, total)
	}
	if err := s.importAll(ctx, c, folder, fc.UIDValidity, msgs, end, syncing, log); err != nil {
		return err
	}
	if cur, ok := s.a.folder(folder); !ok || cur.UIDValidity != fc.UIDValidity || cur.LastUID < end {
		// Nothing to hand over (or only deleted messages): the position
		// moves in memory and is stored with the next message.
		s.a.advance(folder, folderCursor{UIDValidity: fc.UIDValidity, LastUID: end})
	}
	if syncing {
		s.phase = "" // the next wait reports Live again
	}
	return nil
}

// meta fetches UID, flags and size of the messages in set with a UID above
// after (UID FETCH n:* also returns the last message when none is newer).
func (s *session) meta(c *imapclient.Client, set imap.UIDSet, after uint32) ([]msgMeta, error) {
	bufs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, err
	}
	out := make([]msgMeta, 0, len(bufs))
	for _, b := range bufs {
		if uint32(b.UID) <= after || b.UID == 0 {
			continue
		}
		out = append(out, msgMeta{uid: b.UID, size: b.RFC822Size, deleted: slices.Contains(b.Flags, imap.FlagDeleted)})
	}
	slices.SortFunc(out, func(x, y msgMeta) int { return int(x.uid) - int(y.uid) })
	return out, nil
}

// batch is a fetched and parsed batch, ready for the sink.
type batch struct {
	ins  []channels.Inbound
	uids []imap.UID
	end  uint32 // the folder position after the batch
	done int    // messages of the folder's import up to this batch
	err  error
}

// importAll fetches msgs in batches and hands them to the sink. Fetching
// and parsing the next batch overlaps with the sink storing this one (the
// client pipelines commands); the cursor moves only after the sink
// accepted a batch, and a failed batch stops the import, so a later Run
// fetches it again.
func (s *session) importAll(ctx context.Context, c *imapclient.Client, folder string, validity uint32, msgs []msgMeta, end uint32, syncing bool, log *slog.Logger) error {
	if len(msgs) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	base := s.a.snapshot() // other folders do not move during this import
	ready := make(chan batch, 1)
	go func() {
		defer close(ready)
		for i := 0; i < len(msgs); {
			j, size := i, int64(0)
			for j < len(msgs) && j-i < BatchSize && (j == i || size+msgs[j].size <= batchBytes) {
				size += msgs[j].size
				j++
			}
			batchEnd := uint32(msgs[j-1].uid)
			if j == len(msgs) {
				batchEnd = max(batchEnd, end) // past trailing deleted messages too
			}
			b := s.fetchBatch(c, base, folder, validity, msgs[i:j], batchEnd, log)
			b.done = j
			select {
			case ready <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
			i = j
		}
	}()
	total := len(msgs)
	for b := range ready {
		if b.err != nil {
			return b.err
		}
		if len(b.ins) > 0 {
			res, err := s.sink.Ingest(ctx, b.ins)
			if err != nil {
				return fmt.Errorf("email: ingest %d messages of %q: %w", len(b.ins), folder, err)
			}
			for i, r := range res {
				if r.Err != nil && i < len(b.ins) {
					log.Warn("email: message refused by ingest", "uid", b.uids[i], "external_id", b.ins[i].ExternalID, "err", r.Err)
				}
			}
		}
		s.a.advance(folder, folderCursor{UIDValidity: validity, LastUID: b.end})
		if syncing {
			s.setPhase(channels.Syncing, b.done, total)
		}
	}
	return nil
}

// fetchBatch fetches and parses a batch; each Inbound carries the cursor
// after it, the last one the cursor after the batch.
func (s *session) fetchBatch(c *imapclient.Client, base cursor, folder string, validity uint32, metas []msgMeta, batchEnd uint32, log *slog.Logger) batch {
	var set imap.UIDSet
	for _, m := range metas {
		set.AddNum(m.uid)
	}
	cmd := c.Fetch(set, &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}, // BODY.PEEK[]: leaves \Seen alone
	})
	var got []fetched
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		f, err := collect(msg)
		if err != nil {
			// The connection is broken; closing the command would read the
			// failed literal again. Run closes the client.
			return batch{err: fmt.Errorf("email: fetch %q: %w", folder, err)}
		}
		got = append(got, f)
	}
	if err := cmd.Close(); err != nil {
		return batch{err: fmt.Errorf("email: fetch %q uid %d:%d: %w", folder, metas[0].uid, metas[len(metas)-1].uid, err)}
	}
	slices.SortFunc(got, func(x, y fetched) int { return int(x.uid) - int(y.uid) })

	b := batch{end: batchEnd, ins: make([]channels.Inbound, 0, len(got)), uids: make([]imap.UID, 0, len(got))}
	for _, m := range got {
		if slices.Contains(m.flags, imap.FlagDeleted) {
			continue // deleted since the flags were fetched
		}
		in, err := Parse(m.raw, s.a.own)
		if err != nil {
			log.Warn("email: message not fully parsed, stored with the original attached", "uid", m.uid, "err", err)
		}
		if err == nil && slices.Contains(s.a.own, strings.ToLower(in.From[0].Value)) {
			log.Debug("email: skipping a message from the mailbox itself", "uid", m.uid)
			continue
		}
		in.AccountID = s.a.acc.ID
		in.Kind = channels.Mail
		if in.ExternalID == "" {
			in.ExternalID = fmt.Sprintf("imap:%s:%d:%d", folder, validity, m.uid)
		}
		if in.ThreadKey == "" {
			in.ThreadKey = in.ExternalID
		}
		if settleDate(&in, m.date, time.Now()); in.Meta[MetaDateHeader] != "" {
			log.Info("email: Date header not believed, using the server's arrival time", "uid", m.uid, "date", in.Meta[MetaDateHeader], "arrival", in.At)
		}
		in.Meta["folder"] = folder
		in.Cursor = base.with(folder, folderCursor{UIDValidity: validity, LastUID: uint32(m.uid)}).String()
		b.ins = append(b.ins, in)
		b.uids = append(b.uids, m.uid)
	}
	if len(b.ins) > 0 {
		b.ins[len(b.ins)-1].Cursor = base.with(folder, folderCursor{UIDValidity: validity, LastUID: batchEnd}).String()
	}
	return b
}

// fetched is one message of a batch FETCH.
type fetched struct {
	uid   imap.UID
	flags []imap.Flag
	date  time.Time
	raw   []byte
}

// collect reads a FETCH response. Unlike FetchMessageData.Collect it does
// not go on after a failed literal (go-imap would then read the broken
// literal again, racing its own reader).
func collect(msg *imapclient.FetchMessageData) (fetched, error) {
	var f fetched
	for {
		switch it := msg.Next().(type) {
		case nil:
			return f, nil
		case imapclient.FetchItemDataUID:
			f.uid = it.UID
		case imapclient.FetchItemDataFlags:
			f.flags = it.Flags
		case imapclient.FetchItemDataInternalDate:
			f.date = it.Time
		case imapclient.FetchItemDataBodySection:
			if it.Literal != nil {
				b, err := io.ReadAll(it.Literal)
				if err == nil && int64(len(b)) != it.Literal.Size() {
					// A cut connection ends the literal early with EOF.
					err = fmt.Errorf("message literal of %d bytes ended after %d: %w", it.Literal.Size(), len(b), io.ErrUnexpectedEOF)
				}
				if err != nil {
					return f, err
				}
				f.raw = b
			}
		}
	}
}

// connect dials the IMAP server with the configured security and logs in.
func (a *Adapter) connect(ctx context.Context, opts *imapclient.Options) (*imapclient.Client, error) {
	addr := hostPort(a.set.IMAPHost, a.set.IMAPPort)
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("email: imap connect %s: %w", addr, err)
	}
	// Until login is done, ending ctx closes the connection.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var c *imapclient.Client
	switch a.set.IMAPSecurity {
	case SecurityTLS:
		tc := tls.Client(conn, a.tlsFor(a.set.IMAPHost))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("email: imap tls %s: %w", addr, err)
		}
		c = imapclient.New(tc, opts)
	case SecurityStartTLS:
		o := *opts
		o.TLSConfig = a.tlsFor(a.set.IMAPHost)
		if c, err = imapclient.NewStartTLS(conn, &o); err != nil {
			return nil, fmt.Errorf("email: imap starttls %s: %w", addr, err)
		}
	default:
		c = imapclient.New(conn, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("email: imap greeting from %s: %w", addr, err)
	}
	caps := c.Caps()
	if caps.Has(imap.CapLoginDisabled) && caps.Has(imap.AuthCap(sasl.Plain)) {
		err = c.Authenticate(sasl.NewPlainClient("", a.set.IMAPUser, a.acc.Secret))
	} else {
		err = c.Login(a.set.IMAPUser, a.acc.Secret).Wait()
	}
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("email: imap login as %s at %s: %w", a.set.IMAPUser, addr, err)
	}
	return c, nil
}
