//go:build unix

package server

// WebSocket fan-out benchmark (docs/BENCHMARKS.md):
//
//	go test ./inbox/ -run '^$' -bench 'WebSocketFanout' -benchtime 1x -count 3 -timeout 30m
//
// Each run serves N WebSocket clients (default 2 000) on loopback, twice,
// one server after the other:
//
//   - app: the real App over a fresh database (a SQLite file, or PostgreSQL
//     when SWITCHBOARD_TEST_DATABASE_URL is set), its real /api/v1/ws
//     behind the real session cookie check, one session per client (80 %
//     of them managers, who go through the permission filter). Each event
//     is a copy of a real touch.added event, committed to the events table
//     before the clock starts, then published through the App's hub.
//   - floor: a bare gorilla/websocket broadcast server: the handler
//     upgrades with a default Upgrader and writes from a channel of []byte
//     (buffered as deep as the App's queue) until the connection fails;
//     the same event bytes are sent to every channel.
//
// The clients run in a child process (this test binary again, in
// TestWebSocketBenchClients), so that the memory measured is the
// server's alone: runtime.MemStats HeapAlloc + StackInuse after three
// GCs, with all clients connected and idle, minus the same before they
// connected, divided by N. Then events are published one at a time; the
// child reports, per event, when the last client received it; the
// latency is that minus the time of publishing. p50 and p99 are over
// SWITCHBOARD_BENCH_WS_EVENTS events (default 300).
//
// SWITCHBOARD_BENCH_WS_CLIENTS sets N.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/crm/crmtest"
	"github.com/switchboard/switchboard/inbox"
	"github.com/switchboard/switchboard/inbox/api"
)

const wsBenchChildEnv = "SWITCHBOARD_WSBENCH_CHILD"

// wsBenchServer is one of the two servers under measurement.
type wsBenchServer interface {
	URL() string
	Cookies() []string // one per client
	// Prepare readies event i (untimed) and returns its id and what
	// publishes it (timed).
	Prepare(i int) (int64, func())
	Close()
}

// wsBenchStats is what one run measured.
type wsBenchStats struct {
	lat     []time.Duration
	perConn float64 // bytes of server heap + stack per idle connection
}

func (s wsBenchStats) pct(p float64) time.Duration {
	l := slices.Clone(s.lat)
	slices.Sort(l)
	return l[min(len(l)-1, int(float64(len(l))*p))]
}

func BenchmarkWebSocketFanout(b *testing.B) {
	raiseFDLimit(b)
	n := benchEnvInt("SWITCHBOARD_BENCH_WS_CLIENTS", 2000)
	events := benchEnvInt("SWITCHBOARD_BENCH_WS_EVENTS", 300)
	var app, floor wsBenchStats
	var template []byte
	b.Run("app", func(b *testing.B) {
		for range b.N {
			srv := newWSBenchApp(b, n)
			template = srv.template
			app = wsBenchRun(b, srv, n, events)
			srv.Close()
		}
		wsBenchReport(b, app)
	})
	b.Run("floor", func(b *testing.B) {
		for range b.N {
			srv := newWSBenchFloor(n, template)
			floor = wsBenchRun(b, srv, n, events)
			srv.Close()
		}
		wsBenchReport(b, floor)
	})
	if len(app.lat) > 0 && len(floor.lat) > 0 {
		b.Logf("%d clients: app/floor p50 %.2f×, p99 %.2f× (goal ≤ 2×), memory per connection %.2f× (goal ≤ 1.5×)", n,
			float64(app.pct(0.50))/float64(floor.pct(0.50)), float64(app.pct(0.99))/float64(floor.pct(0.99)), app.perConn/floor.perConn)
	}
}

func wsBenchReport(b *testing.B, s wsBenchStats) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(s.pct(0.50)), "p50-ms")
	b.ReportMetric(ms(s.pct(0.99)), "p99-ms")
	b.ReportMetric(s.perConn/1024, "KB/conn")
	b.ReportMetric(0, "ns/op") // one op is a whole run: not a figure
}

// wsBenchRun connects n clients to srv from a child process, measures the
// server's memory per idle connection, then publishes the events one at a
// time and times each until every client has it.
func wsBenchRun(b *testing.B, srv wsBenchServer, n, events int) wsBenchStats {
	b.StopTimer()
	var st wsBenchStats
	before := serverMemory()
	child := exec.Command(os.Args[0], "-test.run=^TestWebSocketBenchClients$", "-test.count=1")
	child.Env = append(os.Environ(), wsBenchChildEnv+"=1")
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child closes its connections and exits
		if err := child.Wait(); err != nil {
			b.Errorf("client process: %v", err)
		}
	}()
	if err := json.NewEncoder(stdin).Encode(wsBenchOrder{URL: srv.URL(), Cookies: srv.Cookies()}); err != nil {
		b.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if t := sc.Text(); strings.HasPrefix(t, "ready") || strings.HasPrefix(t, "got ") {
				lines <- t
			}
		}
		close(lines)
	}()
	line := func(d time.Duration) string {
		select {
		case l, ok := <-lines:
			if !ok {
				b.Fatal("the client process stopped")
			}
			return l
		case <-time.After(d):
			b.Fatalf("no word from the client process in %s", d)
		}
		return ""
	}
	line(5 * time.Minute) // ready: every client connected and said hello
	time.Sleep(500 * time.Millisecond)
	st.perConn = float64(serverMemory()-before) / float64(n)

	b.StartTimer()
	for i := range events {
		id, publish := srv.Prepare(i)
		t0 := time.Now()
		publish()
		l := line(time.Minute)
		var got, at int64
		if _, err := fmt.Sscanf(l, "got %d %d", &got, &at); err != nil || got != id {
			b.Fatalf("client process said %q, want event %d", l, id)
		}
		st.lat = append(st.lat, time.Duration(at-t0.UnixNano()))
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	return st
}

// serverMemory is this process's live heap and goroutine stacks.
func serverMemory() uint64 {
	for range 3 { // each GC halves stacks that use less than a quarter
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

func raiseFDLimit(t testing.TB) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			t.Fatal(err)
		}
	}
}

// wsBenchApp is the real App with N sessions.
type wsBenchApp struct {
	ta       *testApp
	srv      *httptest.Server
	cookies  []string
	event    crm.Event // a real touch.added, copied for each published event
	template []byte
}

func newWSBenchApp(b *testing.B, n int) *wsBenchApp {
	b.Helper()
	db := crmtest.Open(b)
	box, _ := crm.NewSecretBox(testKey)
	app := New(db, testLogger(b), box, Options{Region: "RU", Currency: "RUB"})
	ta := wrap(b, app, box)
	s := &wsBenchApp{ta: ta, srv: ta.srv}
	// Users: one in ten a lead, one in ten an owner, the rest managers; a
	// user has several sessions (browsers, tabs).
	hash, err := inbox.HashPassword("password-bench")
	if err != nil {
		b.Fatal(err)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		users := make([]crm.User, max(1, n/10))
		for i := range users {
			role := crm.Manager
			switch i % 10 {
			case 0:
				role = crm.Lead
			case 5:
				role = crm.Owner
			}
			users[i] = crm.User{Email: fmt.Sprintf("user%d@example.ru", i), Name: fmt.Sprintf("User %d", i), Role: role, PasswordHash: hash}
			if err := crm.CreateUser(tx, &users[i]); err != nil {
				return err
			}
		}
		for i := range n {
			token, sess := inbox.NewSession(users[i%len(users)], time.Hour)
			if err := crm.CreateSession(tx, &sess); err != nil {
				return err
			}
			s.cookies = append(s.cookies, api.SessionCookie+"="+token)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// The event: a call from a new client, on an unassigned conversation
	// (every manager sees it).
	acc := ta.account("phone", "pbx")
	r := ta.ingest(phoneIn(acc.ID, "call-1", "+79131000001"))
	if err := db.Where("touch_id = ?", r[0].TouchID).Take(&s.event).Error; err != nil {
		b.Fatal(err)
	}
	s.template, _ = json.Marshal(s.event)
	return s
}

func (s *wsBenchApp) URL() string       { return s.srv.URL + "/api/v1/ws" }
func (s *wsBenchApp) Cookies() []string { return s.cookies }
func (s *wsBenchApp) Close()            { s.srv.Close() }

func (s *wsBenchApp) Prepare(int) (int64, func()) {
	e := s.event
	e.At = time.Now().UTC()
	evs := []crm.Event{e}
	if err := s.ta.db.Transaction(func(tx *gorm.DB) error { return crm.InsertEvents(tx, evs) }); err != nil {
		s.ta.t.Fatal(err)
	}
	return evs[0].ID, func() { s.ta.Hub().Publish(evs...) }
}

// wsBenchFloor is a bare gorilla/websocket broadcast server.
type wsBenchFloor struct {
	srv      *httptest.Server
	n        int
	template []byte
	mu       sync.Mutex
	conns    map[chan []byte]struct{}
}

func newWSBenchFloor(n int, template []byte) *wsBenchFloor {
	f := &wsBenchFloor{n: n, template: template, conns: map[chan []byte]struct{}{}}
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		ch := make(chan []byte, 256) // the server's per-client queue (api.wsQueue)
		f.mu.Lock()
		f.conns[ch] = struct{}{}
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.conns, ch)
			f.mu.Unlock()
		}()
		if conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello"}`)) != nil {
			return
		}
		for msg := range ch {
			if conn.WriteMessage(websocket.TextMessage, msg) != nil {
				return
			}
		}
	}))
	return f
}

func (f *wsBenchFloor) URL() string { return f.srv.URL }
func (f *wsBenchFloor) Cookies() []string {
	return make([]string, f.n)
}

func (f *wsBenchFloor) Close() {
	f.mu.Lock()
	for ch := range f.conns {
		close(ch)
		delete(f.conns, ch)
	}
	f.mu.Unlock()
	f.srv.Close()
}

func (f *wsBenchFloor) Prepare(i int) (int64, func()) {
	id := int64(i + 1)
	var e crm.Event
	json.Unmarshal(f.template, &e)
	e.ID, e.At = id, time.Now().UTC()
	msg, _ := json.Marshal(e)
	return id, func() {
		f.mu.Lock()
		for ch := range f.conns {
			select {
			case ch <- msg:
			default:
			}
		}
		f.mu.Unlock()
	}
}

// wsBenchOrder is what the benchmark tells its client process.
type wsBenchOrder struct {
	URL     string   `json:"url"`
	Cookies []string `json:"cookies"`
}

// TestWebSocketBenchClients is the client process of BenchmarkWebSocketFanout:
// it connects one client per cookie, says "ready" when every client has
// its hello, then "got <id> <unix ns>" when the last client has received
// event id, until its stdin closes.
func TestWebSocketBenchClients(t *testing.T) {
	if os.Getenv(wsBenchChildEnv) == "" {
		t.Skip("the client process of BenchmarkWebSocketFanout")
	}
	raiseFDLimit(t)
	in := bufio.NewReader(os.Stdin)
	var order wsBenchOrder
	if err := json.NewDecoder(in).Decode(&order); err != nil {
		t.Fatal(err)
	}
	n := len(order.Cookies)
	url := "ws" + strings.TrimPrefix(order.URL, "http")
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
		outMu.Unlock()
	}

	type tally struct {
		n    int
		last int64
	}
	var mu sync.Mutex
	seen := map[int64]*tally{}
	receive := func(msg []byte) {
		at := time.Now().UnixNano()
		id, ok := eventID(msg)
		if !ok {
			return
		}
		mu.Lock()
		c := seen[id]
		if c == nil {
			c = &tally{}
			seen[id] = c
		}
		c.n++
		c.last = max(c.last, at)
		done := c.n == n
		if done {
			delete(seen, id)
		}
		mu.Unlock()
		if done {
			say("got %d %d", id, c.last)
		}
	}

	conns := make([]*websocket.Conn, n)
	var ready, running sync.WaitGroup
	dial := make(chan int)
	errs := make(chan error, n)
	for range 32 {
		go func() {
			for i := range dial {
				h := http.Header{}
				if order.Cookies[i] != "" {
					h.Set("Cookie", order.Cookies[i])
				}
				conn, _, err := websocket.DefaultDialer.Dial(url, h)
				if err != nil {
					errs <- err
					ready.Done()
					continue
				}
				conns[i] = conn
				running.Add(1)
				go func() {
					defer running.Done()
					hello := true
					for {
						_, msg, err := conn.ReadMessage()
						if err != nil {
							if hello {
								errs <- err
								ready.Done()
							}
							return
						}
						if hello {
							hello = false
							ready.Done()
							continue
						}
						receive(msg)
					}
				}()
			}
		}()
	}
	ready.Add(n)
	for i := range n {
		dial <- i
	}
	close(dial)
	ready.Wait()
	select {
	case err := <-errs:
		t.Fatalf("client: %v", err)
	default:
	}
	say("ready")
	io.Copy(io.Discard, in) // until the benchmark is done
	for _, c := range conns {
		c.Close()
	}
	running.Wait()
}

// eventID reads the id of a message that starts {"id":<n>,
func eventID(msg []byte) (int64, bool) {
	const p = `{"id":`
	if len(msg) < len(p) || string(msg[:len(p)]) != p {
		return 0, false
	}
	var id int64
	i := len(p)
	for ; i < len(msg) && msg[i] >= '0' && msg[i] <= '9'; i++ {
		id = id*10 + int64(msg[i]-'0')
	}
	return id, i > len(p)
}
