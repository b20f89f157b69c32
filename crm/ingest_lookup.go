package crm

import (
	"cmp"
	"database/sql"
	"fmt"
	"slices"
	"sort"

	"gorm.io/gorm"
)

// The lookups an ingest batch makes before it plans: each finds the rows
// for a whole batch in one or a few statements (see bulk.go for how they
// stay cheap on SQLite).

// ThreadKey finds a contact's conversation on an account: the channel's
// thread ("" for channels with one conversation per contact).
type ThreadKey struct {
	ContactID, AccountID int64
	Thread               string
}

// ContactHead is what ingest needs of a stored contact.
type ContactHead struct {
	ID            int64
	Name          string
	ResponsibleID *int64
	NotClient     string
	Blocked       bool
}

// DealHead is what ingest needs of a stored deal.
type DealHead struct {
	ID, ContactID int64
	Status        DealStatus
}

// TouchRef is a stored touch as ingest meets it again: a redelivery, or
// the message a new one answers.
type TouchRef struct {
	ID, ConversationID int64
}

// TouchesByExternalID returns an account's touches with these external
// ids, by external id.
func TouchesByExternalID(tx *gorm.DB, account int64, exts []string) (map[string]TouchRef, error) {
	out := map[string]TouchRef{}
	if len(exts) == 0 {
		return out, nil
	}
	in, list := inList(tx, "external_id", exts)
	err := query(tx, func(r *sql.Rows) error {
		var t TouchRef
		var ext string
		err := r.Scan(&t.ID, &t.ConversationID, &ext)
		out[ext] = t
		return err
	}, "SELECT id, conversation_id, external_id FROM touches WHERE account_id = ? AND "+in, account, list)
	if err != nil {
		return nil, fmt.Errorf("crm: touches by external id: %w", err)
	}
	return out, nil
}

// IdentityOwners returns the contact holding each identity of one kind
// among vals, by value.
func IdentityOwners(tx *gorm.DB, kind IdentityKind, vals []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(vals) == 0 {
		return out, nil
	}
	in, list := inList(tx, "value", vals)
	err := query(tx, func(r *sql.Rows) error {
		var c int64
		var v string
		err := r.Scan(&c, &v)
		out[v] = c
		return err
	}, "SELECT contact_id, value FROM identities WHERE kind = ? AND "+in, string(kind), list)
	if err != nil {
		return nil, fmt.Errorf("crm: identities: %w", err)
	}
	return out, nil
}

// ContactHeads returns the named contacts' names and responsible managers.
func ContactHeads(tx *gorm.DB, ids []int64) ([]ContactHead, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []ContactHead
	in, list := inList(tx, "id", ids)
	err := query(tx, func(r *sql.Rows) error {
		var h ContactHead
		var resp sql.NullInt64
		if err := r.Scan(&h.ID, &h.Name, &resp, &h.NotClient, &h.Blocked); err != nil {
			return err
		}
		if resp.Valid {
			h.ResponsibleID = &resp.Int64
		}
		out = append(out, h)
		return nil
	}, "SELECT id, name, responsible_id, not_client, blocked FROM contacts WHERE "+in, list)
	if err != nil {
		return nil, fmt.Errorf("crm: contacts: %w", err)
	}
	return out, nil
}

// ConversationsByThread returns the conversations of these keys, oldest
// first: one index seek per key, not every conversation of the contacts
// (IN lists per column would seek their cross product).
func ConversationsByThread(tx *gorm.DB, keys []ThreadKey) ([]Conversation, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	tuples := make([][]any, len(keys))
	for i, k := range keys {
		tuples[i] = []any{k.ContactID, k.AccountID, k.Thread}
	}
	cond, args, err := inTuples(tx, "conversations", []string{"contact_id", "account_id", "thread_key"}, tuples)
	if err != nil {
		return nil, err
	}
	var convs []Conversation
	if err := query(tx, func(r *sql.Rows) error {
		var c Conversation
		err := tx.ScanRows(r, &c)
		convs = append(convs, c)
		return err
	}, "SELECT * FROM conversations WHERE "+cond, args...); err != nil {
		return nil, fmt.Errorf("crm: conversations: %w", err)
	}
	slices.SortFunc(convs, func(a, b Conversation) int { return cmp.Compare(a.ID, b.ID) })
	return convs, nil
}

// LatestConversation returns the newest conversation of a key, or nil.
func LatestConversation(tx *gorm.DB, k ThreadKey) (*Conversation, error) {
	var found []Conversation
	if err := tx.Where("contact_id = ? AND account_id = ? AND thread_key = ?", k.ContactID, k.AccountID, k.Thread).
		Order("id DESC").Limit(1).Find(&found).Error; err != nil {
		return nil, fmt.Errorf("crm: conversation: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return &found[0], nil
}

// ConversationsByID returns the conversations with these ids.
func ConversationsByID(tx *gorm.DB, ids []int64) ([]Conversation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var convs []Conversation
	in, list := inList(tx, "id", ids)
	if err := tx.Where(in, list).Find(&convs).Error; err != nil {
		return nil, fmt.Errorf("crm: conversations: %w", err)
	}
	return convs, nil
}

// DealHeads returns the deals of these contacts, oldest first.
func DealHeads(tx *gorm.DB, contacts []int64) ([]DealHead, error) {
	if len(contacts) == 0 {
		return nil, nil
	}
	var out []DealHead
	in, list := inList(tx, "contact_id", contacts)
	err := query(tx, func(r *sql.Rows) error {
		var d DealHead
		var status string
		err := r.Scan(&d.ID, &d.ContactID, &status)
		d.Status = DealStatus(status)
		out = append(out, d)
		return err
	}, "SELECT id, contact_id, status FROM deals WHERE "+in+" ORDER BY id", list)
	if err != nil {
		return nil, fmt.Errorf("crm: deals: %w", err)
	}
	return out, nil
}

// EntryPointsAt returns the entry points at these addresses on these
// accounts, each with its bindings in time order (what FindEntryPoint
// loads for one).
func EntryPointsAt(tx *gorm.DB, addrs []string, accounts map[int64]bool) ([]*EntryPoint, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	var eps []EntryPoint
	if err := tx.Where("address IN ?", addrs).Find(&eps).Error; err != nil {
		return nil, fmt.Errorf("crm: entry points: %w", err)
	}
	var out []*EntryPoint
	var ids []int64
	byID := map[int64]*EntryPoint{}
	for i := range eps {
		if e := &eps[i]; accounts[e.AccountID] {
			out = append(out, e)
			byID[e.ID] = e
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var bs []Binding
	if err := tx.Where("entry_point_id IN ?", ids).Find(&bs).Error; err != nil {
		return nil, fmt.Errorf("crm: entry point bindings: %w", err)
	}
	for _, b := range bs {
		e := byID[b.EntryPointID]
		e.Bindings = append(e.Bindings, b)
	}
	for _, e := range out {
		sort.Slice(e.Bindings, func(i, j int) bool { return e.Bindings[i].ValidFrom.Before(e.Bindings[j].ValidFrom) })
	}
	return out, nil
}

// FirstOpenStage returns the pipeline stage new deals start in.
func FirstOpenStage(tx *gorm.DB) (int64, error) {
	stages, err := int64s(tx, "SELECT id FROM pipeline_stages WHERE kind = 'open' ORDER BY position LIMIT 1")
	if err != nil {
		return 0, fmt.Errorf("crm: the database did not answer (reading the pipeline): %w", err)
	}
	if len(stages) == 0 {
		return 0, fmt.Errorf("crm: the pipeline has no open stage")
	}
	return stages[0], nil
}

// TouchMetas returns the meta (JSON text) of an account's touches with
// these external ids, by external id.
func TouchMetas(tx *gorm.DB, account int64, exts []string) (map[string]string, error) {
	out := map[string]string{}
	if len(exts) == 0 {
		return out, nil
	}
	in, list := inList(tx, "external_id", exts)
	err := query(tx, func(r *sql.Rows) error {
		var ext, meta string
		err := r.Scan(&ext, &meta)
		out[ext] = meta
		return err
	}, "SELECT external_id, meta FROM touches WHERE account_id = ? AND "+in, account, list)
	if err != nil {
		return nil, fmt.Errorf("crm: touch meta by external id: %w", err)
	}
	return out, nil
}
