package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard/switchboard/channels"
)

// sendTimeout bounds one send (an upload of a large file).
const sendTimeout = 2 * time.Minute

// maxImage is the largest image sent as an image; larger go as documents.
const maxImage = 16 << 20

// Send delivers out to a chat (channels.Adapter). out.To is the chat's
// JID as stored (…@s.whatsapp.net or …@lid).
//
// Text goes first, quoting out.ReplyTo's message; each attachment follows
// as one message (JPEG, PNG and WebP images as images, anything else as a
// document). Messages leave at most one per send_interval (1 s). A chat
// that never wrote is refused (channels.Permanent) unless first_messages
// is set: unsolicited messages get a number banned. Send returns
// "<chat>:<message id>" of the last message sent, the form of inbound
// ExternalIDs.
//
// Send never connects: only the running account's client sends (a second
// connection of the session would make WhatsApp drop both). Not connected
// here, or paused by a temporary ban, the send is retried later.
func (a *Adapter) Send(ctx context.Context, out channels.Outbound) (string, error) {
	if out.To.Kind != "" && out.To.Kind != string(channels.WhatsApp) {
		return "", channels.Permanent(fmt.Errorf("whatsapp: recipient is a %s handle, not a WhatsApp chat", out.To.Kind))
	}
	to, err := types.ParseJID(strings.TrimSpace(out.To.Value))
	if err != nil || to.User == "" || (to.Server != types.DefaultUserServer && to.Server != types.HiddenUserServer && !(a.settings.Groups && to.Server == types.GroupServer)) {
		return "", channels.Permanent(fmt.Errorf("whatsapp: recipient %q is not a WhatsApp chat", out.To.Value))
	}
	to = to.ToNonAD()
	for _, at := range out.Attachments {
		if len(at.Data) == 0 {
			return "", channels.Permanent(fmt.Errorf("whatsapp: attachment %q has no data", at.Name))
		}
	}
	text := strings.TrimSpace(out.Text)
	if text == "" && len(out.Attachments) == 0 {
		return "", channels.Permanent(errors.New("whatsapp: nothing to send: no text and no attachments"))
	}
	first := out.ReplyTo == "" && !a.wrote(to)
	if first && !a.settings.FirstMessages {
		return "", channels.Permanent(errors.New("whatsapp: this chat never wrote to the account: a first message is refused to protect the number from a ban (allow first_messages in the account's settings)"))
	}
	cli, err := a.connected()
	if err != nil {
		return "", err
	}
	if first && out.Delivered == 0 {
		if err := a.takeFirst(); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()

	quote := quoteOf(out.ReplyTo, to)
	var parts []func() (*waE2E.Message, error)
	if text != "" {
		parts = append(parts, func() (*waE2E.Message, error) { return textMessage(text, quote), nil })
	}
	for _, at := range out.Attachments {
		parts = append(parts, func() (*waE2E.Message, error) { return a.fileMessage(ctx, cli, at, quote) })
	}
	last, n := "", 0
	for i, part := range parts {
		if i < out.Delivered {
			quote = nil
			continue
		}
		msg, err := part()
		if err == nil {
			last, err = a.sendOne(ctx, cli, to, msg)
		}
		if err != nil {
			if n = i; n > out.Delivered {
				return "", &channels.PartialSend{Delivered: n, Err: err}
			}
			return "", err
		}
		quote = nil
	}
	if last == "" {
		return "", nil // every part went out on earlier attempts
	}
	a.log.Debug("whatsapp: sent", "chat", to.String(), "id", last, "touch_id", out.TouchID)
	return to.String() + ":" + last, nil
}

// takeFirst counts a first message against first_per_minute, or says
// when the next may go.
func (a *Adapter) takeFirst() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	recent := a.firsts[:0]
	for _, at := range a.firsts {
		if now.Sub(at) < time.Minute {
			recent = append(recent, at)
		}
	}
	a.firsts = recent
	if len(recent) >= a.settings.FirstPerMinute {
		return &channels.RetryAfter{After: time.Minute - now.Sub(recent[0]),
			Err: fmt.Errorf("whatsapp: %d first messages in the last minute, the account's limit (first_per_minute)", len(recent))}
	}
	a.firsts = append(a.firsts, now)
	return nil
}

// wrote reports whether chat wrote since Run started.
func (a *Adapter) wrote(chat types.JID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.chats[chat.String()]
}

// sendOne sends msg once the send interval since the last message has
// passed.
func (a *Adapter) sendOne(ctx context.Context, cli Client, to types.JID, msg *waE2E.Message) (string, error) {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	a.mu.Lock()
	wait := time.Until(a.lastSend.Add(a.interval))
	a.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
	resp, err := cli.SendMessage(ctx, to, msg)
	a.mu.Lock()
	a.lastSend = time.Now()
	a.mu.Unlock()
	if err != nil {
		return "", sendError(to, err)
	}
	return resp.ID, nil
}

// sendError classifies a failed send: what can never succeed is permanent,
// the rest (not connected, timeouts, server errors) is retried.
func sendError(to types.JID, err error) error {
	err = fmt.Errorf("whatsapp: send to %s: %w", to, err)
	switch {
	case errors.Is(err, whatsmeow.ErrRecipientADJID), errors.Is(err, whatsmeow.ErrUnknownServer),
		errors.Is(err, whatsmeow.ErrBroadcastListUnsupported), errors.Is(err, whatsmeow.ErrNotInGroup):
		return channels.Permanent(err)
	}
	return err
}

// quoteOf is the quote of an inbound's ExternalID ("<chat>:<id>", or an
// edit's "<chat>:<id>:edit:<id>") when it belongs to chat; nil otherwise.
func quoteOf(ext string, chat types.JID) *waE2E.ContextInfo {
	rest, ok := strings.CutPrefix(ext, chat.String()+":")
	if !ok || rest == "" {
		return nil
	}
	id, _, _ := strings.Cut(rest, ":")
	return &waE2E.ContextInfo{
		StanzaID:      proto.String(id),
		Participant:   proto.String(chat.String()),
		QuotedMessage: &waE2E.Message{Conversation: proto.String("")},
	}
}

func textMessage(text string, quote *waE2E.ContextInfo) *waE2E.Message {
	if quote == nil {
		return &waE2E.Message{Conversation: proto.String(text)}
	}
	return &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(text), ContextInfo: quote}}
}

// fileMessage uploads at and describes it: an image message for images
// WhatsApp shows inline, a document for anything else.
func (a *Adapter) fileMessage(ctx context.Context, cli Client, at channels.Attachment, quote *waE2E.ContextInfo) (*waE2E.Message, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(at.ContentType, ";")[0]))
	name := or(at.Name, "file")
	if (ct == "image/jpeg" || ct == "image/png" || ct == "image/webp") && len(at.Data) <= maxImage {
		up, err := cli.Upload(ctx, at.Data, whatsmeow.MediaImage)
		if err != nil {
			return nil, fmt.Errorf("whatsapp: upload %s: %w", name, err)
		}
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(ct), ContextInfo: quote,
		}}, nil
	}
	up, err := cli.Upload(ctx, at.Data, whatsmeow.MediaDocument)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: upload %s: %w", name, err)
	}
	return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
		URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
		FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
		Mimetype: proto.String(or(ct, "application/octet-stream")), FileName: proto.String(name), Title: proto.String(name),
		ContextInfo: quote,
	}}, nil
}
