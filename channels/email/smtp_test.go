package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

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
	srv := emailtest.NewSMTPServer(t)
	imapSrv := emailtest.NewIMAPServer(t)
	imapSrv.Create("Sent")
	a := newSendAdapter(t, srv.Addr, imapSrv.Addr, map[string]any{"sent_folder": "Sent"})
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
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	got := msgs[0]
	if got.From != emailtest.User || len(got.To) != 1 || got.To[0] != "ivan.petrov@vector-nsk.ru" || got.AuthedAs != emailtest.User {
		t.Errorf("envelope %+v", got)
	}
	for i, line := range bytes.Split(got.Data, []byte("\n")) {
		if len(line) > 998 {
			t.Errorf("line %d longer than RFC 5322 allows", i)
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Fatalf("line %d is not 7-bit: %q", i, line)
			}
		}
	}

	r, err := mail.CreateReader(bytes.NewReader(got.Data))
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
	in, err := Parse(got.Data, []string{"ivan.petrov@vector-nsk.ru"})
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
	if in.ThreadKey != "000001da7434$5c2e1b20$148a5160$@vector-nsk.ru" || in.Name != "Company Sales" || in.From[0].Value != emailtest.User {
		t.Errorf("parsed back %+v", in)
	}

	// The copy in the sent folder, read.
	c, err := imapclient.DialInsecure(imapSrv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(emailtest.User, emailtest.Password).Wait(); err != nil {
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
	if !seen || !bytes.Equal(bufs[0].BodySection[0].Bytes, got.Data) {
		t.Errorf("sent copy flags %v, same bytes %v", bufs[0].Flags, bytes.Equal(bufs[0].BodySection[0].Bytes, got.Data))
	}
}

func TestSendResendIsTheSameMessage(t *testing.T) {
	srv := emailtest.NewSMTPServer(t)
	a := newSendAdapter(t, srv.Addr, "", map[string]any{"signature": ""})
	out := channels.Outbound{To: channels.Handle{Kind: "email", Value: "client@example.org"}, Subject: "Hello", Text: "Hi", MessageID: "fixed-1@company.ru"}
	for range 2 {
		if _, err := a.Send(context.Background(), out); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		e, _ := message.Read(bytes.NewReader(m.Data))
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
	msgs = srv.Messages()
	if e, _ := message.Read(bytes.NewReader(msgs[2].Data)); e.Header.Get("Message-Id") != "<"+id+">" {
		t.Errorf("Message-Id %q, returned %q", e.Header.Get("Message-Id"), id)
	}
}

func TestSendInlineImage(t *testing.T) {
	srv := emailtest.NewSMTPServer(t)
	a := newSendAdapter(t, srv.Addr, "", nil)
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
	raw := srv.Messages()[0].Data
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
		{"unknown recipient is permanent", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}, emailtest.Password, true, "No such user"},
		{"greylisting is retried", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Try again later"}, emailtest.Password, false, "Try again later"},
		{"a refused login is permanent", nil, "wrong", true, "Authentication failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := emailtest.NewSMTPServer(t)
			srv.RefuseRecipients(tc.rcptErr)
			a := newSendAdapter(t, srv.Addr, "", nil)
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
