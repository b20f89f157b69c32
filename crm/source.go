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
