package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/phone"
	"github.com/switchboard/switchboard/channels/telegram"
	"github.com/switchboard/switchboard/channels/web"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/accounts"
	"github.com/switchboard/switchboard/inbox/api"
	"github.com/switchboard/switchboard/inbox/blobs"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// testKey seals account secrets in tests.
var testKey = bytes.Repeat([]byte{7}, 32)

// testApp is the wired application (Server) on a fresh database, served
// by httptest. The verbs are promoted from the embedded inbox.App.
type testApp struct {
	*inbox.App
	s   *Server
	db  *gorm.DB
	box *crm.SecretBox
	log *slog.Logger
	// opts are the server's options; a test that changes them after the
	// start calls what applies them (useAdapters, rebuildHandler).
	opts    *Options
	handler atomic.Pointer[http.Handler]
	t       testing.TB
	srv     *httptest.Server
}

// wrap serves s as a test app (its handler rebuilt by rebuildHandler).
func wrap(t testing.TB, s *Server, box *crm.SecretBox) *testApp {
	ta := &testApp{App: s.App, s: s, db: s.DB, box: box, log: s.Log, opts: &s.opts, t: t}
	ta.rebuildHandler()
	ta.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*ta.handler.Load()).ServeHTTP(w, r) }))
	return ta
}

// rebuildHandler applies changed HTTP options (trusted proxies).
func (ta *testApp) rebuildHandler() {
	h := ta.s.Handler(nil)
	ta.handler.Store(&h)
}

// The services, as the tests reach them.
func (ta *testApp) Ingest(ctx context.Context, batch []channels.Inbound) ([]channels.Result, error) {
	return ta.s.Sink.Ingest(ctx, batch)
}
func (ta *testApp) Hub() *realtime.Hub                  { return ta.s.Realtime.Hub() }
func (ta *testApp) Realtime() *realtime.Publisher       { return ta.s.Realtime }
func (ta *testApp) Supervisor() *accounts.Supervisor    { return ta.s.Accounts }
func (ta *testApp) DispatchDue(ctx context.Context) int { return ta.s.Outbox.DispatchDue(ctx) }
func (ta *testApp) Start(ctx context.Context) error     { return ta.s.Start(ctx) }
func (ta *testApp) Wait()                               { ta.s.Wait() }
func (ta *testApp) Handler(ui fs.FS) http.Handler       { return ta.s.Handler(ui) }

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newTestApp(t testing.TB) *testApp { return newTestAppWith(t, nil) }

// newTestAppWith is newTestApp with options changed by set.
func newTestAppWith(t testing.TB, set func(*Options)) *testApp {
	t.Helper()
	db := crmtest.Open(t)
	box, err := crm.NewSecretBox(testKey)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Region: "RU", Currency: "RUB", Channels: testChannels(nil), Blobs: blobs.Dir{Dir: t.TempDir()}}
	if set != nil {
		set(&opts)
	}
	ta := wrap(t, New(db, testLogger(t), box, opts), box)
	t.Cleanup(ta.srv.Close)
	ta.startRealtime()
	return ta
}

// startRealtime starts what feeds the hub on PostgreSQL (the relay; App.Start
// does it in production), stopped when the test ends.
func (ta *testApp) startRealtime() {
	ta.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if err := ta.Realtime().Start(ctx, &wg); err != nil {
		ta.t.Fatal(err)
	}
	ta.t.Cleanup(func() { cancel(); wg.Wait() })
}

// user creates a user with a known password.
func (ta *testApp) user(email string, role crm.Role) crm.User {
	ta.t.Helper()
	u, err := ta.CreateUser(context.Background(), nil, email, strings.Split(email, "@")[0], role, "password-"+email)
	if err != nil {
		ta.t.Fatal(err)
	}
	return u
}

// account creates an account on a channel; web accounts get secret "s3cret".
func (ta *testApp) account(channel, name string) crm.Account {
	ta.t.Helper()
	in := crm.AccountInput{Channel: channel, Name: &name}
	if channel == "web" {
		s := "s3cret"
		in.Secret = &s
	}
	a, err := crm.SaveAccount(ta.db, ta.box, 0, in)
	if err != nil {
		ta.t.Fatal(err)
	}
	return a
}

// client is a logged-in browser: a cookie jar and the CSRF token.
type client struct {
	ta   *testApp
	http *http.Client
	csrf string
	User crm.User
}

// login logs a user in through the API.
func (ta *testApp) login(email string) *client {
	ta.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{ta: ta, http: &http.Client{Jar: jar}}
	var me api.MeResponse
	if st := c.do("POST", "/api/v1/login", api.LoginRequest{Email: email, Password: "password-" + email}, &me); st != 200 {
		ta.t.Fatalf("login %s: status %d", email, st)
	}
	c.csrf, c.User = me.CSRFToken, me.User
	return c
}

// anon is a client with no session.
func (ta *testApp) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{ta: ta, http: &http.Client{Jar: jar}}
}

// do sends a JSON request and decodes a JSON reply into out (if non-nil);
// it returns the status.
func (c *client) do(method, path string, body any, out any) int {
	c.ta.t.Helper()
	st, raw := c.raw(method, path, body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.ta.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return st
}

// raw sends a request and returns the status and body.
func (c *client) raw(method, path string, body any) (int, []byte) {
	c.ta.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, c.ta.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set(api.CSRFHeader, c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// accountRun is a channel account's adapter running with the app as sink,
// built from what is stored (its cursor included), as the supervisor does.
type accountRun struct {
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	states []channels.State
}

func (ta *testApp) runAccount(id int64, factory channels.Factory) *accountRun {
	ta.t.Helper()
	acc, err := crm.GetAccount(ta.db, id)
	if err != nil {
		ta.t.Fatal(err)
	}
	secret, err := ta.box.Open(acc.Secret)
	if err != nil {
		ta.t.Fatal(err)
	}
	ad, err := factory(channels.Account{ID: acc.ID, Name: acc.Name, Channel: channels.Kind(acc.Channel), Settings: acc.Settings, Secret: secret, Cursor: acc.Cursor}, testLogger(ta.t))
	if err != nil {
		ta.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &accountRun{cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- ad.Run(ctx, ta.s.Sink, func(s channels.State) {
			r.mu.Lock()
			r.states = append(r.states, s)
			r.mu.Unlock()
		})
	}()
	ta.t.Cleanup(cancel)
	return r
}

// live reports whether the adapter has reported Live.
func (r *accountRun) live() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.states, func(s channels.State) bool { return s.Phase == channels.Live })
}

// stop ends the run and checks it ended cleanly.
func (r *accountRun) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// testChannels is the build's channels with the given adapters: email and
// Telegram run only where a test names an adapter for them (else their
// accounts wait, with no adapter), the web channel is always served.
func testChannels(adapters map[channels.Kind]channels.Factory) *channels.Registry {
	var cs []channels.Channel
	for _, c := range []channels.Channel{email.Channel(), telegram.Channel(), web.Channel(), {Kind: channels.WhatsApp}, phone.Channel()} {
		if f, ok := adapters[c.Kind]; ok {
			c.New = f
		} else if !c.HookOnly {
			c.New = nil
		}
		cs = append(cs, c)
	}
	return channels.NewRegistry(cs...)
}

// useAdapters runs the channels' accounts with the given adapters.
func (ta *testApp) useAdapters(adapters map[channels.Kind]channels.Factory) {
	ta.opts.Channels = testChannels(adapters)
	ta.Supervisor().SetChannels(ta.opts.Channels)
}

func ptr[T any](v T) *T { return &v }
