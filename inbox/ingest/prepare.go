package ingest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
)

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

// handles normalizes the sender's handles. The first (primary) must be
// valid; a bad secondary one (a malformed shared phone) is dropped with a
// warning rather than costing the message.
func (s *Sink) handles(in *channels.Inbound) ([]crm.Key, error) {
	var keys []crm.Key
	seen := map[crm.Key]bool{}
	for i, h := range in.From {
		ks, err := crm.NormalizeAll([]crm.RawHandle{{Kind: h.Kind, Value: h.Value}}, s.opts.Region)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			s.log.Warn("ingest: secondary handle dropped", "account", in.AccountID, "external_id", crm.Clip(in.ExternalID, 80), "kind", h.Kind, "err", err)
			continue
		}
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// clean sanitizes what an adapter hands over: HTML through the policy
// (email HTML is shown only sanitized, in a sandboxed frame), meta and
// HTML as valid UTF-8, and the attachments into the blob store.
func (s *Sink) clean(in *channels.Inbound) ([]storedFile, error) {
	if in.HTML != "" {
		in.HTML = s.html.Sanitize(strings.ToValidUTF8(in.HTML, "\uFFFD"))
	}
	for k, v := range in.Meta {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			in.Meta[k] = crm.StripNUL(strings.ToValidUTF8(v, "\uFFFD"))
		}
	}
	in.ParseError = crm.Clip(crm.StripNUL(strings.ToValidUTF8(in.ParseError, "\uFFFD")), 1000)
	var files []storedFile
	for _, f := range in.Attachments {
		sf := storedFile{name: crm.Clip(crm.StripNUL(strings.ToValidUTF8(f.Name, "_")), 255), contentType: crm.Clip(f.ContentType, 200),
			contentID: crm.Clip(f.ContentID, 255), size: int64(len(f.Data)), inline: f.Inline}
		if sf.contentType == "" {
			sf.contentType = "application/octet-stream"
		}
		if len(f.Data) > 0 && sf.size <= s.opts.MaxAttachment {
			key, err := s.blobs.Put(f.Data)
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

// afterTouches stores what the touch rows do not carry: attachments, the
// parse error of an unparsable message, the original of an edit. Only the
// touches that have such things cost statements.
func afterTouches(tx *gorm.DB, items []*item, touchIDs map[int]int64) error {
	var files []any
	for i, it := range items {
		id, ok := touchIDs[i]
		if !ok {
			continue
		}
		for _, f := range it.files {
			files = append(files, id, f.name, f.contentType, f.size, f.sha, f.contentID, f.inline, it.at)
		}
		if it.in.ParseError != "" || it.in.EditOf != "" {
			if err := tx.Exec("UPDATE touches SET parse_error = ?, edit_of = ? WHERE id = ?", it.in.ParseError, crm.Clip(it.in.EditOf, maxExternalID), id).Error; err != nil {
				return fmt.Errorf("touch %d: %w", id, err)
			}
		}
	}
	if len(files) == 0 {
		return nil
	}
	return crm.Bulk(tx, "INSERT INTO attachments (touch_id, name, content_type, size, sha256, content_id, inline, created_at) VALUES ",
		"(?, ?, ?, ?, ?, ?, ?, ?)", "", 8, files, nil)
}
