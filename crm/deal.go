package crm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// StageKind says whether a stage is open or ends the deal.
type StageKind string

// Stage kinds.
const (
	StageOpen StageKind = "open"
	StageWon  StageKind = "won"
	StageLost StageKind = "lost"
)

// Stage is a step of the pipeline, in Position order.
type Stage struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Position int       `json:"position"`
	Kind     StageKind `json:"kind"`
}

// TableName is the stages table.
func (Stage) TableName() string { return "pipeline_stages" }

// Stages returns the pipeline in order.
func Stages(tx *gorm.DB) ([]Stage, error) {
	var out []Stage
	return out, tx.Order("position").Find(&out).Error
}

// SetPipeline replaces the pipeline with stages in the given order. Stages
// with an ID are renamed and reordered, those without are added, and
// existing stages left out are removed unless deals are in them. The
// pipeline needs at least one open stage and exactly one won and one lost.
func SetPipeline(tx *gorm.DB, stages []Stage) ([]Stage, error) {
	count := map[StageKind]int{}
	for i := range stages {
		stages[i].Name = strings.TrimSpace(stages[i].Name)
		if stages[i].Name == "" {
			return nil, Invalid("stage %d has no name", i+1)
		}
		if stages[i].Kind == "" {
			stages[i].Kind = StageOpen
		}
		count[stages[i].Kind]++
	}
	if count[StageOpen] < 1 || count[StageWon] != 1 || count[StageLost] != 1 || len(count) != 3 {
		return nil, Invalid("a pipeline needs at least one open stage, exactly one won and one lost stage")
	}
	old, err := Stages(tx)
	if err != nil {
		return nil, err
	}
	exists := map[int64]bool{}
	for _, s := range old {
		exists[s.ID] = true
	}
	keep := map[int64]bool{}
	for _, s := range stages {
		if s.ID == 0 {
			continue
		}
		if !exists[s.ID] {
			return nil, NotFound("stage", s.ID)
		}
		if keep[s.ID] {
			return nil, Invalid("stage %d is listed twice", s.ID)
		}
		keep[s.ID] = true
	}
	// A kept stage may not change kind while deals stand in it: an open
	// deal would sit in a won stage with no amount, a won one in an open
	// stage. Checked, like every removal, before writing anything, so that
	// a refusal leaves the pipeline as it was even outside a transaction.
	oldKind := map[int64]Stage{}
	for _, s := range old {
		oldKind[s.ID] = s
	}
	for _, s := range stages {
		if o, ok := oldKind[s.ID]; ok && s.ID != 0 && o.Kind != s.Kind {
			var n int64
			if err := tx.Model(&Deal{}).Where("stage_id = ?", s.ID).Count(&n).Error; err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, Conflict("stage %q has %d deals; move them before making it a %s stage", o.Name, n, s.Kind)
			}
		}
	}
	var drop []int64
	for _, s := range old {
		if keep[s.ID] {
			continue
		}
		var n int64
		if err := tx.Model(&Deal{}).Where("stage_id = ?", s.ID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, Conflict("stage %q has %d deals; move them before removing it", s.Name, n)
		}
		drop = append(drop, s.ID)
	}
	if len(drop) > 0 {
		if err := tx.Delete(&Stage{}, drop).Error; err != nil {
			return nil, err
		}
	}
	// Move positions out of the way of the unique index first.
	if err := tx.Model(&Stage{}).Where("1 = 1").UpdateColumn("position", gorm.Expr("-position - 1000")).Error; err != nil {
		return nil, err
	}
	for i := range stages {
		stages[i].Position = i + 1
		if stages[i].ID != 0 {
			res := tx.Model(&Stage{ID: stages[i].ID}).Updates(map[string]any{"name": stages[i].Name, "position": i + 1, "kind": stages[i].Kind})
			if res.Error != nil {
				return nil, res.Error
			}
			if res.RowsAffected == 0 {
				return nil, NotFound("stage", stages[i].ID)
			}
		} else if err := tx.Create(&stages[i]).Error; err != nil {
			return nil, err
		}
	}
	return Stages(tx)
}

// DealStatus is where a deal ended.
type DealStatus string

// Deal statuses.
const (
	DealOpen DealStatus = "open"
	DealWon  DealStatus = "won"
	DealLost DealStatus = "lost"
)

// Deal is a potential sale. Its source is the source of the touch that
// opened it.
type Deal struct {
	ID            int64      `json:"id"`
	ContactID     int64      `json:"contact_id"`
	Title         string     `json:"title"`
	StageID       int64      `json:"stage_id"`
	Status        DealStatus `json:"status"`
	Amount        int64      `json:"amount"`
	Currency      string     `json:"currency"`
	LostReason    string     `json:"lost_reason"`
	AdSourceID    *int64     `json:"ad_source_id"`
	ResponsibleID *int64     `json:"responsible_id"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	ClosedAt      *time.Time `json:"closed_at"`
}

// OpenDeal opens a deal for a contact at the pipeline's first open stage.
func OpenDeal(tx *gorm.DB, d *Deal) error {
	var first Stage
	err := tx.Where("kind = ?", StageOpen).Order("position").Take(&first).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("crm: the pipeline has no open stage")
	}
	if err != nil { // not the pipeline's fault: say so
		return fmt.Errorf("crm: the database did not answer (reading the pipeline): %w", err)
	}
	if d.Currency == "" || !ValidCurrency(d.Currency) {
		return Invalid("currency %q is not an ISO 4217 code", d.Currency)
	}
	if d.AdSourceID != nil {
		if _, err := GetAdSource(tx, *d.AdSourceID); err != nil {
			return Invalid("ad source %d does not exist", *d.AdSourceID)
		}
	}
	d.StageID, d.Status, d.Title = first.ID, DealOpen, strings.TrimSpace(d.Title)
	d.CreatedAt = d.CreatedAt.UTC() // times are compared as stored: UTC
	if err := tx.Create(d).Error; err != nil {
		return fmt.Errorf("crm: open deal: %w", err)
	}
	return nil
}

// GetDeal loads a deal.
func GetDeal(tx *gorm.DB, id int64) (Deal, error) {
	var d Deal
	if err := tx.Take(&d, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return d, NotFound("deal", id)
		}
		return d, err
	}
	return d, nil
}

// OpenDeals returns a contact's open deals.
func OpenDeals(tx *gorm.DB, contactID int64) ([]Deal, error) {
	var out []Deal
	return out, tx.Where("contact_id = ? AND status = ?", contactID, DealOpen).Order("id").Find(&out).Error
}

// CountDeals counts a contact's deals in any status.
func CountDeals(tx *gorm.DB, contactID int64) (int64, error) {
	var n int64
	return n, tx.Model(&Deal{}).Where("contact_id = ?", contactID).Count(&n).Error
}

// DealPatch edits a deal; nil fields stay as they are.
type DealPatch struct {
	Title         *string `json:"title"`
	Amount        *int64  `json:"amount"`
	ResponsibleID *int64  `json:"responsible_id"`
}

// UpdateDeal applies p.
func UpdateDeal(tx *gorm.DB, id int64, p DealPatch) (Deal, error) {
	d, err := GetDeal(tx, id)
	if err != nil {
		return d, err
	}
	up := map[string]any{"updated_at": time.Now().UTC()}
	if p.Title != nil {
		up["title"] = strings.TrimSpace(*p.Title)
	}
	if p.Amount != nil {
		if *p.Amount < 0 {
			return d, Invalid("amount must not be negative")
		}
		up["amount"] = *p.Amount
	}
	if p.ResponsibleID != nil {
		if *p.ResponsibleID == 0 {
			up["responsible_id"] = nil
		} else {
			if _, err := GetUser(tx, *p.ResponsibleID); err != nil {
				return d, Invalid("responsible user %d does not exist", *p.ResponsibleID)
			}
			up["responsible_id"] = *p.ResponsibleID
		}
	}
	if err := tx.Model(&Deal{ID: id}).Updates(up).Error; err != nil {
		return d, err
	}
	return GetDeal(tx, id)
}

// MoveDeal puts a deal at an open stage (reopening a closed deal). Won and
// lost stages are reached through Win and Lose, which need an amount or a
// reason.
func MoveDeal(tx *gorm.DB, id, stageID int64) (Deal, error) {
	d, err := GetDeal(tx, id)
	if err != nil {
		return d, err
	}
	var st Stage
	if err := tx.Take(&st, stageID).Error; err != nil {
		return d, Invalid("stage %d does not exist", stageID)
	}
	switch st.Kind {
	case StageWon:
		return d, Invalid("a deal is won with an amount: use won")
	case StageLost:
		return d, Invalid("a deal is lost with a reason: use lost")
	}
	err = tx.Model(&Deal{ID: id}).Updates(map[string]any{"stage_id": stageID, "status": DealOpen, "closed_at": nil, "lost_reason": "", "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return d, err
	}
	return GetDeal(tx, id)
}

// WinDeal closes a deal as won for amount (minor units, > 0).
func WinDeal(tx *gorm.DB, id, amount int64) (Deal, error) {
	if amount <= 0 {
		return Deal{}, Invalid("a won deal needs an amount greater than zero")
	}
	return closeDeal(tx, id, StageWon, map[string]any{"amount": amount, "status": DealWon, "lost_reason": ""})
}

// LoseDeal closes a deal as lost with a reason.
func LoseDeal(tx *gorm.DB, id int64, reason string) (Deal, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Deal{}, Invalid("a lost deal needs a reason")
	}
	return closeDeal(tx, id, StageLost, map[string]any{"status": DealLost, "lost_reason": reason})
}

func closeDeal(tx *gorm.DB, id int64, kind StageKind, up map[string]any) (Deal, error) {
	if _, err := GetDeal(tx, id); err != nil {
		return Deal{}, err
	}
	var st Stage
	if err := tx.Where("kind = ?", kind).Take(&st).Error; err != nil {
		return Deal{}, fmt.Errorf("crm: pipeline has no %s stage: %w", kind, err)
	}
	now := time.Now().UTC()
	up["stage_id"], up["closed_at"], up["updated_at"] = st.ID, now, now
	if err := tx.Model(&Deal{ID: id}).Updates(up).Error; err != nil {
		return Deal{}, err
	}
	return GetDeal(tx, id)
}
