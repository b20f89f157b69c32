package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/switchboard/switchboard/channels"
)

// sentTimeout bounds the copy to the sent folder, which is best effort.
const sentTimeout = time.Minute

// Send writes out as an RFC 5322 message (text/plain with the signature,
// an HTML alternative, inline images in multipart/related, attachments in
// multipart/mixed) and submits it over SMTP. The Message-ID is
// out.MessageID, so a resend is the same message; one is generated only
// when it is empty. It returns the Message-ID without angle brackets.
//
// A 5xx reply (unknown recipient, refused sender, failed authentication,
// message refused) is channels.Permanent; a 4xx reply, a network or TLS
// error is returned as is, to be retried. With sent_folder set, a copy is
// appended there flagged \Seen; failing that is logged, not an error.
func (a *Adapter) Send(ctx context.Context, out channels.Outbound) (string, error) {
	to, err := netmail.ParseAddress(strings.TrimSpace(out.To.Value))
	if err != nil || !validAddress(to.Address) {
		return "", channels.Permanent(fmt.Errorf("email: recipient %q is not an email address", out.To.Value))
	}
	msgID := strings.Trim(strings.TrimSpace(out.MessageID), "<>")
	if msgID == "" {
		if msgID, err = newMessageID(a.set.Address); err != nil {
			return "", fmt.Errorf("email: message id: %w", err)
		}
	}
	raw, err := a.Compose(out, msgID, time.Now())
	if err != nil {
		return "", channels.Permanent(err)
	}
	log := a.log.With("message_id", msgID, "touch_id", out.TouchID)
	if err := a.submit(ctx, to.Address, raw); err != nil {
		return "", err
	}
	log.Info("email: sent", "bytes", len(raw))
	if a.set.SentFolder != "" {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sentTimeout)
		defer cancel()
		if err := a.appendSent(actx, raw); err != nil {
			log.Warn("email: sent, but the copy to the sent folder failed", "folder", a.set.SentFolder, "err", err)
		}
	}
	return msgID, nil
}

// Compose writes out as a MIME message with the given Message-ID (without
// angle brackets) and date.
func (a *Adapter) Compose(out channels.Outbound, msgID string, date time.Time) ([]byte, error) {
	var h mail.Header
	h.SetDate(date)
	h.SetAddressList("From", []*mail.Address{{Name: a.set.Name, Address: a.set.Address}})
	h.SetAddressList("To", []*mail.Address{{Address: strings.TrimSpace(out.To.Value)}})
	h.SetSubject(out.Subject)
	h.SetMessageID(msgID)
	inReplyTo := strings.Trim(strings.TrimSpace(out.InReplyTo), "<>")
	var refs []string
	for _, r := range out.References {
		if r = strings.Trim(strings.TrimSpace(r), "<>"); r != "" && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	if inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{inReplyTo})
		if !slices.Contains(refs, inReplyTo) {
			refs = append(refs, inReplyTo) // RFC 5322 3.6.4: the parent's References, then the parent
		}
	}
	h.SetMsgIDList("References", refs)

	text := out.Text
	htmlBody := out.HTML
	if sig := strings.TrimSpace(a.set.Signature); sig != "" {
		text = strings.TrimRight(text, "\r\n ") + "\n\n-- \n" + sig
		if htmlBody != "" {
			htmlBody += "<br><br>-- <br>" + strings.ReplaceAll(html.EscapeString(sig), "\n", "<br>")
		}
	}
	if text = strings.ReplaceAll(text, "\r\n", "\n"); !strings.HasSuffix(text, "\n") {
		text += "\n"
	}

	var inline, attached []channels.Attachment
	for _, at := range out.Attachments {
		if at.Inline && at.ContentID != "" && htmlBody != "" {
			inline = append(inline, at)
		} else {
			attached = append(attached, at)
		}
	}

	// The body from the inside out: text, then alternative, related, mixed.
	body := func(w partWriter) error { return writeText(w, "text/plain", text) }
	if htmlBody != "" {
		body = alternative(text, htmlBody)
	}
	if len(inline) > 0 {
		body = enclose("multipart/related", body, inline)
	}
	if len(attached) > 0 {
		body = enclose("multipart/mixed", body, attached)
	}

	var buf bytes.Buffer
	if err := body(rootWriter{&buf, h.Header}); err != nil {
		return nil, fmt.Errorf("email: compose: %w", err)
	}
	return buf.Bytes(), nil
}

// partWriter creates an entity with a header: the message itself, or a
// part of a multipart.
type partWriter interface {
	create(h message.Header) (*message.Writer, error)
}

type rootWriter struct {
	w io.Writer
	h message.Header // the message header the entity's own fields join
}

func (r rootWriter) create(h message.Header) (*message.Writer, error) {
	full := r.h.Copy()
	for f := h.Fields(); f.Next(); {
		full.Set(f.Key(), f.Value())
	}
	return message.CreateWriter(r.w, full)
}

type childWriter struct{ w *message.Writer }

func (c childWriter) create(h message.Header) (*message.Writer, error) { return c.w.CreatePart(h) }

func writeText(pw partWriter, mt, s string) error {
	var h message.Header
	h.SetContentType(mt, map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	w, err := pw.create(h)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, s); err != nil {
		return err
	}
	return w.Close()
}

func alternative(text, htmlBody string) func(partWriter) error {
	return func(pw partWriter) error {
		var h message.Header
		h.SetContentType("multipart/alternative", nil)
		w, err := pw.create(h)
		if err != nil {
			return err
		}
		if err := writeText(childWriter{w}, "text/plain", text); err != nil {
			return err
		}
		if err := writeText(childWriter{w}, "text/html", htmlBody); err != nil {
			return err
		}
		return w.Close()
	}
}

// enclose wraps inner in a multipart of type mt followed by files.
func enclose(mt string, inner func(partWriter) error, files []channels.Attachment) func(partWriter) error {
	return func(pw partWriter) error {
		var h message.Header
		h.SetContentType(mt, nil)
		w, err := pw.create(h)
		if err != nil {
			return err
		}
		if err := inner(childWriter{w}); err != nil {
			return err
		}
		for i, f := range files {
			if err := writeFile(w, f, i+1); err != nil {
				return err
			}
		}
		return w.Close()
	}
}

func writeFile(w *message.Writer, f channels.Attachment, n int) error {
	ct := strings.TrimSpace(f.ContentType)
	if ct == "" {
		ct = "application/octet-stream"
	}
	name := strings.TrimSpace(f.Name)
	if name == "" {
		name = "attachment-" + strconv.Itoa(n)
	}
	var h message.Header
	h.SetContentType(ct, map[string]string{"name": name})
	disp := "attachment"
	if f.Inline && f.ContentID != "" {
		disp = "inline"
	}
	h.SetContentDisposition(disp, map[string]string{"filename": name})
	if f.ContentID != "" {
		h.Set("Content-Id", "<"+strings.Trim(f.ContentID, "<>")+">")
	}
	h.Set("Content-Transfer-Encoding", "base64")
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(f.Data); err != nil {
		return err
	}
	return pw.Close()
}

// submit delivers raw to one recipient over SMTP.
func (a *Adapter) submit(ctx context.Context, to string, raw []byte) error {
	c, addr, err := a.dialSMTP(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // ending ctx ends the send
	defer stop()
	if err := c.SendMail(a.set.Address, []string{to}, bytes.NewReader(raw)); err != nil {
		return smtpError("send", addr, err)
	}
	if err := c.Quit(); err != nil {
		// Accepted after the final dot: the message is on its way.
		a.log.Debug("email: smtp quit", "err", err)
	}
	return nil
}

// smtpError wraps an SMTP failure: 5xx replies are permanent.
func smtpError(step, addr string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 && se.Code < 600 {
		return channels.Permanent(fmt.Errorf("email: smtp %s at %s: %w", step, addr, err))
	}
	return fmt.Errorf("email: smtp %s at %s: %w", step, addr, err)
}

// appendSent stores a copy of a sent message in the sent folder.
func (a *Adapter) appendSent(ctx context.Context, raw []byte) error {
	c, err := a.connect(ctx, &imapclient.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	cmd := c.Append(a.set.SentFolder, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: time.Now()})
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return fmt.Errorf("email: append to %q: %w", a.set.SentFolder, err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("email: append to %q: %w", a.set.SentFolder, err)
	}
	if _, err := cmd.Wait(); err != nil {
		return fmt.Errorf("email: append to %q: %w", a.set.SentFolder, err)
	}
	if err := c.Logout().Wait(); err != nil {
		a.log.Debug("email: imap logout", "err", err)
	}
	return nil
}

// newMessageID makes a unique Message-ID in the domain of addr.
func newMessageID(addr string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	_, domain, _ := strings.Cut(addr, "@")
	if domain == "" {
		domain = "switchboard.invalid"
	}
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "." + hex.EncodeToString(b) + "@" + domain, nil
}

// dialSMTP connects to the SMTP server with the configured security and
// logs in when the server offers AUTH. The context bounds the dial and
// the handshake; the caller closes the client.
func (a *Adapter) dialSMTP(ctx context.Context) (*smtp.Client, string, error) {
	addr := hostPort(a.set.SMTPHost, a.set.SMTPPort)
	d := &net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, addr, fmt.Errorf("email: smtp connect %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var c *smtp.Client
	switch a.set.SMTPSecurity {
	case SecurityTLS:
		tc := tls.Client(conn, a.tlsFor(a.set.SMTPHost))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, addr, fmt.Errorf("email: smtp tls %s: %w", addr, err)
		}
		c = smtp.NewClient(tc)
	case SecurityStartTLS:
		if c, err = smtp.NewClientStartTLS(conn, a.tlsFor(a.set.SMTPHost)); err != nil {
			return nil, addr, smtpError("starttls", addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = 2 * time.Minute
	if ok, _ := c.Extension("AUTH"); ok {
		var auth sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			auth = sasl.NewPlainClient("", a.set.SMTPUser, a.acc.Secret)
		case c.SupportsAuth(sasl.Login):
			auth = sasl.NewLoginClient(a.set.SMTPUser, a.acc.Secret)
		default:
			c.Close()
			return nil, addr, channels.Permanent(fmt.Errorf("email: smtp %s offers neither AUTH PLAIN nor LOGIN", addr))
		}
		if err := c.Auth(auth); err != nil {
			c.Close()
			return nil, addr, smtpError("auth as "+a.set.SMTPUser, addr, err)
		}
	}
	return c, addr, nil
}

// Test logs in to the IMAP and the SMTP server and leaves (Tester).
func (a *Adapter) Test(ctx context.Context) (string, error) {
	c, err := a.connect(ctx, &imapclient.Options{})
	if err != nil {
		return "", err
	}
	c.Logout().Wait()
	c.Close()
	s, addr, err := a.dialSMTP(ctx)
	if err != nil {
		return "", err
	}
	s.Quit()
	s.Close()
	return fmt.Sprintf("IMAP %s: logged in as %s; SMTP %s: accepted %s", hostPort(a.set.IMAPHost, a.set.IMAPPort), a.set.IMAPUser, addr, a.set.SMTPUser), nil
}
