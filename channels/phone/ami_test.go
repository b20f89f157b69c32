package phone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/phone/amitest"
)

// memSink is an in-memory channels.Sink recording the batches it gets;
// its first failN calls fail.
type memSink struct {
	mu      sync.Mutex
	batches [][]channels.Inbound
	failN   int
	calls   int
}

func (s *memSink) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failN > 0 {
		s.failN--
		return nil, errors.New("database is locked")
	}
	s.batches = append(s.batches, append([]channels.Inbound(nil), batch...))
	return make([]channels.Result, len(batch)), nil
}

func (s *memSink) all() []channels.Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []channels.Inbound
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

// reports records the states Run reported.
type reports struct {
	mu     sync.Mutex
	states []channels.State
}

func (r *reports) add(s channels.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

func (r *reports) list() []channels.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.State(nil), r.states...)
}

func (r *reports) count(p channels.Phase) int {
	n := 0
	for _, s := range r.list() {
		if s.Phase == p {
			n++
		}
	}
	return n
}

// env is an AMI adapter running against an amitest server.
type env struct {
	srv  *amitest.Server
	ami  *AMI
	sink *memSink
	rep  *reports
	done chan error
	stop context.CancelFunc
}

const testAccount = 7

type envOpt struct {
	server amitest.Options
	secret string // the account's secret; the server's when empty
	set    func(*Settings)
	failN  int
	// channels are what CoreShowChannels lists at the first connection.
	channels []string
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// start runs an adapter against a new server and, with a good secret,
// waits until it is live.
func start(t *testing.T, o envOpt) *env {
	t.Helper()
	srv := amitest.New(t, o.server)
	srv.SetChannels(o.channels...)
	s := Settings{Provider: Asterisk, Host: srv.Host(), Port: srv.Port(), User: srv.User(), OriginateContext: "from-internal"}
	if o.set != nil {
		o.set(&s)
	}
	raw, _ := json.Marshal(s)
	secret := o.secret
	if secret == "" {
		secret = srv.Secret()
	}
	ad, err := New(channels.Account{ID: testAccount, Channel: channels.Phone, Settings: raw, Secret: secret}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	a := ad.(*AMI)
	a.TickEvery = 10 * time.Millisecond
	a.MinRetry, a.MaxRetry = 100*time.Millisecond, 400*time.Millisecond
	a.asm.opt.Grace = 100 * time.Millisecond
	e := &env{srv: srv, ami: a, sink: &memSink{failN: o.failN}, rep: &reports{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	go func() { e.done <- a.Run(ctx, e.sink, e.rep.add) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-e.done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	if o.secret == "" {
		e.waitLive(t, 1)
	}
	return e
}

// waitLive waits for the n-th Live report.
func (e *env) waitLive(t *testing.T, n int) {
	t.Helper()
	e.srv.WaitActions(t, "CoreShowChannels", n)
	waitFor(t, fmt.Sprintf("Live reported %d times", n), func() bool { return e.rep.count(channels.Live) >= n })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// play emits blocks and waits until every call they made was emitted and
// delivered; it returns what the sink got in all.
func (e *env) play(t *testing.T, blocks []string) []channels.Inbound {
	t.Helper()
	e.srv.Emit(blocks...)
	return e.settle(t)
}

func (e *env) settle(t *testing.T) []channels.Inbound {
	t.Helper()
	time.Sleep(30 * time.Millisecond) // let the reader take the bytes in
	waitFor(t, "the assembler to finish every call", func() bool {
		e.ami.mu.Lock()
		defer e.ami.mu.Unlock()
		calls, chans, _ := e.ami.asm.Live()
		return calls == 0 && chans == 0 && len(e.ami.pending) == 0
	})
	time.Sleep(30 * time.Millisecond)
	return e.sink.all()
}

// one expects exactly one call and compares it with want.
func one(t *testing.T, got []channels.Inbound, want channels.Inbound) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("got %d calls, want 1:\n%s", len(got), dump(got))
	}
	same(t, got[0], want)
}

func same(t *testing.T, got, want channels.Inbound) {
	t.Helper()
	want.AccountID = testAccount
	want.Kind = channels.Call
	if !reflect.DeepEqual(got, want) {
		t.Errorf("call:\n got %s\nwant %s", dump([]channels.Inbound{got}), dump([]channels.Inbound{want}))
	}
}

func dump(ins []channels.Inbound) string {
	var b strings.Builder
	for _, in := range ins {
		fmt.Fprintf(&b, "%+v", in)
		if in.Call != nil {
			fmt.Fprintf(&b, " call=%+v", *in.Call)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func from(n string) []channels.Handle { return []channels.Handle{{Kind: "phone", Value: n}} }

const (
	caller = "79131234567"
	did    = "73832349096"
)

// answeredScript: a call from the trunk to extension 101, ringing 5 s,
// talking 60 s.
func answeredScript() *amitest.Script {
	s := amitest.NewScript()
	in := s.TrunkIn(caller, "Ivan Petrov", did)
	x := s.At(time.Second).Ext(in, "101")
	s.At(5*time.Second).Answer(in, x, "b1")
	s.At(60*time.Second).Leave("b1", x, in)
	s.Hangup(x, in)
	return s
}

func answeredWant() channels.Inbound {
	return channels.Inbound{
		ExternalID: "ami:1796288400.1", At: amitest.T0, From: from(caller), Name: "Ivan Petrov", EntryPoint: did,
		Call: &channels.CallInfo{Answered: true, Ring: 6 * time.Second, Duration: 60 * time.Second, Extension: "101"},
	}
}

// TestAMIAnsweredCall: Login, CoreShowChannels, then an answered call
// becomes one touch with the caller, the tracking number (FROM_DID),
// ring and talk time from the events' timestamps and the extension.
func TestAMIAnsweredCall(t *testing.T) {
	e := start(t, envOpt{})
	one(t, e.play(t, answeredScript().Take()), answeredWant())
	if st := e.rep.list(); st[0].Phase != channels.Connecting || st[1].Phase != channels.Live {
		t.Errorf("reported %+v, want Connecting then Live", st)
	}
	login := e.srv.Actions("Login")[0]
	if login.Get("Username") != "switchboard" || login.Get("Secret") != "s3cret" || login.Get("ActionID") == "" {
		t.Errorf("Login = %v", login)
	}
}

// TestAMILineEndings: the same call over LF line endings, and over CRLF
// with trailing spaces, gives the same touch.
func TestAMILineEndings(t *testing.T) {
	for name, o := range map[string]amitest.Options{
		"LF":                   {LF: true},
		"CRLF trailing spaces": {TrailingSpaces: true},
		"LF trailing spaces":   {LF: true, TrailingSpaces: true},
	} {
		t.Run(name, func(t *testing.T) {
			e := start(t, envOpt{server: o})
			one(t, e.play(t, answeredScript().Take()), answeredWant())
		})
	}
}

// TestAMIGarbageLines: lines that are not "Key: Value" (inside a block,
// between blocks, one longer than the reader's buffer) are skipped and
// logged; the call around them is assembled as usual.
func TestAMIGarbageLines(t *testing.T) {
	e := start(t, envOpt{})
	blocks := answeredScript().Take()
	var raw strings.Builder
	for i, b := range blocks {
		if i == 2 {
			b = strings.Replace(b, "\nPrivilege", "\n%%% not a header\n\x00\x01binary\nPrivilege", 1)
		}
		raw.WriteString(strings.ReplaceAll(b, "\n", "\r\n") + "\r\n\r\n")
		if i == 4 {
			raw.WriteString("garbage between blocks\r\n\r\n" + strings.Repeat("x", 70<<10) + "\r\n\r\n")
		}
	}
	e.srv.EmitRaw(raw.String())
	one(t, e.settle(t), answeredWant())
}

// TestAMIWrongPassword: a refused login is reported Failing with
// Asterisk's message and a retry time, never Live, and retried with
// backoff rather than at once.
func TestAMIWrongPassword(t *testing.T) {
	e := start(t, envOpt{secret: "wrong"})
	waitFor(t, "two refused logins", func() bool { _, bad := e.srv.Logins(); return bad >= 2 })
	time.Sleep(150 * time.Millisecond)
	ok, bad := e.srv.Logins()
	if ok != 0 || bad > 3 {
		t.Errorf("logins: %d accepted, %d refused within the first ~400ms; want 0 and a backoff (≤3)", ok, bad)
	}
	var failing []channels.State
	for _, s := range e.rep.list() {
		if s.Phase == channels.Live {
			t.Errorf("reported Live with a wrong password")
		}
		if s.Phase == channels.Failing {
			failing = append(failing, s)
		}
	}
	if len(failing) == 0 || !strings.Contains(failing[0].Error, "Authentication failed") || failing[0].RetryAt.IsZero() {
		t.Fatalf("failing states %+v, want Asterisk's \"Authentication failed\" with a retry time", failing)
	}
}

// TestAMIPingKeepsAlive: the client pings at its interval and the server
// answers Pong; the connection stays up.
func TestAMIPingKeepsAlive(t *testing.T) {
	srv := amitest.New(t, amitest.Options{})
	s := Settings{Host: srv.Host(), Port: srv.Port(), User: srv.User()}
	a, err := NewAMI(channels.Account{ID: 1, Secret: srv.Secret()}, s, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	a.PingEvery = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	rep := &reports{}
	go func() { done <- a.Run(ctx, &memSink{}, rep.add) }()
	srv.WaitActions(t, "Ping", 3)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ok, _ := srv.Logins(); ok != 1 || rep.count(channels.Failing) != 0 {
		t.Errorf("logins %d, reports %+v: want one session, no failure", ok, rep.list())
	}
	if n := len(srv.Actions("Logoff")); n != 1 {
		t.Errorf("Logoff sent %d times at stop, want 1", n)
	}
}

// TestAMISendRefused: a text reply over the phone is a permanent error.
func TestAMISendRefused(t *testing.T) {
	a, err := NewAMI(channels.Account{ID: 1, Secret: "x"}, Settings{Host: "pbx", User: "u"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(context.Background(), channels.Outbound{}); !errors.Is(err, channels.ErrPermanent) {
		t.Errorf("Send = %v, want a permanent error", err)
	}
	if a.CanDial() {
		t.Error("CanDial before Run = true")
	}
}

// TestAMISinkFailureRetried: a sink that fails at first gets the same
// call again; nothing is lost.
func TestAMISinkFailureRetried(t *testing.T) {
	e := start(t, envOpt{failN: 2})
	e.srv.Emit(answeredScript().Take()...)
	waitFor(t, "the call stored after two failures", func() bool { return len(e.sink.all()) == 1 })
	one(t, e.sink.all(), answeredWant())
	if e.sink.calls < 3 {
		t.Errorf("sink called %d times, want 3", e.sink.calls)
	}
}

// TestAMICallsFinishingTogetherGoInOneBatch: calls finished one after
// another within Gather (each by the next call's first event, in one
// burst from the PBX) reach the sink in one Ingest, not one each.
func TestAMICallsFinishingTogetherGoInOneBatch(t *testing.T) {
	e := start(t, envOpt{})
	s := amitest.NewScript()
	const n = 10
	for i := range n {
		in := s.TrunkIn(fmt.Sprintf("791300000%02d", i), "", did)
		x := s.At(time.Second).Ext(in, "101")
		b := fmt.Sprintf("b%d", i)
		s.At(5*time.Second).Answer(in, x, b)
		s.At(10*time.Second).Leave(b, x, in)
		s.Hangup(x, in)
		s.At(5 * time.Second)
	}
	if got := e.play(t, s.Take()); len(got) != n {
		t.Fatalf("got %d calls, want %d", len(got), n)
	}
	e.sink.mu.Lock()
	defer e.sink.mu.Unlock()
	// The first n-1 end while the burst is read; the last by the clock,
	// maybe after the batch went.
	if len(e.sink.batches) > 2 || len(e.sink.batches[0]) < n-1 {
		var sizes []int
		for _, b := range e.sink.batches {
			sizes = append(sizes, len(b))
		}
		t.Errorf("batches of %v calls, want the first %d in one", sizes, n-1)
	}
}
