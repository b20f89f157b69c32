package crm

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// IdentityKind is the kind of a contact's handle.
type IdentityKind string

// Identity kinds.
const (
	PhoneID    IdentityKind = "phone"
	EmailID    IdentityKind = "email"
	TelegramID IdentityKind = "telegram"
	WhatsAppID IdentityKind = "whatsapp"
)

// Identity is a normalized handle of a contact on a channel, unique per
// kind and value across the company.
type Identity struct {
	ID        int64        `json:"id"`
	ContactID int64        `json:"contact_id"`
	Kind      IdentityKind `json:"kind"`
	Value     string       `json:"value"`
	// Ext is the extension last said with a phone identity ("доб. 123"):
	// what to ask for when calling the number back. Not part of the
	// identity: the number alone matches the contact.
	Ext       string    `json:"ext,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Handle is the identity's "kind:value" form: "phone:+73832349096".
func (i Identity) Handle() string { return string(i.Kind) + ":" + i.Value }

// Dialable is the value with a phone's extension written the RFC 3966
// way, "+73832349096;ext=123", which ParsePhone reads back; without an
// extension it is the value.
func (i Identity) Dialable() string {
	if i.Kind == PhoneID && i.Ext != "" {
		return i.Value + ";ext=" + i.Ext
	}
	return i.Value
}

// Key is a normalized identity without a contact.
type Key struct {
	Kind  IdentityKind
	Value string
}

func (k Key) String() string { return string(k.Kind) + ":" + k.Value }

// Normalize turns a raw handle into its canonical form: phones to E.164
// (parsed with region as the default country), emails trimmed and
// lower-cased, Telegram ids as decimal user ids, WhatsApp JIDs as
// "<digits>@s.whatsapp.net" (or a LID, "<digits>@lid"). Anything that does not parse is ErrInvalid;
// nothing is stored half-parsed.
func Normalize(kind, raw, region string) (Key, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Key{}, Invalid("empty %s", kind)
	}
	switch IdentityKind(kind) {
	case PhoneID:
		p, err := NormalizePhone(raw, region)
		return Key{PhoneID, p}, err
	case EmailID:
		addr, err := mail.ParseAddress(raw)
		if err != nil || !strings.Contains(addr.Address, "@") || len(addr.Address) > 254 {
			return Key{}, Invalid("email %q is not an address", raw)
		}
		return Key{EmailID, strings.ToLower(addr.Address)}, nil
	case TelegramID:
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return Key{}, Invalid("telegram user id %q is not a positive number", raw)
		}
		return Key{TelegramID, strconv.FormatInt(id, 10)}, nil
	case WhatsAppID:
		user, server, ok := strings.Cut(raw, "@")
		if server == "lid" {
			return normalizeLID(raw, user)
		}
		if ok && server != "s.whatsapp.net" && server != "c.us" {
			return Key{}, Invalid("whatsapp JID %q is not a user JID", raw)
		}
		user, _, _ = strings.Cut(user, ":") // device suffix
		user, _, _ = strings.Cut(user, ".")
		p, err := NormalizePhone("+"+strings.TrimPrefix(user, "+"), region)
		if err != nil {
			return Key{}, Invalid("whatsapp JID %q has no valid phone number", raw)
		}
		return Key{WhatsAppID, strings.TrimPrefix(p, "+") + "@s.whatsapp.net"}, nil
	default:
		return Key{}, Invalid("unknown identity kind %q", kind)
	}
}

// normalizeLID keeps a WhatsApp LID ("<digits>@lid", the hidden-number
// id WhatsApp addresses many chats by) without its device suffix. A LID
// tells no phone number: it implies no phone identity.
func normalizeLID(raw, user string) (Key, error) {
	user, _, _ = strings.Cut(user, ":")
	if user == "" || len(user) > 20 || strings.Trim(user, "0123456789") != "" {
		return Key{}, Invalid("whatsapp LID %q is not <digits>@lid", raw)
	}
	return Key{WhatsAppID, user + "@lid"}, nil
}

// Related returns the identities implied by k: a WhatsApp JID is also the
// phone identity of the same person.
func Related(k Key) []Key {
	if k.Kind == WhatsAppID && strings.HasSuffix(k.Value, "@s.whatsapp.net") {
		user, _, _ := strings.Cut(k.Value, "@")
		return []Key{{PhoneID, "+" + user}}
	}
	return nil
}

// NormalizeAll normalizes handles, adds the related ones and removes
// duplicates, keeping order. The first error is returned with the handle.
func NormalizeAll(handles []RawHandle, region string) ([]Key, error) {
	var keys []Key
	seen := map[Key]bool{}
	add := func(k Key) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, h := range handles {
		k, err := Normalize(h.Kind, h.Value, region)
		if err != nil {
			return nil, err
		}
		add(k)
		for _, r := range Related(k) {
			add(r)
		}
	}
	return keys, nil
}

// Extensions returns the extension written with each phone among handles
// ("+7 383 234-90-96 доб. 123" gives "123"), by its identity; phones
// without one, and handles that do not read, are absent.
func Extensions(handles []RawHandle, region string) map[Key]string {
	out := map[Key]string{}
	for _, h := range handles {
		if h.Kind != string(PhoneID) {
			continue
		}
		if e164, ext, err := ParsePhone(h.Value, region); err == nil && ext != "" {
			out[Key{PhoneID, e164}] = ext
		}
	}
	return out
}

// SetIdentityExts sets the extension (Ext) of identities named by Kind and
// Value: the latest one said is the one to dial. An empty Ext is skipped:
// a number written without one never erases a known one.
func SetIdentityExts(tx *gorm.DB, ids []Identity) error {
	for _, id := range ids {
		if id.Ext == "" {
			continue
		}
		if err := tx.Exec("UPDATE identities SET ext = ? WHERE kind = ? AND value = ? AND ext <> ?", id.Ext, string(id.Kind), id.Value, id.Ext).Error; err != nil {
			return fmt.Errorf("crm: extension of %s: %w", id.Handle(), err)
		}
	}
	return nil
}

// RawHandle is a handle as it came from the wire or a user.
type RawHandle struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// FindIdentities returns the identities among keys that exist.
func FindIdentities(tx *gorm.DB, keys []Key) ([]Identity, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	q := tx.Model(&Identity{})
	cond := tx.Where("kind = ? AND value = ?", keys[0].Kind, keys[0].Value)
	for _, k := range keys[1:] {
		cond = cond.Or("kind = ? AND value = ?", k.Kind, k.Value)
	}
	var ids []Identity
	if err := q.Where(cond).Order("id").Find(&ids).Error; err != nil {
		return nil, fmt.Errorf("crm: find identities: %w", err)
	}
	return ids, nil
}

// AddIdentity attaches key to a contact, with ext the extension written
// with a phone ("" for none). An identity that belongs to another contact
// is ErrConflict; one already on this contact is returned, taking a new
// non-empty extension.
func AddIdentity(tx *gorm.DB, contactID int64, k Key, ext string) (Identity, error) {
	var existing Identity
	err := tx.Where("kind = ? AND value = ?", k.Kind, k.Value).Take(&existing).Error
	if err == nil {
		if existing.ContactID != contactID {
			return existing, Conflict("%s already belongs to contact %d", k, existing.ContactID)
		}
		if ext != "" && ext != existing.Ext {
			existing.Ext = ext
			return existing, SetIdentityExts(tx, []Identity{existing})
		}
		return existing, nil
	}
	id := Identity{ContactID: contactID, Kind: k.Kind, Value: k.Value, Ext: ext}
	if err := tx.Create(&id).Error; err != nil {
		return id, fmt.Errorf("crm: add identity %s: %w", k, err)
	}
	return id, RefreshSearch(tx, contactID)
}

// SearchText is what contact search matches: lower-case name and company,
// identity values, and phone digits without the plus.
func SearchText(c *Contact, ids []Identity) string {
	parts := []string{strings.ToLower(c.Name), strings.ToLower(c.Company)}
	for _, i := range ids {
		parts = append(parts, i.Value)
		if i.Kind == PhoneID {
			parts = append(parts, strings.TrimPrefix(i.Value, "+"))
		}
	}
	return strings.Join(parts, " ")
}

// MaxSearch is the longest search a user may type, in bytes: longer ones
// are refused (a LIKE pattern of tens of kilobytes is "too complex" for
// SQLite, and nobody types one).
const MaxSearch = 200

// checkSearch refuses a search longer than MaxSearch.
func checkSearch(q string) error {
	if len(q) > MaxSearch {
		return Invalid("q: a search is at most %d characters", MaxSearch)
	}
	return nil
}

// SearchTerm turns what a user typed into what to look for in the search
// text: a phone in any format becomes its E.164 digits, an email is
// lower-cased, other text is lower-cased.
func SearchTerm(q, region string) string {
	q = strings.TrimSpace(q)
	if p, err := NormalizePhone(q, region); err == nil {
		return strings.TrimPrefix(p, "+")
	}
	digits, other := 0, 0
	var d strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
			d.WriteRune(r)
		case strings.ContainsRune(" +-()", r):
		default:
			other++
		}
	}
	if digits >= 3 && other == 0 {
		return d.String()
	}
	return strings.ToLower(q)
}

// RemoveIdentity deletes one of c's identities (loaded with c) and
// refreshes c's search text; it returns what was removed.
func RemoveIdentity(tx *gorm.DB, c Contact, identityID int64) (Identity, error) {
	for _, id := range c.Identities {
		if id.ID != identityID {
			continue
		}
		if err := tx.Delete(&Identity{}, id.ID).Error; err != nil {
			return id, fmt.Errorf("crm: remove identity %d: %w", id.ID, err)
		}
		return id, RefreshSearch(tx, c.ID)
	}
	return Identity{}, NotFound("identity", identityID)
}
