package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/telegram/telegramtest"
)

const testToken = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// The sender of every private sample in testdata.
const (
	annaID   = "384729115"
	annaName = "Анна Смирнова"
)

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newAdapter builds an adapter against fake with the given extra settings
// (a JSON object, merged) and cursor.
func newAdapter(t testing.TB, fake *telegramtest.Server, extra string, cursor string) *Adapter {
	t.Helper()
	s := map[string]any{"server_url": fake.URL, "poll_timeout": "2s"}
	if extra != "" {
		if err := json.Unmarshal([]byte(extra), &s); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.Marshal(s)
	a, err := NewAdapter(channels.Account{ID: 7, Name: "bot", Channel: channels.Telegram, Settings: raw, Secret: testToken, Cursor: cursor}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// memSink behaves like inbox's ingest where the adapter can tell: it
// stores each ExternalID once (a repeat is a Duplicate) and keeps the last
// cursor of a stored batch. failNext makes the next calls fail as a
// database that is down would.
type memSink struct {
	mu          sync.Mutex
	stored      map[string]channels.Inbound
	order       []string
	cursor      string
	offered     map[string]int // how often each ExternalID came
	calls       int
	failNext    int
	cursorTrail []string
}

func newSink() *memSink {
	return &memSink{stored: map[string]channels.Inbound{}, offered: map[string]int{}}
}

func (s *memSink) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, in := range batch {
		s.offered[in.ExternalID]++
	}
	if s.failNext > 0 {
		s.failNext--
		return nil, fmt.Errorf("inbox: ingest: database is down")
	}
	res := make([]channels.Result, len(batch))
	for i, in := range batch {
		if _, dup := s.stored[in.ExternalID]; dup {
			res[i].Duplicate = true
		} else {
			s.stored[in.ExternalID] = in
			s.order = append(s.order, in.ExternalID)
			res[i].TouchID = int64(len(s.order))
		}
		if in.Cursor != "" {
			s.cursor = in.Cursor
			s.cursorTrail = append(s.cursorTrail, in.Cursor)
		}
	}
	return res, nil
}

func (s *memSink) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

func (s *memSink) get(ext string) (channels.Inbound, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.stored[ext]
	return in, ok
}

func (s *memSink) snapshot() (cursor string, offered map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	offered = map[string]int{}
	for k, v := range s.offered {
		offered[k] = v
	}
	return s.cursor, offered
}

// reports records the states Run reports.
type reports struct {
	mu sync.Mutex
	st []channels.State
}

func (r *reports) add(s channels.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = append(r.st, s)
}

func (r *reports) all() []channels.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.State(nil), r.st...)
}

func (r *reports) phases() []channels.Phase {
	var ps []channels.Phase
	for _, s := range r.all() {
		ps = append(ps, s.Phase)
	}
	return ps
}

// running is a Run in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
	rep    *reports
}

func start(a *Adapter, sink channels.Sink) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), rep: &reports{}}
	go func() { r.done <- a.Run(ctx, sink, r.rep.add) }()
	return r
}

// stop cancels Run and returns what it returned.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
		return nil
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func timeAfter() <-chan time.Time { return time.After(10 * time.Second) }
