// Package emailtest runs mail servers for tests on loopback ports: go-imap's
// in-memory IMAP server (IMAP4rev2, so IDLE) with one mailbox, and a go-smtp
// server that keeps what it accepts. The email adapter's tests and the
// inbox's end-to-end tests and benchmarks use them.
package emailtest

import (
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// User and Password log in to both servers.
const (
	User     = "sales@company.ru"
	Password = "app-password"
)

// IMAPServer is go-imap's in-memory server with the mailbox of User, which
// has an INBOX. Addr goes into the account's imap_host and imap_port.
type IMAPServer struct {
	Addr string

	t    testing.TB
	user *imapmemserver.User
	srv  *imapserver.Server
}

// NewIMAPServer starts a server that accepts LOGIN without TLS
// (InsecureAuth). It is closed when the test ends.
func NewIMAPServer(t testing.TB) *IMAPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveIMAP(t, ln, true)
}

// NewIMAPServerTLS starts a server that speaks implicit TLS (as on port
// 993) with config.
func NewIMAPServerTLS(t testing.TB, config *tls.Config) *IMAPServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatal(err)
	}
	return serveIMAP(t, ln, false)
}

func serveIMAP(t testing.TB, ln net.Listener, insecureAuth bool) *IMAPServer {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(User, Password)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	// go-imap's server offers IDLE to IMAP4rev1 clients too.
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: insecureAuth,
		Logger:       log.New(io.Discard, "", 0),
	})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &IMAPServer{Addr: ln.Addr().String(), t: t, user: user, srv: srv}
}

// Append puts raw into folder with the internal date at and flags, and
// returns its UID.
func (s *IMAPServer) Append(folder string, raw []byte, at time.Time, flags ...imap.Flag) imap.UID {
	s.t.Helper()
	data, err := s.user.Append(folder, literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{Time: at, Flags: flags})
	if err != nil {
		s.t.Fatal(err)
	}
	return data.UID
}

// Create makes a folder.
func (s *IMAPServer) Create(folder string) {
	s.t.Helper()
	if err := s.user.Create(folder, nil); err != nil {
		s.t.Fatal(err)
	}
}

// Delete removes a folder and its messages; created again, it has a new
// UIDVALIDITY.
func (s *IMAPServer) Delete(folder string) {
	s.t.Helper()
	if err := s.user.Delete(folder); err != nil {
		s.t.Fatal(err)
	}
}

// Count is the number of messages in folder.
func (s *IMAPServer) Count(folder string) int {
	s.t.Helper()
	st, err := s.user.Status(folder, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		s.t.Fatal(err)
	}
	return int(*st.NumMessages)
}

// Close stops the server and drops its connections.
func (s *IMAPServer) Close() { s.srv.Close() }

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// SMTPServer is go-smtp's server; it asks for AUTH PLAIN as User with
// Password before MAIL FROM and keeps every message it accepts. Addr goes
// into the account's smtp_host and smtp_port.
type SMTPServer struct {
	Addr string

	mu      sync.Mutex
	got     []Message
	rcptErr *smtp.SMTPError
}

// Message is one accepted message: its envelope, the user it was sent
// as and its bytes.
type Message struct {
	From     string
	To       []string
	AuthedAs string
	Data     []byte
}

// NewSMTPServer starts a server that accepts AUTH without TLS. It is
// closed when the test ends.
func NewSMTPServer(t testing.TB) *SMTPServer {
	t.Helper()
	return serveSMTP(t, func(srv *smtp.Server) { srv.AllowInsecureAuth = true })
}

// NewSMTPServerTLS starts a server that offers STARTTLS with config (as
// on port 587) and AUTH only after it.
func NewSMTPServerTLS(t testing.TB, config *tls.Config) *SMTPServer {
	t.Helper()
	return serveSMTP(t, func(srv *smtp.Server) { srv.TLSConfig = config })
}

func serveSMTP(t testing.TB, configure func(*smtp.Server)) *SMTPServer {
	t.Helper()
	s := &SMTPServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }))
	srv.Domain = "localhost"
	configure(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.Addr = ln.Addr().String()
	return s
}

// Messages returns what the server has accepted, in order.
func (s *SMTPServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// RefuseRecipients makes the server answer every RCPT TO with err; nil
// accepts them again.
func (s *SMTPServer) RefuseRecipients(err *smtp.SMTPError) {
	s.mu.Lock()
	s.rcptErr = err
	s.mu.Unlock()
}

type smtpSession struct {
	srv *SMTPServer
	cur Message
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != User || pass != Password {
			return smtp.ErrAuthFailed
		}
		s.cur.AuthedAs = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.cur.AuthedAs == "" {
		return smtp.ErrAuthRequired
	}
	s.cur.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	err := s.srv.rcptErr
	s.srv.mu.Unlock()
	if err != nil {
		return err
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.cur)
	s.srv.mu.Unlock()
	s.cur = Message{AuthedAs: s.cur.AuthedAs}
	return nil
}

func (s *smtpSession) Reset()        { s.cur = Message{AuthedAs: s.cur.AuthedAs} }
func (s *smtpSession) Logout() error { return nil }
