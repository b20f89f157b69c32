package inbox

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox/realtime"
)

// dealChange runs a deal edit for a user who may see the deal, audits it
// and records an event.
func (a *App) dealChange(ctx context.Context, u crm.User, id int64, action string, fn func(tx *gorm.DB) (crm.Deal, error)) (crm.Deal, error) {
	var out crm.Deal
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		before, err := crm.VisibleDeal(tx, u, id)
		if err != nil {
			return err
		}
		if out, err = fn(tx); err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, action, "deal", id, map[string]any{"stage_id": out.StageID, "status": out.Status, "amount": out.Amount, "previous_stage_id": before.StageID}); err != nil {
			return err
		}
		return ev.Add(crm.EventDealChanged, nil, nil, out)
	})
	return out, err
}

// ListDeals lists a page of the deals f selects that u may see: a lead
// or the owner any deal, a manager their own (and, for a contact they may
// see, that contact's).
func (a *App) ListDeals(ctx context.Context, u crm.User, f crm.DealFilter, mine bool) (crm.DealPage, error) {
	tx := a.db.WithContext(ctx)
	if mine || !u.SeesAll() {
		f.ResponsibleID = u.ID
	}
	if !u.SeesAll() && f.ContactID != 0 {
		if _, err := crm.VisibleContact(tx, u, f.ContactID); err != nil {
			return crm.DealPage{}, err
		}
		f.ResponsibleID = 0
	}
	return crm.ListDeals(tx, f)
}

// NewDeal is a deal a manager opens for a contact.
type NewDeal struct {
	ContactID  int64  `json:"contact_id"`
	Title      string `json:"title"`
	Amount     int64  `json:"amount"`
	AdSourceID *int64 `json:"ad_source_id"`
}

// CreateDeal opens a deal for a contact u may see, responsible u. Audited.
func (a *App) CreateDeal(ctx context.Context, u crm.User, nd NewDeal) (crm.Deal, error) {
	var d crm.Deal
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		c, err := crm.VisibleContact(tx, u, nd.ContactID)
		if err != nil {
			return err
		}
		if nd.Amount < 0 {
			return crm.Invalid("amount must not be negative")
		}
		d = crm.Deal{ContactID: c.ID, Title: nd.Title, Amount: nd.Amount, Currency: a.opts.Currency, AdSourceID: nd.AdSourceID, ResponsibleID: &u.ID}
		if err := crm.OpenDeal(tx, &d); err != nil {
			return err
		}
		if _, err := crm.Audit(tx, &u.ID, "deal.open", "deal", d.ID, map[string]any{"contact_id": c.ID}); err != nil {
			return err
		}
		return ev.Add(crm.EventDealChanged, nil, nil, d)
	})
	return d, err
}

// Deal is one deal for u.
func (a *App) Deal(ctx context.Context, u crm.User, id int64) (crm.Deal, error) {
	return crm.VisibleDeal(a.db.WithContext(ctx), u, id)
}

// DealPage is a deal with its touches across channels.
type DealPage struct {
	Deal    crm.DealItem `json:"deal"`
	Touches []crm.Touch  `json:"touches"`
}

// DealWithTouches is deal id, if u may see it, with its touches.
func (a *App) DealWithTouches(ctx context.Context, u crm.User, id int64) (DealPage, error) {
	tx := a.db.WithContext(ctx)
	if _, err := crm.VisibleDeal(tx, u, id); err != nil {
		return DealPage{}, err
	}
	d, err := crm.GetDealItem(tx, id)
	if err != nil {
		return DealPage{}, err
	}
	ts, err := crm.DealTouches(tx, id)
	return DealPage{Deal: d, Touches: ts}, err
}

// UpdateDeal edits a deal's title, amount or responsible manager.
// Only a lead or the owner hands a deal to another manager; the audit row
// records the old and new responsible manager and title, and the manager
// who lost the deal hears of it.
func (a *App) UpdateDeal(ctx context.Context, u crm.User, id int64, p crm.DealPatch) (crm.Deal, error) {
	var out crm.Deal
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		before, err := crm.VisibleDeal(tx, u, id)
		if err != nil {
			return err
		}
		handover := p.ResponsibleID != nil && !sameID(p.ResponsibleID, before.ResponsibleID)
		if handover && !u.SeesAll() {
			return fmt.Errorf("%w: only a lead or the owner changes a deal's responsible manager", crm.ErrForbidden)
		}
		if out, err = crm.UpdateDeal(tx, id, p); err != nil {
			return err
		}
		data := map[string]any{"stage_id": out.StageID, "status": out.Status, "amount": out.Amount, "previous_stage_id": before.StageID}
		if handover {
			data["responsible_from"], data["responsible_to"] = before.ResponsibleID, out.ResponsibleID
		}
		if out.Title != before.Title {
			data["title_from"], data["title_to"] = before.Title, out.Title
		}
		if _, err := crm.Audit(tx, &u.ID, "deal.edit", "deal", id, data); err != nil {
			return err
		}
		var previous *int64
		if handover {
			previous = before.ResponsibleID
		}
		return ev.Add(crm.EventDealChanged, nil, nil, dealEvent{Deal: out, PreviousResponsibleID: previous})
	})
	return out, err
}

// dealEvent is a deal.changed event: the deal, and whom it was taken from.
type dealEvent struct {
	crm.Deal
	PreviousResponsibleID *int64 `json:"previous_responsible_id,omitempty"`
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// MoveDeal moves a deal to an open stage.
func (a *App) MoveDeal(ctx context.Context, u crm.User, id, stageID int64) (crm.Deal, error) {
	return a.dealChange(ctx, u, id, "deal.stage", func(tx *gorm.DB) (crm.Deal, error) { return crm.MoveDeal(tx, id, stageID) })
}

// WinDeal closes a deal as won for an amount in minor units.
func (a *App) WinDeal(ctx context.Context, u crm.User, id, amount int64) (crm.Deal, error) {
	return a.dealChange(ctx, u, id, "deal.won", func(tx *gorm.DB) (crm.Deal, error) { return crm.WinDeal(tx, id, amount) })
}

// LoseDeal closes a deal as lost with a reason.
func (a *App) LoseDeal(ctx context.Context, u crm.User, id int64, reason string) (crm.Deal, error) {
	return a.dealChange(ctx, u, id, "deal.lost", func(tx *gorm.DB) (crm.Deal, error) { return crm.LoseDeal(tx, id, reason) })
}

// Pipeline is the ordered stages.
func (a *App) Pipeline(ctx context.Context) ([]crm.Stage, error) {
	return crm.Stages(a.db.WithContext(ctx))
}

// SetPipeline replaces the stages (the owner's). Audited.
func (a *App) SetPipeline(ctx context.Context, u crm.User, stages []crm.Stage) ([]crm.Stage, error) {
	var out []crm.Stage
	err := a.rt.Change(ctx, func(tx *gorm.DB, ev *realtime.Events) error {
		var err error
		if out, err = crm.SetPipeline(tx, stages); err != nil {
			return err
		}
		_, err = crm.Audit(tx, &u.ID, "pipeline.set", "pipeline", 0, out)
		return err
	})
	return out, err
}

// DealsRequest is a deals list as the API asks for it: dates are days
// (YYYY-MM-DD or DD.MM.YYYY) in the company's time zone, "to" included;
// source is an ad source id or "none".
type DealsRequest struct {
	ContactID     int64
	Status        string
	ResponsibleID int64
	Source        string
	StageID       int64
	CreatedFrom   string
	CreatedTo     string
	ClosedFrom    string
	ClosedTo      string
	Cursor        string
	Limit         int
	Mine          bool
}

// Deals lists a page of deals for u (see ListDeals) as r asks.
func (a *App) Deals(ctx context.Context, u crm.User, r DealsRequest) (crm.DealPage, error) {
	f := crm.DealFilter{ContactID: r.ContactID, Status: crm.DealStatus(r.Status), ResponsibleID: r.ResponsibleID, StageID: r.StageID, Limit: r.Limit}
	switch f.Status {
	case "", crm.DealOpen, crm.DealWon, crm.DealLost:
	default:
		return crm.DealPage{}, crm.Invalid("status must be open, won or lost, not %q", r.Status)
	}
	switch r.Source {
	case "":
	case "none":
		f.SourceID = crm.NoSource
	default:
		id, err := strconv.ParseInt(r.Source, 10, 64)
		if err != nil || id <= 0 {
			return crm.DealPage{}, crm.Invalid("source must be an ad source id or none, not %q", r.Source)
		}
		f.SourceID = id
	}
	if r.Cursor != "" {
		id, err := strconv.ParseInt(r.Cursor, 10, 64)
		if err != nil || id <= 0 {
			return crm.DealPage{}, crm.Invalid("cursor %q is not one this list gave", r.Cursor)
		}
		f.Before = id
	}
	for _, d := range []struct {
		name, val string
		to        bool
		at        *time.Time
	}{{"created_from", r.CreatedFrom, false, &f.CreatedFrom}, {"created_to", r.CreatedTo, true, &f.CreatedTo},
		{"closed_from", r.ClosedFrom, false, &f.ClosedFrom}, {"closed_to", r.ClosedTo, true, &f.ClosedTo}} {
		if d.val == "" {
			continue
		}
		day, err := parseDay(d.val)
		if err != nil {
			return crm.DealPage{}, crm.Invalid("%s: %q is not a date (YYYY-MM-DD)", d.name, d.val)
		}
		*d.at = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, a.opts.TimeZone)
		if d.to {
			*d.at = d.at.AddDate(0, 0, 1)
		}
	}
	return a.ListDeals(ctx, u, f, r.Mine)
}
