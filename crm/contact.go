package crm

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Contact is a person or organization. It belongs to the company; the
// responsible manager owns nothing.
type Contact struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Company       string `json:"company"`
	Note          string `json:"note"`
	ResponsibleID *int64 `json:"responsible_id"`
	// NotClient is why the contact is no client (NotClientReasons; ""
	// : a client): their touches never count as unlinked.
	NotClient string `json:"not_client"`
	// Blocked: the sender's touches are kept but make no one wait.
	Blocked      bool       `json:"blocked"`
	Search       string     `json:"-"`
	MergedIntoID *int64     `json:"merged_into_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Identities   []Identity `json:"identities,omitempty" gorm:"-"`
}

// CreateContact inserts a contact with its identities. An identity that
// already belongs to someone is ErrConflict.
func CreateContact(tx *gorm.DB, c *Contact, keys []Key) error {
	c.Name = strings.TrimSpace(c.Name)
	// Refuse a taken identity before writing anything: a failed INSERT
	// would leave the contact behind outside a transaction and, on
	// PostgreSQL, abort the caller's transaction.
	taken, err := FindIdentities(tx, keys)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		return Conflict("%s already belongs to contact %d", taken[0].Handle(), taken[0].ContactID)
	}
	if err := tx.Omit("Identities").Create(c).Error; err != nil {
		return fmt.Errorf("crm: create contact: %w", err)
	}
	for _, k := range keys {
		id := Identity{ContactID: c.ID, Kind: k.Kind, Value: k.Value}
		if err := tx.Create(&id).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return Conflict("%s already belongs to another contact", k)
			}
			return fmt.Errorf("crm: create identity %s: %w", k, err)
		}
		c.Identities = append(c.Identities, id)
	}
	c.Search = SearchText(c, c.Identities)
	return tx.Model(c).UpdateColumn("search", c.Search).Error
}

// GetContact loads a contact with its identities. A merged-away id
// resolves to the contact it was merged into.
func GetContact(tx *gorm.DB, id int64) (Contact, error) {
	var c Contact
	for hops := 0; hops < 16; hops++ {
		if err := tx.Take(&c, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return c, NotFound("contact", id)
			}
			return c, fmt.Errorf("crm: get contact %d: %w", id, err)
		}
		if c.MergedIntoID == nil {
			break
		}
		id = *c.MergedIntoID
		c = Contact{}
	}
	if err := tx.Where("contact_id = ?", c.ID).Order("id").Find(&c.Identities).Error; err != nil {
		return c, fmt.Errorf("crm: identities of %d: %w", c.ID, err)
	}
	return c, nil
}

// ContactPatch is an edit of a contact; nil fields stay as they are.
type ContactPatch struct {
	Name          *string `json:"name"`
	Company       *string `json:"company"`
	Note          *string `json:"note"`
	ResponsibleID *int64  `json:"responsible_id"`
	// NotClient and Blocked are applied by SetNotClient (the inbox audits
	// them); UpdateContact leaves them.
	NotClient *string `json:"not_client"`
	Blocked   *bool   `json:"blocked"`
}

// UpdateContact applies p and refreshes the search text.
func UpdateContact(tx *gorm.DB, id int64, p ContactPatch) (Contact, error) {
	c, err := GetContact(tx, id)
	if err != nil {
		return c, err
	}
	up := map[string]any{"updated_at": time.Now().UTC()}
	if p.Name != nil {
		up["name"] = strings.TrimSpace(*p.Name)
	}
	if p.Company != nil {
		up["company"] = strings.TrimSpace(*p.Company)
	}
	if p.Note != nil {
		up["note"] = *p.Note
	}
	if p.ResponsibleID != nil {
		if *p.ResponsibleID == 0 {
			up["responsible_id"] = nil
		} else {
			if _, err := GetUser(tx, *p.ResponsibleID); err != nil {
				return c, Invalid("responsible user %d does not exist", *p.ResponsibleID)
			}
			up["responsible_id"] = *p.ResponsibleID
		}
	}
	if err := tx.Model(&Contact{ID: c.ID}).Updates(up).Error; err != nil {
		return c, fmt.Errorf("crm: update contact %d: %w", c.ID, err)
	}
	if err := RefreshSearch(tx, c.ID); err != nil {
		return c, err
	}
	return GetContact(tx, c.ID)
}

// RefreshSearch recomputes a contact's search text from its name and identities.
func RefreshSearch(tx *gorm.DB, contactID int64) error {
	var c Contact
	if err := tx.Take(&c, contactID).Error; err != nil {
		return fmt.Errorf("crm: contact %d: %w", contactID, err)
	}
	var ids []Identity
	if err := tx.Where("contact_id = ?", contactID).Find(&ids).Error; err != nil {
		return err
	}
	return tx.Model(&Contact{ID: contactID}).UpdateColumn("search", SearchText(&c, ids)).Error
}

// SearchContacts finds live (not merged-away) contacts whose name, company,
// phone or email matches q in any format. limit ≤ 0 means 50.
func SearchContacts(tx *gorm.DB, q, region string, limit int) ([]Contact, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if err := checkSearch(strings.TrimSpace(q)); err != nil {
		return nil, err
	}
	// A caller may pass conditions (which contacts a user may see); they
	// apply to the contacts query only, and the chain must not grow tx.
	db := tx.Session(&gorm.Session{}).Where("merged_into_id IS NULL")
	if t := SearchTerm(q, region); t != "" {
		db = db.Where("search LIKE ? ESCAPE '\\'", "%"+escapeLike(t)+"%")
	}
	var cs []Contact
	if err := db.Order("id DESC").Limit(limit).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("crm: search contacts: %w", err)
	}
	return cs, loadIdentities(tx.Session(&gorm.Session{NewDB: true}), cs)
}

func loadIdentities(tx *gorm.DB, cs []Contact) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]int64, len(cs))
	at := map[int64]int{}
	for i, c := range cs {
		ids[i] = c.ID
		at[c.ID] = i
	}
	var all []Identity
	if err := tx.Where("contact_id IN ?", ids).Order("id").Find(&all).Error; err != nil {
		return err
	}
	for _, i := range all {
		c := &cs[at[i.ContactID]]
		c.Identities = append(c.Identities, i)
	}
	return nil
}

// escapeLike escapes the LIKE wildcards in s with a backslash. SQLite has
// no default escape character, so every LIKE using it says ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// MergeRecord is what a merge moved, kept in its audit row so the merge can
// be undone.
type MergeRecord struct {
	SurvivorID    int64   `json:"survivor_id"`
	MergedID      int64   `json:"merged_id"`
	Identities    []int64 `json:"identities"`
	Conversations []int64 `json:"conversations"`
	Touches       []int64 `json:"touches"`
	Deals         []int64 `json:"deals"`
}

// MergeContacts moves the identities, conversations, touches and deals of
// mergedID to survivorID, marks mergedID as merged into it (so its id still
// resolves) and audits the merge. It returns the audit entry, whose id
// undoes the merge.
func MergeContacts(tx *gorm.DB, survivorID, mergedID int64, actor *int64) (AuditEntry, error) {
	if survivorID == mergedID {
		return AuditEntry{}, Invalid("cannot merge a contact into itself")
	}
	var s, m Contact
	for _, p := range []struct {
		c  *Contact
		id int64
	}{{&s, survivorID}, {&m, mergedID}} {
		if err := tx.Take(p.c, p.id).Error; err != nil {
			return AuditEntry{}, NotFound("contact", p.id)
		}
		if p.c.MergedIntoID != nil {
			return AuditEntry{}, Conflict("contact %d is already merged into %d", p.id, *p.c.MergedIntoID)
		}
	}
	rec := MergeRecord{SurvivorID: survivorID, MergedID: mergedID}
	for _, mv := range []struct {
		table string
		ids   *[]int64
	}{{"identities", &rec.Identities}, {"conversations", &rec.Conversations}, {"touches", &rec.Touches}, {"deals", &rec.Deals}} {
		if err := tx.Table(mv.table).Where("contact_id = ?", mergedID).Order("id").Pluck("id", mv.ids).Error; err != nil {
			return AuditEntry{}, fmt.Errorf("crm: merge: list %s: %w", mv.table, err)
		}
		if err := tx.Table(mv.table).Where("contact_id = ?", mergedID).Update("contact_id", survivorID).Error; err != nil {
			return AuditEntry{}, fmt.Errorf("crm: merge: move %s: %w", mv.table, err)
		}
	}
	up := map[string]any{"updated_at": time.Now().UTC()}
	if s.Name == "" && m.Name != "" {
		up["name"] = m.Name
	}
	if s.ResponsibleID == nil && m.ResponsibleID != nil {
		up["responsible_id"] = *m.ResponsibleID
	}
	if err := tx.Model(&Contact{ID: survivorID}).Updates(up).Error; err != nil {
		return AuditEntry{}, err
	}
	if err := tx.Model(&Contact{ID: mergedID}).Updates(map[string]any{"merged_into_id": survivorID, "search": "", "updated_at": time.Now().UTC()}).Error; err != nil {
		return AuditEntry{}, err
	}
	if err := RefreshSearch(tx, survivorID); err != nil {
		return AuditEntry{}, err
	}
	return Audit(tx, actor, "contact.merge", "contact", survivorID, rec)
}

// UndoMerge reverses the merge recorded in audit entry auditID: what the
// merge moved goes back to the merged contact, which lives again. Undoing
// twice is ErrConflict.
func UndoMerge(tx *gorm.DB, auditID int64, actor *int64) (AuditEntry, error) {
	var e AuditEntry
	if err := tx.Take(&e, auditID).Error; err != nil {
		return e, NotFound("audit entry", auditID)
	}
	if e.Action != "contact.merge" {
		return e, Invalid("audit entry %d is a %s, not a merge", auditID, e.Action)
	}
	var rec MergeRecord
	if err := e.Decode(&rec); err != nil {
		return e, fmt.Errorf("crm: undo merge %d: %w", auditID, err)
	}
	var m Contact
	if err := tx.Take(&m, rec.MergedID).Error; err != nil {
		return e, NotFound("contact", rec.MergedID)
	}
	if m.MergedIntoID == nil || *m.MergedIntoID != rec.SurvivorID {
		return e, Conflict("merge %d was already undone", auditID)
	}
	for _, mv := range []struct {
		table string
		ids   []int64
	}{{"identities", rec.Identities}, {"conversations", rec.Conversations}, {"touches", rec.Touches}, {"deals", rec.Deals}} {
		for _, chunk := range chunks(mv.ids, 500) {
			if err := tx.Table(mv.table).Where("id IN ? AND contact_id = ?", chunk, rec.SurvivorID).Update("contact_id", rec.MergedID).Error; err != nil {
				return e, fmt.Errorf("crm: undo merge: %s: %w", mv.table, err)
			}
		}
	}
	if err := tx.Model(&Contact{ID: rec.MergedID}).Updates(map[string]any{"merged_into_id": nil, "updated_at": time.Now().UTC()}).Error; err != nil {
		return e, err
	}
	for _, id := range []int64{rec.SurvivorID, rec.MergedID} {
		if err := RefreshSearch(tx, id); err != nil {
			return e, err
		}
	}
	return Audit(tx, actor, "contact.unmerge", "contact", rec.MergedID, map[string]any{"undo_of": auditID, "survivor_id": rec.SurvivorID})
}

func chunks(ids []int64, n int) [][]int64 {
	var out [][]int64
	for len(ids) > 0 {
		k := min(n, len(ids))
		out = append(out, ids[:k])
		ids = ids[k:]
	}
	return out
}

// ContactRow is a contact with its handles by kind, for an export.
type ContactRow struct {
	Contact
	// Handles are the values by kind, a phone with its extension in the
	// RFC 3966 way ("+73832349096;ext=123", see Identity.Dialable).
	Handles map[IdentityKind][]string
	// Source is the ad source of the contact's first touch ("" : none).
	Source string
	// Deals counts the contact's deals; Won is the sum of the won ones
	// (minor units of Currency).
	Deals    int
	Won      int64
	Currency string
}

// liveContacts keeps the contacts not merged into another.
func liveContacts(db *gorm.DB) *gorm.DB { return db.Where("merged_into_id IS NULL") }

// CountLiveContacts counts the contacts not merged away, within scope.
func CountLiveContacts(tx *gorm.DB, scope func(*gorm.DB) *gorm.DB) (int64, error) {
	var n int64
	err := tx.Model(&Contact{}).Scopes(liveContacts, scope).Count(&n).Error
	return n, err
}

// EachLiveContact hands the contacts not merged away, within scope, to fn
// in pages of size, in id order, with their handles.
func EachLiveContact(tx *gorm.DB, scope func(*gorm.DB) *gorm.DB, size int, fn func([]ContactRow) error) error {
	var batch []Contact
	var ferr error
	err := tx.Scopes(liveContacts, scope).Order("id").FindInBatches(&batch, size, func(*gorm.DB, int) error {
		cids := make([]int64, len(batch))
		for i, c := range batch {
			cids[i] = c.ID
		}
		var ids []Identity
		if err := tx.Where("contact_id IN ?", cids).Order("id").Find(&ids).Error; err != nil {
			return err
		}
		by := map[int64]map[IdentityKind][]string{}
		for _, i := range ids {
			if by[i.ContactID] == nil {
				by[i.ContactID] = map[IdentityKind][]string{}
			}
			by[i.ContactID][i.Kind] = append(by[i.ContactID][i.Kind], i.Dialable())
		}
		rows := make([]ContactRow, len(batch))
		for i, c := range batch {
			rows[i] = ContactRow{Contact: c, Handles: by[c.ID]}
		}
		if err := summarize(tx, cids, rows); err != nil {
			return err
		}
		ferr = fn(rows)
		return ferr
	}).Error
	if ferr != nil {
		return ferr
	}
	return err
}

// summarize fills the rows' first source and deals, for the export.
func summarize(tx *gorm.DB, cids []int64, rows []ContactRow) error {
	var deals []struct {
		ContactID int64
		N         int
		Won       int64
		Currency  string
	}
	if err := tx.Raw(`SELECT contact_id, COUNT(*) AS n, COALESCE(SUM(CASE WHEN status = ? THEN amount END), 0) AS won, MAX(currency) AS currency
		FROM deals WHERE contact_id IN ? GROUP BY contact_id`, DealWon, cids).Scan(&deals).Error; err != nil {
		return fmt.Errorf("crm: export deals: %w", err)
	}
	var firsts []struct {
		ContactID int64
		Name      string
	}
	if err := tx.Raw(`SELECT t.contact_id, s.name FROM touches t JOIN ad_sources s ON s.id = t.ad_source_id
		WHERE t.contact_id IN ? AND t.id = (SELECT MIN(f.id) FROM touches f WHERE f.contact_id = t.contact_id)`, cids).Scan(&firsts).Error; err != nil {
		return fmt.Errorf("crm: export sources: %w", err)
	}
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		at[r.ID] = i
	}
	for _, d := range deals {
		r := &rows[at[d.ContactID]]
		r.Deals, r.Won, r.Currency = d.N, d.Won, d.Currency
	}
	for _, f := range firsts {
		rows[at[f.ContactID]].Source = f.Name
	}
	return nil
}

// NotClientReasons are why a contact is no client.
var NotClientReasons = []string{"supplier", "spam", "partner", "personal", "other"}

// NotClientMark prefixes the not_a_sale of touches quieted by their
// contact (no client, or blocked): "contact:supplier". Clearing the mark
// finds them by it.
const NotClientMark = "contact:"

// SetNotClient records why a contact is no client ("" : a client again)
// and whether it is a blocked sender, and stamps or clears its touches
// without a deal accordingly. It reports how many touches changed.
func SetNotClient(tx *gorm.DB, id int64, reason string, blocked bool) (int64, error) {
	if reason != "" && !slices.Contains(NotClientReasons, reason) {
		return 0, Invalid("not_client must be one of %s, or empty", strings.Join(NotClientReasons, ", "))
	}
	if err := tx.Model(&Contact{}).Where("id = ?", id).Updates(map[string]any{"not_client": reason, "blocked": blocked, "updated_at": time.Now().UTC()}).Error; err != nil {
		return 0, fmt.Errorf("crm: contact %d: %w", id, err)
	}
	// Back to plain first, then stamp with what stands now.
	res := tx.Model(&Touch{}).Where("contact_id = ? AND deal_id IS NULL AND not_a_sale LIKE ?", id, NotClientMark+"%").Update("not_a_sale", "")
	if res.Error != nil {
		return 0, fmt.Errorf("crm: contact %d touches: %w", id, res.Error)
	}
	mark := reason
	if blocked {
		mark = "blocked"
	}
	if mark == "" {
		return res.RowsAffected, nil
	}
	res = tx.Model(&Touch{}).Where("contact_id = ? AND deal_id IS NULL AND not_a_sale = ''", id).Update("not_a_sale", NotClientMark+mark)
	if res.Error != nil {
		return 0, fmt.Errorf("crm: contact %d touches: %w", id, res.Error)
	}
	return res.RowsAffected, nil
}

// SetResponsible makes the user the responsible manager of those of the
// contacts ids that have none.
func SetResponsible(tx *gorm.DB, ids []int64, user int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := tx.Model(&Contact{}).Where("id IN ? AND responsible_id IS NULL", ids).Update("responsible_id", user).Error; err != nil {
		return fmt.Errorf("crm: responsible of contacts: %w", err)
	}
	return nil
}
