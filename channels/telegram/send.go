package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/switchboard/switchboard/channels"
)

// Bot API limits, in UTF-16 code units (https://core.telegram.org/bots/api#sendmessage).
const (
	maxMessage = 4096
	maxCaption = 1024
	maxPhoto   = 10 << 20 // larger images go as documents
)

// Send delivers out to a user's private chat (channels.Adapter). out.To is
// the Telegram user id, which is also the private chat's id.
//
// Text goes with sendMessage, split at 4096 characters; attachments with
// sendPhoto (JPEG and PNG up to 10 MB) or sendDocument, one message each.
// A text short enough for a caption (1024) rides on the first attachment;
// a longer one is sent first. The first message replies to out.ReplyTo's
// message when it is set and still exists. Send returns
// "<chat_id>:<message_id>" of the last message sent.
//
// Errors: 429 is a *channels.RetryAfter with Telegram's retry_after; 400
// and 403 (chat not found, bot blocked by the user, empty text) are
// channels.Permanent; anything else (5xx, network) is plain, to be
// retried. When a later part fails after earlier ones went out, a retry
// sends those again.
func (a *Adapter) Send(ctx context.Context, out channels.Outbound) (string, error) {
	if out.To.Kind != "" && out.To.Kind != string(channels.Telegram) {
		return "", channels.Permanent(fmt.Errorf("telegram: recipient is a %s handle, not a Telegram user id", out.To.Kind))
	}
	chatID, err := strconv.ParseInt(strings.TrimSpace(out.To.Value), 10, 64)
	if err != nil || chatID <= 0 {
		return "", channels.Permanent(fmt.Errorf("telegram: recipient %q is not a Telegram user id", out.To.Value))
	}
	for _, at := range out.Attachments {
		if len(at.Data) == 0 {
			return "", channels.Permanent(fmt.Errorf("telegram: attachment %q has no data", at.Name))
		}
	}
	text := strings.TrimSpace(out.Text)
	if text == "" && len(out.Attachments) == 0 {
		return "", channels.Permanent(errors.New("telegram: nothing to send: no text and no attachments"))
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()

	reply := replyTarget(out.ReplyTo, chatID)
	caption := ""
	if len(out.Attachments) > 0 && utf16Len(text) <= maxCaption {
		caption, text = text, ""
	}
	// The parts go in order; an earlier attempt's delivered ones are
	// skipped, and a failure says how many are delivered now.
	var last *models.Message
	n := 0
	partial := func(err error) error {
		if n > out.Delivered {
			return &channels.PartialSend{Delivered: n, Err: err}
		}
		return err
	}
	for _, part := range splitText(text, maxMessage) {
		if n++; n <= out.Delivered {
			reply = 0
			continue
		}
		m, err := a.withReply(reply, func(rp *models.ReplyParameters) (*models.Message, error) {
			return a.bot.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: part, ReplyParameters: rp})
		})
		if err != nil {
			n--
			return "", partial(a.sendError("sendMessage", chatID, err))
		}
		last, reply = m, 0
	}
	for i, at := range out.Attachments {
		if n++; n <= out.Delivered {
			reply = 0
			continue
		}
		c := ""
		if i == 0 {
			c = caption
		}
		m, err := a.sendFile(ctx, chatID, at, c, reply)
		if err != nil {
			n--
			return "", partial(err)
		}
		last, reply = m, 0
	}
	if last == nil { // every part went out on earlier attempts
		return "", nil
	}
	id := chatID
	if last.Chat.ID != 0 {
		id = last.Chat.ID
	}
	a.log.Debug("telegram: sent", "chat_id", id, "message_id", last.ID, "touch_id", out.TouchID)
	return fmt.Sprintf("%d:%d", id, last.ID), nil
}

// sendFile sends one attachment: an image as a photo (falling back to a
// document when Telegram will not take it as one), anything else as a
// document.
func (a *Adapter) sendFile(ctx context.Context, chatID int64, at channels.Attachment, caption string, reply int) (*models.Message, error) {
	name := at.Name
	if name == "" {
		name = "file"
	}
	if isPhoto(at) {
		m, err := a.withReply(reply, func(rp *models.ReplyParameters) (*models.Message, error) {
			return a.bot.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: chatID, Caption: caption, ReplyParameters: rp,
				Photo: &models.InputFileUpload{Filename: name, Data: bytes.NewReader(at.Data)}})
		})
		if err == nil || !errors.Is(err, bot.ErrorBadRequest) {
			return m, a.sendError("sendPhoto", chatID, err)
		}
		a.log.Info("telegram: photo refused, sending it as a document", "chat_id", chatID, "name", name, "err", err)
	}
	m, err := a.withReply(reply, func(rp *models.ReplyParameters) (*models.Message, error) {
		return a.bot.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chatID, Caption: caption, ReplyParameters: rp,
			Document: &models.InputFileUpload{Filename: name, Data: bytes.NewReader(at.Data)}})
	})
	return m, a.sendError("sendDocument", chatID, err)
}

func isPhoto(at channels.Attachment) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(at.ContentType, ";")[0]))
	return (ct == "image/jpeg" || ct == "image/png") && len(at.Data) <= maxPhoto
}

// withReply calls send replying to message reply (0: none). Telegram is
// asked to send anyway when the target is gone
// (allow_sending_without_reply); should it still refuse over the reply,
// the message goes without one.
func (a *Adapter) withReply(reply int, send func(*models.ReplyParameters) (*models.Message, error)) (*models.Message, error) {
	if reply == 0 {
		return send(nil)
	}
	m, err := send(&models.ReplyParameters{MessageID: reply, AllowSendingWithoutReply: true})
	if err != nil && errors.Is(err, bot.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "repl") {
		a.log.Debug("telegram: reply target refused; sending without it", "message_id", reply, "err", err)
		return send(nil)
	}
	return m, err
}

// replyTarget is the message id in an inbound's ExternalID
// ("<chat_id>:<message_id>", or an edit's "<chat_id>:<message_id>:edit:<date>")
// when it belongs to chatID; 0 otherwise.
func replyTarget(ext string, chatID int64) int {
	parts := strings.Split(ext, ":")
	if len(parts) < 2 || parts[0] != strconv.FormatInt(chatID, 10) {
		return 0
	}
	id, err := strconv.Atoi(parts[1])
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// sendError classifies a failed send (nil stays nil).
func (a *Adapter) sendError(method string, chatID int64, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("telegram: %s to %d: %w", method, chatID, a.redact(err))
	var tooMany *bot.TooManyRequestsError
	var migrated *bot.MigrateError
	switch {
	case errors.As(err, &tooMany):
		return &channels.RetryAfter{After: time.Duration(max(tooMany.RetryAfter, 1)) * time.Second, Err: err}
	case errors.Is(err, bot.ErrorForbidden), errors.Is(err, bot.ErrorBadRequest), errors.As(err, &migrated):
		return channels.Permanent(err)
	}
	return err
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += units(r)
	}
	return n
}

// units is the UTF-16 length of r (an invalid rune is sent as U+FFFD: 1).
func units(r rune) int { return max(utf16.RuneLen(r), 1) }

// splitText cuts s into messages of at most limit UTF-16 units, at a line
// break or a space when one is in the second half of the piece.
func splitText(s string, limit int) []string {
	var parts []string
	for s = strings.TrimSpace(s); s != ""; {
		if utf16Len(s) <= limit {
			parts = append(parts, s)
			break
		}
		n, cut := 0, len(s)
		for i, r := range s {
			w := units(r)
			if n+w > limit {
				cut = i
				break
			}
			n += w
		}
		if j := strings.LastIndex(s[:cut], "\n"); j > cut/2 {
			cut = j + 1
		} else if j := strings.LastIndex(s[:cut], " "); j > cut/2 {
			cut = j + 1
		}
		if p := strings.TrimSpace(s[:cut]); p != "" {
			parts = append(parts, p)
		}
		s = strings.TrimSpace(s[cut:])
	}
	return parts
}
