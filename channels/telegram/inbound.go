package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/switchboard/switchboard/channels"
)

// Meta keys an Inbound may carry.
const (
	MetaUsername           = "username"            // the sender's @username, without the @
	MetaEdited             = "edited"              // "true" on an edit
	MetaSharedPhone        = "shared_phone"        // the sender shared their own number
	MetaContactPhone       = "contact_phone"       // someone else's contact card: the number
	MetaContactName        = "contact_name"        // … and the name on it
	MetaSticker            = "sticker"             // a sticker's emoji
	MetaLocation           = "location"            // "lat,lon" of a shared location
	MetaAttachmentsSkipped = "attachments_skipped" // files recorded by name only, and why
	MetaForwardedFrom      = "forwarded_from"      // a forward: who wrote the original (name, @username, chat title)
	MetaForwardedAt        = "forwarded_at"        // … when, RFC 3339 UTC
	MetaForwardedLink      = "forwarded_link"      // … a t.me link to the original post of a public channel
)

// Inbound maps one update to what the sink stores. ok is false for an
// update that is not ours to record — a group, supergroup or channel, a
// service message, another update kind — which the caller skips (and
// moves past). err is set when an attachment could not be fetched for a
// reason that may pass (network, 5xx, 429): the update must be tried
// again later. The result carries no Cursor: the polling loop sets it.
// An edit carries its new text only; its media came with the original.
//
// https://core.telegram.org/bots/api#update, #message
func (a *Adapter) Inbound(ctx context.Context, u models.Update) (in channels.Inbound, ok bool, err error) {
	m, edited := u.Message, false
	if m == nil && u.EditedMessage != nil {
		m, edited = u.EditedMessage, true
	}
	if m == nil || m.From == nil || m.From.ID <= 0 || m.From.IsBot || !private(m.Chat.Type, m.Chat.ID, m.From.ID) {
		return in, false, nil
	}
	files := media(m)
	if m.Text == "" && m.Caption == "" && len(files) == 0 && !hasOtherContent(m) {
		return in, false, nil // a service message: pinned, payment, web app data…
	}

	msgID := fmt.Sprintf("%d:%d", m.Chat.ID, m.ID)
	in = channels.Inbound{
		AccountID:  a.account,
		ExternalID: msgID,
		Kind:       channels.Message,
		At:         time.Unix(int64(m.Date), 0).UTC(),
		From:       []channels.Handle{{Kind: string(channels.Telegram), Value: strconv.FormatInt(m.From.ID, 10)}},
		Name:       strings.TrimSpace(m.From.FirstName + " " + m.From.LastName),
		Text:       m.Text,
		Meta:       map[string]string{},
	}
	if in.Text == "" {
		in.Text = m.Caption
	}
	if m.From.Username != "" {
		in.Meta[MetaUsername] = m.From.Username
	}
	if edited {
		// Each edit is its own touch, linked to the original; the edit
		// date keeps two edits of one message apart.
		in.ExternalID = fmt.Sprintf("%s:edit:%d", msgID, m.EditDate)
		in.EditOf = msgID
		in.Meta[MetaEdited] = "true"
		if m.EditDate > 0 {
			in.At = time.Unix(int64(m.EditDate), 0).UTC()
		}
	} else if code, isStart := startCode(m.Text); isStart {
		// t.me/<bot>?start=<code> arrives as "/start <code>": the code
		// names the ad that brought the user.
		in.EntryPoint, in.SourceHint = code, code
	}
	if c := m.Contact; c != nil {
		phone := strings.TrimSpace(c.PhoneNumber)
		if isDigits(phone) {
			phone = "+" + phone // Telegram writes international numbers without the plus
		}
		if c.UserID != 0 && c.UserID == m.From.ID && phone != "" {
			// The sender's own number ("Share my phone"): a second
			// identity, which merges this contact with a caller or
			// WhatsApp writer of the same number.
			in.From = append(in.From, channels.Handle{Kind: "phone", Value: phone})
			in.Meta[MetaSharedPhone] = phone
		} else {
			in.Meta[MetaContactPhone] = phone
			in.Meta[MetaContactName] = strings.TrimSpace(c.FirstName + " " + c.LastName)
		}
	}
	forwarded(m.ForwardOrigin, in.Meta)
	if m.Sticker != nil {
		in.Meta[MetaSticker] = m.Sticker.Emoji
	}
	if l := m.Location; l != nil {
		in.Meta[MetaLocation] = strconv.FormatFloat(l.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(l.Longitude, 'f', -1, 64)
	}
	if edited {
		// An edit changes text or caption; its media were stored with the
		// original message.
		files = nil
	}
	var skipped []string
	for _, f := range files {
		att, note, err := a.fetch(ctx, f)
		if err != nil {
			return channels.Inbound{}, false, fmt.Errorf("telegram: update %d: %w", u.ID, err)
		}
		if note != "" {
			skipped = append(skipped, note)
		}
		in.Attachments = append(in.Attachments, att)
	}
	if len(skipped) > 0 {
		in.Meta[MetaAttachmentsSkipped] = strings.Join(skipped, "; ")
	}
	if len(in.Meta) == 0 {
		in.Meta = nil
	}
	return in, true, nil
}

// private reports a one-to-one chat with the sender. A chat without a
// type (older clients send some; the Bot API docs' own webhook example
// has none) is private when its id is the sender's: only a private chat
// has the user's id, groups and channels have negative ids.
func private(typ models.ChatType, chatID, fromID int64) bool {
	if typ == "" {
		return chatID == fromID && chatID > 0
	}
	return typ == models.ChatTypePrivate
}

// forwarded records where a forwarded message comes from: its text is
// someone else's words, not the sender's. The origin is a user, a user who
// hides their account (a name only), a group or a channel.
//
// https://core.telegram.org/bots/api#messageorigin
func forwarded(o *models.MessageOrigin, meta map[string]string) {
	if o == nil {
		return
	}
	var from, link string
	date := 0
	switch {
	case o.MessageOriginUser != nil:
		u := o.MessageOriginUser
		from, date = withHandle(strings.TrimSpace(u.SenderUser.FirstName+" "+u.SenderUser.LastName), u.SenderUser.Username), u.Date
	case o.MessageOriginHiddenUser != nil:
		from, date = strings.TrimSpace(o.MessageOriginHiddenUser.SenderUserName), o.MessageOriginHiddenUser.Date
	case o.MessageOriginChat != nil:
		c := o.MessageOriginChat
		from, date = withSignature(withHandle(c.SenderChat.Title, c.SenderChat.Username), c.AuthorSignature), c.Date
	case o.MessageOriginChannel != nil:
		c := o.MessageOriginChannel
		from, date = withSignature(withHandle(c.Chat.Title, c.Chat.Username), c.AuthorSignature), c.Date
		if c.Chat.Username != "" && c.MessageID > 0 {
			link = fmt.Sprintf("https://t.me/%s/%d", c.Chat.Username, c.MessageID)
		}
	default:
		return
	}
	if from == "" {
		from = "?" // an origin without a name is still a forward
	}
	meta[MetaForwardedFrom] = from
	if date > 0 {
		meta[MetaForwardedAt] = time.Unix(int64(date), 0).UTC().Format(time.RFC3339)
	}
	if link != "" {
		meta[MetaForwardedLink] = link
	}
}

// withHandle is "name (@username)", or whichever of the two there is.
func withHandle(name, username string) string {
	switch {
	case username == "":
		return name
	case name == "":
		return "@" + username
	}
	return name + " (@" + username + ")"
}

// withSignature adds the author signature of a post: "Chat, Author".
func withSignature(s string, sig *string) string {
	if sig == nil || strings.TrimSpace(*sig) == "" {
		return s
	}
	if s == "" {
		return strings.TrimSpace(*sig)
	}
	return s + ", " + strings.TrimSpace(*sig)
}

// startCode returns the payload of a "/start" command (deep link
// t.me/<bot>?start=<payload>) and whether text is a /start at all. A
// payload outside the deep-link alphabet (A-Z, a-z, 0-9, _ and -, at most
// 64) was typed by hand, not carried by a link: it is no entry point.
func startCode(text string) (code string, isStart bool) {
	cmd, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	if cmd != "/start" && !strings.HasPrefix(cmd, "/start@") {
		return "", false
	}
	code = strings.TrimSpace(rest)
	if len(code) > 64 {
		return "", true
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return "", true
		}
	}
	return code, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// hasOtherContent reports content a person sent that carries no text and
// no file we download.
func hasOtherContent(m *models.Message) bool {
	return m.Contact != nil || m.Sticker != nil || m.Location != nil || m.Venue != nil ||
		m.Poll != nil || m.Dice != nil || m.Story != nil || m.PaidMedia != nil
}

// file is an attachment of a message as the wire names it.
type file struct {
	id, uniqueID string
	size         int64
	name, ctype  string
}

// media lists a message's files: the largest size of a photo, a
// document (animations come with one too), voice, video note, audio and
// video.
func media(m *models.Message) []file {
	var fs []file
	if len(m.Photo) > 0 {
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height || (p.Width*p.Height == best.Width*best.Height && p.FileSize > best.FileSize) {
				best = p
			}
		}
		fs = append(fs, file{best.FileID, best.FileUniqueID, int64(best.FileSize), "photo_" + best.FileUniqueID + ".jpg", "image/jpeg"})
	}
	if d := m.Document; d != nil {
		fs = append(fs, file{d.FileID, d.FileUniqueID, d.FileSize, or(d.FileName, "document_"+d.FileUniqueID), or(d.MimeType, "application/octet-stream")})
	}
	if v := m.Voice; v != nil {
		fs = append(fs, file{v.FileID, v.FileUniqueID, v.FileSize, "voice_" + v.FileUniqueID + ".ogg", or(v.MimeType, "audio/ogg")})
	}
	if v := m.VideoNote; v != nil {
		fs = append(fs, file{v.FileID, v.FileUniqueID, int64(v.FileSize), "video_note_" + v.FileUniqueID + ".mp4", "video/mp4"})
	}
	if au := m.Audio; au != nil {
		fs = append(fs, file{au.FileID, au.FileUniqueID, au.FileSize, or(au.FileName, "audio_"+au.FileUniqueID+".mp3"), or(au.MimeType, "audio/mpeg")})
	}
	if v := m.Video; v != nil {
		fs = append(fs, file{v.FileID, v.FileUniqueID, v.FileSize, or(v.FileName, "video_"+v.FileUniqueID+".mp4"), or(v.MimeType, "video/mp4")})
	}
	return fs
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fetch downloads a file: getFile, then GET of the file URL
// (https://core.telegram.org/bots/api#getfile). A file over the download
// limit, or one Telegram refuses to hand out (over its own 20 MB limit, an
// expired file id), is returned by name only with a note saying why; err
// is set only for failures that may pass.
func (a *Adapter) fetch(ctx context.Context, f file) (att channels.Attachment, note string, err error) {
	att = channels.Attachment{Name: f.name, ContentType: f.ctype}
	over := func(size string) string {
		return fmt.Sprintf("%s: %s bytes, over the download limit of %d", f.name, size, a.limit)
	}
	if f.size > a.limit {
		return att, over(strconv.FormatInt(f.size, 10)), nil
	}
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	tf, err := a.bot.GetFile(ctx, &bot.GetFileParams{FileID: f.id})
	if err != nil {
		if errors.Is(err, bot.ErrorBadRequest) || errors.Is(err, bot.ErrorNotFound) {
			return att, fmt.Sprintf("%s: not downloadable: %v", f.name, err), nil
		}
		return att, "", fmt.Errorf("getFile %s: %w", f.name, a.redact(err))
	}
	if tf.FileSize > a.limit {
		return att, over(strconv.FormatInt(tf.FileSize, 10)), nil
	}
	if tf.FilePath == "" {
		return att, f.name + ": Telegram gave no file path", nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.bot.FileDownloadLink(tf), nil)
	if err != nil {
		return att, "", fmt.Errorf("download %s: %w", f.name, a.redact(err))
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return att, "", fmt.Errorf("download %s: %w", f.name, a.redact(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return att, "", fmt.Errorf("download %s: %s", f.name, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return att, fmt.Sprintf("%s: download refused: %s", f.name, resp.Status), nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, a.limit+1))
	if err != nil {
		return att, "", fmt.Errorf("download %s: %w", f.name, a.redact(err))
	}
	if int64(len(data)) > a.limit {
		return att, over("more than " + strconv.FormatInt(a.limit, 10)), nil
	}
	att.Data = data
	return att, "", nil
}
