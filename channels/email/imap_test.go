package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// settings points an account at addr.
func testSettings(addr string, extra map[string]any) json.RawMessage {
	host, port, _ := net.SplitHostPort(addr)
	m := map[string]any{
		"address": emailtest.User, "name": "Company Sales", "aliases": []string{"info@company.ru"},
		"imap_host": host, "imap_port": atoiT(port), "imap_security": "plain", "allow_plain": true,
		"smtp_host": "127.0.0.1", "smtp_port": 1, "smtp_security": "plain",
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func atoiT(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func testLog() *slog.Logger {
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newTestAdapter(t testing.TB, addr, cur string, extra map[string]any) *Adapter {
	t.Helper()
	a, err := NewAdapter(channels.Account{ID: 7, Channel: channels.Email, Settings: testSettings(addr, extra), Secret: emailtest.Password, Cursor: cur}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// memSink behaves like inbox's ingest: idempotent on ExternalID, keeps the
// last cursor of an accepted batch.
type memSink struct {
	mu         sync.Mutex
	byID       map[string]channels.Inbound
	order      []string
	deliveries int
	cursor     string
	fail       error // returned by the next Ingest
}

func newMemSink() *memSink { return &memSink{byID: map[string]channels.Inbound{}} }

func (s *memSink) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		err := s.fail
		s.fail = nil
		return nil, err
	}
	res := make([]channels.Result, len(batch))
	for i, in := range batch {
		s.deliveries++
		if in.AccountID != 7 || in.ExternalID == "" || len(in.From) == 0 {
			res[i].Err = fmt.Errorf("invalid inbound %+v", in)
			continue
		}
		if _, ok := s.byID[in.ExternalID]; ok {
			res[i].Duplicate = true
		} else {
			s.byID[in.ExternalID] = in
			s.order = append(s.order, in.ExternalID)
		}
		if in.Cursor != "" {
			s.cursor = in.Cursor
		}
	}
	return res, nil
}

func (s *memSink) snapshot() (ids []string, deliveries int, cur string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...), s.deliveries, s.cursor
}

func (s *memSink) get(id string) (channels.Inbound, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.byID[id]
	return in, ok
}

// states records what Run reports.
type states struct {
	mu   sync.Mutex
	list []channels.State
}

func (s *states) report(st channels.State) {
	s.mu.Lock()
	s.list = append(s.list, st)
	s.mu.Unlock()
}

func (s *states) has(p channels.Phase) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.list {
		if st.Phase == p {
			return true
		}
	}
	return false
}

func (s *states) phases() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, st := range s.list {
		p := string(st.Phase)
		if st.Phase == channels.Syncing {
			p += fmt.Sprintf(" %d/%d", st.Done, st.Total)
		}
		out = append(out, p)
	}
	return out
}

// running is a Run in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
	st     *states
}

func start(t testing.TB, a *Adapter, sink channels.Sink) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), st: &states{}}
	go func() { r.done <- a.Run(ctx, sink, r.st.report) }()
	t.Cleanup(func() { r.cancel(); <-r.done })
	return r
}

// stop ends Run and returns its error.
func (r *running) stop(t testing.TB) error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testMail(id, from, subject, body string) []byte {
	return []byte("From: Client <" + from + ">\r\nTo: sales@company.ru\r\nSubject: " + subject +
		"\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

func TestRunImportIdleRestart(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	now := time.Now()
	srv.Append("INBOX", testMail("old@client.ru", "old@client.ru", "Old", "too old"), now.AddDate(0, 0, -60))
	srv.Append("INBOX", testMail("a@client.ru", "a@client.ru", "A", "Здравствуйте, нужен счёт"), now.Add(-time.Hour))
	deleted := srv.Append("INBOX", testMail("deleted@client.ru", "d@client.ru", "Deleted", "gone"), now.Add(-time.Minute), imap.FlagDeleted)

	sink := newMemSink()
	a := newTestAdapter(t, srv.Addr, "", nil)
	r := start(t, a, sink)
	waitFor(t, "live", func() bool { return r.st.has(channels.Live) })

	ids, _, cur := sink.snapshot()
	if strings.Join(ids, ",") != "a@client.ru" {
		t.Fatalf("imported %v, want only a@client.ru (old and deleted skipped)", ids)
	}
	c, err := parseCursor(cur)
	if err != nil || c.Folders["INBOX"].LastUID != uint32(deleted) || c.Folders["INBOX"].UIDValidity == 0 {
		t.Fatalf("cursor %s (%v): want last_uid %d, past the deleted message", cur, err, deleted)
	}
	in, _ := sink.get("a@client.ru")
	if in.Text != "Здравствуйте, нужен счёт" || in.Kind != channels.Mail || in.EntryPoint != "sales@company.ru" || in.Meta["folder"] != "INBOX" {
		t.Errorf("inbound %+v", in)
	}
	if got := strings.Join(r.st.phases(), ","); got != "connecting,syncing 0/1,syncing 1/1,live" {
		t.Errorf("reported %s", got)
	}

	// New mail during IDLE arrives.
	srv.Append("INBOX", testMail("b@client.ru", "b@client.ru", "B", "new"), time.Now())
	waitFor(t, "b during IDLE", func() bool { _, ok := sink.get("b@client.ru"); return ok })

	if err := r.stop(t); err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
	if !r.st.has(channels.Stopped) {
		t.Error("Stopped not reported")
	}

	// Restart from the sink's cursor: nothing is delivered again.
	_, before, cur := sink.snapshot()
	r2 := start(t, newTestAdapter(t, srv.Addr, cur, nil), sink)
	waitFor(t, "live again", func() bool { return r2.st.has(channels.Live) })
	if _, after, _ := sink.snapshot(); after != before {
		t.Fatalf("restart delivered %d messages again", after-before)
	}
	r2.stop(t)

	// Mail that arrived while stopped, however old its date, is backfilled.
	srv.Append("INBOX", testMail("c@client.ru", "c@client.ru", "C", "while down"), now.AddDate(0, 0, -90))
	_, before, cur = sink.snapshot()
	r3 := start(t, newTestAdapter(t, srv.Addr, cur, nil), sink)
	waitFor(t, "backfill", func() bool { _, ok := sink.get("c@client.ru"); return ok })
	waitFor(t, "live", func() bool { return r3.st.has(channels.Live) })
	if _, after, _ := sink.snapshot(); after != before+1 {
		t.Fatalf("backfill delivered %d, want 1", after-before)
	}
	if r3.st.has(channels.Syncing) {
		t.Error("a one-message backfill reported syncing")
	}
}

func TestRunPollsWithoutIdle(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	sink := newMemSink()
	a := newTestAdapter(t, srv.Addr, "", map[string]any{"poll_interval": "1s"})
	a.noIdle = true
	r := start(t, a, sink)
	waitFor(t, "live", func() bool { return r.st.has(channels.Live) })
	appended := time.Now()
	srv.Append("INBOX", testMail("p@client.ru", "p@client.ru", "P", "polled"), time.Now())
	waitFor(t, "polled mail", func() bool { _, ok := sink.get("p@client.ru"); return ok })
	if d := time.Since(appended); d < 200*time.Millisecond || d > 3*time.Second {
		t.Errorf("polled mail came after %s, want about the 1s poll interval", d)
	}
}

func TestRunUIDValidityChange(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	msgs := [][]byte{
		testMail("v1@client.ru", "v1@client.ru", "V1", "one"),
		testMail("v2@client.ru", "v2@client.ru", "V2", "two"),
	}
	for _, m := range msgs {
		srv.Append("INBOX", m, time.Now())
	}
	sink := newMemSink()
	r := start(t, newTestAdapter(t, srv.Addr, "", nil), sink)
	waitFor(t, "import", func() bool { ids, _, _ := sink.snapshot(); return len(ids) == 2 })
	r.stop(t)
	_, before, cur := sink.snapshot()
	old, _ := parseCursor(cur)

	// The server loses its UIDs: the same messages under a new UIDVALIDITY
	// and other UIDs.
	srv.Delete("INBOX")
	srv.Create("INBOX")
	srv.Append("INBOX", testMail("filler@client.ru", "f@client.ru", "F", "filler"), time.Now().AddDate(0, 0, -100))
	for _, m := range msgs {
		srv.Append("INBOX", m, time.Now())
	}
	r2 := start(t, newTestAdapter(t, srv.Addr, cur, nil), sink)
	waitFor(t, "re-sync", func() bool { _, d, _ := sink.snapshot(); return d == before+2 })
	waitFor(t, "live", func() bool { return r2.st.has(channels.Live) })
	ids, _, cur2 := sink.snapshot()
	if len(ids) != 2 {
		t.Fatalf("after the re-sync there are %v, want the same 2 external ids", ids)
	}
	nc, _ := parseCursor(cur2)
	if nc.Folders["INBOX"].UIDValidity == old.Folders["INBOX"].UIDValidity || nc.Folders["INBOX"].LastUID != 3 {
		t.Errorf("cursor %s after the change, was %s", cur2, cur)
	}
}

func TestRunFallbackIDAndBrokenMessage(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	srv.Append("INBOX", []byte("From: a@client.ru\r\nSubject: no id\r\n\r\nhello\r\n"), time.Now())
	broken, _ := os.ReadFile("testdata/broken-mime.eml")
	srv.Append("INBOX", broken, time.Now())
	srv.Append("INBOX", testMail("good@client.ru", "g@client.ru", "Good", "fine"), time.Now())
	srv.Append("INBOX", testMail("self@company.ru", emailtest.User, "Self", "our own copy"), time.Now())
	sink := newMemSink()
	a := newTestAdapter(t, srv.Addr, "", nil)
	r := start(t, a, sink)
	waitFor(t, "live", func() bool { return r.st.has(channels.Live) })
	ids, _, _ := sink.snapshot()
	if len(ids) != 3 {
		t.Fatalf("imported %v, want 3 (the mailbox's own message skipped)", ids)
	}
	c, _ := parseCursor(a.Cursor())
	fallback := fmt.Sprintf("imap:INBOX:%d:1", c.Folders["INBOX"].UIDValidity)
	in, ok := sink.get(fallback)
	if !ok || in.ThreadKey != fallback || in.Text != "hello" || in.At.IsZero() {
		t.Errorf("no message with the fallback id %s: %v (%+v)", fallback, ids, in)
	}
	b, ok := sink.get("broken-1@broken.example")
	if !ok || b.ParseError == "" || len(b.Attachments) != 1 || b.Attachments[0].Name != RawName {
		t.Errorf("broken message %+v", b)
	}
	if _, ok := sink.get("good@client.ru"); !ok {
		t.Error("the message after the broken one is missing")
	}
}

func TestRunSeveralFolders(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	srv.Create("Leads")
	srv.Append("INBOX", testMail("i1@client.ru", "i1@client.ru", "I", "inbox"), time.Now())
	srv.Append("Leads", testMail("l1@client.ru", "l1@client.ru", "L", "leads"), time.Now())
	sink := newMemSink()
	r := start(t, newTestAdapter(t, srv.Addr, "", map[string]any{"folders": []string{"INBOX", "Leads"}, "poll_interval": "1s"}), sink)
	waitFor(t, "live", func() bool { return r.st.has(channels.Live) })
	// New mail in the second folder is found by the poll interval even
	// while IDLE watches the first.
	srv.Append("Leads", testMail("l2@client.ru", "l2@client.ru", "L2", "leads"), time.Now())
	waitFor(t, "the second folder", func() bool { _, ok := sink.get("l2@client.ru"); return ok })
	srv.Append("INBOX", testMail("i2@client.ru", "i2@client.ru", "I2", "inbox"), time.Now())
	waitFor(t, "both folders", func() bool { ids, _, _ := sink.snapshot(); return len(ids) == 4 })
	_, _, cur := sink.snapshot()
	c, _ := parseCursor(cur)
	if c.Folders["INBOX"].LastUID != 2 || c.Folders["Leads"].LastUID != 2 {
		t.Errorf("cursor %s", cur)
	}
	if l, _ := sink.get("l2@client.ru"); l.Meta["folder"] != "Leads" {
		t.Errorf("folder %q", l.Meta["folder"])
	}
}

func TestRunWrongPassword(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	a, err := NewAdapter(channels.Account{ID: 7, Settings: testSettings(srv.Addr, nil), Secret: "wrong"}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	st := &states{}
	err = a.Run(context.Background(), newMemSink(), st.report)
	if err == nil || !strings.Contains(err.Error(), "Authentication failed") || !strings.HasPrefix(err.Error(), "email: ") {
		t.Fatalf("Run = %v, want the server's \"Authentication failed\"", err)
	}
	if st.has(channels.Live) || !st.has(channels.Failing) {
		t.Fatalf("reported %v", st.phases())
	}
	st.mu.Lock()
	last := st.list[len(st.list)-1]
	st.mu.Unlock()
	if last.Phase != channels.Failing || !strings.Contains(last.Error, "Authentication failed") {
		t.Errorf("last state %+v", last)
	}
}

func TestRunSinkFailureKeepsCursor(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	srv.Append("INBOX", testMail("s1@client.ru", "s1@client.ru", "S", "one"), time.Now())
	sink := newMemSink()
	sink.fail = errors.New("database is down")
	a := newTestAdapter(t, srv.Addr, "", nil)
	st := &states{}
	err := a.Run(context.Background(), sink, st.report)
	if err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Fatalf("Run = %v", err)
	}
	if a.Cursor() != "" {
		t.Fatalf("cursor moved to %s although the sink failed", a.Cursor())
	}
	r := start(t, a, sink)
	waitFor(t, "retry", func() bool { _, ok := sink.get("s1@client.ru"); return ok })
	r.stop(t)
}

// cutProxy forwards loopback TCP to target and cuts the first connection
// after limit bytes from the server.
type cutProxy struct {
	ln    net.Listener
	limit int64
	conns atomic.Int32
}

func newCutProxy(t testing.TB, target string, limit int64) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, limit: limit}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			first := p.conns.Add(1) == 1
			go p.serve(c, target, first)
		}
	}()
	return p
}

func (p *cutProxy) serve(c net.Conn, target string, cut bool) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { io.Copy(s, c); s.Close() }()
	if cut {
		io.CopyN(c, s, p.limit)
		return // closes both
	}
	io.Copy(c, s)
}

func TestRunConnectionCutMidFetch(t *testing.T) {
	srv := emailtest.NewIMAPServer(t)
	const n = 250
	body := strings.Repeat("Нужно коммерческое предложение. ", 8)
	for i := range n {
		srv.Append("INBOX", testMail(fmt.Sprintf("m%03d@client.ru", i), fmt.Sprintf("c%d@client.ru", i%40), fmt.Sprintf("Запрос %d", i), body), time.Now())
	}
	// Cut while fetching flags, in the first batch, in a later batch.
	for _, limit := range []int64{3_000, 30_000, 150_000} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			proxy := newCutProxy(t, srv.Addr, limit)
			sink := newMemSink()
			a := newTestAdapter(t, proxy.ln.Addr().String(), "", nil)
			st := &states{}
			err := a.Run(context.Background(), sink, st.report)
			if err == nil || !st.has(channels.Failing) {
				t.Fatalf("Run over a cut connection = %v, states %v", err, st.phases())
			}
			ids, _, cur := sink.snapshot()
			t.Logf("cut after %d bytes: %d imported, then %v", limit, len(ids), err)
			if len(ids) == n {
				t.Fatalf("the cut at %d bytes came too late to test anything", limit)
			}
			// The supervisor restarts from the stored cursor.
			r := start(t, newTestAdapter(t, proxy.ln.Addr().String(), cur, nil), sink)
			waitFor(t, "all messages", func() bool { ids, _, _ := sink.snapshot(); return len(ids) == n })
			waitFor(t, "live", func() bool { return r.st.has(channels.Live) })
			ids, deliveries, _ := sink.snapshot()
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("%s stored twice", id)
				}
				seen[id] = true
			}
			if deliveries > n+BatchSize {
				t.Errorf("%d deliveries for %d messages: more than one batch was fetched again", deliveries, n)
			}
		})
	}
}

func TestNewValidatesSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		secret   string
		want     string
	}{
		{"empty", ``, "p", "settings are required"},
		{"no address", `{"imap_host":"imap.yandex.ru","smtp_host":"smtp.yandex.ru"}`, "p", "address"},
		{"bad address", `{"address":"Sales <sales@x.ru>","imap_host":"i","smtp_host":"s"}`, "p", "not a plain address"},
		{"no imap host", `{"address":"sales@x.ru","smtp_host":"s"}`, "p", "imap_host is required"},
		{"no smtp host", `{"address":"sales@x.ru","imap_host":"i"}`, "p", "smtp_host is required"},
		{"plain refused", `{"address":"sales@x.ru","imap_host":"i","smtp_host":"s","imap_security":"plain"}`, "p", "allow_plain"},
		{"bad security", `{"address":"sales@x.ru","imap_host":"i","smtp_host":"s","smtp_security":"ssl"}`, "p", "want tls, starttls or plain"},
		{"bad poll", `{"address":"sales@x.ru","imap_host":"i","smtp_host":"s","poll_interval":"often"}`, "p", "poll_interval"},
		{"bad days", `{"address":"sales@x.ru","imap_host":"i","smtp_host":"s","initial_days":-1}`, "p", "initial_days"},
		{"typo", `{"address":"sales@x.ru","imap_host":"i","smtp_host":"s","imap_server":"x"}`, "p", "imap_server"},
		{"no password", `{"address":"sales@x.ru","imap_host":"i","smtp_host":"s"}`, "", "password"},
		{"bad port", `{"address":"sales@x.ru","imap_host":"i","smtp_host":"s","smtp_port":70000}`, "p", "smtp_port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(channels.Account{ID: 1, Settings: json.RawMessage(tc.settings), Secret: tc.secret}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "email: ") {
				t.Fatalf("New = %v, want an error about %q", err, tc.want)
			}
		})
	}
	a, err := NewAdapter(channels.Account{ID: 1, Secret: "p", Settings: json.RawMessage(
		`{"address":"Sales@Company.ru","imap_host":"imap.yandex.ru","smtp_host":"smtp.yandex.ru","smtp_security":"starttls","aliases":["info@company.ru"]}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := a.Settings()
	if s.IMAPPort != 993 || s.IMAPSecurity != "tls" || s.SMTPPort != 587 || s.IMAPUser != "Sales@Company.ru" || s.SMTPUser != s.IMAPUser ||
		len(s.Folders) != 1 || s.Folders[0] != "INBOX" || s.InitialDays != 30 || a.poll != time.Minute {
		t.Errorf("defaults %+v", s)
	}
	if strings.Join(a.own, ",") != "sales@company.ru,info@company.ru" {
		t.Errorf("own %v", a.own)
	}
}
