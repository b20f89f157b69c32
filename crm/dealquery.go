package crm

import (
	"strconv"
	"time"

	"gorm.io/gorm"
)

// NoSource in DealFilter.SourceID selects deals without an ad source.
const NoSource = -1

// DealFilter selects deals; zero fields select any.
type DealFilter struct {
	ContactID     int64
	Status        DealStatus
	ResponsibleID int64
	// SourceID is an ad source's id, or NoSource.
	SourceID int64
	StageID  int64
	// Created and closed periods, [from, to); a zero bound is open.
	CreatedFrom, CreatedTo time.Time
	ClosedFrom, ClosedTo   time.Time
	// Before is the paging cursor: deals with a smaller id.
	Before int64
	// Limit is the page size (default 100, at most 500).
	Limit int
}

// DealItem is a deal as lists show it: with its contact's and ad
// source's names.
type DealItem struct {
	Deal
	ContactName string `json:"contact_name"`
	SourceName  string `json:"source_name"`
}

// DealSum counts the deals a filter selects, and their amounts, by stage,
// status and currency (the board's column heads, the list's totals).
type DealSum struct {
	StageID  int64      `json:"stage_id"`
	Status   DealStatus `json:"status"`
	Currency string     `json:"currency"`
	Count    int64      `json:"count"`
	Amount   int64      `json:"amount"`
}

// DealPage is a page of deals, newest first, with the sums of every deal
// the filter selects (not only this page's), and the ad sources' names to
// filter by.
type DealPage struct {
	Deals      []DealItem  `json:"deals"`
	NextCursor string      `json:"next_cursor"`
	Sums       []DealSum   `json:"sums"`
	Sources    []NamedItem `json:"sources"`
}

// NamedItem is an object's id and name.
type NamedItem struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// where applies f's conditions but the cursor.
func (f DealFilter) where(db *gorm.DB) *gorm.DB {
	if f.ContactID != 0 {
		db = db.Where("deals.contact_id = ?", f.ContactID)
	}
	if f.Status != "" {
		db = db.Where("deals.status = ?", f.Status)
	}
	if f.ResponsibleID != 0 {
		db = db.Where("deals.responsible_id = ?", f.ResponsibleID)
	}
	switch {
	case f.SourceID == NoSource:
		db = db.Where("deals.ad_source_id IS NULL")
	case f.SourceID != 0:
		db = db.Where("deals.ad_source_id = ?", f.SourceID)
	}
	if f.StageID != 0 {
		db = db.Where("deals.stage_id = ?", f.StageID)
	}
	for _, b := range []struct {
		col, op string
		at      time.Time
	}{{"created_at", ">=", f.CreatedFrom}, {"created_at", "<", f.CreatedTo}, {"closed_at", ">=", f.ClosedFrom}, {"closed_at", "<", f.ClosedTo}} {
		if !b.at.IsZero() {
			db = db.Where("deals."+b.col+" "+b.op+" ?", b.at.UTC())
		}
	}
	return db
}

// dealItems selects deals as DealItems.
func dealItems(db *gorm.DB) *gorm.DB {
	return db.Select("deals.*, COALESCE(contacts.name, '') AS contact_name, COALESCE(ad_sources.name, '') AS source_name").
		Joins("LEFT JOIN contacts ON contacts.id = deals.contact_id").Joins("LEFT JOIN ad_sources ON ad_sources.id = deals.ad_source_id")
}

// GetDealItem loads one deal as a DealItem.
func GetDealItem(tx *gorm.DB, id int64) (DealItem, error) {
	var out []DealItem
	if err := dealItems(tx.Table("deals")).Where("deals.id = ?", id).Scan(&out).Error; err != nil {
		return DealItem{}, err
	}
	if len(out) == 0 {
		return DealItem{}, NotFound("deal", id)
	}
	return out[0], nil
}

// DealTouches are a deal's touches, oldest first (at most 1000).
func DealTouches(tx *gorm.DB, id int64) ([]Touch, error) {
	out := []Touch{}
	return out, tx.Where("deal_id = ?", id).Order("occurred_at, id").Limit(1000).Find(&out).Error
}

// ListDeals returns a page of the deals f selects, newest first, with
// their sums.
func ListDeals(tx *gorm.DB, f DealFilter) (DealPage, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	out := DealPage{Deals: []DealItem{}, Sums: []DealSum{}, Sources: []NamedItem{}}
	if err := tx.Table("ad_sources").Select("id, name").Order("name").Scan(&out.Sources).Error; err != nil {
		return out, err
	}
	db := dealItems(f.where(tx.Table("deals")))
	if f.Before > 0 {
		db = db.Where("deals.id < ?", f.Before)
	}
	if err := db.Order("deals.id DESC").Limit(f.Limit + 1).Scan(&out.Deals).Error; err != nil {
		return out, err
	}
	if len(out.Deals) > f.Limit {
		out.Deals = out.Deals[:f.Limit]
		out.NextCursor = strconv.FormatInt(out.Deals[f.Limit-1].ID, 10)
	}
	err := f.where(tx.Table("deals")).Select("deals.stage_id, deals.status, deals.currency, COUNT(*) AS count, COALESCE(SUM(deals.amount), 0) AS amount").
		Group("deals.stage_id, deals.status, deals.currency").Order("deals.stage_id, deals.status, deals.currency").Scan(&out.Sums).Error
	return out, err
}
