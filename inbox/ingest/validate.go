package ingest

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/blobs"
)

// Limits on what one inbound may carry.
const (
	maxExternalID = 512
	maxText       = 1 << 20
)

// item is one validated inbound of a batch.
type item struct {
	idx  int
	in   *channels.Inbound
	keys []crm.Key
	// ext is the extension written with the sender's phone extKey
	// ("доб. 123"): the identity remembers it.
	ext     string
	extKey  crm.Key
	at      time.Time
	handle  string
	channel string // the account's (a channel never changes)
	files   []storedFile
	// mail is set for unreadable mail (unreadable.go): stored apart, no touch.
	mail *crm.UnreadableMail
}

// storedFile is an attachment whose bytes are in the blob store (or, over
// the size limit, not stored and recorded by name only).
type storedFile struct {
	name, contentType, sha, contentID string
	size                              int64
	inline                            bool
}

// cursorOnly reports an Inbound that carries only the account's position
// (an adapter skipped what it read: group chats, deleted mail): the cursor
// is stored, nothing else.
func cursorOnly(in *channels.Inbound) bool {
	return in.Cursor != "" && in.ExternalID == "" && len(in.From) == 0
}

// prepare validates an inbound and normalizes its handles, reading phones
// with the most specific region regs know (regionOf).
func (s *Sink) prepare(ctx context.Context, in *channels.Inbound, regs regions) (*item, error) {
	if err := checkKey(in); err != nil {
		return nil, err
	}
	switch {
	case len(in.From) == 0:
		return nil, crm.Invalid("no sender handle")
	case len(in.Text) > maxText || len(in.HTML) > maxText:
		return nil, crm.Invalid("text longer than %d bytes", maxText)
	case !utf8.ValidString(in.Text) || !utf8.ValidString(in.Name) || !utf8.ValidString(in.Subject):
		return nil, crm.Invalid("text is not valid UTF-8")
	}
	// PostgreSQL text cannot hold NUL; no channel means one.
	in.Text, in.Subject, in.Name, in.HTML = crm.StripNUL(in.Text), crm.StripNUL(in.Subject), crm.StripNUL(in.Name), crm.StripNUL(in.HTML)
	in.ExternalID, in.EntryPoint, in.SourceHint, in.ThreadKey = cleanKey(in.ExternalID), cleanKey(in.EntryPoint), cleanKey(in.SourceHint), cleanKey(in.ThreadKey)
	for i, p := range in.Parents {
		in.Parents[i] = cleanKey(p)
	}
	if in.Kind == channels.Call && in.EntryPoint != "" {
		// A called number is an entry point in E.164, however the PBX
		// wrote it, so that "8 383 234-90-96" is the tracking number the
		// owner entered as "+7 383 234 90 96".
		if e164, err := crm.NormalizePhone(in.EntryPoint, regs.account(in.AccountID)); err == nil {
			in.EntryPoint = e164
		}
	}
	keys, ext, err := s.handles(in, s.regionOf(regs, in))
	if err != nil {
		return nil, err
	}
	files, err := s.clean(ctx, in)
	if err != nil {
		return nil, err
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	return &item{in: in, keys: keys, ext: ext.Ext, extKey: crm.Key{Kind: ext.Kind, Value: ext.Value}, at: at.UTC().Truncate(time.Microsecond), handle: keys[0].String(), files: files}, nil
}

// handles normalizes the sender's handles, phones read with region. The
// first one that reads is the primary. One that does not is dropped with a
// warning rather than costing the message, and a phone dropped so is kept
// as written on the touch (crm.MetaPhoneUnread), for a manager to see:
// a form's "+375 29 12" next to a good email is still a lead. With no
// handle left the event is refused, saying why and with which region.
// The phone identity whose extension the touch keeps is returned with it.
func (s *Sink) handles(in *channels.Inbound, region string) ([]crm.Key, crm.Identity, error) {
	var (
		keys     []crm.Key
		unread   []string
		firstErr error
		ext      crm.Identity
	)
	seen := map[crm.Key]bool{}
	for _, h := range in.From {
		ks, err := crm.NormalizeAll([]crm.RawHandle{{Kind: h.Kind, Value: h.Value}}, region)
		if err != nil {
			if h.Kind == string(crm.PhoneID) {
				err = fmt.Errorf("%w (phone region %s)", err, region)
				if v := strings.TrimSpace(h.Value); v != "" {
					unread = append(unread, crm.Clip(crm.StripNUL(strings.ToValidUTF8(v, "\uFFFD")), 100))
				}
			}
			if firstErr == nil {
				firstErr = err
			}
			s.log.Warn("ingest: sender handle not read", "account", in.AccountID, "external_id", crm.Clip(in.ExternalID, 80), "kind", h.Kind, "err", err)
			continue
		}
		if e := s.keepExtension(in, h, region); e != "" {
			ext = crm.Identity{Kind: ks[0].Kind, Value: ks[0].Value, Ext: e}
		}
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, ext, firstErr
	}
	if len(unread) > 0 {
		if in.Meta == nil {
			in.Meta = map[string]string{}
		}
		in.Meta[crm.MetaPhoneUnread] = strings.Join(unread, "; ")
	}
	return keys, ext, nil
}

// keepExtension records on the touch the extension written after the
// sender's phone ("доб. 123") and returns it: the identity is the number
// alone and remembers the extension apart (contact.go). The first phone
// with one wins; an adapter's own value is kept.
func (s *Sink) keepExtension(in *channels.Inbound, h channels.Handle, region string) string {
	if h.Kind != string(crm.PhoneID) || in.Meta[crm.MetaPhoneExt] != "" {
		return ""
	}
	_, ext, err := crm.ParsePhone(h.Value, region)
	if err != nil || ext == "" {
		return ""
	}
	if in.Meta == nil {
		in.Meta = map[string]string{}
	}
	in.Meta[crm.MetaPhoneExt] = ext
	return ext
}

// clean sanitizes what an adapter hands over: HTML through the policy
// (email HTML is shown only sanitized, in a sandboxed frame), meta and
// HTML as valid UTF-8, and the attachments into the blob store.
func (s *Sink) clean(ctx context.Context, in *channels.Inbound) ([]storedFile, error) {
	if in.HTML != "" {
		in.HTML = s.html.Sanitize(strings.ToValidUTF8(in.HTML, "\uFFFD"))
	}
	for k, v := range in.Meta {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			in.Meta[k] = crm.StripNUL(strings.ToValidUTF8(v, "\uFFFD"))
		}
	}
	in.ParseError = crm.Clip(crm.StripNUL(strings.ToValidUTF8(in.ParseError, "\uFFFD")), 1000)
	in.EditOf = crm.Clip(in.EditOf, maxExternalID)
	var files []storedFile
	for _, f := range in.Attachments {
		sf := storedFile{name: crm.Clip(crm.StripNUL(strings.ToValidUTF8(f.Name, "_")), 255), contentType: crm.Clip(f.ContentType, 200),
			contentID: crm.Clip(f.ContentID, 255), size: int64(len(f.Data)), inline: f.Inline}
		if sf.contentType == "" {
			sf.contentType = "application/octet-stream"
		}
		if len(f.Data) > 0 && sf.size <= s.opts.MaxAttachment {
			key, err := blobs.PutBytes(ctx, s.blobs, f.Data)
			if err != nil {
				return nil, fmt.Errorf("ingest: attachment %q: %w", sf.name, err)
			}
			sf.sha = key
		} else if sf.size > s.opts.MaxAttachment {
			s.log.Warn("ingest: attachment too large, recorded by name only", "account", in.AccountID, "name", sf.name, "size", sf.size)
		}
		files = append(files, sf)
	}
	return files, nil
}

// checkAccounts rejects events for unknown or disabled accounts.
func (s *Sink) checkAccounts(ctx context.Context, items []*item, results []channels.Result) error {
	ids := map[int64]bool{}
	var list []int64
	for _, it := range items {
		if !ids[it.in.AccountID] {
			ids[it.in.AccountID] = true
			list = append(list, it.in.AccountID)
		}
	}
	if len(list) == 0 {
		return nil
	}
	var accs []crm.Account
	if err := s.db.WithContext(ctx).Select("id", "channel", "enabled").Where("id IN ?", list).Find(&accs).Error; err != nil {
		return fmt.Errorf("ingest: accounts: %w", err)
	}
	known := map[int64]crm.Account{}
	for _, ac := range accs {
		known[ac.ID] = ac
	}
	for _, it := range items {
		ac, ok := known[it.in.AccountID]
		switch {
		case !ok:
			results[it.idx].Err = crm.Invalid("account %d does not exist", it.in.AccountID)
			s.log.Warn("ingest: rejected", "account", it.in.AccountID, "err", results[it.idx].Err)
			continue
		case !ac.Enabled:
			results[it.idx].Err = crm.Invalid("account %d is disabled", it.in.AccountID)
		}
		if it.in.Kind == "" {
			it.in.Kind = channels.Kind(ac.Channel).TouchKind()
		}
		it.channel = ac.Channel
	}
	return nil
}

// cleanKey is an address or id from the wire as the database can hold
// it: valid UTF-8, no NUL (a web form's utm_source with a NUL in it must
// be stored, not refused by PostgreSQL for ever), at most 500 characters.
func cleanKey(s string) string {
	return crm.Clip(crm.StripNUL(strings.ToValidUTF8(s, "\uFFFD")), 500)
}

// checkKey refuses an event that cannot be stored once: no account, or no
// usable external id.
func checkKey(in *channels.Inbound) error {
	switch {
	case in.AccountID <= 0:
		return crm.Invalid("no account")
	case strings.TrimSpace(in.ExternalID) == "":
		return crm.Invalid("no external id: the event cannot be deduplicated")
	case len(in.ExternalID) > maxExternalID:
		return crm.Invalid("external id longer than %d bytes", maxExternalID)
	}
	return nil
}
