package inbox

import (
	"cmp"
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/channels"
	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// The owner's marketing setup: entry points and their bindings, ad
// sources and their spend.

// EntryPoints lists entry points (of one account, or all) with their
// binding history.
func (a *App) EntryPoints(ctx context.Context, accountID int64) ([]crm.EntryPoint, error) {
	eps, err := crm.ListEntryPoints(a.db.WithContext(ctx), accountID)
	if eps == nil {
		eps = []crm.EntryPoint{}
	}
	return eps, err
}

// EntryPoint is one entry point with its bindings.
func (a *App) EntryPoint(ctx context.Context, id int64) (crm.EntryPoint, error) {
	return crm.GetEntryPoint(a.db.WithContext(ctx), id)
}

// NewEntryPoint is an entry point to create, optionally bound to a source.
type NewEntryPoint struct {
	AccountID  int64  `json:"account_id"`
	Address    string `json:"address"`
	AutoDeal   *bool  `json:"auto_deal"`
	AdSourceID *int64 `json:"ad_source_id"`
	// Region is the phone region of the clients who arrive here (ISO
	// 3166 alpha-2; "" : the account's).
	Region string `json:"region"`
}

// CreateEntryPoint creates an entry point. Audited.
func (a *App) CreateEntryPoint(ctx context.Context, u crm.User, req NewEntryPoint) (crm.EntryPoint, error) {
	var e crm.EntryPoint
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		auto := req.AutoDeal == nil || *req.AutoDeal
		acc, err := crm.GetAccount(tx, req.AccountID)
		if err != nil {
			return err
		}
		region, err := crm.CheckRegion(req.Region)
		if err != nil {
			return err
		}
		addr := req.Address
		if acc.Channel == string(channels.Phone) { // a tracking number, in E.164 as calls name it (ingest reads them with the account's region)
			if e164, err := crm.NormalizePhone(addr, cmp.Or(acc.Region, a.opts.Region)); err == nil {
				addr = e164
			}
		}
		if e, err = crm.CreateEntryPoint(tx, req.AccountID, addr, auto, req.AdSourceID, &u.ID); err != nil {
			return err
		}
		if region != "" {
			if e.Region, err = crm.SetEntryPointRegion(tx, e.ID, region); err != nil {
				return err
			}
		}
		_, err = crm.Audit(tx, &u.ID, "entry_point.create", "entry_point", e.ID, req)
		return err
	})
	return e, err
}

// BindEntryPoint moves an entry point to an ad source (nil: none) from a
// time on (zero: from the beginning). Audited.
func (a *App) BindEntryPoint(ctx context.Context, u crm.User, id int64, source *int64, from time.Time) (crm.EntryPoint, error) {
	var e crm.EntryPoint
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if _, err := crm.GetEntryPoint(tx, id); err != nil {
			return err
		}
		b, err := crm.Bind(tx, id, source, from, &u.ID)
		if err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, "entry_point.bind", "entry_point", id, b); err != nil {
			return err
		}
		e, err = crm.GetEntryPoint(tx, id)
		return err
	})
	return e, err
}

// EntryPointPatch edits an entry point; nil fields stay as they are.
type EntryPointPatch struct {
	// AutoDeal: a new contact's first touch here opens a deal.
	AutoDeal *bool `json:"auto_deal"`
	// Region is the phone region of the clients who arrive here ("" :
	// the account's).
	Region *string `json:"region"`
}

// UpdateEntryPoint edits an entry point (whether it opens deals, its phone
// region). Audited.
func (a *App) UpdateEntryPoint(ctx context.Context, u crm.User, id int64, p EntryPointPatch) (crm.EntryPoint, error) {
	var e crm.EntryPoint
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		before, err := crm.GetEntryPoint(tx, id)
		if err != nil {
			return err
		}
		if p.AutoDeal != nil && *p.AutoDeal != before.AutoDeal {
			if err := tx.Model(&crm.EntryPoint{}).Where("id = ?", id).Update("auto_deal", *p.AutoDeal).Error; err != nil {
				return err
			}
			if _, err := crm.Audit(tx, &u.ID, "entry_point.edit", "entry_point", id, map[string]any{"address": before.Address, "auto_deal_from": before.AutoDeal, "auto_deal_to": *p.AutoDeal}); err != nil {
				return err
			}
		}
		if p.Region != nil {
			r, err := crm.SetEntryPointRegion(tx, id, *p.Region)
			if err != nil {
				return err
			}
			if r != before.Region {
				if _, err := crm.Audit(tx, &u.ID, "entry_point.edit", "entry_point", id, map[string]any{"address": before.Address, "region_from": before.Region, "region_to": r}); err != nil {
					return err
				}
			}
		}
		e, err = crm.GetEntryPoint(tx, id)
		return err
	})
	return e, err
}

// AdSources lists the ad sources.
func (a *App) AdSources(ctx context.Context) ([]crm.AdSource, error) {
	s, err := crm.ListAdSources(a.db.WithContext(ctx))
	if s == nil {
		s = []crm.AdSource{}
	}
	return s, err
}

// CreateAdSource names a new ad source. Audited.
func (a *App) CreateAdSource(ctx context.Context, u crm.User, name string) (crm.AdSource, error) {
	var s crm.AdSource
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		var err error
		if s, err = crm.CreateAdSource(tx, name); err != nil {
			return err
		}
		_, err = crm.Audit(tx, &u.ID, "ad_source.create", "ad_source", s.ID, map[string]any{"name": name})
		return err
	})
	return s, err
}

// Spend lists a source's spend records.
func (a *App) Spend(ctx context.Context, source int64) ([]crm.Spend, error) {
	tx := a.db.WithContext(ctx)
	if _, err := crm.GetAdSource(tx, source); err != nil {
		return []crm.Spend{}, err
	}
	out, err := crm.ListSpend(tx, source)
	if out == nil {
		out = []crm.Spend{}
	}
	return out, err
}

// NewSpend is spend to record: dates as YYYY-MM-DD (inclusive), amount in
// minor units, currency defaulting to the configured one.
type NewSpend struct {
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Note        string `json:"note"`
	// Campaign is optional: spend of one campaign of the source.
	Campaign string `json:"campaign"`
}

// spendOf reads a NewSpend of source.
func (a *App) spendOf(source int64, req NewSpend) (crm.Spend, error) {
	from, e1 := time.Parse(time.DateOnly, req.PeriodStart)
	to, e2 := time.Parse(time.DateOnly, req.PeriodEnd)
	if e1 != nil || e2 != nil {
		return crm.Spend{}, crm.Invalid("period_start and period_end must be dates like 2026-03-01")
	}
	cur := strings.ToUpper(strings.TrimSpace(req.Currency))
	if cur == "" {
		cur = a.opts.Currency
	}
	return crm.Spend{AdSourceID: source, PeriodStart: from, PeriodEnd: to, Amount: req.Amount, Currency: cur, Note: req.Note, Campaign: req.Campaign}, nil
}

// DeleteSpend removes a spend entry and what it spread over its days
// (crm.DeleteSpend). Audited with what it was.
func (a *App) DeleteSpend(ctx context.Context, u crm.User, id int64) (crm.Spend, error) {
	var sp crm.Spend
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		var err error
		if sp, err = crm.DeleteSpend(tx, id); err != nil {
			return err
		}
		_, err = crm.Audit(tx, &u.ID, "spend.delete", "ad_source", sp.AdSourceID, sp)
		return err
	})
	return sp, err
}

// ReplaceSpend corrects a spend entry: the old one goes as DeleteSpend
// says, the new one is spread as AddSpend does. Audited with both.
func (a *App) ReplaceSpend(ctx context.Context, u crm.User, id int64, req NewSpend) (crm.Spend, error) {
	sp, err := a.spendOf(0, req)
	if err != nil {
		return sp, err
	}
	err = a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		old, err := crm.DeleteSpend(tx, id)
		if err != nil {
			return err
		}
		sp.AdSourceID = old.AdSourceID
		if err := crm.AddSpend(tx, &sp); err != nil {
			return err
		}
		_, err = crm.Audit(tx, &u.ID, "spend.edit", "ad_source", sp.AdSourceID, map[string]any{"before": old, "after": sp})
		return err
	})
	return sp, err
}

// AddSpend records a source's spend over a period, spread evenly over its
// days (replacing what those days had for the source and campaign).
// Audited.
func (a *App) AddSpend(ctx context.Context, u crm.User, source int64, req NewSpend) (crm.Spend, error) {
	sp, err := a.spendOf(source, req)
	if err != nil {
		return sp, err
	}
	err = a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		if err := crm.AddSpend(tx, &sp); err != nil {
			return err
		}
		_, err := crm.Audit(tx, &u.ID, "spend.add", "ad_source", source, sp)
		return err
	})
	return sp, err
}
