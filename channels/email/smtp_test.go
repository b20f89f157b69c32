package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/switchboard/switchboard/channels"
)

// smtpServer is a go-smtp server that records what it accepts.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	got  []smtpMessage
	// rcptErr, when set, refuses every recipient.
	rcptErr *smtp.SMTPError
}

type smtpMessage struct {
	from   string
	to     []string
	authed string
	data   []byte
}

func newSMTPServer(t testing.TB) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.addr = ln.Addr().String()
	return s
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.got...)
}

type smtpSession struct {
	srv *smtpServer
	cur smtpMessage
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != testUser || pass != testPassword {
			return smtp.ErrAuthFailed
		}
		s.cur.authed = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.cur.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.rcptErr != nil {
		return s.srv.rcptErr
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.cur)
	s.srv.mu.Unlock()
	s.cur = smtpMessage{authed: s.cur.authed}
	return nil
}

func (s *smtpSession) Reset()        { s.cur = smtpMessage{authed: s.cur.authed} }
func (s *smtpSession) Logout() error { return nil }

func newSendAdapter(t testing.TB, smtpAddr, imapAddr string, extra map[string]any) *Adapter {
	t.Helper()
	host, port, _ := net.SplitHostPort(smtpAddr)
	m := map[string]any{"smtp_host": host, "smtp_port": atoiT(port),
		"signature": "Отдел продаж «Компания»\n+7 383 000-00-00"}
	for k, v := range extra {
		m[k] = v
	}
	if imapAddr == "" {
		imapAddr = "127.0.0.1:1"
	}
	return newTestAdapter(t, imapAddr, "", m)
}

func TestSendThreadedReply(t *testing.T) {
	srv := newSMTPServer(t)
	imapSrv := newIMAPServer(t)
	if err := imapSrv.user.Create("Sent", nil); err != nil {
		t.Fatal(err)
	}
	a := newSendAdapter(t, srv.addr, imapSrv.addr, map[string]any{"sent_folder": "Sent"})
	pdf := []byte("%PDF-1.4 invoice")
	out := channels.Outbound{
		AccountID: 7, TouchID: 42,
		To:         channels.Handle{Kind: "email", Value: "ivan.petrov@vector-nsk.ru"},
		Subject:    "Re: Запрос цены на кондиционеры",
		Text:       "Добрый день, Иван!\nЦена 45 000 руб. за штуку.",
		HTML:       "<p>Добрый день, Иван!</p><p>Цена 45&nbsp;000 руб. за штуку.</p>",
		InReplyTo:  "<reply-2@vector-nsk.ru>",
		References: []string{"000001da7434$5c2e1b20$148a5160$@vector-nsk.ru"},
		MessageID:  "lq8z3k.5f1e@company.ru",
		Attachments: []channels.Attachment{
			{Name: "Счёт №17.pdf", ContentType: "application/pdf", Data: pdf},
		},
	}
	id, err := a.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if id != "lq8z3k.5f1e@company.ru" {
		t.Errorf("native id %q, want the Message-ID without brackets", id)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	got := msgs[0]
	if got.from != testUser || len(got.to) != 1 || got.to[0] != "ivan.petrov@vector-nsk.ru" || got.authed != testUser {
		t.Errorf("envelope %+v", got)
	}
	for i, line := range bytes.Split(got.data, []byte("\n")) {
		if len(line) > 998 {
			t.Errorf("line %d longer than RFC 5322 allows", i)
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Fatalf("line %d is not 7-bit: %q", i, line)
			}
		}
	}

	r, err := mail.CreateReader(bytes.NewReader(got.data))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header
	for k, want := range map[string]string{
		"Message-Id":  "<lq8z3k.5f1e@company.ru>",
		"In-Reply-To": "<reply-2@vector-nsk.ru>",
		"References":  "<000001da7434$5c2e1b20$148a5160$@vector-nsk.ru> <reply-2@vector-nsk.ru>",
		"To":          "<ivan.petrov@vector-nsk.ru>",
	} {
		if v := h.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if from := h.Get("From"); from != `"Company Sales" <sales@company.ru>` {
		t.Errorf("From: %q", from)
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(strings.ToLower(raw), "=?utf-8?") {
		t.Errorf("Subject not encoded: %q", raw)
	}
	if s, _ := h.Subject(); s != out.Subject {
		t.Errorf("Subject decodes to %q", s)
	}
	if d, err := h.Date(); err != nil || d.IsZero() {
		t.Errorf("Date: %v %v", d, err)
	}

	// What the recipient's client sees, read back with Parse.
	in, err := Parse(got.data, []string{"ivan.petrov@vector-nsk.ru"})
	if err != nil {
		t.Fatal(err)
	}
	wantText := "Добрый день, Иван!\nЦена 45 000 руб. за штуку.\n\n-- \nОтдел продаж «Компания»\n+7 383 000-00-00"
	if in.Text != wantText {
		t.Errorf("text %q, want %q", in.Text, wantText)
	}
	if !strings.Contains(in.HTML, "<p>Добрый день, Иван!</p>") || !strings.Contains(in.HTML, "Отдел продаж «Компания»") {
		t.Errorf("html %q", in.HTML)
	}
	if len(in.Attachments) != 1 || in.Attachments[0].Name != "Счёт №17.pdf" || in.Attachments[0].ContentType != "application/pdf" || !bytes.Equal(in.Attachments[0].Data, pdf) {
		t.Errorf("attachments %+v", in.Attachments)
	}
	if in.ThreadKey != "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru" || in.Name != "Company Sales" || in.From[0].Value != testUser {
		t.Errorf("parsed back %+v", in)
	}

	// The copy in the sent folder, read.
	c, err := imapclient.DialInsecure(imapSrv.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(testUser, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("Sent", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	bufs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(bufs) != 1 {
		t.Fatalf("sent folder: %v, %d messages", err, len(bufs))
	}
	seen := false
	for _, f := range bufs[0].Flags {
		seen = seen || f == imap.FlagSeen
	}
	if !seen || !bytes.Equal(bufs[0].BodySection[0].Bytes, got.data) {
		t.Errorf("sent copy flags %v, same bytes %v", bufs[0].Flags, bytes.Equal(bufs[0].BodySection[0].Bytes, got.data))
	}
}

func TestSendResendIsTheSameMessage(t *testing.T) {
	srv := newSMTPServer(t)
	a := newSendAdapter(t, srv.addr, "", map[string]any{"signature": ""})
	out := channels.Outbound{To: channels.Handle{Kind: "email", Value: "client@example.org"}, Subject: "Hello", Text: "Hi", MessageID: "fixed-1@company.ru"}
	for range 2 {
		if _, err := a.Send(context.Background(), out); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		e, _ := message.Read(bytes.NewReader(m.data))
		if e.Header.Get("Message-Id") != "<fixed-1@company.ru>" {
			t.Errorf("Message-Id %q", e.Header.Get("Message-Id"))
		}
		if ct, _, _ := e.Header.ContentType(); ct != "text/plain" {
			t.Errorf("a text-only reply is %s", ct)
		}
		if b, _ := io.ReadAll(e.Body); strings.TrimSpace(string(b)) != "Hi" {
			t.Errorf("body %q: no signature configured, none appended", b)
		}
	}

	// No Message-ID: one is made in the mailbox's domain and returned.
	id, err := a.Send(context.Background(), channels.Outbound{To: channels.Handle{Kind: "email", Value: "client@example.org"}, Subject: "x", Text: "y"})
	if err != nil || !strings.HasSuffix(id, "@company.ru") || strings.ContainsAny(id, "<>") {
		t.Fatalf("generated id %q, %v", id, err)
	}
	msgs = srv.messages()
	if e, _ := message.Read(bytes.NewReader(msgs[2].data)); e.Header.Get("Message-Id") != "<"+id+">" {
		t.Errorf("Message-Id %q, returned %q", e.Header.Get("Message-Id"), id)
	}
}

func TestSendInlineImage(t *testing.T) {
	srv := newSMTPServer(t)
	a := newSendAdapter(t, srv.addr, "", nil)
	png := []byte("\x89PNG\r\n\x1a\nfake")
	_, err := a.Send(context.Background(), channels.Outbound{
		To: channels.Handle{Kind: "email", Value: "client@example.org"}, Subject: "Logo", Text: "See the logo",
		HTML: `<p>See <img src="cid:logo@company.ru"></p>`,
		Attachments: []channels.Attachment{
			{Name: "logo.png", ContentType: "image/png", ContentID: "logo@company.ru", Inline: true, Data: png},
			{Name: "terms.txt", ContentType: "text/plain", Data: []byte("terms")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := srv.messages()[0].data
	e, _ := message.Read(bytes.NewReader(raw))
	if ct, _, _ := e.Header.ContentType(); ct != "multipart/mixed" {
		t.Errorf("top is %s", ct)
	}
	if !bytes.Contains(raw, []byte("multipart/related")) || !bytes.Contains(raw, []byte("multipart/alternative")) {
		t.Error("no related/alternative structure")
	}
	in, err := Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Attachments) != 2 || in.Attachments[0].ContentID != "logo@company.ru" || !in.Attachments[0].Inline ||
		!bytes.Equal(in.Attachments[0].Data, png) || in.Attachments[1].Name != "terms.txt" || in.Attachments[1].Inline {
		t.Errorf("attachments %+v", in.Attachments)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		rcptErr   *smtp.SMTPError
		password  string
		permanent bool
		want      string
	}{
		{"unknown recipient is permanent", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}, testPassword, true, "No such user"},
		{"greylisting is retried", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Try again later"}, testPassword, false, "Try again later"},
		{"a refused login is permanent", nil, "wrong", true, "Authentication failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSMTPServer(t)
			srv.rcptErr = tc.rcptErr
			a := newSendAdapter(t, srv.addr, "", nil)
			a.acc.Secret = tc.password
			_, err := a.Send(context.Background(), channels.Outbound{To: channels.Handle{Kind: "email", Value: "x@example.org"}, Subject: "s", Text: "t"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "permanent failure: email: ") && !strings.HasPrefix(err.Error(), "email: ") {
				t.Fatalf("Send = %v, want %q", err, tc.want)
			}
			if errors.Is(err, channels.ErrPermanent) != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", errors.Is(err, channels.ErrPermanent), tc.permanent, err)
			}
		})
	}

	t.Run("no server is retried", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		a := newSendAdapter(t, addr, "", nil)
		_, err := a.Send(context.Background(), channels.Outbound{To: channels.Handle{Kind: "email", Value: "x@example.org"}, Text: "t"})
		if err == nil || errors.Is(err, channels.ErrPermanent) {
			t.Fatalf("Send = %v, want a retryable error", err)
		}
	})
	t.Run("a recipient that is no address is permanent", func(t *testing.T) {
		a := newSendAdapter(t, "127.0.0.1:1", "", nil)
		_, err := a.Send(context.Background(), channels.Outbound{To: channels.Handle{Kind: "email", Value: "+79131234567"}, Text: "t"})
		if !errors.Is(err, channels.ErrPermanent) {
			t.Fatalf("Send = %v", err)
		}
	})
}
