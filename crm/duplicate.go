package crm

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// MergeHint records that one message carried handles of two contacts:
// the touch went to ContactID, and another of its handles belongs to
// OtherID. Ingest writes them; Duplicates reads those not dismissed, and
// DismissDuplicate marks them when a user says the two are different people.
type MergeHint struct {
	ID          int64
	ContactID   int64
	OtherID     int64
	TouchID     int64
	CreatedAt   time.Time
	DismissedAt *time.Time
	DismissedBy *int64
}

// Duplicate is another live contact that may be the same person as the
// one asked about, and the touch that says so.
type Duplicate struct {
	Contact Contact `json:"contact"`
	TouchID int64   `json:"touch_id"`
}

// Duplicates returns the live contacts that share a message's handles with
// contact id (or with a contact merged into it), oldest hint first. An
// identity is unique, so two contacts never hold the same phone or email:
// a form or a shared contact card naming the phone of one and the email of
// the other is how one person becomes two contacts. A dismissed hint
// suggests nothing (see DismissDuplicate).
func Duplicates(tx *gorm.DB, id int64) ([]Duplicate, error) {
	c, err := GetContact(tx, id)
	if err != nil {
		return nil, err
	}
	self, err := mergeGroup(tx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("crm: duplicates of %d: %w", c.ID, err)
	}
	ids := make([]int64, 0, len(self))
	for n := range self {
		ids = append(ids, n)
	}
	var hints []MergeHint
	if err := tx.Where("(contact_id IN ? OR other_id IN ?) AND dismissed_at IS NULL", ids, ids).Order("id").Limit(500).Find(&hints).Error; err != nil {
		return nil, fmt.Errorf("crm: duplicates of %d: %w", c.ID, err)
	}
	out := []Duplicate{}
	seen := map[int64]bool{}
	for _, h := range hints {
		other := h.OtherID
		if !self[h.ContactID] {
			other = h.ContactID
		}
		o, err := GetContact(tx, other) // follows merges
		if err != nil {
			return nil, err
		}
		if self[o.ID] || seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		out = append(out, Duplicate{Contact: o, TouchID: h.TouchID})
	}
	return out, nil
}

// mergeGroup is contact id (a live contact) and every contact merged into
// it, at any depth: the contacts whose hints are the live contact's.
func mergeGroup(tx *gorm.DB, id int64) (map[int64]bool, error) {
	group := map[int64]bool{id: true}
	for frontier := []int64{id}; len(frontier) > 0; {
		var next []int64
		if err := tx.Model(&Contact{}).Where("merged_into_id IN ?", frontier).Pluck("id", &next).Error; err != nil {
			return nil, err
		}
		frontier = frontier[:0]
		for _, n := range next {
			if !group[n] {
				group[n] = true
				frontier = append(frontier, n)
			}
		}
	}
	return group, nil
}

// NotDuplicate is what a dismissal's audit entry records: the other
// contact and the hints it marked.
type NotDuplicate struct {
	OtherID int64   `json:"other_id"`
	Hints   []int64 `json:"hints"`
}

// DismissDuplicate records that contacts id and otherID, suggested as one
// person, are not: every undismissed hint between the two contacts' groups
// (each live contact with those merged into it; merged-away ids resolve)
// is marked dismissed by actor, and the dismissal is audited as
// contact.not_duplicate on id. The hints stay, so the audit trail and the
// evidence survive; Duplicates no longer suggests the pair until a new
// message names both. A pair with no such hint is ErrNotFound.
func DismissDuplicate(tx *gorm.DB, id, otherID int64, actor *int64) (AuditEntry, error) {
	c, err := GetContact(tx, id)
	if err != nil {
		return AuditEntry{}, err
	}
	o, err := GetContact(tx, otherID)
	if err != nil {
		return AuditEntry{}, err
	}
	if c.ID == o.ID {
		return AuditEntry{}, Invalid("contacts %d and %d are one contact", id, otherID)
	}
	var a, b []int64
	for _, g := range []struct {
		id  int64
		ids *[]int64
	}{{c.ID, &a}, {o.ID, &b}} {
		group, err := mergeGroup(tx, g.id)
		if err != nil {
			return AuditEntry{}, fmt.Errorf("crm: dismiss duplicate %d of %d: %w", o.ID, c.ID, err)
		}
		for n := range group {
			*g.ids = append(*g.ids, n)
		}
	}
	rec := NotDuplicate{OtherID: o.ID}
	if err := tx.Model(&MergeHint{}).
		Where("dismissed_at IS NULL AND ((contact_id IN ? AND other_id IN ?) OR (contact_id IN ? AND other_id IN ?))", a, b, b, a).
		Order("id").Pluck("id", &rec.Hints).Error; err != nil {
		return AuditEntry{}, fmt.Errorf("crm: dismiss duplicate %d of %d: %w", o.ID, c.ID, err)
	}
	if len(rec.Hints) == 0 {
		return AuditEntry{}, fmt.Errorf("%w: no merge suggestion between contacts %d and %d", ErrNotFound, c.ID, o.ID)
	}
	for _, chunk := range chunks(rec.Hints, 500) {
		err := tx.Model(&MergeHint{}).Where("id IN ?", chunk).
			Updates(map[string]any{"dismissed_at": time.Now().UTC(), "dismissed_by": actor}).Error
		if err != nil {
			return AuditEntry{}, fmt.Errorf("crm: dismiss duplicate %d of %d: %w", o.ID, c.ID, err)
		}
	}
	return Audit(tx, actor, "contact.not_duplicate", "contact", c.ID, rec)
}
