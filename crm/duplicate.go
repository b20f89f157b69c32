package crm

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// MergeHint records that one message carried handles of two contacts:
// the touch went to ContactID, and another of its handles belongs to
// OtherID. Ingest writes them; Duplicates reads them.
type MergeHint struct {
	ID        int64
	ContactID int64
	OtherID   int64
	TouchID   int64
	CreatedAt time.Time
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
// the other is how one person becomes two contacts.
func Duplicates(tx *gorm.DB, id int64) ([]Duplicate, error) {
	c, err := GetContact(tx, id)
	if err != nil {
		return nil, err
	}
	// The contact and every contact merged into it, at any depth.
	self := map[int64]bool{c.ID: true}
	for frontier := []int64{c.ID}; len(frontier) > 0; {
		var next []int64
		if err := tx.Model(&Contact{}).Where("merged_into_id IN ?", frontier).Pluck("id", &next).Error; err != nil {
			return nil, fmt.Errorf("crm: duplicates of %d: %w", c.ID, err)
		}
		frontier = frontier[:0]
		for _, n := range next {
			if !self[n] {
				self[n] = true
				frontier = append(frontier, n)
			}
		}
	}
	ids := make([]int64, 0, len(self))
	for n := range self {
		ids = append(ids, n)
	}
	var hints []MergeHint
	if err := tx.Where("contact_id IN ? OR other_id IN ?", ids, ids).Order("id").Limit(500).Find(&hints).Error; err != nil {
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
