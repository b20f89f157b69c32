package crm

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ConversationStatus is where a conversation stands.
type ConversationStatus string

// Conversation statuses.
const (
	ConvOpen    ConversationStatus = "open"
	ConvSnoozed ConversationStatus = "snoozed"
	ConvClosed  ConversationStatus = "closed"
)

// Conversation is the thread of touches between a contact and one account.
// WaitingSince is set by an inbound touch and cleared by our reply.
type Conversation struct {
	ID           int64              `json:"id"`
	ContactID    int64              `json:"contact_id"`
	AccountID    int64              `json:"account_id"`
	Channel      string             `json:"channel"`
	ThreadKey    string             `json:"thread_key"`
	AssigneeID   *int64             `json:"assignee_id"`
	Status       ConversationStatus `json:"status"`
	SnoozedUntil *time.Time         `json:"snoozed_until"`
	WaitingSince *time.Time         `json:"waiting_since"`
	DealID       *int64             `json:"deal_id"`
	Subject      string             `json:"subject"`
	LastText     string             `json:"last_text"`
	LastTouchAt  time.Time          `json:"last_touch_at"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
}

// GetConversation loads a conversation.
func GetConversation(tx *gorm.DB, id int64) (Conversation, error) {
	var c Conversation
	if err := tx.Take(&c, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return c, NotFound("conversation", id)
		}
		return c, err
	}
	return c, nil
}

// FindConversation returns the latest conversation between a contact and
// an account on a thread, or ErrNotFound.
func FindConversation(tx *gorm.DB, contactID, accountID int64, threadKey string) (Conversation, error) {
	var c Conversation
	err := tx.Where("contact_id = ? AND account_id = ? AND thread_key = ?", contactID, accountID, threadKey).
		Order("id DESC").Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, NotFound("conversation", threadKey)
	}
	return c, err
}

// ConversationFilter selects conversations for the inbox list.
type ConversationFilter struct {
	AssigneeID int64  // only these assigned to this user ("mine")
	Unassigned bool   // only the unassigned queue
	Unlinked   bool   // only those with touches not tied to a deal
	Waiting    bool   // open and waiting for our reply, the longest wait first
	CallBack   bool   // open with a missed call nobody has called back
	For        *User  // whose list: the visibility rule (visibility.go) applies; nil: everything
	Status     string // open, snoozed, closed; empty: any
	Channel    string
	ContactID  int64
	Q          string // contact name, phone or email in any format, subject, a touch's text
	Region     string
	Cursor     string // from the previous page's NextCursor
	Limit      int
}

// UnlinkedTouch is the SQL condition of a touch that still needs a deal:
// none yet, not marked "not a sale", and written by a person now. History
// and automated touches (bounces, auto-replies, list mail) never need one.
// Every unlinked queue, counter and reminder uses this condition (through
// UnlinkedTouchOf), so they agree.
const UnlinkedTouch = "deal_id IS NULL AND not_a_sale = '' AND history = FALSE AND automated = FALSE"

// UnlinkedTouchOf is UnlinkedTouch on the touches table named alias.
func UnlinkedTouchOf(alias string) string {
	return alias + ".deal_id IS NULL AND " + alias + ".not_a_sale = '' AND " + alias + ".history = FALSE AND " + alias + ".automated = FALSE"
}

// ListConversations returns a page, latest activity first (the waiting
// queue: the longest wait first), and the cursor of the next page ("" at
// the end).
func ListConversations(tx *gorm.DB, f ConversationFilter) ([]Conversation, string, error) {
	db := tx.Model(&Conversation{})
	if f.AssigneeID != 0 {
		db = db.Where("assignee_id = ?", f.AssigneeID)
	}
	if f.Unassigned {
		db = db.Where("assignee_id IS NULL")
	}
	if f.For != nil {
		db = db.Scopes(VisibleConversations(*f.For))
	}
	if f.Unlinked {
		db = db.Where(queueUnlinked)
	}
	if f.Waiting {
		db = db.Where(queueWaiting)
	}
	if f.CallBack {
		db = db.Where(queueCallBack)
	}
	if f.Status != "" {
		db = db.Where("status = ?", f.Status)
	}
	if f.Channel != "" {
		db = db.Where("channel = ?", f.Channel)
	}
	if f.ContactID != 0 {
		db = db.Where("contact_id = ?", f.ContactID)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		if err := checkSearch(q); err != nil {
			return nil, "", err
		}
		t := "%" + escapeLike(SearchTerm(q, f.Region)) + "%"
		// The contact (name, company, every phone, email and handle), the
		// subject, and the text of any of the conversation's touches.
		db = db.Where(`(contact_id IN (SELECT id FROM contacts WHERE search LIKE ? ESCAPE '\') OR LOWER(subject) LIKE ? ESCAPE '\' OR LOWER(last_text) LIKE ? ESCAPE '\'
			OR conversations.id IN (SELECT tq.conversation_id FROM touches tq WHERE LOWER(tq.body) LIKE ? ESCAPE '\' OR LOWER(tq.subject) LIKE ? ESCAPE '\'))`, t, t, t, t, t)
	}
	// The page's order: a time column and the id break ties, both one way.
	key, cmp, order := "last_touch_at", "<", "last_touch_at DESC, id DESC"
	if f.Waiting {
		key, cmp, order = "waiting_since", ">", "waiting_since, id"
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		db = db.Where("("+key+" "+cmp+" ? OR ("+key+" = ? AND id "+cmp+" ?))", at, at, id)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out []Conversation
	if err := db.Order(order).Limit(f.Limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("crm: list conversations: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		at := last.LastTouchAt
		if f.Waiting {
			at = *last.WaitingSince
		}
		next = encodeCursor(at, last.ID)
	}
	return out, next, nil
}

func encodeCursor(t time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (time.Time, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, Invalid("cursor is malformed")
	}
	ts, ids, ok := strings.Cut(string(raw), "|")
	t, err1 := time.Parse(time.RFC3339Nano, ts)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, Invalid("cursor is malformed")
	}
	return t, id, nil
}

// AssignConversation sets (or, with nil, clears) the assignee.
func AssignConversation(tx *gorm.DB, id int64, assignee *int64) (Conversation, error) {
	if assignee != nil {
		u, err := GetUser(tx, *assignee)
		if err != nil {
			return Conversation{}, Invalid("user %d does not exist", *assignee)
		}
		if !u.Active {
			return Conversation{}, Invalid("user %s is deactivated", u.Email)
		}
	}
	if err := tx.Model(&Conversation{ID: id}).Updates(map[string]any{"assignee_id": assignee, "updated_at": time.Now().UTC()}).Error; err != nil {
		return Conversation{}, err
	}
	c, err := GetConversation(tx, id)
	if err != nil || assignee == nil {
		return c, err
	}
	// The first manager to take a client becomes responsible for the
	// contact and its unowned open deals, so the client's next message on
	// any channel comes to them and the deals show in their list.
	if err := SetResponsible(tx, []int64{c.ContactID}, *assignee); err != nil {
		return c, err
	}
	return c, tx.Model(&Deal{}).Where("contact_id = ? AND status = ? AND responsible_id IS NULL", c.ContactID, DealOpen).Update("responsible_id", *assignee).Error
}

// MaxSnooze is how far ahead a conversation can be snoozed.
const MaxSnooze = 366 * 24 * time.Hour

// SetConversationStatus opens, snoozes (until a time) or closes.
func SetConversationStatus(tx *gorm.DB, id int64, st ConversationStatus, until *time.Time) (Conversation, error) {
	up := map[string]any{"status": st, "snoozed_until": nil, "updated_at": time.Now().UTC()}
	switch st {
	case ConvOpen:
	case ConvClosed:
		up["waiting_since"] = nil // closed: nobody waits for our reply any more
	case ConvSnoozed:
		if until == nil || until.Before(time.Now()) {
			return Conversation{}, Invalid("snooze needs a time in the future")
		}
		if until.After(time.Now().Add(MaxSnooze)) {
			return Conversation{}, Invalid("snooze at most a year ahead")
		}
		up["snoozed_until"] = until.UTC()
	default:
		return Conversation{}, Invalid("status %q is not one of open, snoozed, closed", st)
	}
	if err := tx.Model(&Conversation{ID: id}).Updates(up).Error; err != nil {
		return Conversation{}, err
	}
	return GetConversation(tx, id)
}

// ConversationSummary is what the inbox list shows of a conversation
// beside its row.
type ConversationSummary struct {
	ContactName   string
	ContactHandle string // the contact's first identity, "kind:value"
	Unlinked      int64  // touches that still need a deal
	MissedCallAt  *time.Time
}

// SummarizeConversations reads the list lines' extras of convs, by id.
func SummarizeConversations(tx *gorm.DB, convs []Conversation) (map[int64]ConversationSummary, error) {
	out := map[int64]ConversationSummary{}
	if len(convs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(convs))
	cids := make([]int64, len(convs))
	for i, c := range convs {
		ids[i], cids[i] = c.ID, c.ContactID
	}
	var names []struct {
		ID   int64
		Name string
	}
	if err := tx.Table("contacts").Select("id, name").Where("id IN ?", cids).Scan(&names).Error; err != nil {
		return nil, fmt.Errorf("crm: list names: %w", err)
	}
	var counts []struct {
		ConversationID int64
		N              int64
	}
	if err := tx.Table("touches").Select("conversation_id, COUNT(*) AS n").Where("conversation_id IN ? AND "+UnlinkedTouch, ids).Group("conversation_id").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("crm: list unlinked: %w", err)
	}
	var handles []struct {
		ContactID int64
		Kind      string
		Value     string
	}
	if err := tx.Table("identities").Select("contact_id, kind, value").Where("contact_id IN ?", cids).Order("id").Scan(&handles).Error; err != nil {
		return nil, fmt.Errorf("crm: list handles: %w", err)
	}
	missed, err := MissedCallsSince(tx, ids)
	if err != nil {
		return nil, err
	}
	nm, cn, hd := map[int64]string{}, map[int64]int64{}, map[int64]string{}
	for _, n := range names {
		nm[n.ID] = n.Name
	}
	for _, h := range handles {
		if hd[h.ContactID] == "" {
			hd[h.ContactID] = h.Kind + ":" + h.Value
		}
	}
	for _, c := range counts {
		cn[c.ConversationID] = c.N
	}
	for _, c := range convs {
		s := ConversationSummary{ContactName: nm[c.ContactID], ContactHandle: hd[c.ContactID], Unlinked: cn[c.ID]}
		if at, ok := missed[c.ID]; ok {
			s.MissedCallAt = &at
		}
		out[c.ID] = s
	}
	return out, nil
}

// NamedRef is an id with the name people know it by.
type NamedRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// TimelineRefs reads what a timeline shows beside its touches: their
// files, and the names of the entry points and ad sources they came from.
func TimelineRefs(tx *gorm.DB, touches []Touch) ([]Attachment, []NamedRef, []NamedRef, error) {
	files, eps, srcs := []Attachment{}, []NamedRef{}, []NamedRef{}
	var ids, epIDs, srcIDs []int64
	for _, t := range touches {
		ids = append(ids, t.ID)
		if t.EntryPointID != nil {
			epIDs = append(epIDs, *t.EntryPointID)
		}
		if t.AdSourceID != nil {
			srcIDs = append(srcIDs, *t.AdSourceID)
		}
	}
	var err error
	if files, err = TouchAttachments(tx, ids...); err != nil {
		return nil, nil, nil, err
	}
	if len(epIDs) > 0 {
		if err := tx.Table("entry_points").Select("id, address AS name").Where("id IN ?", epIDs).Order("id").Scan(&eps).Error; err != nil {
			return nil, nil, nil, err
		}
	}
	if len(srcIDs) > 0 {
		if err := tx.Table("ad_sources").Select("id, name").Where("id IN ?", srcIDs).Order("id").Scan(&srcs).Error; err != nil {
			return nil, nil, nil, err
		}
	}
	return files, eps, srcs, nil
}
