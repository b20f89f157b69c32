package crm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AdSource is an advertising channel: context ads, social, outdoor,
// referrals. Touches carry the source of the entry point they arrived at.
type AdSource struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Archived bool   `json:"archived"`
	// VATIncluded says whether the spend entered for the source includes
	// VAT (the report shows it beside the source).
	VATIncluded bool      `json:"vat_included" gorm:"column:vat_included"`
	CreatedAt   time.Time `json:"created_at"`
}

// Spend is money paid to an ad source over a period (dates inclusive).
type Spend struct {
	ID          int64     `json:"id"`
	AdSourceID  int64     `json:"ad_source_id"`
	Campaign    string    `json:"campaign"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	Note        string    `json:"note"`
	CreatedAt   time.Time `json:"created_at"`
}

// CreateAdSource inserts a source with a unique name.
func CreateAdSource(tx *gorm.DB, name string) (AdSource, error) {
	s := AdSource{Name: strings.TrimSpace(name)}
	if s.Name == "" {
		return s, Invalid("ad source name is required")
	}
	if err := tx.Create(&s).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return s, Conflict("an ad source named %q exists", s.Name)
		}
		return s, fmt.Errorf("crm: create ad source: %w", err)
	}
	return s, nil
}

// AdSourceByName finds a source by name, creating it when create is set.
func AdSourceByName(tx *gorm.DB, name string, create bool) (AdSource, error) {
	var s AdSource
	err := tx.Where("name = ?", strings.TrimSpace(name)).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) && create {
		return CreateAdSource(tx, name)
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return s, NotFound("ad source", name)
	}
	return s, err
}

// ListAdSources returns all sources.
func ListAdSources(tx *gorm.DB) ([]AdSource, error) {
	var out []AdSource
	return out, tx.Order("name").Find(&out).Error
}

// GetAdSource loads a source.
func GetAdSource(tx *gorm.DB, id int64) (AdSource, error) {
	var s AdSource
	if err := tx.Take(&s, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return s, NotFound("ad source", id)
		}
		return s, err
	}
	return s, nil
}

// AddSpend records spend for a source over a period: the entry is kept in
// the log (spends) and spread over its days (SetSpendDays), replacing what
// those days of the source and campaign had.
func AddSpend(tx *gorm.DB, sp *Spend) error {
	if _, err := GetAdSource(tx, sp.AdSourceID); err != nil {
		return err
	}
	if sp.Amount < 0 {
		return Invalid("spend amount must not be negative")
	}
	if !ValidCurrency(sp.Currency) {
		return Invalid("currency %q is not an ISO 4217 code", sp.Currency)
	}
	if sp.PeriodStart.IsZero() || sp.PeriodEnd.Before(sp.PeriodStart) {
		return Invalid("period_end must not be before period_start")
	}
	if days := int(sp.PeriodEnd.Sub(sp.PeriodStart).Hours()/24) + 1; days > MaxSpendDays {
		return Invalid("a spend period is at most %d days, not %d", MaxSpendDays, days)
	}
	sp.Campaign = strings.TrimSpace(sp.Campaign)
	if err := tx.Create(sp).Error; err != nil {
		return fmt.Errorf("crm: add spend: %w", err)
	}
	return SetSpendDays(tx, SpreadSpend(sp.AdSourceID, sp.Campaign, sp.PeriodStart, sp.PeriodEnd, sp.Amount, sp.Currency))
}

// SetVATIncluded sets whether a source's spend includes VAT.
func SetVATIncluded(tx *gorm.DB, id int64, included bool) (AdSource, error) {
	if _, err := GetAdSource(tx, id); err != nil {
		return AdSource{}, err
	}
	if err := tx.Model(&AdSource{ID: id}).Update("vat_included", included).Error; err != nil {
		return AdSource{}, fmt.Errorf("crm: ad source %d vat: %w", id, err)
	}
	return GetAdSource(tx, id)
}

// ListSpend returns a source's spend records, newest period first.
func ListSpend(tx *gorm.DB, sourceID int64) ([]Spend, error) {
	var out []Spend
	return out, tx.Where("ad_source_id = ?", sourceID).Order("period_start DESC, id DESC").Find(&out).Error
}

// GetSpend loads a spend entry.
func GetSpend(tx *gorm.DB, id int64) (Spend, error) {
	var sp Spend
	if err := tx.Take(&sp, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return sp, NotFound("spend", id)
		}
		return sp, err
	}
	return sp, nil
}

// DeleteSpend removes a spend entry and what it spread over its days. A
// day still holding what the entry put there goes back to what the
// earlier entries of the same source and campaign put there (none: no
// spend); a day written since (a later entry, an imported file) keeps
// what it has. Days an import held before the entry replaced them are not
// kept anywhere and stay empty.
func DeleteSpend(tx *gorm.DB, id int64) (Spend, error) {
	sp, err := GetSpend(tx, id)
	if err != nil {
		return sp, err
	}
	mine := SpreadSpend(sp.AdSourceID, sp.Campaign, sp.PeriodStart, sp.PeriodEnd, sp.Amount, sp.Currency)
	var held []SpendDay
	if err := tx.Where("ad_source_id = ? AND campaign = ? AND day >= ? AND day <= ?", sp.AdSourceID, sp.Campaign, Date(sp.PeriodStart), Date(sp.PeriodEnd)).
		Find(&held).Error; err != nil {
		return sp, err
	}
	want := map[string]SpendDay{}
	for _, d := range mine {
		want[d.Day.Format(time.DateOnly)] = d
	}
	freed := map[string]bool{}
	var ids []int64
	for _, h := range held {
		k := Date(h.Day).Format(time.DateOnly)
		if w, ok := want[k]; ok && w.Amount == h.Amount && w.Currency == h.Currency {
			freed[k] = true
			ids = append(ids, h.ID)
		}
	}
	if len(ids) > 0 {
		if err := tx.Where("id IN ?", ids).Delete(&SpendDay{}).Error; err != nil {
			return sp, fmt.Errorf("crm: delete spend days: %w", err)
		}
	}
	var earlier []Spend
	if err := tx.Where("ad_source_id = ? AND campaign = ? AND id < ? AND period_start <= ? AND period_end >= ?", sp.AdSourceID, sp.Campaign, sp.ID, sp.PeriodEnd, sp.PeriodStart).
		Order("id").Find(&earlier).Error; err != nil {
		return sp, err
	}
	for _, e := range earlier {
		var back []SpendDay
		for _, d := range SpreadSpend(e.AdSourceID, e.Campaign, e.PeriodStart, e.PeriodEnd, e.Amount, e.Currency) {
			if freed[d.Day.Format(time.DateOnly)] {
				back = append(back, d)
			}
		}
		if err := SetSpendDays(tx, back); err != nil {
			return sp, err
		}
	}
	if err := tx.Delete(&Spend{}, sp.ID).Error; err != nil {
		return sp, fmt.Errorf("crm: delete spend: %w", err)
	}
	return sp, nil
}
