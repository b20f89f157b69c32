// Package amitest is an Asterisk Manager Interface server for tests: a
// TCP listener on 127.0.0.1 that greets with the banner, answers Login
// (one user and secret; a wrong secret gets "Authentication failed" and
// the connection closed, as Asterisk does), Ping, Logoff, CoreShowChannels
// (the channels the test set), Originate (queued, then what the test's
// hook returns: an OriginateResponse and the events of the call), and
// sends the event blocks a test scripts to every logged-in connection. It
// can drop connections mid-stream and write LF instead of CRLF line
// endings, or trailing spaces. It records the actions it received.
package amitest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape the server.
type Options struct {
	User, Secret string // default "switchboard", "s3cret"
	// Banner's version; default "Asterisk Call Manager/9.0.0" (Asterisk 20).
	Banner string
	// LF writes bare LF line endings instead of CRLF.
	LF bool
	// TrailingSpaces appends two spaces to every line written.
	TrailingSpaces bool
}

// Action is an action the server received, its fields in order.
type Action []Field

// Field is one "Key: Value" line.
type Field struct{ Key, Value string }

// Get returns the first value of key ("" when absent).
func (a Action) Get(key string) string {
	for _, f := range a {
		if strings.EqualFold(f.Key, key) {
			return f.Value
		}
	}
	return ""
}

// Originate is what the Originate hook decides.
type Originate struct {
	// Error, when set, refuses the action with this Message.
	Error string
	// Later are event blocks sent after the response (the
	// OriginateResponse and the call's events), in order.
	Later []string
}

// Server is the fake AMI.
type Server struct {
	t   testing.TB
	opt Options
	ln  net.Listener

	mu        sync.Mutex
	conns     map[*conn]bool // logged in
	all       map[*conn]bool
	actions   []Action
	logins    int
	failed    int
	channels  []string
	originate func(Action) Originate
	changed   chan struct{}
}

type conn struct {
	nc  net.Conn
	wmu sync.Mutex
}

// New starts a server; it stops when the test ends.
func New(t testing.TB, opt Options) *Server {
	t.Helper()
	if opt.User == "" {
		opt.User = "switchboard"
	}
	if opt.Secret == "" {
		opt.Secret = "s3cret"
	}
	if opt.Banner == "" {
		opt.Banner = "Asterisk Call Manager/9.0.0"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, opt: opt, ln: ln, conns: map[*conn]bool{}, all: map[*conn]bool{}, changed: make(chan struct{})}
	go s.accept()
	t.Cleanup(func() {
		ln.Close()
		s.Drop()
	})
	return s
}

// Host and Port to put in the account's settings.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the listener's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// User and Secret are the good credentials.
func (s *Server) User() string   { return s.opt.User }
func (s *Server) Secret() string { return s.opt.Secret }

// SetChannels sets the CoreShowChannel event blocks CoreShowChannels
// answers with (the server adds ActionID and the completion event).
func (s *Server) SetChannels(blocks ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = blocks
}

// OnOriginate sets the Originate hook (default: queued, nothing after).
func (s *Server) OnOriginate(f func(Action) Originate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.originate = f
}

// Emit sends event blocks ("Event: Newchannel\nChannel: …", lines
// separated by LF, no empty line) to every logged-in connection.
func (s *Server) Emit(blocks ...string) {
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(s.format(bl))
	}
	s.EmitRaw(b.String())
}

// EmitRaw writes raw bytes to every logged-in connection, as they are.
func (s *Server) EmitRaw(raw string) {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.write(raw)
	}
}

// Drop closes every connection (a PBX restart, a network cut).
func (s *Server) Drop() {
	s.mu.Lock()
	cs := s.all
	s.all, s.conns = map[*conn]bool{}, map[*conn]bool{}
	s.mu.Unlock()
	for c := range cs {
		c.nc.Close()
	}
}

// Logins counts successful and refused logins.
func (s *Server) Logins() (ok, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.failed
}

// Actions returns the actions received named name ("" for all).
func (s *Server) Actions(name string) []Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Action
	for _, a := range s.actions {
		if name == "" || strings.EqualFold(a.Get("Action"), name) {
			out = append(out, a)
		}
	}
	return out
}

// WaitActions waits until n actions named name have been received.
func (s *Server) WaitActions(t testing.TB, name string, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if len(s.Actions(name)) >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("amitest: %d %s actions after 5s, want %d", len(s.Actions(name)), name, n)
		}
	}
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// format turns a block written with LF into wire form.
func (s *Server) format(block string) string {
	eol := "\r\n"
	if s.opt.LF {
		eol = "\n"
	}
	if s.opt.TrailingSpaces {
		eol = "  " + eol
	}
	var b strings.Builder
	for l := range strings.SplitSeq(strings.TrimSpace(block), "\n") {
		b.WriteString(strings.TrimRight(l, "\r"))
		b.WriteString(eol)
	}
	b.WriteString(eol)
	return b.String()
}

func (c *conn) write(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.nc.Write([]byte(s))
}

func (s *Server) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &conn{nc: nc}
		s.mu.Lock()
		s.all[c] = true
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *Server) serve(c *conn) {
	defer func() {
		c.nc.Close()
		s.mu.Lock()
		delete(s.all, c)
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	eol := "\r\n"
	if s.opt.LF {
		eol = "\n"
	}
	c.write(s.opt.Banner + eol)
	r := bufio.NewReader(c.nc)
	for {
		a, err := readAction(r)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.actions = append(s.actions, a)
		s.notify()
		s.mu.Unlock()
		if !s.handle(c, a) {
			return
		}
	}
}

func readAction(r *bufio.Reader) (Action, error) {
	var a Action
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			if len(a) == 0 {
				continue
			}
			return a, nil
		}
		k, v, _ := strings.Cut(l, ":")
		a = append(a, Field{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
}

// handle answers one action; false closes the connection.
func (s *Server) handle(c *conn, a Action) bool {
	id := a.Get("ActionID")
	reply := func(fields ...string) {
		block := strings.Join(fields, "\n")
		if id != "" {
			block += "\nActionID: " + id
		}
		c.write(s.format(block))
	}
	s.mu.Lock()
	loggedIn := s.conns[c]
	s.mu.Unlock()
	name := strings.ToLower(a.Get("Action"))
	if !loggedIn && name != "login" {
		reply("Response: Error", "Message: Permission denied")
		return true
	}
	switch name {
	case "login":
		if a.Get("Username") != s.opt.User || a.Get("Secret") != s.opt.Secret {
			s.mu.Lock()
			s.failed++
			s.mu.Unlock()
			reply("Response: Error", "Message: Authentication failed")
			return false
		}
		s.mu.Lock()
		s.logins++
		s.conns[c] = true
		s.mu.Unlock()
		reply("Response: Success", "Message: Authentication accepted")
		c.write(s.format("Event: FullyBooted\nPrivilege: system,all\nUptime: 1000\nLastReload: 1000\nStatus: Fully Booted"))
	case "ping":
		reply("Response: Success", "Ping: Pong", fmt.Sprintf("Timestamp: %d.000000", time.Now().Unix()))
	case "logoff":
		reply("Response: Goodbye", "Message: Thanks for all the fish.")
		return false
	case "coreshowchannels":
		s.showChannels(c, id, reply)
	case "originate":
		s.mu.Lock()
		f := s.originate
		s.mu.Unlock()
		var o Originate
		if f != nil {
			o = f(a)
		}
		if o.Error != "" {
			reply("Response: Error", "Message: "+o.Error)
			return true
		}
		reply("Response: Success", "Message: Originate successfully queued")
		for _, b := range o.Later {
			c.write(s.format(b))
		}
	default:
		reply("Response: Error", "Message: Invalid/unknown command")
	}
	return true
}

func (s *Server) showChannels(c *conn, id string, reply func(...string)) {
	s.mu.Lock()
	chs := append([]string(nil), s.channels...)
	s.mu.Unlock()
	reply("Response: Success", "EventList: start", "Message: Channels will follow")
	for _, b := range chs {
		c.write(s.format(b + "\nActionID: " + id))
	}
	c.write(s.format(fmt.Sprintf("Event: CoreShowChannelsComplete\nActionID: %s\nEventList: Complete\nListItems: %d", id, len(chs))))
}
