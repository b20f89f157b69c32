package whatsapp

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/switchboard/switchboard/channels"
)

// Meta keys an Inbound may carry; the first ones are the Telegram
// adapter's, which the timeline already shows.
const (
	MetaSharedPhone        = "shared_phone"        // the sender shared their own contact card
	MetaContactPhone       = "contact_phone"       // someone else's contact card: the numbers
	MetaContactName        = "contact_name"        // … and the name on it
	MetaLocation           = "location"            // "lat,lon" of a shared location
	MetaAttachmentsSkipped = "attachments_skipped" // files recorded by name only, and why
	MetaEdited             = "edited"              // "true" on an edit
	MetaQuote              = "quote"               // the text of the message this one quotes
	MetaRevoked            = "revoked"             // the ExternalID of a message deleted for everyone
	MetaReaction           = "reaction"            // an emoji reaction …
	MetaReactionTo         = "reaction_to"         // … to this ExternalID
	MetaPushName           = "push_name"           // the name the sender set in WhatsApp
)

// Inbound maps one message event to what the sink stores; ok is false for
// what is not ours to record: groups (unless enabled),
// broadcasts and status updates, protocol chatter, an emptied reaction.
// A file that cannot be downloaded, or is over the limit, is recorded by
// name with a note (MetaAttachmentsSkipped): a message is never lost for
// its media. A message written on the phone itself (IsFromMe) is an
// Outgoing touch to the chat's contact.
func (a *Adapter) Inbound(ctx context.Context, cli Client, e *events.Message) (in channels.Inbound, ok bool) {
	info := e.Info
	chat := info.Chat.ToNonAD()
	switch {
	case e.Message == nil:
		return in, false
	case chat.Server == types.BroadcastServer, chat.Server == types.NewsletterServer:
		return in, false
	case chat.Server == types.GroupServer && !a.settings.Groups:
		return in, false
	case chat.Server != types.GroupServer && chat.Server != types.DefaultUserServer && chat.Server != types.HiddenUserServer:
		return in, false
	}
	sender, alt := chat, info.SenderAlt
	switch {
	case info.IsFromMe && chat.Server == types.GroupServer:
		return in, false
	case info.IsFromMe:
		alt = info.RecipientAlt // SenderAlt is our own other address
	case chat.Server == types.GroupServer:
		sender = info.Sender.ToNonAD()
	}
	in = channels.Inbound{
		AccountID:  a.account,
		ExternalID: chat.String() + ":" + info.ID,
		Kind:       channels.Message,
		At:         info.Timestamp.UTC(),
		From:       a.handles(ctx, cli, sender, alt),
		Name:       strings.TrimSpace(info.PushName),
		EntryPoint: a.entryPoint(cli),
		Meta:       map[string]string{},
	}
	if info.IsFromMe {
		// Written on the phone: the contact is the other side, and the
		// push name is ours.
		in.Outgoing, in.EntryPoint, in.Name = true, "", ""
	}
	if chat.Server == types.GroupServer {
		in.ThreadKey = chat.String()
	}
	if in.Name != "" {
		in.Meta[MetaPushName] = in.Name
	}
	if !a.content(ctx, cli, e.Message, chat, &in) {
		return channels.Inbound{}, false
	}
	if code, ok := AdCode(in.Text); ok && !in.Outgoing && in.EditOf == "" {
		// A wa.me link's prefilled text ending in "#<code>" names the ad
		// that brought the client, as a Telegram start code does.
		in.EntryPoint, in.SourceHint = code, code
	}
	if len(in.Meta) == 0 {
		in.Meta = nil
	}
	return in, true
}

// handles are the sender's: the JID WhatsApp addresses the chat by
// first, then what else is known of the same person — the phone number
// behind a LID (SenderAlt, or the session's LID map), the LID behind a
// phone-number JID.
func (a *Adapter) handles(ctx context.Context, cli Client, sender, alt types.JID) []channels.Handle {
	hs := []channels.Handle{{Kind: string(channels.WhatsApp), Value: sender.String()}}
	alt = alt.ToNonAD()
	switch sender.Server {
	case types.HiddenUserServer:
		pn := alt
		if pn.Server != types.DefaultUserServer {
			var err error
			if pn, err = cli.PhoneOf(ctx, sender); err != nil {
				a.log.Debug("whatsapp: LID map", "lid", sender.String(), "err", err)
			}
		}
		if pn.Server == types.DefaultUserServer && pn.User != "" {
			hs = append(hs, channels.Handle{Kind: "phone", Value: "+" + pn.User})
		}
	case types.DefaultUserServer:
		if alt.Server == types.HiddenUserServer && alt.User != "" {
			hs = append(hs, channels.Handle{Kind: string(channels.WhatsApp), Value: alt.String()})
		}
	}
	return hs
}

// content fills in's text, files and meta from m; false when m carries
// nothing to record.
func (a *Adapter) content(ctx context.Context, cli Client, m *waE2E.Message, chat types.JID, in *channels.Inbound) bool {
	if p := m.GetProtocolMessage(); p != nil {
		return a.protocol(p, chat, in)
	}
	if r := m.GetReactionMessage(); r != nil {
		if r.GetText() == "" || r.GetKey().GetID() == "" {
			return false // a reaction taken back
		}
		in.Text = r.GetText()
		in.Meta[MetaReaction] = r.GetText()
		in.Meta[MetaReactionTo] = chat.String() + ":" + r.GetKey().GetID()
		return true
	}
	in.Text = m.GetConversation()
	if t := m.GetExtendedTextMessage(); t != nil {
		in.Text = t.GetText()
		a.quote(t.GetContextInfo(), chat, in)
	}
	var skipped []string
	for _, f := range media(m) {
		if in.Text == "" {
			in.Text = f.caption
		}
		a.quote(f.ctx, chat, in)
		att, note := a.download(ctx, cli, f)
		in.Attachments = append(in.Attachments, att)
		if note != "" {
			skipped = append(skipped, note)
		}
	}
	if len(skipped) > 0 {
		in.Meta[MetaAttachmentsSkipped] = strings.Join(skipped, "; ")
	}
	if l := m.GetLocationMessage(); l != nil {
		in.Meta[MetaLocation] = latLon(l.GetDegreesLatitude(), l.GetDegreesLongitude())
		if in.Text == "" {
			in.Text = strings.TrimSpace(strings.Join([]string{l.GetName(), l.GetAddress()}, "\n"))
		}
		a.quote(l.GetContextInfo(), chat, in)
	}
	if l := m.GetLiveLocationMessage(); l != nil {
		in.Meta[MetaLocation] = latLon(l.GetDegreesLatitude(), l.GetDegreesLongitude())
		in.Text = l.GetCaption()
	}
	cards := m.GetContactsArrayMessage().GetContacts()
	if c := m.GetContactMessage(); c != nil {
		cards = append(cards, c)
	}
	a.contacts(cards, in)
	return in.Text != "" || len(in.Attachments) > 0 || len(in.Meta) > 0 && hasContent(in.Meta)
}

// hasContent reports meta that is content (not just who sent it).
func hasContent(meta map[string]string) bool {
	for k := range meta {
		if k != MetaPushName {
			return true
		}
	}
	return false
}

// protocol records an edit (a touch of its own, linked to the original)
// or a revocation; other protocol messages (history sync notices, key
// shares, ephemeral settings) are not ours.
func (a *Adapter) protocol(p *waE2E.ProtocolMessage, chat types.JID, in *channels.Inbound) bool {
	orig := p.GetKey().GetID()
	if orig == "" {
		return false
	}
	origExt := chat.String() + ":" + orig
	switch p.GetType() {
	case waE2E.ProtocolMessage_MESSAGE_EDIT:
		em := p.GetEditedMessage()
		in.Text = em.GetConversation()
		if in.Text == "" {
			in.Text = em.GetExtendedTextMessage().GetText()
		}
		for _, f := range media(em) {
			if in.Text == "" {
				in.Text = f.caption
			}
		}
		in.ExternalID = origExt + ":edit:" + strings.TrimPrefix(in.ExternalID, chat.String()+":")
		in.EditOf = origExt
		in.Meta[MetaEdited] = "true"
		return true
	case waE2E.ProtocolMessage_REVOKE:
		in.Meta[MetaRevoked] = origExt
		return true
	}
	return false
}

// quote records the message a message quotes: its text in Meta and its
// id as the parent.
func (a *Adapter) quote(ci *waE2E.ContextInfo, chat types.JID, in *channels.Inbound) {
	if ci.GetStanzaID() == "" {
		return
	}
	in.Parents = []string{chat.String() + ":" + ci.GetStanzaID()}
	if q := ci.GetQuotedMessage(); q != nil {
		t := q.GetConversation()
		if t == "" {
			t = q.GetExtendedTextMessage().GetText()
		}
		for _, f := range media(q) {
			if t == "" {
				t = f.caption
			}
			if t == "" {
				t = "[" + f.name + "]"
			}
		}
		if t != "" {
			in.Meta[MetaQuote] = clip(t, 500)
		}
	}
}

// contacts records shared contact cards. A card of the sender's own
// number is a phone identity of the sender (the number behind a LID);
// anyone else's is meta, for a manager to act on: a client sharing a
// colleague's card must not merge the two.
func (a *Adapter) contacts(cards []*waE2E.ContactMessage, in *channels.Inbound) {
	own := map[string]bool{}
	for _, h := range in.From {
		switch {
		case h.Kind == "phone":
			own[digits(h.Value)] = true
		case strings.HasSuffix(h.Value, "@"+types.DefaultUserServer):
			own[strings.TrimSuffix(h.Value, "@"+types.DefaultUserServer)] = true
		}
	}
	var names, others []string
	for _, c := range cards {
		name, phones := parseVCard(c.GetVcard())
		if name == "" {
			name = c.GetDisplayName()
		}
		for _, p := range phones {
			switch {
			case p.waid != "" && in.From[0].Value == p.waid+"@"+types.DefaultUserServer, own[digits(p.number)]:
				in.Meta[MetaSharedPhone] = "+" + digits(p.number)
			default:
				others = append(others, p.number)
			}
		}
		if name != "" {
			names = append(names, name)
		}
	}
	if sp := in.Meta[MetaSharedPhone]; sp != "" {
		in.From = append(in.From, channels.Handle{Kind: "phone", Value: sp})
	}
	if len(others) > 0 || len(cards) > 0 && in.Meta[MetaSharedPhone] == "" {
		in.Meta[MetaContactPhone] = strings.Join(others, ", ")
		in.Meta[MetaContactName] = strings.Join(names, ", ")
	}
}

func latLon(lat, lon float64) string {
	return strconv.FormatFloat(lat, 'f', -1, 64) + "," + strconv.FormatFloat(lon, 'f', -1, 64)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// file is a media part of a message.
type file struct {
	msg     whatsmeow.DownloadableMessage
	size    uint64
	name    string
	ctype   string
	caption string
	ctx     *waE2E.ContextInfo
}

// media lists m's files: image, document, audio or voice note, video,
// sticker.
func media(m *waE2E.Message) []file {
	var fs []file
	if x := m.GetImageMessage(); x != nil {
		fs = append(fs, file{x, x.GetFileLength(), "image" + ext(x.GetMimetype(), ".jpg"), or(x.GetMimetype(), "image/jpeg"), x.GetCaption(), x.GetContextInfo()})
	}
	if x := m.GetDocumentMessage(); x != nil {
		fs = append(fs, file{x, x.GetFileLength(), or(x.GetFileName(), or(x.GetTitle(), "document")), or(x.GetMimetype(), "application/octet-stream"), x.GetCaption(), x.GetContextInfo()})
	}
	if x := m.GetAudioMessage(); x != nil {
		name := "audio" + ext(x.GetMimetype(), ".ogg")
		if x.GetPTT() {
			name = "voice" + ext(x.GetMimetype(), ".ogg")
		}
		fs = append(fs, file{x, x.GetFileLength(), name, or(x.GetMimetype(), "audio/ogg"), "", x.GetContextInfo()})
	}
	if x := m.GetVideoMessage(); x != nil {
		fs = append(fs, file{x, x.GetFileLength(), "video" + ext(x.GetMimetype(), ".mp4"), or(x.GetMimetype(), "video/mp4"), x.GetCaption(), x.GetContextInfo()})
	}
	if x := m.GetStickerMessage(); x != nil {
		fs = append(fs, file{x, x.GetFileLength(), "sticker.webp", or(x.GetMimetype(), "image/webp"), "", x.GetContextInfo()})
	}
	return fs
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ext is the file extension of a MIME type, def when unknown.
func ext(ctype, def string) string {
	ct, _, _ := strings.Cut(ctype, ";")
	switch strings.TrimSpace(ct) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	case "audio/ogg":
		return ".ogg"
	case "audio/mpeg":
		return ".mp3"
	case "audio/mp4":
		return ".m4a"
	case "video/mp4":
		return ".mp4"
	}
	return def
}

// download fetches a file within the size limit; a file over it, or one
// that cannot be fetched, is returned by name with a note saying why.
func (a *Adapter) download(ctx context.Context, cli Client, f file) (channels.Attachment, string) {
	att := channels.Attachment{Name: f.name, ContentType: f.ctype}
	if f.size > uint64(a.limit) {
		return att, fmt.Sprintf("%s: %d bytes, over the download limit of %d", f.name, f.size, a.limit)
	}
	data, err := cli.Download(ctx, f.msg)
	if err != nil {
		a.log.Warn("whatsapp: download failed", "name", f.name, "err", err)
		return att, fmt.Sprintf("%s: not downloadable: %v", f.name, err)
	}
	if int64(len(data)) > a.limit {
		return att, fmt.Sprintf("%s: %d bytes, over the download limit of %d", f.name, len(data), a.limit)
	}
	att.Data = data
	return att, ""
}

// adCode is the code a wa.me link's prefilled text ends with: "#ya1".
var adCode = regexp.MustCompile(`(?:^|\s)#([A-Za-z0-9][A-Za-z0-9_-]{0,31})\s*$`)

// AdCode finds the ad code at the end of a client's first words ("Здравствуйте!
// Хочу узнать цену #ya1" → "ya1"): the owner's wa.me links carry it
// (see WaMeLink).
func AdCode(text string) (string, bool) {
	m := adCode.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return strings.ToLower(m[1]), true
}

// WaMeLink is the link an ad prints for a WhatsApp number: the chat opens
// with text prefilled, ending in the ad's code, so that the first message
// says which ad it came from.
func WaMeLink(number, text, code string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, number)
	return "https://wa.me/" + digits + "?text=" + strings.ReplaceAll(url.QueryEscape(strings.TrimSpace(text)+" #"+code), "+", "%20")
}
