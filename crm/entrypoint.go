package crm

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// EntryPoint is the exact address a touch arrived at on an account: a
// called number, a To address, a bot start code, a utm_source. Its ad
// source comes from its bindings over time.
type EntryPoint struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	Address   string `json:"address"`
	AutoDeal  bool   `json:"auto_deal"`
	// Region is the phone region of the clients who arrive here (ISO
	// 3166 alpha-2; "" : the account's): the web form on the Belarusian
	// site reads "8 029 …" as +375 29 ….
	Region    string    `json:"region"`
	CreatedAt time.Time `json:"created_at"`
	Bindings  []Binding `json:"bindings,omitempty" gorm:"-"`
}

// Binding says that from ValidFrom on, touches at the entry point belong to
// AdSourceID (nil: to no source).
type Binding struct {
	ID           int64     `json:"id"`
	EntryPointID int64     `json:"entry_point_id"`
	AdSourceID   *int64    `json:"ad_source_id"`
	ValidFrom    time.Time `json:"valid_from"`
	CreatedBy    *int64    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	// Restamped is how many stored touches Bind moved to this binding's
	// source (a binding entered late, valid from a past time).
	Restamped int64 `json:"restamped,omitempty" gorm:"-"`
}

// TableName is the bindings table.
func (Binding) TableName() string { return "entry_point_bindings" }

// SourceAt returns the ad source bound at time t, or nil.
func (e EntryPoint) SourceAt(t time.Time) *int64 {
	var src *int64
	for _, b := range e.Bindings { // sorted by ValidFrom
		if b.ValidFrom.After(t) {
			break
		}
		src = b.AdSourceID
	}
	return src
}

// GetEntryPoint loads an entry point with its binding history.
func GetEntryPoint(tx *gorm.DB, id int64) (EntryPoint, error) {
	var e EntryPoint
	if err := tx.Take(&e, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return e, NotFound("entry point", id)
		}
		return e, err
	}
	return e, loadBindings(tx, &e)
}

func loadBindings(tx *gorm.DB, e *EntryPoint) error {
	if err := tx.Where("entry_point_id = ?", e.ID).Find(&e.Bindings).Error; err != nil {
		return fmt.Errorf("crm: bindings of entry point %d: %w", e.ID, err)
	}
	sort.Slice(e.Bindings, func(i, j int) bool { return e.Bindings[i].ValidFrom.Before(e.Bindings[j].ValidFrom) })
	return nil
}

// ListEntryPoints returns entry points with their bindings, optionally for
// one account.
func ListEntryPoints(tx *gorm.DB, accountID int64) ([]EntryPoint, error) {
	db := tx.Order("id")
	if accountID != 0 {
		db = db.Where("account_id = ?", accountID)
	}
	var out []EntryPoint
	if err := db.Find(&out).Error; err != nil {
		return nil, err
	}
	for i := range out {
		if err := loadBindings(tx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CreateEntryPoint adds an address to an account, bound to adSourceID from
// the beginning of time when it is set.
func CreateEntryPoint(tx *gorm.DB, accountID int64, address string, autoDeal bool, adSourceID *int64, actor *int64) (EntryPoint, error) {
	e := EntryPoint{AccountID: accountID, Address: strings.TrimSpace(address), AutoDeal: autoDeal}
	if e.Address == "" {
		return e, Invalid("entry point address is required")
	}
	if _, err := GetAccount(tx, accountID); err != nil {
		return e, err
	}
	if err := tx.Create(&e).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return e, Conflict("account %d already has entry point %q", accountID, e.Address)
		}
		return e, fmt.Errorf("crm: create entry point: %w", err)
	}
	if adSourceID != nil {
		if _, err := Bind(tx, e.ID, adSourceID, time.Time{}, actor); err != nil {
			return e, err
		}
	}
	return GetEntryPoint(tx, e.ID)
}

// SetEntryPointRegion sets the phone region of an entry point ("" : the
// account's), checked by CheckRegion; it returns the region as stored.
func SetEntryPointRegion(tx *gorm.DB, id int64, region string) (string, error) {
	r, err := CheckRegion(region)
	if err != nil {
		return "", err
	}
	if err := tx.Model(&EntryPoint{}).Where("id = ?", id).Update("region", r).Error; err != nil {
		return "", fmt.Errorf("crm: entry point %d region: %w", id, err)
	}
	return r, nil
}

// Epoch is the valid_from of a binding that has always been in force.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Bind moves an entry point to an ad source (nil: none) from validFrom on
// (zero: from the beginning). A touch is stamped at capture with the
// source bound at its time; a binding valid from a past time (entered
// late: the number was set up after the campaign began) re-stamps the
// stored touches it covers, up to the next binding, so that a touch's
// source is always the binding in force at its time. The caller audits
// the binding, with the number of touches re-stamped.
func Bind(tx *gorm.DB, entryPointID int64, adSourceID *int64, validFrom time.Time, actor *int64) (Binding, error) {
	if validFrom.IsZero() {
		validFrom = Epoch
	}
	b := Binding{EntryPointID: entryPointID, AdSourceID: adSourceID, ValidFrom: validFrom.UTC().Truncate(time.Microsecond), CreatedBy: actor}
	if adSourceID != nil {
		if _, err := GetAdSource(tx, *adSourceID); err != nil {
			return b, err
		}
	}
	if err := tx.Create(&b).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return b, Conflict("entry point %d already has a binding from %s", entryPointID, validFrom.Format(time.RFC3339))
		}
		return b, fmt.Errorf("crm: bind entry point %d: %w", entryPointID, err)
	}
	var next []time.Time
	if err := tx.Model(&Binding{}).Where("entry_point_id = ? AND valid_from > ?", entryPointID, b.ValidFrom).
		Order("valid_from").Limit(1).Pluck("valid_from", &next).Error; err != nil {
		return b, fmt.Errorf("crm: bind entry point %d: next binding: %w", entryPointID, err)
	}
	up := tx.Model(&Touch{}).Where("entry_point_id = ? AND occurred_at >= ?", entryPointID, b.ValidFrom)
	if len(next) > 0 {
		up = up.Where("occurred_at < ?", next[0])
	}
	res := up.Update("ad_source_id", adSourceID)
	if res.Error != nil {
		return b, fmt.Errorf("crm: bind entry point %d: re-stamp touches: %w", entryPointID, res.Error)
	}
	b.Restamped = res.RowsAffected
	return b, nil
}

// FindEntryPoint returns the account's entry point at address with its
// bindings. With create set, an unknown address is recorded (so the owner
// sees it) and, when sourceHint is non-empty, bound to the ad source of
// that name, created if needed.
func FindEntryPoint(tx *gorm.DB, accountID int64, address, sourceHint string, create bool) (EntryPoint, error) {
	var e EntryPoint
	err := tx.Where("account_id = ? AND address = ?", accountID, address).Take(&e).Error
	if err == nil {
		return e, loadBindings(tx, &e)
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return e, fmt.Errorf("crm: find entry point: %w", err)
	}
	if !create {
		return e, NotFound("entry point", address)
	}
	var src *int64
	if sourceHint != "" {
		s, err := AdSourceByName(tx, sourceHint, true)
		if err != nil {
			return e, err
		}
		src = &s.ID
	}
	return CreateEntryPoint(tx, accountID, address, true, src, nil)
}
